#include "onnxio/graphbuilder.h"

#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <limits>

namespace distillery::core::onnxio {

namespace {

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

std::string sequenceLength(GraphBuilder &g)
{
    const std::string shape = g.node("Shape", {"input_ids"}, "input_shape");
    return g.node("Gather", {shape, g.ints("one", {1}, true)}, "sequence_length", {{"axis", 0}});
}

std::string causalMask(GraphBuilder &g, const std::string &seq, std::int64_t T, std::int64_t window)
{
    std::vector<float> mask(std::size_t(T * T), 0.0f);
    for (std::int64_t i = 0; i < T; ++i)
        for (std::int64_t j = 0; j < T; ++j)
            if (j > i || (window > 0 && i - j >= window))
                mask[std::size_t(i * T + j)] = -std::numeric_limits<float>::infinity();
    const std::string seq1 = g.node("Unsqueeze", {seq, g.ints("axis0", {0})}, "sequence_length_1d");
    const std::string ends = g.node("Concat", {seq1, seq1}, "mask_ends", {{"axis", 0}});
    return g.node("Slice", {g.floats("causal_mask_full", {T, T}, mask.data()), g.ints("mask_starts", {0, 0}), ends,
                            g.ints("mask_axes", {0, 1})},
                  "causal_mask");
}

void startModel(pb::ModelProto &model, const std::string &docString, std::int64_t vocab)
{
    model.set_ir_version(8);
    model.set_producer_name("Distillery");
    model.set_doc_string(docString);
    auto *opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(17);
    pb::GraphProto *graph = model.mutable_graph();
    graph->set_name("distillery_student");
    valueInfo(graph->add_input(), "input_ids", pb::TensorProto::INT64, {"batch", "sequence"});
    valueInfo(graph->add_output(), "logits", pb::TensorProto::FLOAT, {"batch", "sequence", std::to_string(vocab)});
}

Status finishModel(pb::ModelProto &model, const GraphBuilder &g, const std::string &path,
                   std::uint64_t externalDataAbove)
{
    if (g.bytes() > externalDataAbove)
        if (auto st = moveToExternalData(model.mutable_graph(), path); !st.ok())
            return st;
    std::string bytes;
    if (!model.SerializeToString(&bytes))
        return Status::failure(errc::kIoWrite, path + ": cannot serialise the ONNX model");
    return writeFileAtomically(path, bytes);
}

} // namespace distillery::core::onnxio
