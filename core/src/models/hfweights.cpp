#include "models/hfweights.h"

#include "distillery/core/errors.h"

#include <algorithm>
#include <cstring>

namespace distillery::core::models {

namespace {

std::string dims(const std::vector<std::int64_t> &shape)
{
    std::string out;
    for (auto d : shape)
        out += (out.empty() ? "" : ",") + std::to_string(d);
    return "[" + out + "]";
}

} // namespace

Result<WeightReader> WeightReader::open(const hf::HfWeightFiles &files)
{
    WeightReader r;
    for (const auto &path : files.files) {
        auto mapped = hf::MappedFile::open(path);
        if (!mapped.ok())
            return mapped.error();
        auto layout = hf::parseSafetensors(mapped.value().data(), mapped.value().size(), path);
        if (!layout.ok())
            return layout.error();
        r.m_files.push_back({std::move(mapped.value()), std::move(layout.value())});
    }
    return r;
}

Result<torch::Tensor> WeightReader::read(const std::string &name, const std::string &prefix,
                                         const std::vector<std::int64_t> &shape, std::string *dtype) const
{
    for (const auto &f : m_files) {
        const hf::SafetensorsEntry *e = f.layout.find(prefix + name);
        if (!e)
            e = f.layout.find(name);
        if (!e)
            continue;
        const std::string where = f.map.path() + ": tensor '" + e->name + "'";
        if (e->shape != shape)
            return Error{errc::kBadCheckpoint,
                         where + " has shape " + dims(e->shape) + ", config.json needs " + dims(shape)};
        if (dtype)
            *dtype = e->dtype;
        const auto type = e->dtype == "F32"    ? torch::kFloat
                          : e->dtype == "F16"  ? torch::kHalf
                          : e->dtype == "BF16" ? torch::kBFloat16
                                               : torch::kByte;
        if (type == torch::kByte)
            return Error{errc::kBadCheckpoint, where + " is " + e->dtype + "; expected F32, F16 or BF16"};
        // Widened straight out of the mapping where its offset is aligned for the dtype (a copy
        // first where not), and the mapped pages given back once read.
        const unsigned char *src = f.map.data() + f.layout.dataStart + e->begin;
        const std::size_t bytes = std::size_t(e->end - e->begin);
        const auto options = torch::TensorOptions().dtype(type);
        torch::Tensor out;
        if (reinterpret_cast<std::uintptr_t>(src) % std::uintptr_t(hf::safetensorsItemSize(e->dtype)) == 0) {
            out = torch::from_blob(const_cast<unsigned char *>(src), shape, options)
                      .to(torch::kFloat, /*non_blocking=*/false, /*copy=*/true);
        } else {
            auto raw = torch::empty(shape, options);
            std::memcpy(raw.data_ptr(), src, bytes);
            out = type == torch::kFloat ? raw : raw.to(torch::kFloat);
        }
        f.map.release(f.layout.dataStart + e->begin, bytes);
        return out;
    }
    return Error{errc::kBadCheckpoint,
                 m_files.size() == 1 ? m_files.front().map.path() + ": tensor '" + prefix + name + "' is missing"
                                     : "tensor '" + prefix + name + "' is in none of the weight files"};
}

bool WeightReader::has(const std::string &name) const
{
    for (const auto &f : m_files)
        if (f.layout.find(name))
            return true;
    return false;
}

Status WeightReader::fill(const std::vector<HfTensor> &table, const std::string &body, const LoadOptions &options,
                          const std::string &dir, std::string *stored) const
{
    // The body's prefix as the files spell it: with it (the ...ForCausalLM names) or without.
    const std::string prefix = !table.empty() && has(table.front().name) ? body : "";
    torch::NoGradGuard noGrad;
    std::int64_t done = 0;
    for (const HfTensor &t : table) {
        const bool inBody = t.name.rfind(body, 0) == 0;
        std::vector<std::int64_t> shape(t.tensor.sizes().begin(), t.tensor.sizes().end());
        if (t.transposed)
            std::swap(shape[0], shape[1]);
        auto read = this->read(inBody ? t.name.substr(body.size()) : t.name, inBody ? prefix : "", shape,
                               stored && stored->empty() ? stored : nullptr);
        if (!read.ok())
            return read.error();
        t.tensor.copy_(t.transposed ? read.value().t() : read.value());
        ++done;
        if (options.progress && !options.progress(done, std::int64_t(table.size())))
            return Status::failure(errc::kRunCancelled, dir + ": loading cancelled");
    }
    return okStatus();
}

Result<std::unique_ptr<CausalLm>> loadHfModel(const std::string &dir, const LoadOptions &options)
{
    if (options.dtype != torch::kFloat && options.dtype != torch::kBFloat16 && options.dtype != torch::kHalf)
        return Error{errc::kBadOption, dir + ": weights are held as float32, bfloat16 or float16"};
    auto config = hf::readHfConfig(dir);
    if (!config.ok())
        return config.error();
    auto files = hf::findHfWeights(dir);
    if (!files.ok())
        return files.error();
    auto reader = WeightReader::open(files.value());
    if (!reader.ok())
        return reader.error();
    if (config.value().llamaFamily())
        return loadHfLlama(config.value(), files.value(), reader.value(), options);
    return loadHfGpt2(config.value(), files.value(), reader.value(), options);
}

} // namespace distillery::core::models
