// A built-in checkpoint's header: whatever six numbers and file size it claims, the check
// either refuses it or accepts a shape that can be built (positive fields, heads dividing
// d_model) whose parameters fit in the file. Runs under UBSan: no overflow on the way.

#include "distillery/core/models.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

using namespace distillery::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    std::int64_t v[7] = {};
    std::memcpy(v, data, size < sizeof v ? size : sizeof v);
    const ModelShape s{v[0], v[1], v[2], v[3], v[4], v[5]};
    const std::uint64_t fileBytes = std::uint64_t(v[6]);
    const std::string problem = modelShapeProblem(s, fileBytes);
    if (!problem.empty())
        return 0;
    if (s.vocab < 1 || s.layers < 1 || s.dModel < 1 || s.heads < 1 || s.ffn < 1 || s.maxLen < 1)
        std::abort();
    if (s.dModel % s.heads != 0)
        std::abort();
    const std::int64_t params = parameterCount(s);
    if (params <= 0 || std::uint64_t(params) > fileBytes / 2)
        std::abort();
    (void)forwardFlopsPerToken(s, s.maxLen);
    return 0;
}
