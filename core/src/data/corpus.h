#pragma once

// Corpus files as text: strict UTF-8 and JSON lines. LibTorch-free (fuzzed on its own).

#include "distillery/core/result.h"
#include "distillery/core/utf8.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace distillery::core::data {

// A corpus file is read whole: files larger than this are refused before anything is read.
inline constexpr std::uint64_t kMaxCorpusBytes = std::uint64_t(1) << 30;

// The file's text: a regular file of valid UTF-8 that is not only whitespace, or an error
// naming the file (and the line of the first bad byte).
Result<std::string> readCorpusFile(const std::string &path);
// JSON lines: one object per line, blank lines skipped; the `field` strings of all lines
// joined with "\n\n". `path` names the file in messages ("corpus.jsonl:3: ...").
Result<std::string> jsonLinesText(const std::string &text, const std::string &path,
                                  const std::string &field);
Result<std::string> readJsonLines(const std::string &path, const std::string &field);

using core::isValidUtf8;
using core::sanitizeUtf8;

} // namespace distillery::core::data
