#pragma once

// Language models inside the core: the built-in decoder-only Transformer and TorchScript teachers,
// behind one interface the trainer uses for teachers and students alike.

#include "distillery/core/models.h"
#include "distillery/core/result.h"

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace distillery::core::models {

struct LmOutput
{
    torch::Tensor logits;              // [B,T,V]
    std::vector<torch::Tensor> hidden; // [B,T,D] each: embeddings, then the output of every block
};

// Pre-LN Transformer block: x + Attn(LN(x)), then x + FFN(LN(x)) with GELU.
class BlockImpl : public torch::nn::Module
{
public:
    BlockImpl(std::int64_t dModel, std::int64_t heads, std::int64_t ffn);
    torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &causalMask);

private:
    std::int64_t m_heads;
    torch::nn::LayerNorm m_ln1{nullptr}, m_ln2{nullptr};
    torch::nn::Linear m_qkv{nullptr}, m_proj{nullptr}, m_fc1{nullptr}, m_fc2{nullptr};
};
TORCH_MODULE(Block);

// Decoder-only Transformer LM: token + learned position embeddings, pre-LN blocks, final
// LayerNorm, untied output head. Initialisation: N(0, 0.02) weights, zero biases, and the
// residual output projections scaled by 1/sqrt(2L) (GPT-2).
class TransformerLMImpl : public torch::nn::Module
{
public:
    explicit TransformerLMImpl(const ModelShape &shape);
    LmOutput forward(const torch::Tensor &tokens, bool wantHidden = false);
    const ModelShape &shape() const { return m_shape; }

private:
    ModelShape m_shape;
    torch::nn::Embedding m_tok{nullptr}, m_pos{nullptr};
    std::vector<Block> m_blocks;
    torch::nn::LayerNorm m_lnf{nullptr};
    torch::nn::Linear m_head{nullptr};
    torch::Tensor m_mask; // [maxLen,maxLen] additive causal mask (0 / -inf)
};
TORCH_MODULE(TransformerLM);

// What the trainer needs from any model it runs.
class LanguageModel
{
public:
    virtual ~LanguageModel() = default;
    virtual LmOutput forward(const torch::Tensor &tokens, bool wantHidden) = 0;
    virtual std::int64_t vocab() const = 0;
    virtual std::int64_t hiddenSize() const = 0; // -1 when unknown (TorchScript without hidden)
    virtual void to(const torch::Device &device) = 0;
    virtual void setTraining(bool on) = 0;
    virtual std::vector<torch::Tensor> parameters() = 0;
    virtual std::string describe() const = 0;
    // The built-in Transformer behind it, or nullptr (TorchScript).
    virtual TransformerLM builtin() { return nullptr; }
};

std::unique_ptr<LanguageModel> makeBuiltin(const ModelShape &shape);
std::unique_ptr<LanguageModel> wrapBuiltin(TransformerLM model);

// Built-in model checkpoints: the shape and the parameters in one archive.
Status saveBuiltin(TransformerLM &model, const std::string &path);
Result<TransformerLM> loadBuiltin(const std::string &path);

// Loads a TorchScript module whose forward(tokens [B,T] int64) returns logits [B,T,V] or a tuple
// (logits, hidden...) and checks it with a probe forward: float logits of rank 3 with the
// expected vocabulary. Every problem comes back as an Error naming the file.
Result<std::unique_ptr<LanguageModel>> loadTorchScript(const std::string &path,
                                                       std::int64_t expectedVocab,
                                                       std::int64_t probeLength);

} // namespace distillery::core::models
