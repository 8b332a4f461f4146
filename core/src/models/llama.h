#pragma once

// The Llama-family decoder behind CausalLm: built from scratch as a student (ModelShape with
// family = Llama) or holding the weights of a Hugging Face llama / mistral / qwen2 folder
// (hfweights.h). One module for both, so a loaded model trains, checkpoints and exports as a
// built one does.
//
// Semantics (Hugging Face's modeling_llama.py): h = embed[x]; per layer
//   h += o(attn(rope(q(n1(h))), rope(k(n1(h))), v(n1(h))))
//   h += down(silu(gate(n2(h))) * up(n2(h)))
// logits = norm(h) head^T (head = embed when tied). n1, n2, norm are RMSNorm:
// x / sqrt(mean(x^2) + eps) * w. rope rotates pairs (i, i + hd/2) of each head by t * theta^(-2i/hd)
// (the rotate-half convention). Grouped-query attention: query head h reads key/value head
// h / (heads / kv_heads). A sliding window (mistral) lets position i see j > i - window only.

#include "models/causallm.h"

namespace distillery::core::models {

struct LlamaSpec
{
    std::string modelType = "llama"; // config.json's model_type: llama, mistral, qwen2
    std::int64_t vocab = 0, layers = 0, hidden = 0, heads = 0, kvHeads = 0, headDim = 0, ffn = 0;
    std::int64_t maxLen = 0;
    double ropeTheta = 10000.0;
    double rmsEps = 1e-5;
    bool tiedHead = false;
    bool qkvBias = false, outputBias = false, mlpBias = false;
    std::int64_t slidingWindow = 0; // 0 = none
};

// The spec of a from-scratch student: no biases, head size d_model / heads, eps 1e-5.
LlamaSpec llamaSpec(const ModelShape &shape);

// One decoder layer's weights ([out, in] as in torch.nn.Linear; undefined biases when absent).
class LlamaLayerImpl : public torch::nn::Module
{
public:
    LlamaLayerImpl(const LlamaSpec &spec);
    torch::Tensor attnNorm, q, k, v, o, qBias, kBias, vBias, oBias;
    torch::Tensor mlpNorm, gate, up, down, gateBias, upBias, downBias;
};
TORCH_MODULE(LlamaLayer);

// Parameter names: embed, layer<i>.{attn_norm,q_proj,k_proj,v_proj,o_proj,(q|k|v|o)_bias,
// mlp_norm,gate_proj,up_proj,down_proj,(gate|up|down)_bias}, norm, head (absent when tied).
class LlamaLMImpl : public torch::nn::Module
{
public:
    // initialise: GPT-2-style N(0, 0.02) weights (residual outputs by 1/sqrt(2L)), unit norms,
    // zero biases; otherwise the weights are left uninitialised for a loader to fill.
    LlamaLMImpl(const LlamaSpec &spec, bool initialise);
    LmOutput forward(const torch::Tensor &tokens, const ForwardOptions &options = {});
    const LlamaSpec &spec() const { return m_spec; }

    // Every weight under its Hugging Face LlamaForCausalLM name ("model.layers.0.self_attn.q_proj.weight",
    // "lm_head.weight" unless tied), in the module's order: the loader fills these and the
    // exporter writes them.
    std::vector<HfTensor> hfTensors() const;

private:
    LlamaSpec m_spec;
    torch::Tensor m_embed, m_norm, m_head;
    std::vector<LlamaLayer> m_layers;
    torch::Tensor m_cos, m_sin; // [n, headDim] rotary tables, rebuilt for a longer input or another device
};
TORCH_MODULE(LlamaLM);

std::unique_ptr<CausalLm> makeLlama(const LlamaSpec &spec);

// The module behind CausalLm, or nullptr when `model` is not a Llama-family model.
LlamaLM llamaModule(const CausalLm &model);

// A spec that cannot be built (sizes out of range, heads that do not divide), or empty; the
// checkpoint loader asks before it allocates anything.
std::string llamaSpecProblem(const LlamaSpec &spec, std::uint64_t fileBytes);

// The Llama part of a checkpoint header: tensor "distillery_llama", and the model read from
// `archive` whose shape header said `shape`. Used by loadCheckpoint().
extern const char *const kLlamaSpecKey;
Result<std::unique_ptr<CausalLm>> loadLlamaCheckpoint(const std::string &path,
                                                      torch::serialize::InputArchive &archive,
                                                      const ModelShape &shape, const torch::Tensor &specTensor);

} // namespace distillery::core::models
