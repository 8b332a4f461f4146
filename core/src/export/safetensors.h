#pragma once

// The safetensors format, written by the project itself (https://huggingface.co/docs/safetensors):
// an 8-byte little-endian header length N, N bytes of JSON ({"name": {"dtype", "shape",
// "data_offsets": [begin, end]}, ..., "__metadata__": {string: string}}) padded with spaces so
// that the data starts 8-byte aligned, then the tensors' bytes back to back, each little-endian
// and row-major, the offsets relative to the data's start. LibTorch-free.

#include "distillery/core/result.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace distillery::core::exports {

struct SafetensorsTensor
{
    std::string name;
    std::string dtype; // "F32", "F16", "BF16", "I64"
    std::vector<std::int64_t> shape;
    std::string_view bytes; // element count × element size bytes
};

// Bytes per element of a dtype, 0 for one this writer does not know.
std::size_t safetensorsItemSize(const std::string &dtype);

// The header (its length prefix and padding included) for `tensors` in this order.
Result<std::string> safetensorsHeader(const std::vector<SafetensorsTensor> &tensors,
                                      const std::map<std::string, std::string> &metadata);

// Writes the file atomically (files.h). Names must be unique and not "__metadata__", each
// tensor's bytes must match its shape and dtype.
Status writeSafetensors(const std::string &path, const std::vector<SafetensorsTensor> &tensors,
                        const std::map<std::string, std::string> &metadata);

} // namespace distillery::core::exports
