#include "distillery/core/models.h"

#include <algorithm>
#include <cstdio>

namespace distillery::core {

const char *familyName(ModelFamily family)
{
    return family == ModelFamily::Llama ? "llama" : "gpt";
}

std::int64_t parameterCount(const ModelShape &s)
{
    const std::int64_t d = s.dModel;
    const std::int64_t head = s.tiedHead ? 0 : d * s.vocab;
    if (s.family == ModelFamily::Llama) {
        const std::int64_t kv = s.keyValueHeads() * (d / std::max<std::int64_t>(1, s.heads));
        const std::int64_t perBlock = 2 * d               // two RMSNorms
                                      + 2 * d * d         // q and o
                                      + 2 * d * kv        // k and v
                                      + 3 * d * s.ffn;    // gate, up, down
        return s.vocab * d + s.layers * perBlock + d + head;
    }
    const std::int64_t perBlock = 2 * (2 * d)        // two LayerNorms (weight + bias)
                                  + (3 * d * d + 3 * d) // QKV
                                  + (d * d + d)         // attention output projection
                                  + (d * s.ffn + s.ffn) // FFN up
                                  + (s.ffn * d + d);    // FFN down
    return s.vocab * d + s.maxLen * d + s.layers * perBlock + 2 * d + head;
}

std::string modelShapeProblem(const ModelShape &s, std::uint64_t fileBytes)
{
    struct Field
    {
        const char *name;
        std::int64_t value, max;
    };
    for (const Field &f : {Field{"vocab", s.vocab, 1 << 22}, Field{"layers", s.layers, 4096},
                           Field{"d_model", s.dModel, 1 << 16}, Field{"heads", s.heads, 1024},
                           Field{"ffn", s.ffn, 1 << 18}, Field{"max_len", s.maxLen, 1 << 20}})
        if (f.value < 1 || f.value > f.max)
            return std::string("the model shape says ") + f.name + " = " + std::to_string(f.value) +
                   ", expected 1.." + std::to_string(f.max);
    if (s.dModel % s.heads != 0)
        return "the model shape says d_model = " + std::to_string(s.dModel) + " with " +
               std::to_string(s.heads) + " heads, which do not divide it";
    if (s.family == ModelFamily::Llama) {
        if (s.kvHeads < 0 || s.heads % s.keyValueHeads() != 0)
            return "the model shape says " + std::to_string(s.kvHeads) + " key/value heads for " +
                   std::to_string(s.heads) + " heads, which they must divide";
        if ((s.dModel / s.heads) % 2 != 0)
            return "the model shape's head size d_model / heads = " + std::to_string(s.dModel / s.heads) +
                   " is odd; rotary positions need an even head size";
        if (!(s.ropeTheta > 1.0) || s.ropeTheta > 1e9)
            return "the model shape's rope_theta = " + std::to_string(s.ropeTheta) + ", expected 1..1e9";
    }
    // Within the ranges above the count fits in 64 bits (at most about 2^53).
    const std::int64_t params = parameterCount(s);
    // Weights are stored as float32; half of that leaves room for a future 16-bit format.
    if (std::uint64_t(params) > fileBytes / 2)
        return "the model shape describes " + std::to_string(params) +
               " parameters, more than a file of " + std::to_string(fileBytes) + " bytes can hold";
    return {};
}

double forwardFlopsPerToken(const ModelShape &s, std::int64_t seqLen)
{
    const double d = double(s.dModel);
    const double kv = double(s.keyValueHeads()) * d / double(std::max<std::int64_t>(1, s.heads));
    const double matmul = s.family == ModelFamily::Llama
                              ? double(s.layers) * (2.0 * d * d + 2.0 * d * kv + 3.0 * d * double(s.ffn))
                                    + d * double(s.vocab)
                              : double(s.layers) * (4.0 * d * d + 2.0 * d * double(s.ffn)) + d * double(s.vocab);
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

std::string describeSize(double parameters, double flopsPerToken)
{
    return humanCount(parameters, " params") + ", " + humanCount(flopsPerToken, "FLOP/token");
}

std::string describeModel(const ModelShape &shape, std::int64_t seqLen)
{
    return describeSize(double(parameterCount(shape)), forwardFlopsPerToken(shape, seqLen));
}

} // namespace distillery::core
