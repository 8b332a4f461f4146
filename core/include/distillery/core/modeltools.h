#pragma once

// Using a model outside a run (distillery-cli model ...): what it is, its text, its scores and
// logits. PATH is a built-in checkpoint (a run's student.pt or teacher-<node>.pt), a TorchScript
// file (a TorchScript teacher or an exported model.pt), an export folder holding model.pt, or a
// Hugging Face GPT-2 folder (config.json and safetensors; an hf export is one).
// Its tokenizer is the tokenizer.json beside it (as exports write it: byte-level or the oracle's
// words; or GPT-2's byte-level BPE, as Hugging Face folders have it, also as vocab.json +
// merges.txt), or `tokenizer` ("bytes" | "words" | a tokenizer.json or folder) when given;
// without either, a vocabulary of 256 is
// read as bytes and any other as words. LibTorch-free.

#include "distillery/core/models.h"
#include "distillery/core/result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace distillery::core {

struct ModelFacts
{
    std::string path;         // the model file
    std::string kind;         // "built-in checkpoint" | "TorchScript" | "Hugging Face folder"
    std::string architecture; // "gpt" | "llama" | "torchscript" | "gpt2" | "mistral" | "qwen2"
    std::string description;
    std::int64_t vocab = 0, layers = -1, hidden = -1, heads = -1, ffn = -1, maxLength = 0;
    std::int64_t kvHeads = -1; // key/value heads (fewer than heads with grouped-query attention)
    std::int64_t parameters = 0;
    std::string dtype;     // of the weights: float32, float16, bfloat16
    std::string tokenizer; // "bytes" | "words" | "subword" | "" (none: token ids only), and where from
    std::string tokenizerSource;
    std::int64_t fileBytes = 0;
};

// The facts as a ModelShape for FLOP counts (the Llama family for llama, mistral and qwen2).
ModelShape shapeOf(const ModelFacts &facts);

struct TokenScore
{
    std::int64_t token = 0; // the token predicted
    double logprob = 0;     // its log-probability given the tokens before it
};

struct TextScore
{
    std::vector<TokenScore> tokens; // every token but the first
    double nll = 0;                 // mean negative log-likelihood (nats per token)
    double perplexity = 0;
};

struct PositionLogits
{
    std::int64_t position = 0;
    std::int64_t token = 0; // the input token at this position
    std::vector<TokenScore> top; // the K most probable next tokens, most probable first
};

struct GenerateOptions
{
    std::int64_t tokens = 32;
    double temperature = 1.0; // 0 = greedy
    std::uint64_t seed = 0;
};

// What a model file or folder holds, for node cards: a Hugging Face folder from its config.json
// alone (no weights are read), any other file by loading it, which takes as long as the file is
// large (call it off the GUI thread).
Result<ModelFacts> inspectModel(const std::string &path);

// One model loaded once; every use below reads it. Not for two threads at a time.
class LoadedModel
{
public:
    static Result<std::unique_ptr<LoadedModel>> open(const std::string &path, const std::string &tokenizer = {});
    ~LoadedModel();
    LoadedModel(const LoadedModel &) = delete;
    LoadedModel &operator=(const LoadedModel &) = delete;

    const ModelFacts &facts() const;
    // Token ids of `text` in the model's tokenizer; an unknown word is an error naming it.
    Result<std::vector<std::int64_t>> tokenize(const std::string &text) const;
    // The prompt and its continuation, decoded (a byte-level model's bytes as they are).
    Result<std::string> generate(const std::string &prompt, const GenerateOptions &options);
    // Teacher-forced: every token's log-probability given those before it, in windows of the
    // model's longest input.
    Result<TextScore> score(const std::vector<std::int64_t> &tokens);
    Result<TextScore> scoreText(const std::string &text);
    // The K most probable next tokens at every position.
    Result<std::vector<PositionLogits>> topLogits(const std::vector<std::int64_t> &tokens, std::int64_t k);
    // Milliseconds of each of `repeats` forward passes over random tokens [batch, length], after
    // two untimed ones, on `threads` intra-op threads (0 = as configured).
    Result<std::vector<double>> timeForward(std::int64_t batch, std::int64_t length, int repeats, int threads = 0);

private:
    struct Impl; // LibTorch stays in modeltools.cpp
    explicit LoadedModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace distillery::core
