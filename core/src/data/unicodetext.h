#pragma once

// UTF-8 and Unicode classes for the tokenizers (ICU behind it). LibTorch-free.

#include <cstdint>
#include <string>
#include <string_view>

namespace distillery::core::data {

// One code point at `i` of valid UTF-8 (its length in `len`), or -1 with len 1 for a byte that
// does not start a valid sequence (overlong forms, surrogates and values past U+10FFFF are not
// valid).
std::int32_t utf8At(std::string_view s, std::size_t i, std::size_t &len);

// The character classes of the pre-tokenizer patterns: \p{L}, \p{N}, \s, and everything else
// (bytes that are not UTF-8 included).
enum class CharClass { Letter, Number, Space, Other };
CharClass charClass(std::int32_t c);

// SentencePiece's byte token "<0xAB>": its byte, or -1.
int byteTokenValue(const std::string &token);

// Unicode normalization form C of the valid UTF-8 runs of `text`; other bytes stay as they are.
std::string nfc(std::string_view text);

} // namespace distillery::core::data
