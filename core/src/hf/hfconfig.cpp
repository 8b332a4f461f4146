#include "hf/hfconfig.h"

#include "common/jsonread.h"
#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <tuple>

namespace fs = std::filesystem;

namespace distillery::core::hf {

namespace {

using jsonread::Json;

const InputFileKind kConfigFile{"model config", 16u << 20, errc::kModelNotFound, errc::kBadCheckpoint,
                                errc::kBadCheckpoint};
const InputFileKind kIndexFile{"safetensors index", 64u << 20, errc::kModelNotFound,
                               errc::kBadCheckpoint, errc::kBadCheckpoint};

Result<Json> readJson(const std::string &path, const InputFileKind &kind)
{
    auto text = readInputFile(path, kind);
    if (!text.ok())
        return text.error();
    auto parsed = jsonread::parse(text.value());
    if (!parsed.ok)
        return Error{errc::kBadCheckpoint, path + ": not valid JSON"
                                               + (parsed.error.place.empty() ? "" : " at " + parsed.error.place)
                                               + ": " + parsed.error.message};
    if (!parsed.value.is_object())
        return Error{errc::kBadCheckpoint, path + ": expected a JSON object"};
    return parsed.value;
}

// A positive integer field, or `fallback` when absent or null (fallback 0: required).
Result<std::int64_t> sizeField(const Json &config, const std::string &file, const std::string &field,
                               std::int64_t fallback, std::int64_t max)
{
    if (!config.contains(field) || config[field].is_null()) {
        if (fallback > 0)
            return fallback;
        return Error{errc::kBadCheckpoint, file + ": field \"" + field + "\" is missing"};
    }
    const Json &v = config[field];
    if (!v.is_number_integer() || v.get<std::int64_t>() <= 0 || v.get<std::int64_t>() > max)
        return Error{errc::kBadCheckpoint, file + ": field \"" + field + "\" must be an integer in 1.."
                                               + std::to_string(max) + ", got " + jsonread::excerpt(v)};
    return v.get<std::int64_t>();
}

// Hugging Face's names for the activations the GPT-2 loader implements, and ours.
const std::map<std::string, std::string> &gpt2Activations()
{
    static const std::map<std::string, std::string> names = {
        {"gelu", "gelu"},          {"gelu_new", "gelu_tanh"}, {"gelu_pytorch_tanh", "gelu_tanh"},
        {"gelu_fast", "gelu_tanh"}, {"quick_gelu", "quick_gelu"}, {"relu", "relu"}};
    return names;
}

Status readGpt2(const Json &c, const std::string &file, HfConfig &out)
{
    ModelInfo &info = out.info;
    auto field = [&](const std::string &name, std::int64_t fallback, std::int64_t max,
                     std::int64_t &into) -> Status {
        auto v = sizeField(c, file, name, fallback, max);
        if (!v.ok())
            return v.error();
        into = v.value();
        return okStatus();
    };
    // GPT-2's config names, with n_ctx as the older spelling of n_positions.
    std::int64_t ctx = 0;
    if (auto st = field("n_ctx", 1024, 1 << 20, ctx); !st.ok())
        return st;
    for (const auto &[name, fallback, max, into] :
         std::vector<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t *>>{
             {"vocab_size", 0, 1 << 22, &info.vocab},
             {"n_positions", ctx, 1 << 20, &info.maxLength},
             {"n_embd", 0, 1 << 16, &info.hidden},
             {"n_layer", 0, 1024, &info.layers},
             {"n_head", 0, 1024, &info.heads}}) {
        if (auto st = field(name, fallback, max, *into); !st.ok())
            return st;
    }
    if (auto st = field("n_inner", 4 * info.hidden, 1 << 18, info.ffn); !st.ok())
        return st;
    if (info.hidden % info.heads != 0)
        return Error{errc::kBadCheckpoint, file + ": n_head = " + std::to_string(info.heads)
                                               + " does not divide n_embd = " + std::to_string(info.hidden)};
    info.kvHeads = info.heads;
    info.norm = "layernorm";
    info.positions = "learned";
    out.activationFunction = c.contains("activation_function") && c["activation_function"].is_string()
                                 ? c["activation_function"].get<std::string>()
                                 : "gelu_new";
    const auto act = gpt2Activations().find(out.activationFunction);
    if (act == gpt2Activations().end()) {
        std::string known;
        for (const auto &[k, v] : gpt2Activations())
            known += (known.empty() ? "" : ", ") + k;
        return Error{errc::kBadCheckpoint, file + ": activation_function \"" + out.activationFunction
                                               + "\" is not supported (supported: " + known + ")"};
    }
    info.activation = act->second;
    info.tiedHead = !c.contains("tie_word_embeddings") || !c["tie_word_embeddings"].is_boolean()
                    || c["tie_word_embeddings"].get<bool>();
    if (c.contains("layer_norm_epsilon")) {
        const Json &eps = c["layer_norm_epsilon"];
        if (!eps.is_number() || !(eps.get<double>() > 0) || eps.get<double>() > 1)
            return Error{errc::kBadCheckpoint, file + ": layer_norm_epsilon must be a number in (0, 1], got "
                                                   + jsonread::excerpt(eps)};
        out.layerNormEps = eps.get<double>();
    }
    // Variants of the attention that the loader does not implement are refused by name.
    for (const auto &[flag, refusedWhen] : std::vector<std::pair<std::string, bool>>{
             {"scale_attn_weights", false}, {"scale_attn_by_inverse_layer_idx", true}}) {
        if (c.contains(flag) && c[flag].is_boolean() && c[flag].get<bool>() == refusedWhen)
            return Error{errc::kBadCheckpoint, file + ": " + flag + " = " + (refusedWhen ? "true" : "false")
                                                   + " is not supported"};
    }
    return okStatus();
}

// A boolean field, or `fallback` when absent or null.
Result<bool> boolField(const Json &c, const std::string &file, const std::string &field, bool fallback)
{
    if (!c.contains(field) || c[field].is_null())
        return fallback;
    if (!c[field].is_boolean())
        return Error{errc::kBadCheckpoint, file + ": field \"" + field + "\" must be true or false, got "
                                               + jsonread::excerpt(c[field])};
    return c[field].get<bool>();
}

// A positive number field in (0, max], or `fallback` when absent or null.
Result<double> numberField(const Json &c, const std::string &file, const std::string &field, double fallback,
                           double max)
{
    if (!c.contains(field) || c[field].is_null())
        return fallback;
    const Json &v = c[field];
    if (!v.is_number() || !(v.get<double>() > 0) || v.get<double>() > max)
        return Error{errc::kBadCheckpoint, file + ": field \"" + field + "\" must be a number in (0, "
                                               + jsonread::excerpt(Json(max)) + "], got " + jsonread::excerpt(v)};
    return v.get<double>();
}

// Llama (LlamaForCausalLM), Mistral and Qwen2: the same decoder (RMSNorm, rotary positions in
// the rotate-half convention, grouped-query attention, SwiGLU), differing in biases and windows.
Status readLlama(const Json &c, const std::string &file, HfConfig &out)
{
    ModelInfo &info = out.info;
    const std::string &type = out.modelType;
    for (const auto &[name, fallback, max, into] :
         std::vector<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t *>>{
             {"vocab_size", 0, 1 << 22, &info.vocab},
             {"hidden_size", 0, 1 << 16, &info.hidden},
             {"intermediate_size", 0, 1 << 18, &info.ffn},
             {"num_hidden_layers", 0, 1024, &info.layers},
             {"num_attention_heads", 0, 1024, &info.heads},
             {"max_position_embeddings", 2048, 1 << 22, &info.maxLength}}) {
        auto v = sizeField(c, file, name, fallback, max);
        if (!v.ok())
            return v.error();
        *into = v.value();
    }
    auto kv = sizeField(c, file, "num_key_value_heads", info.heads, 1024);
    if (!kv.ok())
        return kv.error();
    info.kvHeads = kv.value();
    if (info.heads % info.kvHeads != 0)
        return Error{errc::kBadCheckpoint, file + ": num_key_value_heads = " + std::to_string(info.kvHeads)
                                               + " does not divide num_attention_heads = "
                                               + std::to_string(info.heads)};
    const bool explicitHeadDim = c.contains("head_dim") && !c["head_dim"].is_null();
    if (!explicitHeadDim && info.hidden % info.heads != 0)
        return Error{errc::kBadCheckpoint, file + ": num_attention_heads = " + std::to_string(info.heads)
                                               + " does not divide hidden_size = " + std::to_string(info.hidden)};
    auto headDim = sizeField(c, file, "head_dim", info.hidden / info.heads, 4096);
    if (!headDim.ok())
        return headDim.error();
    out.headDim = headDim.value();
    if (out.headDim % 2 != 0)
        return Error{errc::kBadCheckpoint, file + ": the head size is " + std::to_string(out.headDim)
                                               + "; rotary positions need an even head size"};
    auto eps = numberField(c, file, "rms_norm_eps", 1e-6, 1.0);
    if (!eps.ok())
        return eps.error();
    out.layerNormEps = eps.value();
    auto theta = numberField(c, file, "rope_theta", 10000.0, 1e12);
    if (!theta.ok())
        return theta.error();
    out.ropeTheta = theta.value();
    if (c.contains("rope_scaling") && !c["rope_scaling"].is_null()) {
        const Json &r = c["rope_scaling"];
        std::string kind = "?";
        for (const char *key : {"rope_type", "type"})
            if (r.is_object() && r.contains(key) && r[key].is_string())
                kind = r[key].get<std::string>();
        // {"rope_type": "default"} is the unscaled rotation.
        if (kind != "default")
            return Error{errc::kBadCheckpoint, file + ": rope_scaling of type \"" + kind
                                                   + "\" is not supported (Distillery implements unscaled "
                                                     "rotary positions; set rope_scaling to null to use the "
                                                     "model at its original context length)"};
    }
    if (c.contains("partial_rotary_factor") && !c["partial_rotary_factor"].is_null()
        && !(c["partial_rotary_factor"].is_number() && c["partial_rotary_factor"].get<double>() == 1.0))
        return Error{errc::kBadCheckpoint, file + ": partial_rotary_factor other than 1 is not supported"};
    out.activationFunction = c.contains("hidden_act") && c["hidden_act"].is_string()
                                 ? c["hidden_act"].get<std::string>()
                                 : "silu";
    if (out.activationFunction != "silu")
        return Error{errc::kBadCheckpoint, file + ": hidden_act \"" + out.activationFunction
                                               + "\" is not supported; the " + type
                                               + " loader implements SwiGLU with \"silu\""};
    info.activation = "swiglu";
    info.norm = "rmsnorm";
    info.positions = "rotary";
    // Llama and Mistral untie by default, Qwen2 ties.
    auto tied = boolField(c, file, "tie_word_embeddings", false);
    if (!tied.ok())
        return tied.error();
    info.tiedHead = tied.value();
    if (type == "qwen2") {
        out.qkvBias = true;
        auto sliding = boolField(c, file, "use_sliding_window", false);
        if (!sliding.ok())
            return sliding.error();
        if (sliding.value())
            return Error{errc::kBadCheckpoint, file + ": use_sliding_window = true is not supported for "
                                                   "qwen2 (its window applies to some layers only)"};
    } else if (type == "llama") {
        auto attn = boolField(c, file, "attention_bias", false);
        auto mlp = boolField(c, file, "mlp_bias", false);
        if (!attn.ok())
            return attn.error();
        if (!mlp.ok())
            return mlp.error();
        out.qkvBias = out.outputBias = attn.value();
        out.mlpBias = mlp.value();
    } else if (type == "mistral") {
        // MistralConfig's default window is 4096 positions; null means none.
        std::int64_t window = 0;
        if (!c.contains("sliding_window")) {
            window = 4096;
        } else if (!c["sliding_window"].is_null()) {
            auto v = sizeField(c, file, "sliding_window", 0, 1 << 30);
            if (!v.ok())
                return v.error();
            window = v.value();
        }
        // A window at least as long as the longest input changes nothing.
        out.slidingWindow = window >= info.maxLength ? 0 : window;
    }
    return okStatus();
}

} // namespace

bool isHfFolder(const std::string &dir)
{
    std::error_code ec;
    return fs::is_directory(dir, ec) && fs::is_regular_file(fs::path(dir) / "config.json", ec);
}

Result<HfConfig> readHfConfig(const std::string &dir)
{
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return Error{errc::kModelNotFound, dir + ": not a folder; a Hugging Face model is a folder "
                                                 "with config.json and model.safetensors"};
    const std::string file = (fs::path(dir) / "config.json").string();
    if (!fs::exists(file, ec))
        return Error{errc::kModelNotFound, dir + ": no config.json; a Hugging Face model folder holds "
                                                 "config.json and model.safetensors"};
    auto json = readJson(file, kConfigFile);
    if (!json.ok())
        return json.error();
    const Json &c = json.value();
    HfConfig out;
    out.dir = dir;
    out.modelType = c.contains("model_type") && c["model_type"].is_string() ? c["model_type"].get<std::string>() : "";
    const char *supported = "\"gpt2\", \"llama\", \"mistral\" or \"qwen2\"";
    if (out.modelType.empty())
        return Error{errc::kBadCheckpoint, file + ": no \"model_type\"; expected " + supported};
    if (out.modelType != "gpt2" && !out.llamaFamily())
        return Error{errc::kBadCheckpoint, file + ": model_type \"" + out.modelType
                                               + "\" is not supported; Distillery reads " + supported};
    if (auto st = out.modelType == "gpt2" ? readGpt2(c, file, out) : readLlama(c, file, out); !st.ok())
        return st.error();
    out.info.architecture = out.modelType;
    if (c.contains("_name_or_path") && c["_name_or_path"].is_string()) {
        const std::string name = c["_name_or_path"].get<std::string>();
        // A hub id ("gpt2", "org/name"), not a local path.
        const bool local = name.empty() || name[0] == '/' || name[0] == '.' || name[0] == '~'
                           || name.find('\\') != std::string::npos
                           || std::count(name.begin(), name.end(), '/') > 1;
        if (!local)
            out.name = name;
    }
    return out;
}

std::int64_t parameterCount(const HfConfig &config)
{
    const ModelInfo &i = config.info;
    const std::int64_t D = i.hidden, F = i.ffn, head = i.tiedHead ? 0 : i.vocab * D;
    if (config.llamaFamily()) {
        const std::int64_t Q = i.heads * config.headDim, KV = i.kvHeads * config.headDim;
        const std::int64_t perLayer = 2 * D + D * Q + 2 * D * KV + Q * D + 3 * D * F
                                      + (config.qkvBias ? Q + 2 * KV : 0) + (config.outputBias ? D : 0)
                                      + (config.mlpBias ? 2 * F + D : 0);
        return i.vocab * D + i.layers * perLayer + D + head;
    }
    // GPT-2: embeddings and positions, per block two LayerNorms, c_attn, c_proj and the MLP
    // with biases, the final LayerNorm.
    return i.vocab * D + i.maxLength * D + i.layers * (4 * D + 3 * D * D + 3 * D + D * D + D + 2 * D * F + F + D)
           + 2 * D + head;
}

std::string describe(const HfConfig &config)
{
    const ModelInfo &i = config.info;
    std::string text = config.modelType == "gpt2" ? "GPT-2" : config.modelType;
    if (!config.name.empty())
        text += " " + config.name;
    if (config.llamaFamily()) {
        text += i.kvHeads == i.heads ? ", " + std::to_string(i.heads) + " heads"
                                     : ", " + std::to_string(i.heads) + " heads over " + std::to_string(i.kvHeads)
                                           + " key/value heads";
        if (config.slidingWindow > 0)
            text += ", window " + std::to_string(config.slidingWindow);
    } else {
        text += ", " + config.activationFunction;
    }
    return text + (i.tiedHead ? ", tied head" : "");
}

Result<HfWeightFiles> findHfWeights(const std::string &dir)
{
    std::error_code ec;
    const fs::path root(dir);
    HfWeightFiles out;
    if (fs::is_regular_file(root / "model.safetensors", ec)) {
        out.files.push_back((root / "model.safetensors").string());
        return out;
    }
    const std::string index = (root / "model.safetensors.index.json").string();
    if (!fs::exists(index, ec)) {
        const bool bin = fs::exists(root / "pytorch_model.bin", ec);
        return Error{errc::kModelNotFound,
                     dir + ": no model.safetensors or model.safetensors.index.json"
                         + (bin ? std::string("; pytorch_model.bin is not read (pickle files can run code): "
                                              "convert it to safetensors")
                                : std::string())};
    }
    auto json = readJson(index, kIndexFile);
    if (!json.ok())
        return json.error();
    const Json &j = json.value();
    if (!j.contains("weight_map") || !j["weight_map"].is_object() || j["weight_map"].empty())
        return Error{errc::kBadCheckpoint, index + ": expected a non-empty \"weight_map\" object"};
    std::set<std::string> seen;
    for (const auto &[tensor, file] : j["weight_map"].items()) {
        // A shard is a plain file name in the folder: no path may lead out of it.
        const std::string name = file.is_string() ? file.get<std::string>() : "";
        if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos
            || name == "." || name == "..")
            return Error{errc::kBadCheckpoint, index + ": weight_map[\"" + jsonread::excerpt(tensor)
                                                   + "\"] must be a file name in the folder, got "
                                                   + jsonread::excerpt(file)};
        const std::string path = (root / name).string();
        if (seen.insert(path).second) {
            if (!fs::is_regular_file(path, ec))
                return Error{errc::kModelNotFound, index + ": shard " + name + " is missing"};
            out.files.push_back(path);
        }
        out.fileOf[tensor] = path;
    }
    return out;
}

} // namespace distillery::core::hf
