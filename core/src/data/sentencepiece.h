#pragma once

// SentencePiece's own model file (tokenizer.model: BPE or unigram, with its normalizer and
// byte fallback), read and run by Debian's libsentencepiece. LibTorch-free.
//
// The library is reached through a small module (core/spm/spmshim.cpp) loaded on first use with
// dlopen(RTLD_LOCAL | RTLD_DEEPBIND): libsentencepiece exports its own copy of protobuf, which
// would interpose the libprotobuf that ONNX and LibTorch load and crash the program at start.
//
// Control pieces ("<s>", "</s>") and the unknown piece are matched literally in the text, as
// special tokens are in the BPE tokenizers; the text between them is encoded by the library.
// The library replaces bytes that are not UTF-8 by U+FFFD, so those do not round-trip.

#include "data/tokenizer.h"

#include <memory>
#include <string>
#include <vector>

namespace distillery::core::data {

class SentencePieceTokenizer : public Tokenizer
{
public:
    static Result<std::shared_ptr<SentencePieceTokenizer>> fromModel(const std::string &path);
    ~SentencePieceTokenizer() override;

    std::vector<std::int64_t> encode(std::string_view text) const override;
    Result<std::string> decode(const std::vector<std::int64_t> &ids) const override;
    std::string piece(std::int64_t id) const override;
    std::int64_t vocabSize() const override;
    std::string kind() const override;
    std::string identity() const override;

private:
    SentencePieceTokenizer() = default;
    bool isSpecial(std::int64_t id) const;
    std::shared_ptr<void> m_sp; // the module's processor
    std::vector<int> m_types;   // id -> the module's piece type bits
    std::vector<std::string> m_pieces; // id -> text (▁ as a space, byte pieces as their byte)
    std::string m_identity;
};

} // namespace distillery::core::data
