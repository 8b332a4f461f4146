#pragma once

// The built-in Transformer as an ONNX model (opset 17, IR version 8, the ONNX 1.12 of Debian
// 12), written through ONNX's own protobuf classes. LibTorch-free: the weights come in as float
// arrays, Linear weights already transposed to MatMul's [in, out].
//
// Graph: input_ids int64 [batch, sequence] -> logits float [batch, sequence, vocab], both
// dimensions dynamic (sequence up to the model's max_len). Gather for the embeddings, Range for
// the positions, LayerNormalization (opset 17), MatMul/Add for every Linear, the fused q/k/v
// reshaped to heads, a causal mask sliced to the sequence, Softmax, and the exact GELU spelled
// with Erf (ONNX 1.12 has no Gelu operator). Weights are initializers; above 1.8 GB in all they
// go to `<file>.data` as external data.

#include "distillery/core/models.h"
#include "distillery/core/result.h"

#include <map>
#include <string>
#include <vector>

namespace distillery::core::onnxio {

struct WeightView
{
    const float *data = nullptr;
    std::vector<std::int64_t> shape;
};

// Names as the built-in model's parameters: tok.weight, pos.weight, block<i>.{ln1,qkv,proj,
// ln2,fc1,fc2}.{weight,bias}, lnf.{weight,bias}, head.weight (Linear weights [in, out]).
// Weights above this many bytes in all go to `<path>.data` as external data (protobuf's limit
// for one message is 2 GB).
inline constexpr std::uint64_t kExternalDataAbove = 1800ull << 20;

Status writeGptOnnx(const std::string &path, const ModelShape &shape,
                    const std::map<std::string, WeightView> &weights, const std::string &docString,
                    std::uint64_t externalDataAbove = kExternalDataAbove);

} // namespace distillery::core::onnxio
