#pragma once

// Sizes of the built-in decoder-only Transformers (GPT-style and Llama-style), for summaries
// and FLOP accounting. LibTorch-free: the GUI shows these on Student and Teacher nodes.

#include <cstdint>
#include <string>

namespace distillery::core {

// gpt: pre-LN LayerNorm blocks, learned positions, fused QKV with biases, GELU (GPT-2).
// llama: RMSNorm, rotary positions, grouped-query attention, SwiGLU, no biases (Llama).
enum class ModelFamily { Gpt, Llama };

struct ModelShape
{
    std::int64_t vocab = 0;
    std::int64_t layers = 0;
    std::int64_t dModel = 0;
    std::int64_t heads = 0;
    std::int64_t ffn = 0;
    std::int64_t maxLen = 0; // learned positions
    bool tiedHead = false;   // the output head is the token embedding (weight tying, as in GPT-2)
    ModelFamily family = ModelFamily::Gpt;
    // Llama only:
    std::int64_t kvHeads = 0;   // key/value heads (grouped-query attention); 0 = heads
    double ropeTheta = 10000.0; // base of the rotary frequencies

    std::int64_t keyValueHeads() const { return kvHeads > 0 ? kvHeads : heads; }
};

// "gpt" | "llama", as the Student node's architecture parameter spells it.
const char *familyName(ModelFamily family);

// Why a built-in checkpoint's header cannot be what it says, or an empty string: every field
// in its range, heads dividing d_model, and no more parameters than a file of `fileBytes`
// bytes can hold (checked before anything is allocated, so a corrupt header can never ask for
// terabytes). Field names as in the message: vocab, layers, d_model, heads, ffn, max_len.
std::string modelShapeProblem(const ModelShape &shape, std::uint64_t fileBytes);

// Trainable parameters. gpt: embeddings, positions, per block (2 LayerNorms, QKV, output
// projection, two FFN matrices, with biases), the final LayerNorm and the output head unless
// it is tied to the embedding. llama: embeddings, per block (2 RMSNorms, q/k/v/o, gate, up,
// down), the final RMSNorm and the head unless tied.
std::int64_t parameterCount(const ModelShape &shape);

// Forward FLOPs per token at context length `seqLen` (multiply-add = 2 FLOPs):
// 2 * (L * (4 d^2 + 2 d f) + d V)  [matmuls]  +  L * 4 * seqLen * d  [QK^T and AV]; llama:
// 2 * (L * (2 d^2 + 2 d kv hd + 3 d f) + d V) + L * 4 * seqLen * d.
// Training costs about 3x the forward pass (forward + backward w.r.t. activations and weights).
double forwardFlopsPerToken(const ModelShape &shape, std::int64_t seqLen);

// "1.2M params, 3.4 MFLOP/token"
std::string describeModel(const ModelShape &shape, std::int64_t seqLen);
std::string describeSize(double parameters, double flopsPerToken);

// What any model the engine runs says about itself (models/causallm.h). Fields a model cannot
// tell (a TorchScript module's insides) are -1 or empty.
struct ModelInfo
{
    std::string architecture; // "gpt" (the built-in Transformer), "torchscript"
    std::int64_t vocab = 0;
    std::int64_t layers = -1;
    std::int64_t hidden = -1;  // width of the hidden states (d_model)
    std::int64_t heads = -1;   // query heads
    std::int64_t kvHeads = -1; // key/value heads (= heads without grouped-query attention)
    std::int64_t ffn = -1;
    std::int64_t maxLength = 0; // longest input; 0 = no limit known
    std::string norm;           // "layernorm" | "rmsnorm"
    std::string positions;      // "learned" | "rotary"
    std::string activation;     // "gelu" (exact) | "gelu_tanh" | "swiglu"
    bool tiedHead = false;      // output head shares the token embedding
};

} // namespace distillery::core
