#pragma once

// The built-in decoder-only Transformer: GPT-style (pre-LN, learned positions, fused QKV,
// exact GELU, untied head without bias). Behind CausalLm for the trainer; the module itself is
// here for tests that look inside it.

#include "models/causallm.h"

namespace distillery::core::models {

// Pre-LN Transformer block: x + Attn(LN(x)), then x + FFN(LN(x)) with GELU.
class BlockImpl : public torch::nn::Module
{
public:
    BlockImpl(std::int64_t dModel, std::int64_t heads, std::int64_t ffn);
    // attention: when given, receives softmax(q k^T / sqrt(hd) + mask) [B,H,T,T].
    torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &causalMask,
                          torch::Tensor *attention = nullptr);

private:
    std::int64_t m_heads;
    torch::nn::LayerNorm m_ln1{nullptr}, m_ln2{nullptr};
    torch::nn::Linear m_qkv{nullptr}, m_proj{nullptr}, m_fc1{nullptr}, m_fc2{nullptr};
};
TORCH_MODULE(Block);

// Token + learned position embeddings, pre-LN blocks, final LayerNorm, an output head of its
// own or (shape.tiedHead) the token embedding.
// Initialisation: N(0, 0.02) weights, zero biases, and the residual output projections scaled
// by 1/sqrt(2L) (GPT-2). Parameter names: tok, pos, block<i>.{ln1,qkv,proj,ln2,fc1,fc2}, lnf,
// head (absent when tied).
class TransformerLMImpl : public torch::nn::Module
{
public:
    explicit TransformerLMImpl(const ModelShape &shape);
    LmOutput forward(const torch::Tensor &tokens, const ForwardOptions &options = {});
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

// Every parameter and buffer of `module` is in `archive` with the same shape, or what is not:
// a header that disagrees with the tensors (or tensors that were cut) is refused before loading.
std::string checkArchiveAgainst(torch::nn::Module &module, torch::serialize::InputArchive &archive,
                                const std::string &prefix);

// Reads `module`'s weights from a model file's `archive` once every tensor is there with its
// shape (checkArchiveAgainst) and no layer `<layerPrefix><layers>` is left over; the problem,
// or an empty string.
std::string readModule(torch::nn::Module &module, torch::serialize::InputArchive &archive,
                       const std::string &layerPrefix, std::int64_t layers);

// Copies every parameter and buffer of `src` into `dst` by name, where `dst`'s submodule
// `<prefix><i>` takes `src`'s `<prefix><layers[i]>`.
void copyRenumbered(torch::nn::Module &dst, const torch::nn::Module &src, const std::string &prefix,
                    const std::vector<std::int64_t> &layers);

// The module behind CausalLm, or nullptr when `model` is not the built-in Transformer.
TransformerLM builtinModule(const CausalLm &model);

} // namespace distillery::core::models
