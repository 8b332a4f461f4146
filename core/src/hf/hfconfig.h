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
    std::string modelType; // config.json "model_type": "gpt2"
    std::string name;      // "_name_or_path" when it names a hub model ("openai-community/gpt2")
    ModelInfo info;        // architecture = modelType
    double layerNormEps = 1e-5;
    std::string activationFunction; // as config.json names it: "gelu_new", "gelu", ...
    std::string storedDtype;        // of the weights in the files ("F16"), set by the loader
};

// Whether `dir` looks like a Hugging Face model folder (it holds a config.json).
bool isHfFolder(const std::string &dir);

// config.json of `dir`, checked: a supported model_type, every size present and positive,
// heads dividing the width. Errors name the file and the field.
Result<HfConfig> readHfConfig(const std::string &dir);

// Where the weights are: one file, or the shards of an index with the file of every tensor.
struct HfWeightFiles
{
    std::vector<std::string> files;            // full paths, each once
    std::map<std::string, std::string> fileOf; // tensor -> full path (sharded folders only)
};

Result<HfWeightFiles> findHfWeights(const std::string &dir);

} // namespace distillery::core::hf
