#pragma once

// The pieces every ONNX writer of onnxio shares: a builder of nodes and initializers, the
// graph's typed inputs and outputs, and the model's frame (opset 17, IR version 8) with the
// external-data fallback for weights above the protobuf limit. Internal to onnxio.

#include "distillery/core/result.h"

#include <onnx/onnx_pb.h>

#include <cctype>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace distillery::core::onnxio {

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

inline void valueInfo(pb::ValueInfoProto *v, const std::string &name, int type,
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

// The input's sequence length (a scalar), and the additive causal mask [T, T] of the first T
// of `maxLen` positions (0 where a position may attend, -inf where not; a sliding `window` > 0
// also hides positions `window` or more back), sliced to the input's length.
std::string sequenceLength(GraphBuilder &g);
std::string causalMask(GraphBuilder &g, const std::string &sequenceLength, std::int64_t maxLen,
                       std::int64_t window = 0);

// A model with input_ids int64 [batch, sequence] and logits float [batch, sequence, vocab].
void startModel(pb::ModelProto &model, const std::string &docString, std::int64_t vocab);

// Writes `model` to `path`, its initializers in `<path>.data` when they hold more than
// `externalDataAbove` bytes.
Status finishModel(pb::ModelProto &model, const GraphBuilder &g, const std::string &path,
                   std::uint64_t externalDataAbove);

} // namespace distillery::core::onnxio
