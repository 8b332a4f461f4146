#pragma once

// One interface for every causal language model the engine trains or distils from: the
// built-in Transformer (transformer.h), TorchScript modules (torchscript.cpp), and the place
// where Hugging Face checkpoints (GPT-2, the Llama family) plug in. The trainer, the
// diagnostics and the export see only this.

#include "distillery/core/models.h"
#include "distillery/core/result.h"

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace distillery::core::models {

struct ForwardOptions
{
    bool hidden = false;    // every layer's hidden states
    bool attention = false; // every block's attention probabilities, where the model has them
};

struct LmOutput
{
    torch::Tensor logits;                 // [B,T,V]
    std::vector<torch::Tensor> hidden;    // [B,T,D] each: embeddings, then every block's output
    std::vector<torch::Tensor> attention; // [B,H,T,T] per block: softmax(q k^T / sqrt(d) + mask)
};

// Parameter subsets, for diagnostics that differentiate only part of a model.
enum class ParameterScope {
    Head,      // the output head and the final norm
    LastBlock, // the last block, with the head
    All,
};

class CausalLm
{
public:
    virtual ~CausalLm() = default;

    // tokens [B,T] int64 on the model's device, T <= info().maxLength when that is known.
    virtual LmOutput forward(const torch::Tensor &tokens, const ForwardOptions &options = {}) = 0;

    virtual const ModelInfo &info() const = 0;
    // One line: architecture, sizes, parameters and FLOPs.
    virtual std::string describe() const = 0;
    // Forward FLOPs per token at context length seqLen; NaN when the model is opaque.
    virtual double forwardFlopsPerToken(std::int64_t seqLen) const = 0;
    std::int64_t parameterCount() const;

    virtual void to(const torch::Device &device) = 0;
    virtual void setTraining(bool on) = 0;
    virtual bool isTraining() const = 0;
    virtual std::vector<torch::Tensor> parameters() const = 0;
    virtual std::vector<torch::Tensor> parameters(ParameterScope scope) const = 0;
    // Frozen from now on: no gradients, evaluation mode.
    void freeze();

    // Whether the engine can train it: its weights go into training checkpoints.
    virtual bool trainable() const { return false; }
    // The weights as a sub-archive of a training checkpoint (trainable models only).
    virtual void saveState(torch::serialize::OutputArchive &archive) const;
    virtual void loadState(torch::serialize::InputArchive &archive);

    // The model as a file that loadModelFile() reads back.
    [[nodiscard]] virtual Status save(const std::string &path) const = 0;

    // Holds the weights in `dtype` (float32, bfloat16 or float16) from now on, to halve a frozen
    // teacher's memory; forward still returns float32 logits and hidden states. Models that
    // cannot say no.
    [[nodiscard]] virtual Status setPrecision(torch::ScalarType dtype);

    // A trainable float32 copy keeping only `layers` (indices into the model's layers, in
    // order) with its embeddings, final norm and head: the teacher-layers initialisation
    // (DistilBERT's every other layer). nullptr for models that cannot (TorchScript).
    virtual std::unique_ptr<CausalLm> withLayers(const std::vector<std::int64_t> &layers) const;
};

// A weight under its Hugging Face name ("model.layers.0.self_attn.q_proj.weight"): the table a
// model's loader fills and the hf exporter writes. `transposed`: the file holds it as [in, out]
// (GPT-2's Conv1D), the module as [out, in].
struct HfTensor
{
    std::string name;
    torch::Tensor tensor;
    bool transposed = false;
};

// Outputs of a reduced-precision forward widened to float32 (unchanged when they are).
LmOutput widened(LmOutput out);

// How loadHfModel reads a folder.
struct LoadOptions
{
    torch::ScalarType dtype = torch::kFloat; // of the weights once loaded: float32, bfloat16, float16
    // Called after every tensor with how many are read of how many; false stops the load,
    // which then fails with errc::kRunCancelled.
    std::function<bool(std::int64_t done, std::int64_t total)> progress;
};

// A built-in Transformer with freshly initialised weights: GPT-style (transformer.h) or, for
// shape.family = Llama, the Llama-family decoder (llama.h).
std::unique_ptr<CausalLm> makeTransformer(const ModelShape &shape);

// A built-in model checkpoint (written by CausalLm::save of a built-in model). Every problem
// comes back as an Error naming the file.
Result<std::unique_ptr<CausalLm>> loadCheckpoint(const std::string &path);

// A TorchScript module whose forward(tokens [B,T] int64) returns logits [B,T,V] or a tuple
// (logits, hidden...), checked with a probe forward: float logits of rank 3 with the expected
// vocabulary (0 = any). Every problem comes back as an Error naming the file.
Result<std::unique_ptr<CausalLm>> loadTorchScript(const std::string &path, std::int64_t expectedVocab,
                                                  std::int64_t probeLength);

// A Hugging Face model folder (hf/hfconfig.h): model_type gpt2, llama, mistral or qwen2,
// weights in safetensors (F32, F16 or BF16, one file or shards), held in options.dtype and
// converted one tensor at a time (the peak is the model plus one float32 tensor). Every problem
// comes back as an Error naming the file and, where there is one, the tensor or config field.
Result<std::unique_ptr<CausalLm>> loadHfModel(const std::string &dir, const LoadOptions &options = {});

// "[2,8,16]"
std::string shapeString(const torch::Tensor &t);

} // namespace distillery::core::models
