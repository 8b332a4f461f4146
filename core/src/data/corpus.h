#pragma once

// Corpus files as text: strict UTF-8 and JSON lines. LibTorch-free (fuzzed on its own).

#include "distillery/core/result.h"

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

// Strict UTF-8 (RFC 3629): rejects overlong forms, surrogates, code points above U+10FFFF and
// truncated sequences. errorOffset receives the offset of the first byte of the bad sequence.
bool isValidUtf8(const std::string &text, std::size_t *errorOffset = nullptr);
// Replaces every invalid sequence (maximal subpart, as in Unicode's recommended practice) by
// U+FFFD.
std::string sanitizeUtf8(const std::string &text);

} // namespace distillery::core::data
