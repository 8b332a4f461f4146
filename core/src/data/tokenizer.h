#pragma once

// Subword tokenizers read from Hugging Face's files, behind one interface: the BPE family of
// tokenizer.json / vocab.json + merges.txt (data/bpe.h: GPT-2, Llama 3, Qwen2, and Llama 2's
// SentencePiece-style BPE) and SentencePiece's own tokenizer.model (data/sentencepiece.h).
// LibTorch-free.

#include "distillery/core/result.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace distillery::core::data {

// The special tokens a model was trained with, from tokenizer_config.json (bos_token, ...,
// add_bos_token), the tokenizer.json's post-processor, or the SentencePiece model; -1 and ""
// where a tokenizer has none.
struct SpecialTokens
{
    std::string bos, eos, pad, unk;
    std::int64_t bosId = -1, eosId = -1, padId = -1, unkId = -1;
    bool addBos = false; // the model expects bosId before every sequence
};

class Tokenizer
{
public:
    virtual ~Tokenizer() = default;

    // Any bytes encode (text that is not UTF-8 too); decode(encode(s)) == s, except where the
    // tokenizer's own files say otherwise (a Metaspace tokenizer drops a leading space).
    virtual std::vector<std::int64_t> encode(std::string_view text) const = 0;
    // Token ids outside the vocabulary are an error naming the id.
    virtual Result<std::string> decode(const std::vector<std::int64_t> &ids) const = 0;
    // The text of one token (its bytes, or the special token's content).
    virtual std::string piece(std::int64_t id) const = 0;
    // One more than the largest id (the model's vocabulary must be at least this).
    virtual std::int64_t vocabSize() const = 0;
    // The id of a special token ("<|endoftext|>", "<s>"), or -1.
    std::int64_t specialId(const std::string &content) const;
    // In words: "GPT-2 byte-level BPE", "Llama 3 byte-level BPE", "SentencePiece BPE", ...
    virtual std::string kind() const = 0;
    // Everything the encoding depends on, for keys of token caches.
    virtual std::string identity() const = 0;

    const std::string &source() const { return m_source; }
    const SpecialTokens &special() const { return m_special; }
    // The files a model export copies: (path here, name in the export).
    const std::vector<std::pair<std::string, std::string>> &files() const { return m_files; }

protected:
    // The special tokens, matched literally in a text (the longest where two start at one place).
    void setSpecialTokens(std::vector<std::pair<std::string, std::int64_t>> tokens);
    // `text` cut at its special tokens: encodeText(part, first) for each stretch between them
    // (first: the stretch begins the text), the special tokens' ids into `out` in between.
    void splitAtSpecialTokens(std::string_view text, std::vector<std::int64_t> &out,
                              const std::function<void(std::string_view, bool)> &encodeText) const;

    std::string m_source;
    SpecialTokens m_special;
    std::vector<std::pair<std::string, std::string>> m_files;
    std::vector<std::pair<std::string, std::int64_t>> m_specialTokens; // longest first
    friend Result<std::shared_ptr<Tokenizer>> openTokenizer(const std::string &path);
};

// The tokenizer of a model folder (tokenizer.json, else vocab.json + merges.txt, else
// tokenizer.model) or of one file (tokenizer.json or tokenizer.model), with the special tokens
// of a tokenizer_config.json beside it. Errors name the file and what was expected.
Result<std::shared_ptr<Tokenizer>> openTokenizer(const std::string &path);

} // namespace distillery::core::data
