#pragma once

// A Hugging Face model folder as its tools write it: config.json, the weights in
// model.safetensors or in shards listed by model.safetensors.index.json, and the tokenizer
// files. Read without loading any weight, so that graph validation and node cards can say what
// a folder holds while the user edits (LibTorch-free).

#include "distillery/core/models.h"
#include "distillery/core/result.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace distillery::core::hf {

struct HfConfig
{
    std::string dir;
    std::string modelType; // config.json "model_type": "gpt2", "llama", "mistral", "qwen2"
    std::string name;      // "_name_or_path" when it names a hub model ("openai-community/gpt2")
    ModelInfo info;        // architecture = modelType
    double layerNormEps = 1e-5;     // LayerNorm (gpt2) or RMSNorm (llama family) epsilon
    std::string activationFunction; // as config.json names it: "gelu_new", "gelu", "silu", ...
    std::string storedDtype;        // of the weights in the files ("F16"), set by the loader

    // The Llama family (llama, mistral, qwen2):
    std::int64_t headDim = 0;      // per attention head (config "head_dim", else hidden / heads)
    double ropeTheta = 10000.0;    // rotary base
    bool qkvBias = false;          // q/k/v projections have biases (qwen2; llama attention_bias)
    bool outputBias = false;       // o_proj has a bias (llama attention_bias)
    bool mlpBias = false;          // gate/up/down have biases (llama mlp_bias)
    std::int64_t slidingWindow = 0; // attend to at most this many latest positions; 0 = all

    bool llamaFamily() const { return modelType == "llama" || modelType == "mistral" || modelType == "qwen2"; }
};

// Whether `dir` looks like a Hugging Face model folder (it holds a config.json).
bool isHfFolder(const std::string &dir);

// config.json of `dir`, checked: a supported model_type (gpt2, llama, mistral, qwen2), every
// size present and positive, heads dividing the width, and every variant the loader does not
// implement (rope_scaling, other activations, ...) refused by name. Errors name the file and
// the field.
Result<HfConfig> readHfConfig(const std::string &dir);

// The parameters the folder's tensors hold by config.json (a tied head counts once), and a
// one-line description ("llama example-org/x, 4 heads over 2 key/value heads, tied head"), for
// node cards before any weight is read.
std::int64_t parameterCount(const HfConfig &config);
std::string describe(const HfConfig &config);

// Where the weights are: one file, or the shards of an index with the file of every tensor.
struct HfWeightFiles
{
    std::vector<std::string> files;            // full paths, each once
    std::map<std::string, std::string> fileOf; // tensor -> full path (sharded folders only)
};

Result<HfWeightFiles> findHfWeights(const std::string &dir);

} // namespace distillery::core::hf
