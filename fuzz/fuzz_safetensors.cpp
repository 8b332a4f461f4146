// A safetensors file from anywhere: the parser either refuses it with a message naming the
// file, or returns a layout whose every tensor lies inside the file, matches its shape and
// dtype, and overlaps no other. Reading each tensor's bytes then stays in bounds (ASan).

#include "hf/safetensors.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace distillery::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    // An exact-size copy, so that ASan sees any read past the end.
    std::vector<std::uint8_t> bytes(data, data + size);
    auto layout = hf::parseSafetensors(bytes.data(), bytes.size(), "fuzz.safetensors");
    if (!layout.ok()) {
        if (layout.error().message.rfind("fuzz.safetensors: ", 0) != 0)
            std::abort();
        return 0;
    }
    const auto &l = layout.value();
    if (l.dataStart < 8 || l.dataStart > size)
        std::abort();
    std::uint64_t previousEnd = 0;
    unsigned sum = 0;
    for (const auto &t : l.tensors) {
        if (t.begin > t.end || l.dataStart + t.end > size || t.begin < previousEnd)
            std::abort();
        std::uint64_t count = 1;
        for (const auto d : t.shape) {
            if (d < 0)
                std::abort();
            count *= std::uint64_t(d);
        }
        if (count * hf::safetensorsItemSize(t.dtype) != t.end - t.begin)
            std::abort();
        for (std::uint64_t i = t.begin; i < t.end; ++i)
            sum += bytes[std::size_t(l.dataStart + i)];
        previousEnd = t.end;
    }
    return int(sum & 0);
}
