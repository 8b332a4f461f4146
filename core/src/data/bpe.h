#pragma once

// The BPE tokenizers of Hugging Face's files: vocab.json + merges.txt (GPT-2), or a
// tokenizer.json whose model is BPE (the `tokenizers` library's format). Two kinds of symbol:
//
// - byte-level (GPT-2, Llama 3, Qwen2, ...): the text is split by a pre-tokenizer pattern, each
//   piece's UTF-8 bytes become GPT-2's printable byte characters, and merges apply lowest rank
//   first. The patterns, with letters, numbers and white space as Unicode defines them (ICU):
//     GPT-2   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//     Llama 3 (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
//             | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//     Qwen2   Llama 3's with \p{N} for \p{N}{1,3}
//   Bytes that are not valid UTF-8 are pieces of the punctuation class, so any byte string
//   encodes and decodes exactly. `ignore_merges` (Llama 3) takes a piece that is itself a token
//   as that token.
// - SentencePiece-style (Llama 2, Mistral, TinyLlama): spaces become "▁" (U+2581), a "▁" is put
//   before the text (a Prepend normalizer, or Metaspace's prepend scheme), the symbols are
//   characters, and a character outside the vocabulary becomes its UTF-8 bytes as <0xXX>
//   tokens (byte_fallback) or the unknown token. Bytes that are not valid UTF-8 become <0xXX>
//   tokens too. Decoding maps "▁" back to a space and drops the one put before the text.
//
// Special (added) tokens are matched literally first; the text between them is encoded on its
// own. Normalizers other than NFC, Prepend and Replace, other split patterns and other models
// are refused by name.

#include "data/tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace distillery::core::data {

// GPT-2's printable character for byte b, as UTF-8: the alphabet its vocabularies and merges
// are written in ('!'..'~', '¡'..'¬', '®'..'ÿ' stand for themselves, the other 68 bytes for
// U+0100 onwards in byte order).
std::string gpt2ByteCharacter(unsigned char b);

enum class SplitPattern { Gpt2, Llama3, Qwen2 };

// How a tokenizer.json's normalizer, pre-tokenizer, model and decoder are set.
struct BpeOptions
{
    bool byteLevel = true;
    SplitPattern split = SplitPattern::Gpt2; // byte-level
    bool nfc = false;                        // an NFC normalizer (Qwen2)
    bool ignoreMerges = false;
    // SentencePiece-style: where a "▁" goes before the text between special tokens.
    enum class Prefix { Never, Always, IfMissing, FirstIfMissing };
    Prefix prefix = Prefix::Never;
    bool spaces = false;         // spaces are written "▁" (a Replace normalizer, or Metaspace)
    bool metaspaceSplit = false; // Metaspace's split: a piece begins at every "▁"
    bool byteFallback = false;
    bool fuseUnk = false;
    std::string unkToken;
    bool stripDecodedSpace = false; // the decoder drops one leading space
};

class BpeTokenizer : public Tokenizer
{
public:
    // vocab.json ({"token": id}) and merges.txt ("a b" per line after an optional "#version"
    // line). Errors name the file and the line or token.
    static Result<std::shared_ptr<BpeTokenizer>> fromVocabAndMerges(const std::string &vocabJson,
                                                                     const std::string &mergesTxt);
    // A tokenizer.json with a BPE model (byte-level or SentencePiece-style).
    static Result<std::shared_ptr<BpeTokenizer>> fromTokenizerJson(const std::string &path);
    // The same from the file's text; errors begin with `where`.
    static Result<std::shared_ptr<BpeTokenizer>> fromTokenizerJsonText(const std::string &text, const std::string &where);
    // The tokenizer of a model folder: tokenizer.json, or vocab.json + merges.txt.
    static Result<std::shared_ptr<BpeTokenizer>> fromFolder(const std::string &dir);

    std::vector<std::int64_t> encode(std::string_view text) const override;
    Result<std::string> decode(const std::vector<std::int64_t> &ids) const override;
    std::string piece(std::int64_t id) const override;
    std::int64_t vocabSize() const override { return std::int64_t(m_pieces.size()); }
    std::string kind() const override;
    std::string identity() const override;

    std::size_t mergeCount() const { return m_mergeCount; }
    const BpeOptions &options() const { return m_options; }

    // A pattern's split of `text` into pieces (before byte mapping and merges), for tests.
    static std::vector<std::string_view> pretokenize(std::string_view text, SplitPattern pattern = SplitPattern::Gpt2);

    using Vocab = std::vector<std::pair<std::string, std::int64_t>>;
    using Merges = std::vector<std::pair<std::string, std::string>>;
    static Result<std::shared_ptr<BpeTokenizer>> make(const Vocab &vocab, const Merges &merges, const Vocab &special,
                                                      const BpeOptions &options, const std::string &where);

private:
    BpeTokenizer() = default;
    Status build(const Vocab &vocab, const Merges &merges, const Vocab &special, const std::string &where);
    Status buildSymbols(const Vocab &vocab, const std::string &where);
    void mergeSymbols(std::vector<std::int64_t> &ids) const;
    void encodeBytePiece(std::string_view piece, std::vector<std::int64_t> &out) const;
    void encodeCharacters(std::string_view word, std::vector<std::int64_t> &out) const;
    void encodeSegment(std::string_view text, bool first, std::vector<std::int64_t> &out) const;

    BpeOptions m_options;
    std::vector<std::string> m_pieces;           // id -> bytes ("" for unused ids)
    std::vector<bool> m_isSpecial;               // id -> a special token
    std::unordered_map<std::string, std::int64_t> m_ids; // token as written in the vocabulary -> id
    std::int64_t m_byteIds[256] = {};            // byte -> its one-byte token (byte-level) or <0xXX> (fallback)
    std::int64_t m_unkId = -1;
    std::unordered_map<std::uint64_t, std::pair<std::int32_t, std::int64_t>> m_merges; // (a,b) -> rank, id
    // SentencePiece-style: pairs of adjacent characters that some token holds; between any other
    // two characters no merge can happen, so the text is encoded in independent chunks.
    std::unordered_set<std::uint64_t> m_joinable;
    bool m_byteMerges = false; // a merge takes a <0xXX> token (then no chunks)
    std::size_t m_mergeCount = 0;
    mutable std::unordered_map<std::string, std::vector<std::int64_t>> m_cache; // piece -> ids
};

} // namespace distillery::core::data
