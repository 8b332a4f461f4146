#pragma once

// Strict UTF-8 (RFC 3629). LibTorch-free.

#include <cstddef>
#include <string>

namespace distillery::core {

// Rejects overlong forms, surrogates, code points above U+10FFFF and truncated sequences.
// errorOffset receives the offset of the first byte of the bad sequence.
bool isValidUtf8(const std::string &text, std::size_t *errorOffset = nullptr);
// Replaces every invalid sequence (maximal subpart, as in Unicode's recommended practice) by
// U+FFFD: for display only, the bytes themselves are kept where they are stored.
std::string sanitizeUtf8(const std::string &text);

} // namespace distillery::core
