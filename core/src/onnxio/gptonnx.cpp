#include "onnxio/gptonnx.h"

#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <limits>

namespace distillery::core::onnxio {

namespace {

namespace pb = ::onnx;

class GraphBuilder
{
public:
    explicit GraphBuilder(pb::GraphProto *graph)
        : m_graph(graph)
    {}

    // A node with one output, named after the node.
    std::string node(const std::string &op, const std::vector<std::string> &inputs,
                     const std::string &name,
                     const std::vector<std::pair<std::string, std::int64_t>> &ints = {},
                     const std::vector<std::pair<std::string, float>> &floats = {},
                     const std::vector<std::pair<std::string, std::vector<std::int64_t>>> &lists = {})
    {
        pb::NodeProto *n = m_graph->add_node();
        n->set_op_type(op);
        n->set_name(name);
        for (const auto &i : inputs)
            n->add_input(i);
        n->add_output(name);
        for (const auto &[k, v] : ints) {
            auto *a = n->add_attribute();
            a->set_name(k);
            a->set_type(pb::AttributeProto::INT);
            a->set_i(v);
        }
        for (const auto &[k, v] : floats) {
            auto *a = n->add_attribute();
            a->set_name(k);
            a->set_type(pb::AttributeProto::FLOAT);
            a->set_f(v);
        }
        for (const auto &[k, v] : lists) {
            auto *a = n->add_attribute();
            a->set_name(k);
            a->set_type(pb::AttributeProto::INTS);
            for (auto x : v)
                a->add_ints(x);
        }
        return name;
    }

    std::string ints(const std::string &name, const std::vector<std::int64_t> &values, bool scalar = false)
    {
        pb::TensorProto *t = m_graph->add_initializer();
        t->set_name(name);
        t->set_data_type(pb::TensorProto::INT64);
        if (!scalar)
            t->add_dims(std::int64_t(values.size()));
        for (auto v : values)
            t->add_int64_data(v);
        return name;
    }

    std::string floats(const std::string &name, const std::vector<std::int64_t> &shape, const float *data)
    {
        pb::TensorProto *t = m_graph->add_initializer();
        t->set_name(name);
        t->set_data_type(pb::TensorProto::FLOAT);
        std::int64_t count = 1;
        for (auto d : shape) {
            t->add_dims(d);
            count *= d;
        }
        t->set_raw_data(std::string(reinterpret_cast<const char *>(data), std::size_t(count) * sizeof(float)));
        m_bytes += std::uint64_t(count) * sizeof(float);
        return name;
    }

    std::string scalar(const std::string &name, float value) { return floats(name, {}, &value); }

    std::uint64_t bytes() const { return m_bytes; }

private:
    pb::GraphProto *m_graph;
    std::uint64_t m_bytes = 0;
};

void valueInfo(pb::ValueInfoProto *v, const std::string &name, int type,
               const std::vector<std::string> &dims)
{
    v->set_name(name);
    auto *tensor = v->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(type);
    for (const auto &d : dims) {
        auto *dim = tensor->mutable_shape()->add_dim();
        if (!d.empty() && std::isdigit(static_cast<unsigned char>(d[0])))
            dim->set_dim_value(std::stoll(d));
        else
            dim->set_dim_param(d);
    }
}

// Initializers larger than the protobuf limit allows in one file go to `<file>.data`, each at
// a 4096-byte aligned offset, as ONNX's external data (location, offset, length).
Status moveToExternalData(pb::GraphProto *graph, const std::string &path)
{
    const std::string dataName = path.substr(path.rfind('/') + 1) + ".data";
    std::string blob;
    for (auto &t : *graph->mutable_initializer()) {
        if (t.raw_data().size() < 1024)
            continue;
        const std::size_t offset = blob.size(), length = t.raw_data().size();
        blob += t.raw_data();
        blob.append((4096 - blob.size() % 4096) % 4096, '\0');
        t.clear_raw_data();
        t.set_data_location(pb::TensorProto::EXTERNAL);
        for (const auto &[k, v] : {std::pair<std::string, std::string>{"location", dataName},
                                   {"offset", std::to_string(offset)},
                                   {"length", std::to_string(length)}}) {
            auto *e = t.add_external_data();
            e->set_key(k);
            e->set_value(v);
        }
    }
    return writeFileAtomically(path + ".data", blob);
}

} // namespace

Status writeGptOnnx(const std::string &path, const ModelShape &s,
                    const std::map<std::string, WeightView> &weights, const std::string &docString,
                    std::uint64_t externalDataAbove)
{
    const std::int64_t D = s.dModel, H = s.heads, hd = s.dModel / s.heads, T = s.maxLen;
    pb::ModelProto model;
    model.set_ir_version(8);
    model.set_producer_name("Distillery");
    model.set_doc_string(docString);
    auto *opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(17);
    pb::GraphProto *graph = model.mutable_graph();
    graph->set_name("distillery_student");
    valueInfo(graph->add_input(), "input_ids", pb::TensorProto::INT64, {"batch", "sequence"});
    valueInfo(graph->add_output(), "logits", pb::TensorProto::FLOAT,
              {"batch", "sequence", std::to_string(s.vocab)});
    GraphBuilder g(graph);
    auto weight = [&](const std::string &name) {
        auto it = weights.find(name);
        if (it == weights.end())
            throw std::runtime_error("ONNX export: weight '" + name + "' is missing");
        return g.floats(name, it->second.shape, it->second.data);
    };

    // Positions 0 .. T-1 and the causal mask cut to T.
    const std::string shape = g.node("Shape", {"input_ids"}, "input_shape");
    const std::string seq = g.node("Gather", {shape, g.ints("one", {1}, true)}, "sequence_length", {{"axis", 0}});
    const std::string positions = g.node("Range", {g.ints("zero", {0}, true), seq, g.ints("one_step", {1}, true)},
                                         "positions");
    std::vector<float> mask(std::size_t(T * T), 0.0f);
    for (std::int64_t i = 0; i < T; ++i)
        for (std::int64_t j = i + 1; j < T; ++j)
            mask[std::size_t(i * T + j)] = -std::numeric_limits<float>::infinity();
    const std::string seq1 = g.node("Unsqueeze", {seq, g.ints("axis0", {0})}, "sequence_length_1d");
    const std::string ends = g.node("Concat", {seq1, seq1}, "mask_ends", {{"axis", 0}});
    const std::string causal = g.node("Slice", {g.floats("causal_mask_full", {T, T}, mask.data()),
                                                g.ints("mask_starts", {0, 0}), ends, g.ints("mask_axes", {0, 1})},
                                      "causal_mask");
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
    if (g.bytes() > externalDataAbove)
        if (auto st = moveToExternalData(graph, path); !st.ok())
            return st;
    std::string bytes;
    if (!model.SerializeToString(&bytes))
        return Status::failure(errc::kIoWrite, path + ": cannot serialise the ONNX model");
    return writeFileAtomically(path, bytes);
}

} // namespace distillery::core::onnxio
