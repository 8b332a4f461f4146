#include "distillery/core/models.h"

#include <cstdio>

namespace distillery::core {

std::int64_t parameterCount(const ModelShape &s)
{
    const std::int64_t d = s.dModel;
    const std::int64_t perBlock = 2 * (2 * d)        // two LayerNorms (weight + bias)
                                  + (3 * d * d + 3 * d) // QKV
                                  + (d * d + d)         // attention output projection
                                  + (d * s.ffn + s.ffn) // FFN up
                                  + (s.ffn * d + d);    // FFN down
    return s.vocab * d + s.maxLen * d + s.layers * perBlock + 2 * d + d * s.vocab;
}

double forwardFlopsPerToken(const ModelShape &s, std::int64_t seqLen)
{
    const double d = double(s.dModel);
    const double matmul = double(s.layers) * (4.0 * d * d + 2.0 * d * double(s.ffn))
                          + d * double(s.vocab);
    return 2.0 * matmul + double(s.layers) * 4.0 * double(seqLen) * d;
}

namespace {
std::string humanCount(double v, const char *unit)
{
    char buf[64];
    if (v >= 1e9)
        std::snprintf(buf, sizeof buf, "%.2fG%s", v / 1e9, unit);
    else if (v >= 1e6)
        std::snprintf(buf, sizeof buf, "%.2fM%s", v / 1e6, unit);
    else if (v >= 1e3)
        std::snprintf(buf, sizeof buf, "%.1fk%s", v / 1e3, unit);
    else
        std::snprintf(buf, sizeof buf, "%.0f%s", v, unit);
    return buf;
}
} // namespace

std::string describeModel(const ModelShape &shape, std::int64_t seqLen)
{
    return humanCount(double(parameterCount(shape)), " params") + ", "
           + humanCount(forwardFlopsPerToken(shape, seqLen), "FLOP/token");
}

} // namespace distillery::core
