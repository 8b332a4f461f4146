#include "export/safetensors.h"

#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <nlohmann/json.hpp>

#include <set>

namespace distillery::core::exports {

std::size_t safetensorsItemSize(const std::string &dtype)
{
    if (dtype == "F32" || dtype == "I32")
        return 4;
    if (dtype == "F16" || dtype == "BF16")
        return 2;
    if (dtype == "I64" || dtype == "F64")
        return 8;
    return 0;
}

Result<std::string> safetensorsHeader(const std::vector<SafetensorsTensor> &tensors,
                                      const std::map<std::string, std::string> &metadata)
{
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    std::set<std::string> names;
    std::uint64_t offset = 0;
    for (const auto &t : tensors) {
        const std::string where = "safetensors tensor '" + t.name + "'";
        if (t.name.empty() || t.name == "__metadata__" || !names.insert(t.name).second)
            return Error{errc::kInternal, where + ": empty, reserved or repeated name"};
        const std::size_t item = safetensorsItemSize(t.dtype);
        if (item == 0)
            return Error{errc::kInternal, where + ": unknown dtype " + t.dtype};
        std::uint64_t count = 1;
        for (const auto d : t.shape) {
            if (d < 0)
                return Error{errc::kInternal, where + ": negative dimension"};
            count *= std::uint64_t(d);
        }
        if (count * item != t.bytes.size())
            return Error{errc::kInternal, where + ": " + std::to_string(t.bytes.size())
                                              + " bytes for " + std::to_string(count) + " elements of "
                                              + t.dtype};
        header[t.name] = {{"dtype", t.dtype},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + t.bytes.size()}}};
        offset += t.bytes.size();
    }
    std::string json = header.dump();
    // The data starts 8-byte aligned: spaces after the JSON (allowed by the format).
    json.append((8 - json.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    const std::uint64_t n = json.size();
    for (int i = 0; i < 8; ++i)
        out[std::size_t(i)] = char((n >> (8 * i)) & 0xff);
    return out + json;
}

Status writeSafetensors(const std::string &path, const std::vector<SafetensorsTensor> &tensors,
                        const std::map<std::string, std::string> &metadata)
{
    auto header = safetensorsHeader(tensors, metadata);
    if (!header.ok())
        return header.error();
    auto file = AtomicFile::create(path);
    if (!file.ok())
        return file.error();
    file.value()->write(header.value().data(), header.value().size());
    for (const auto &t : tensors)
        file.value()->write(t.bytes.data(), t.bytes.size());
    return file.value()->commit();
}

} // namespace distillery::core::exports
