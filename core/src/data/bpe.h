#pragma once

// GPT-2's byte-level BPE, read from Hugging Face's files: vocab.json + merges.txt, or a
// tokenizer.json whose model is BPE with the ByteLevel pre-tokenizer. LibTorch-free.
//
// Encoding: the special (added) tokens are matched literally first; the text between them is
// split with GPT-2's pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (letters, numbers and white space as Unicode defines them, through ICU); each piece's UTF-8
// bytes become GPT-2's printable byte characters, and merges apply lowest rank first. Bytes
// that are not valid UTF-8 are pieces of the punctuation class, so any byte string encodes,
// and decoding gives back the exact bytes.

#include "distillery/core/result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace distillery::core::data {

// GPT-2's printable character for byte b, as UTF-8: the alphabet its vocabularies and merges
// are written in ('!'..'~', '¡'..'¬', '®'..'ÿ' stand for themselves, the other 68 bytes for
// U+0100 onwards in byte order).
std::string gpt2ByteCharacter(unsigned char b);

class BpeTokenizer
{
public:
    // vocab.json ({"token": id}) and merges.txt ("a b" per line after an optional "#version"
    // line). Errors name the file and the line or token.
    static Result<std::shared_ptr<BpeTokenizer>> fromVocabAndMerges(const std::string &vocabJson,
                                                                     const std::string &mergesTxt);
    // A tokenizer.json (the `tokenizers` library's format) with a BPE model over bytes.
    static Result<std::shared_ptr<BpeTokenizer>> fromTokenizerJson(const std::string &path);
    // The tokenizer of a model folder: tokenizer.json, or vocab.json + merges.txt.
    static Result<std::shared_ptr<BpeTokenizer>> fromFolder(const std::string &dir);

    std::vector<std::int64_t> encode(std::string_view text) const;
    // Token ids outside the vocabulary are an error naming the id.
    Result<std::string> decode(const std::vector<std::int64_t> &ids) const;
    // The piece of one token as text (its bytes, or the special token's content).
    std::string piece(std::int64_t id) const;

    // One more than the largest id (the model's vocabulary must be at least this).
    std::int64_t vocabSize() const { return std::int64_t(m_pieces.size()); }
    std::size_t mergeCount() const { return m_mergeCount; }
    // The id of a special token ("<|endoftext|>"), or -1.
    std::int64_t specialId(const std::string &content) const;
    const std::string &source() const { return m_source; }

    // GPT-2's split of `text` into pieces (before byte mapping and merges), for tests.
    static std::vector<std::string_view> pretokenize(std::string_view text);

private:
    BpeTokenizer() = default;
    Status build(const std::vector<std::pair<std::string, std::int64_t>> &vocab,
                 const std::vector<std::pair<std::string, std::string>> &merges,
                 const std::vector<std::pair<std::string, std::int64_t>> &special, const std::string &where);
    void encodePiece(std::string_view piece, std::vector<std::int64_t> &out) const;

    std::string m_source;
    std::vector<std::string> m_pieces;         // id -> bytes ("" for unused ids)
    std::vector<bool> m_special;               // id -> a special token
    std::int64_t m_byteIds[256] = {};          // byte -> the id of its one-byte token
    std::unordered_map<std::uint64_t, std::pair<std::int32_t, std::int64_t>> m_merges; // (a,b) -> rank, id
    std::vector<std::pair<std::string, std::int64_t>> m_specialTokens; // longest first
    std::size_t m_mergeCount = 0;
    mutable std::unordered_map<std::string, std::vector<std::int64_t>> m_cache; // piece -> ids
};

} // namespace distillery::core::data
