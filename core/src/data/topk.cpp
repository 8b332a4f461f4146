#include "data/data.h"
#include "distillery/core/errors.h"
#include "torchio.h"

#include <filesystem>

namespace distillery::core::data {

namespace {

// Archive keys; the version lets a later format be refused with a clear message.
constexpr const char *kVersionKey = "distillery_topk_version";
constexpr std::int64_t kVersion = 1;

std::string shapeText(const torch::Tensor &t)
{
    if (!t.defined())
        return "undefined";
    std::string s = "[";
    for (std::int64_t d = 0; d < t.dim(); ++d)
        s += (d ? "," : "") + std::to_string(t.size(d));
    return s + "]";
}

// Empty when the cache is consistent, else what is wrong with it.
std::string checkCache(const TopKCache &cache)
{
    if (!cache.logProbs.defined() || !cache.indices.defined())
        return "the log-probs or indices tensor is missing";
    if (cache.logProbs.dim() != 3 || cache.indices.sizes() != cache.logProbs.sizes())
        return "expected log-probs and indices of the same shape [N,T,k], got " +
               shapeText(cache.logProbs) + " and " + shapeText(cache.indices);
    if (cache.logProbs.scalar_type() != torch::kFloat ||
        cache.indices.scalar_type() != torch::kLong)
        return "expected float32 log-probs and int64 indices";
    if (cache.k < 1 || cache.logProbs.size(2) != cache.k)
        return "k = " + std::to_string(cache.k) + " does not match the last dimension " +
               shapeText(cache.logProbs);
    if (!(cache.temperature > 0))
        return "the temperature must be positive, got " + std::to_string(cache.temperature);
    return {};
}

} // namespace

Status saveTopKCache(const TopKCache &cache, const std::string &path)
{
    if (auto problem = checkCache(cache); !problem.empty())
        return Status::failure(errc::kDataInvalid, path + ": cannot save the top-k cache: " + problem);
    try {
        torch::serialize::OutputArchive archive;
        archive.write(kVersionKey, c10::IValue(kVersion));
        archive.write("logProbs", cache.logProbs.to(torch::kCPU).contiguous());
        archive.write("indices", cache.indices.to(torch::kCPU).contiguous());
        archive.write("k", c10::IValue(std::int64_t(cache.k)));
        archive.write("temperature", c10::IValue(cache.temperature));
        if (auto written = saveArchiveAtomically(archive, path); !written.ok())
            return Status::failure(errc::kDataIo,
                                   "could not write the top-k cache: " + written.error().message);
    } catch (const std::exception &e) {
        return Status::failure(errc::kDataIo,
                               path + ": could not write the top-k cache: " + torchErrorText(e));
    }
    return okStatus();
}

Result<TopKCache> loadTopKCache(const std::string &path)
{
    using R = Result<TopKCache>;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        return R::failure(errc::kDataNotFound, path + ": top-k cache file not found");
    TopKCache cache;
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(path);
        c10::IValue version, k, temperature;
        if (!archive.try_read(kVersionKey, version) || !version.isInt())
            return R::failure(errc::kDataFormat,
                              path + ": not a top-k cache (no '" + kVersionKey + "' entry)");
        if (version.toInt() != kVersion)
            return R::failure(errc::kDataFormat,
                              path + ": top-k cache version " + std::to_string(version.toInt()) +
                                  " is not supported (expected " + std::to_string(kVersion) + ")");
        if (!archive.try_read("logProbs", cache.logProbs) ||
            !archive.try_read("indices", cache.indices))
            return R::failure(errc::kDataFormat, path + ": top-k cache lacks its 'logProbs' or 'indices' "
                                               "tensor");
        if (!archive.try_read("k", k) || !k.isInt() ||
            !archive.try_read("temperature", temperature) || !temperature.isDouble())
            return R::failure(errc::kDataFormat,
                              path + ": top-k cache lacks its 'k' or 'temperature' entry");
        cache.k = int(k.toInt());
        cache.temperature = temperature.toDouble();
    } catch (const std::exception &e) {
        return R::failure(errc::kDataFormat,
                          path + ": not a readable top-k cache (" + torchErrorText(e) + ")");
    }
    if (auto problem = checkCache(cache); !problem.empty())
        return R::failure(errc::kDataFormat, path + ": inconsistent top-k cache: " + problem);
    return cache;
}

std::pair<torch::Tensor, torch::Tensor> gatherTopK(const TopKCache &cache,
                                                   const torch::Tensor &rowIndices)
{
    TORCH_CHECK(cache.logProbs.defined() && cache.indices.defined(),
                "gatherTopK: the top-k cache is empty");
    auto rows = rowIndices.to(torch::kCPU, torch::kLong).reshape({-1});
    const std::int64_t n = cache.logProbs.size(0);
    if (rows.numel() > 0) {
        const auto lo = rows.min().item<std::int64_t>(), hi = rows.max().item<std::int64_t>();
        TORCH_CHECK(lo >= 0 && hi < n, "gatherTopK: row indices must be training rows in [0, ", n,
                    "), got values in [", lo, ", ", hi,
                    "] (batches built with batchFromRows carry -1)");
    }
    const auto device = cache.logProbs.device();
    return {cache.logProbs.index_select(0, rows.to(device)),
            cache.indices.index_select(0, rows.to(cache.indices.device()))};
}

} // namespace distillery::core::data
