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

// The Llama-family decoder (models/llama.h) as ONNX, under the same input and output:
// Gather for the embeddings, RMSNorm spelled with ReduceMean/Sqrt/Div, q/k/v as MatMul (with
// Add where the model has biases), rotary positions from cos/sin tables of max_len rows
// sliced to the sequence with the rotate-half written as Slice/Neg/Concat, key/value heads
// repeated for grouped-query attention with Tile, a causal (and windowed) mask, Softmax, and
// SwiGLU as Sigmoid/Mul. Weight names as the module's parameters: embed, layer<i>.{attn_norm,
// q_proj,k_proj,v_proj,o_proj,mlp_norm,gate_proj,up_proj,down_proj} ([in, out]), optional
// layer<i>.{q,k,v,o,gate,up,down}_bias, norm, head ([in, out]; the embedding's transpose when
// tied).
struct LlamaOnnxShape
{
    std::int64_t vocab = 0, layers = 0, hidden = 0, heads = 0, kvHeads = 0, headDim = 0, ffn = 0, maxLen = 0;
    double ropeTheta = 10000.0, rmsEps = 1e-5;
    std::int64_t slidingWindow = 0;
};

Status writeLlamaOnnx(const std::string &path, const LlamaOnnxShape &shape,
                      const std::map<std::string, WeightView> &weights, const std::string &docString,
                      std::uint64_t externalDataAbove = kExternalDataAbove);

} // namespace distillery::core::onnxio
