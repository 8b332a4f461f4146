// The built-in student in Hugging Face's layout: GPT2LMHeadModel for the gpt family (below),
// LlamaForCausalLM (or Mistral's, Qwen2's) for the Llama family.
//
// GPT2LMHeadModel: the built-in Transformer is GPT-2's architecture (pre-LN blocks, learned positions, fused q/k/v in that order with the
// heads contiguous, exact GELU, LayerNorm eps 1e-5) with a tied or untied head and no dropout, so the
// mapping is a renaming, plus a transpose of every Linear weight: GPT-2's Conv1D keeps its
// weight as [in, out] where LibTorch's Linear keeps [out, in].

#include "hf/safetensors.h"
#include "export/writers.h"

#include "distillery/core/errors.h"
#include "distillery/core/files.h"
#include "models/hfgpt2.h"
#include "models/llama.h"
#include "models/transformer.h"
#include "torchio.h"

#include <nlohmann/json.hpp>

#include <regex>

namespace distillery::core::exports {

using hf::SafetensorsTensor;
using hf::writeSafetensors;

namespace {

const char *safetensorsDtype(const std::string &dtype)
{
    return dtype == "f16" ? "F16" : dtype == "bf16" ? "BF16" : "F32";
}

// GPT-2's name of a built-in parameter, and whether its weight is transposed; empty when the
// parameter has no counterpart (there is none today: the check keeps it so).
std::pair<std::string, bool> gpt2Name(const std::string &name)
{
    static const std::regex block(R"(block(\d+)\.(ln1|qkv|proj|ln2|fc1|fc2)\.(weight|bias))");
    static const std::map<std::string, std::string> parts = {
        {"ln1", "ln_1"},          {"qkv", "attn.c_attn"}, {"proj", "attn.c_proj"},
        {"ln2", "ln_2"},          {"fc1", "mlp.c_fc"},    {"fc2", "mlp.c_proj"}};
    std::smatch m;
    if (std::regex_match(name, m, block)) {
        const std::string part = m[2];
        const bool linear = part != "ln1" && part != "ln2";
        return {"transformer.h." + std::string(m[1]) + "." + parts.at(part) + "." + std::string(m[3]),
                linear && m[3] == "weight"};
    }
    if (name == "tok.weight")
        return {"transformer.wte.weight", false};
    if (name == "pos.weight")
        return {"transformer.wpe.weight", false};
    if (name == "lnf.weight" || name == "lnf.bias")
        return {"transformer.ln_f." + name.substr(4), false};
    if (name == "head.weight")
        return {"lm_head.weight", false};
    return {};
}

} // namespace

std::string torchDtypeName(const std::string &dtype)
{
    return dtype == "f16" ? "float16" : dtype == "bf16" ? "bfloat16" : "float32";
}

torch::ScalarType torchScalarType(const std::string &dtype)
{
    return dtype == "f16" ? torch::kHalf : dtype == "bf16" ? torch::kBFloat16 : torch::kFloat;
}

namespace {

// A view of `t` converted to the export's dtype, kept alive in `keep` until written.
SafetensorsTensor converted(const std::string &name, torch::Tensor t, const ExportFacts &facts,
                            std::vector<torch::Tensor> &keep)
{
    t = t.detach().to(torch::kCPU).to(torchScalarType(facts.dtype)).contiguous();
    keep.push_back(t);
    return {name, safetensorsDtype(facts.dtype), std::vector<std::int64_t>(t.sizes().begin(), t.sizes().end()),
            std::string_view(static_cast<const char *>(t.data_ptr()), std::size_t(t.nbytes()))};
}

nlohmann::ordered_json distilleryFacts(const ExportFacts &facts)
{
    return {{"run", facts.run.id}, {"run_name", facts.run.name}, {"step", facts.step},
            {"template", facts.run.templateName}, {"tokens", facts.tokens}};
}

// model.safetensors from a model's table of Hugging Face names, in the export's dtype.
Status writeWeights(const std::string &dir, const std::vector<models::HfTensor> &table, const ExportFacts &facts)
{
    std::vector<torch::Tensor> keep; // the converted tensors, alive until written
    std::vector<SafetensorsTensor> tensors;
    try {
        torch::NoGradGuard noGrad;
        for (const auto &t : table)
            tensors.push_back(converted(t.name, t.transposed ? t.tensor.t() : t.tensor, facts, keep));
    } catch (const std::exception &e) {
        return Status::failure(errc::kInternal, "cannot convert the student's weights: " + torchErrorText(e));
    }
    return writeSafetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
}

Status writeGeneration(const std::string &dir, std::int64_t maxLength)
{
    const nlohmann::ordered_json generation = {
        {"bos_token_id", nullptr}, {"eos_token_id", nullptr}, {"max_length", maxLength},
        {"do_sample", true}, {"temperature", 1.0}, {"top_k", 0}};
    return writeFileAtomically(dir + "/generation_config.json", generation.dump(2) + "\n");
}

// A Llama-family student in LlamaForCausalLM's layout (the same names and [out, in] weights
// as the module's, models/llama.h), with a config that transformers' LlamaConfig reads.
Status writeHfLlama(const std::string &dir, const models::LlamaLM &module, const ExportFacts &facts)
{
    const models::LlamaSpec &s = module->spec();
    if (s.modelType == "llama" && s.qkvBias != s.outputBias)
        return Status::failure(errc::kExportUnsupported, "a llama model with q/k/v biases but none on o_proj "
                                                         "(or the reverse) has no LlamaConfig");
    if (auto st = writeWeights(dir, module->hfTensors(), facts); !st.ok())
        return st;
    const char *arch = s.modelType == "mistral" ? "MistralForCausalLM"
                       : s.modelType == "qwen2" ? "Qwen2ForCausalLM"
                                                : "LlamaForCausalLM";
    nlohmann::ordered_json config = {
        {"architectures", {arch}},
        {"model_type", s.modelType},
        {"vocab_size", s.vocab},
        {"hidden_size", s.hidden},
        {"intermediate_size", s.ffn},
        {"num_hidden_layers", s.layers},
        {"num_attention_heads", s.heads},
        {"num_key_value_heads", s.kvHeads},
        {"head_dim", s.headDim},
        {"max_position_embeddings", s.maxLen},
        {"hidden_act", "silu"},
        {"rms_norm_eps", s.rmsEps},
        {"rope_theta", s.ropeTheta},
        {"rope_scaling", nullptr},
        {"attention_bias", s.qkvBias},
        {"attention_dropout", 0.0},
        {"mlp_bias", s.mlpBias},
        {"initializer_range", 0.02},
        {"pretraining_tp", 1},
        {"use_cache", true},
        {"tie_word_embeddings", s.tiedHead},
        {"bos_token_id", nullptr},
        {"eos_token_id", nullptr},
        {"torch_dtype", torchDtypeName(facts.dtype)},
        {"distillery", distilleryFacts(facts)},
    };
    if (s.modelType == "mistral")
        config["sliding_window"] = s.slidingWindow > 0 ? nlohmann::ordered_json(s.slidingWindow) : nullptr;
    if (s.modelType == "qwen2")
        config["use_sliding_window"] = false;
    if (auto st = writeFileAtomically(dir + "/config.json", config.dump(2) + "\n"); !st.ok())
        return st;
    return writeGeneration(dir, s.maxLen);
}


// A GPT2LMHeadModel folder: the weights and config.json.
Status writeGpt2(const std::string &dir, const std::vector<models::HfTensor> &table, const ModelShape &s,
                 const std::string &activation, double eps, const ExportFacts &facts)
{
    if (auto st = writeWeights(dir, table, facts); !st.ok())
        return st;
    nlohmann::ordered_json config = {
        {"architectures", {"GPT2LMHeadModel"}},
        {"model_type", "gpt2"},
        {"vocab_size", s.vocab},
        {"n_positions", s.maxLen},
        {"n_ctx", s.maxLen},
        {"n_embd", s.dModel},
        {"n_layer", s.layers},
        {"n_head", s.heads},
        {"n_inner", s.ffn},
        {"activation_function", activation},
        {"layer_norm_epsilon", eps},
        {"resid_pdrop", 0.0},
        {"embd_pdrop", 0.0},
        {"attn_pdrop", 0.0},
        {"summary_first_dropout", 0.0},
        {"initializer_range", 0.02},
        {"scale_attn_weights", true},
        {"scale_attn_by_inverse_layer_idx", false},
        {"reorder_and_upcast_attn", false},
        {"use_cache", true},
        // An untied head is a matrix of its own, written as lm_head.weight.
        {"tie_word_embeddings", s.tiedHead},
        // No special tokens: the vocabulary is the corpus's bytes (or the oracle's symbols).
        {"bos_token_id", nullptr},
        {"eos_token_id", nullptr},
        {"torch_dtype", torchDtypeName(facts.dtype)},
        {"distillery", distilleryFacts(facts)},
    };
    if (auto st = writeFileAtomically(dir + "/config.json", config.dump(2) + "\n"); !st.ok())
        return st;
    return writeGeneration(dir, s.maxLen);
}

} // namespace

Status writeHfModel(const std::string &dir, const models::CausalLm &model, const ExportFacts &facts)
{
    if (auto llama = models::llamaModule(model))
        return writeHfLlama(dir, llama, facts);
    if (auto gpt2 = models::gpt2Module(model)) {
        const models::Gpt2Spec &g = gpt2->spec();
        return writeGpt2(dir, gpt2->hfTensors(),
                         ModelShape{g.vocab, g.layers, g.hidden, g.heads, g.ffn, g.maxLen, g.tiedHead},
                         models::hfActivationName(g.activation), g.eps, facts);
    }
    auto module = models::builtinModule(model);
    if (!module)
        return Status::failure(errc::kExportUnsupported,
                               "only the built-in Transformers and GPT-2 folders' models can be written as a "
                               "Hugging Face model; this student is " + model.describe());
    std::vector<models::HfTensor> table;
    for (const auto &item : module->named_parameters()) {
        const auto [name, transpose] = gpt2Name(item.key());
        if (name.empty())
            return Status::failure(errc::kExportUnsupported,
                                   "parameter '" + item.key() + "' has no place in GPT2LMHeadModel");
        table.push_back({name, item.value(), transpose});
    }
    // torch.nn.functional.gelu's exact (erf) form, which the built-in model uses; GPT-2's own
    // checkpoints use gelu_new, the tanh approximation.
    return writeGpt2(dir, table, module->shape(), "gelu", 1e-5, facts);
}

} // namespace distillery::core::exports
