#pragma once

// The tensors of a Hugging Face model folder's safetensors files (one file or shards),
// memory-mapped and read by name as float32, for the loaders of hfgpt2.cpp and llama.cpp.

#include "hf/hfconfig.h"
#include "hf/safetensors.h"
#include "models/causallm.h"

namespace distillery::core::models {

class WeightReader
{
public:
    static Result<WeightReader> open(const hf::HfWeightFiles &files);

    // The tensor `name` (tried as `prefix` + name, then as name) as float32 of the given shape,
    // or an error naming the file and the tensor (missing, another shape, another dtype). Its
    // mapped pages are given back once read. `dtype`, when given, receives the stored dtype.
    Result<torch::Tensor> read(const std::string &name, const std::string &prefix,
                               const std::vector<std::int64_t> &shape, std::string *dtype = nullptr) const;

    bool has(const std::string &name) const;

    // Reads every entry of `table` into its tensor (converting to the tensor's dtype, and
    // transposing where the file holds [in, out]), reporting each to options.progress. The
    // table's names carry `body` ("model.", "transformer."); the files' may not. `stored`
    // receives the files' dtype. Errors name the file and the tensor; a stop is
    // errc::kRunCancelled.
    Status fill(const std::vector<HfTensor> &table, const std::string &body, const LoadOptions &options,
                const std::string &dir, std::string *stored) const;


private:
    struct File
    {
        hf::MappedFile map;
        hf::SafetensorsLayout layout;
    };
    std::vector<File> m_files;
};

// The loaders behind loadHfModel(), for a checked config.json and its weight files.
Result<std::unique_ptr<CausalLm>> loadHfGpt2(const hf::HfConfig &config, const hf::HfWeightFiles &files,
                                             const WeightReader &weights, const LoadOptions &options);
Result<std::unique_ptr<CausalLm>> loadHfLlama(const hf::HfConfig &config, const hf::HfWeightFiles &files,
                                              const WeightReader &weights, const LoadOptions &options);

} // namespace distillery::core::models
