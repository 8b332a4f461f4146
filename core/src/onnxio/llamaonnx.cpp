#include "onnxio/gptonnx.h"
#include "onnxio/graphbuilder.h"

#include "distillery/core/errors.h"

#include <cmath>

namespace distillery::core::onnxio {

Status writeLlamaOnnx(const std::string &path, const LlamaOnnxShape &s,
                      const std::map<std::string, WeightView> &weights, const std::string &docString,
                      std::uint64_t externalDataAbove)
{
    const std::int64_t H = s.heads, KV = s.kvHeads, hd = s.headDim, T = s.maxLen;
    pb::ModelProto model;
    startModel(model, docString, s.vocab);
    GraphBuilder g(model.mutable_graph());
    auto weight = [&](const std::string &name) {
        auto it = weights.find(name);
        if (it == weights.end())
            throw std::runtime_error("ONNX export: weight '" + name + "' is missing");
        return g.floats(name, it->second.shape, it->second.data);
    };
    try {
        const std::string seq = sequenceLength(g);
        const std::string causal = causalMask(g, seq, T, s.slidingWindow);
        // cos/sin [T, hd] as the model computes them (float32 inverse frequencies and angles),
        // sliced to the sequence.
        std::vector<float> cos(std::size_t(T * hd)), sin(std::size_t(T * hd));
        for (std::int64_t t = 0; t < T; ++t)
            for (std::int64_t i = 0; i < hd / 2; ++i) {
                const float inv = 1.0f / std::pow(float(s.ropeTheta), float(2 * i) / float(hd));
                const float angle = float(t) * inv;
                for (std::int64_t half : {std::int64_t(0), hd / 2}) {
                    cos[std::size_t(t * hd + i + half)] = std::cos(angle);
                    sin[std::size_t(t * hd + i + half)] = std::sin(angle);
                }
            }
        const std::string seq1 = g.node("Unsqueeze", {seq, g.ints("rope_axis0", {0})}, "rope_length");
        auto table = [&](const std::string &name, const std::vector<float> &values) {
            return g.node("Slice", {g.floats(name + "_full", {T, hd}, values.data()), g.ints(name + "_start", {0}), seq1,
                                    g.ints(name + "_axes", {0})},
                          name);
        };
        const std::string cosT = table("rope_cos", cos), sinT = table("rope_sin", sin);
        const std::string eps = g.scalar("rms_eps", float(s.rmsEps));
        const std::string scale = g.scalar("attention_scale", float(1.0 / std::sqrt(double(hd))));
        const std::string qShape = g.ints("q_heads_shape", {0, 0, H, hd});
        const std::string kvShape = g.ints("kv_heads_shape", {0, 0, KV, hd});
        const std::string mergedShape = g.ints("merged_shape", {0, 0, H * hd});
        const std::string groupedShape = g.ints("grouped_shape", {0, H, -1, hd});
        const std::string repeats = g.ints("kv_repeats", {1, 1, H / KV, 1, 1});
        const std::string halfStart = g.ints("half_start", {0}), halfMid = g.ints("half_mid", {hd / 2}),
                          halfEnd = g.ints("half_end", {hd}), lastAxis = g.ints("last_axis", {-1});

        auto rms = [&](const std::string &in, const std::string &w) {
            const std::string ms = g.node("ReduceMean", {g.node("Mul", {in, in}, w + ".square")}, w + ".mean_square",
                                          {{"keepdims", 1}}, {}, {{"axes", {-1}}});
            const std::string root = g.node("Sqrt", {g.node("Add", {ms, eps}, w + ".plus_eps")}, w + ".rms");
            return g.node("Mul", {g.node("Div", {in, root}, w + ".normalised"), weight(w)}, w + ".out");
        };
        auto linear = [&](const std::string &in, const std::string &w, const std::string &bias) {
            const std::string m = g.node("MatMul", {in, weight(w)}, w + ".matmul");
            return weights.count(bias) ? g.node("Add", {m, weight(bias)}, w + ".out") : m;
        };
        // [B,T,n*hd] -> [B,n,T,hd]
        auto heads = [&](const std::string &in, const std::string &shape, const std::string &name) {
            return g.node("Transpose", {g.node("Reshape", {in, shape}, name + ".heads")}, name + ".t", {}, {},
                          {{"perm", {0, 2, 1, 3}}});
        };
        // x cos + rotate_half(x) sin, rotate_half(x) = (-x2, x1)
        auto rotate = [&](const std::string &in, const std::string &name) {
            const std::string x1 = g.node("Slice", {in, halfStart, halfMid, lastAxis}, name + ".x1");
            const std::string x2 = g.node("Slice", {in, halfMid, halfEnd, lastAxis}, name + ".x2");
            const std::string rotated = g.node("Concat", {g.node("Neg", {x2}, name + ".neg_x2"), x1}, name + ".rotated",
                                               {{"axis", -1}});
            return g.node("Add", {g.node("Mul", {in, cosT}, name + ".cos"), g.node("Mul", {rotated, sinT}, name + ".sin")},
                          name + ".rope");
        };
        // [B,KV,T,hd] -> [B,H,T,hd]: key/value head j serves query heads j*H/KV .. (j+1)*H/KV-1.
        auto grouped = [&](const std::string &in, const std::string &name) {
            if (KV == H)
                return in;
            const std::string u = g.node("Unsqueeze", {in, g.ints(name + ".axis", {2})}, name + ".unsqueezed");
            return g.node("Reshape", {g.node("Tile", {u, repeats}, name + ".tiled"), groupedShape}, name + ".grouped");
        };

        std::string x = g.node("Gather", {weight("embed"), "input_ids"}, "embeddings");
        for (std::int64_t i = 0; i < s.layers; ++i) {
            const std::string l = "layer" + std::to_string(i);
            const std::string h = rms(x, l + ".attn_norm");
            const std::string q = rotate(heads(linear(h, l + ".q_proj", l + ".q_bias"), qShape, l + ".q"), l + ".q");
            const std::string k = grouped(rotate(heads(linear(h, l + ".k_proj", l + ".k_bias"), kvShape, l + ".k"), l + ".k"),
                                          l + ".k");
            const std::string v = grouped(heads(linear(h, l + ".v_proj", l + ".v_bias"), kvShape, l + ".v"), l + ".v");
            const std::string kt = g.node("Transpose", {k}, l + ".k_transposed", {}, {}, {{"perm", {0, 1, 3, 2}}});
            const std::string scores =
                g.node("Add", {g.node("Mul", {g.node("MatMul", {q, kt}, l + ".qk"), scale}, l + ".scaled"), causal},
                       l + ".scores");
            const std::string att = g.node("Softmax", {scores}, l + ".attention", {{"axis", -1}});
            const std::string ctx = g.node(
                "Reshape",
                {g.node("Transpose", {g.node("MatMul", {att, v}, l + ".context_heads")}, l + ".context_t", {}, {},
                        {{"perm", {0, 2, 1, 3}}}),
                 mergedShape},
                l + ".context");
            x = g.node("Add", {x, linear(ctx, l + ".o_proj", l + ".o_bias")}, l + ".attention_residual");
            const std::string m = rms(x, l + ".mlp_norm");
            const std::string gate = linear(m, l + ".gate_proj", l + ".gate_bias");
            const std::string silu = g.node("Mul", {gate, g.node("Sigmoid", {gate}, l + ".gate_sigmoid")}, l + ".silu");
            const std::string up = linear(m, l + ".up_proj", l + ".up_bias");
            x = g.node("Add", {x, linear(g.node("Mul", {silu, up}, l + ".swiglu"), l + ".down_proj", l + ".down_bias")},
                       l + ".out");
        }
        g.node("MatMul", {rms(x, "norm"), weight("head")}, "logits");
    } catch (const std::exception &e) {
        return Status::failure(errc::kInternal, e.what());
    }
    return finishModel(model, g, path, externalDataAbove);
}

} // namespace distillery::core::onnxio
