#include "onnxio/gptonnx.h"
#include "onnxio/graphbuilder.h"

#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace distillery::core::onnxio {

Status writeGptOnnx(const std::string &path, const ModelShape &s,
                    const std::map<std::string, WeightView> &weights, const std::string &docString,
                    std::uint64_t externalDataAbove)
{
    const std::int64_t D = s.dModel, H = s.heads, hd = s.dModel / s.heads, T = s.maxLen;
    pb::ModelProto model;
    startModel(model, docString, s.vocab);
    pb::GraphProto *graph = model.mutable_graph();
    GraphBuilder g(graph);
    auto weight = [&](const std::string &name) {
        auto it = weights.find(name);
        if (it == weights.end())
            throw std::runtime_error("ONNX export: weight '" + name + "' is missing");
        return g.floats(name, it->second.shape, it->second.data);
    };

    // Positions 0 .. T-1 and the causal mask cut to T.
    const std::string seq = sequenceLength(g);
    const std::string positions = g.node("Range", {g.ints("zero", {0}, true), seq, g.ints("one_step", {1}, true)},
                                         "positions");
    const std::string causal = causalMask(g, seq, T);
    std::string x;
    try {
        x = g.node("Add", {g.node("Gather", {weight("tok.weight"), "input_ids"}, "token_embeddings"),
                           g.node("Gather", {weight("pos.weight"), positions}, "position_embeddings")},
                   "embeddings");
        const std::string headsShape = g.ints("qkv_heads_shape", {0, 0, 3, H, hd});
        const std::string mergedShape = g.ints("merged_shape", {0, 0, D});
        const std::string scale = g.scalar("attention_scale", float(1.0 / std::sqrt(double(hd))));
        const std::string half = g.scalar("half", 0.5f), one = g.scalar("one_f", 1.0f),
                          sqrt2 = g.scalar("sqrt2", float(std::sqrt(2.0)));
        const std::string idx[3] = {g.ints("index0", {0}, true), g.ints("index1", {1}, true),
                                    g.ints("index2", {2}, true)};
        auto linear = [&](const std::string &in, const std::string &p) {
            return g.node("Add", {g.node("MatMul", {in, weight(p + ".weight")}, p + ".matmul"), weight(p + ".bias")},
                          p + ".out");
        };
        auto layerNorm = [&](const std::string &in, const std::string &p) {
            return g.node("LayerNormalization", {in, weight(p + ".weight"), weight(p + ".bias")}, p + ".out",
                          {{"axis", -1}}, {{"epsilon", 1e-5f}});
        };
        for (std::int64_t i = 0; i < s.layers; ++i) {
            const std::string b = "block" + std::to_string(i);
            const std::string qkv = g.node("Transpose", {g.node("Reshape", {linear(layerNorm(x, b + ".ln1"), b + ".qkv"), headsShape}, b + ".qkv_heads")},
                                           b + ".qkv_t", {}, {}, {{"perm", {2, 0, 3, 1, 4}}});
            const std::string q = g.node("Gather", {qkv, idx[0]}, b + ".q", {{"axis", 0}});
            const std::string k = g.node("Gather", {qkv, idx[1]}, b + ".k", {{"axis", 0}});
            const std::string v = g.node("Gather", {qkv, idx[2]}, b + ".v", {{"axis", 0}});
            const std::string kt = g.node("Transpose", {k}, b + ".k_t", {}, {}, {{"perm", {0, 1, 3, 2}}});
            const std::string scores = g.node("Add", {g.node("Mul", {g.node("MatMul", {q, kt}, b + ".qk"), scale}, b + ".scaled"), causal},
                                              b + ".scores");
            const std::string att = g.node("Softmax", {scores}, b + ".attention", {{"axis", -1}});
            const std::string ctx = g.node("Reshape", {g.node("Transpose", {g.node("MatMul", {att, v}, b + ".context_heads")}, b + ".context_t", {}, {}, {{"perm", {0, 2, 1, 3}}}), mergedShape},
                                           b + ".context");
            x = g.node("Add", {x, linear(ctx, b + ".proj")}, b + ".attention_residual");
            const std::string f = linear(layerNorm(x, b + ".ln2"), b + ".fc1");
            // Exact GELU: 0.5 · f · (1 + erf(f / √2)).
            const std::string gelu = g.node("Mul", {g.node("Mul", {f, half}, b + ".gelu_half"),
                                                    g.node("Add", {g.node("Erf", {g.node("Div", {f, sqrt2}, b + ".gelu_scaled")}, b + ".gelu_erf"), one}, b + ".gelu_sum")},
                                            b + ".gelu");
            x = g.node("Add", {x, linear(gelu, b + ".fc2")}, b + ".out");
        }
        g.node("MatMul", {layerNorm(x, "lnf"), weight("head.weight")}, "logits");
    } catch (const std::exception &e) {
        return Status::failure(errc::kInternal, e.what());
    }
    return finishModel(model, g, path, externalDataAbove);
}

} // namespace distillery::core::onnxio
