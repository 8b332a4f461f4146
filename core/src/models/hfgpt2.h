#pragma once

// Hugging Face GPT-2 (GPT2LMHeadModel) behind CausalLm, as one torch::nn::Module so that a
// folder's model trains, checkpoints and exports like the built-in ones (Student.init = hf or
// teacher-layers from a GPT-2 folder).
//
// GPT-2's semantics: h = wte[x] + wpe[t]; per block h += c_proj(attn(ln_1(h))),
// h += mlp.c_proj(act(mlp.c_fc(ln_2(h)))); logits = ln_f(h) wte^T, or lm_head when the head is
// untied. Conv1D keeps its weight as [in, out]; the module holds LibTorch's [out, in] so that
// every projection is one torch::linear, and the table of Hugging Face names says which
// tensors to transpose on the way in and out.

#include "models/causallm.h"

namespace distillery::core::models {

struct Gpt2Spec
{
    std::int64_t vocab = 0, layers = 0, hidden = 0, heads = 0, ffn = 0, maxLen = 0;
    double eps = 1e-5;
    std::string activation = "gelu_tanh"; // ours: gelu | gelu_tanh | quick_gelu | relu
    bool tiedHead = true;
};

class Gpt2BlockImpl : public torch::nn::Module
{
public:
    explicit Gpt2BlockImpl(const Gpt2Spec &spec);
    torch::Tensor ln1w, ln1b, attnW, attnB, projW, projB, ln2w, ln2b, fcW, fcB, fcProjW, fcProjB;
};
TORCH_MODULE(Gpt2Block);

class Gpt2LMImpl : public torch::nn::Module
{
public:
    explicit Gpt2LMImpl(const Gpt2Spec &spec); // uninitialised weights, for a loader to fill
    LmOutput forward(const torch::Tensor &tokens, const ForwardOptions &options = {});
    const Gpt2Spec &spec() const { return m_spec; }

    // Every weight under its GPT2LMHeadModel name ("transformer.h.0.attn.c_attn.weight",
    // lm_head.weight unless tied), Conv1D weights marked as transposed in the files.
    std::vector<HfTensor> hfTensors() const;

private:
    torch::Tensor activate(const torch::Tensor &x) const;
    Gpt2Spec m_spec;
    torch::Tensor m_wte, m_wpe, m_lnfW, m_lnfB, m_head;
    std::vector<Gpt2Block> m_blocks;
};
TORCH_MODULE(Gpt2LM);

// The module behind CausalLm, or nullptr when `model` is not a GPT-2 folder's model.
Gpt2LM gpt2Module(const CausalLm &model);

// config.json's activation_function for ours: gelu_tanh is written as gelu_new, its original
// name (gelu_pytorch_tanh and gelu_fast compute the same function).
std::string hfActivationName(const std::string &activation);

// The GPT-2 part of a checkpoint header (tensor "distillery_gpt2": eps and the activation), and
// the model read from `archive` whose shape header said `shape`. Used by loadCheckpoint().
extern const char *const kGpt2SpecKey;
Result<std::unique_ptr<CausalLm>> loadGpt2Checkpoint(const std::string &path, torch::serialize::InputArchive &archive,
                                                     const ModelShape &shape, const torch::Tensor &specTensor);

} // namespace distillery::core::models
