// Hugging Face GPT2LMHeadModel folders (hfgpt2.h): config.json (hf/hfconfig.h) and the weights
// in safetensors (hfweights.h), memory-mapped and converted to the load's dtype. Tensor names
// may carry the "transformer." prefix (GPT2LMHeadModel) or not (GPT2Model, as many hub files
// have them).

#include "models/hfgpt2.h"

#include "distillery/core/errors.h"
#include "models/hfweights.h"
#include "models/modulelm.h"
#include "models/transformer.h"
#include "torchio.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

namespace distillery::core::models {

const char *const kGpt2SpecKey = "distillery_gpt2";

namespace {

const std::vector<std::string> &activationCodes()
{
    static const std::vector<std::string> codes = {"gelu", "gelu_tanh", "quick_gelu", "relu"};
    return codes;
}

} // namespace

std::string hfActivationName(const std::string &activation)
{
    return activation == "gelu_tanh" ? "gelu_new" : activation;
}

Gpt2BlockImpl::Gpt2BlockImpl(const Gpt2Spec &s)
{
    const std::int64_t D = s.hidden, F = s.ffn;
    auto p = [this](const char *name, std::vector<std::int64_t> shape) {
        return register_parameter(name, torch::empty(shape));
    };
    ln1w = p("ln_1_weight", {D});
    ln1b = p("ln_1_bias", {D});
    attnW = p("c_attn_weight", {3 * D, D});
    attnB = p("c_attn_bias", {3 * D});
    projW = p("c_proj_weight", {D, D});
    projB = p("c_proj_bias", {D});
    ln2w = p("ln_2_weight", {D});
    ln2b = p("ln_2_bias", {D});
    fcW = p("c_fc_weight", {F, D});
    fcB = p("c_fc_bias", {F});
    fcProjW = p("mlp_c_proj_weight", {D, F});
    fcProjB = p("mlp_c_proj_bias", {D});
}

Gpt2LMImpl::Gpt2LMImpl(const Gpt2Spec &s)
    : m_spec(s)
{
    m_wte = register_parameter("wte", torch::empty({s.vocab, s.hidden}));
    m_wpe = register_parameter("wpe", torch::empty({s.maxLen, s.hidden}));
    for (std::int64_t i = 0; i < s.layers; ++i)
        m_blocks.push_back(register_module("h" + std::to_string(i), Gpt2Block(s)));
    m_lnfW = register_parameter("ln_f_weight", torch::empty({s.hidden}));
    m_lnfB = register_parameter("ln_f_bias", torch::empty({s.hidden}));
    if (!s.tiedHead)
        m_head = register_parameter("lm_head", torch::empty({s.vocab, s.hidden}));
}

torch::Tensor Gpt2LMImpl::activate(const torch::Tensor &x) const
{
    const std::string &a = m_spec.activation;
    if (a == "gelu")
        return torch::gelu(x);
    if (a == "gelu_tanh")
        return torch::gelu(x, "tanh");
    if (a == "quick_gelu")
        return x * torch::sigmoid(1.702 * x);
    return torch::relu(x);
}

LmOutput Gpt2LMImpl::forward(const torch::Tensor &tokens, const ForwardOptions &options)
{
    const auto B = tokens.size(0), T = tokens.size(1), D = m_spec.hidden, H = m_spec.heads;
    const auto hd = D / H;
    const double eps = m_spec.eps;
    auto positions = torch::arange(T, tokens.options().dtype(torch::kLong));
    auto x = torch::embedding(m_wte, tokens) + torch::embedding(m_wpe, positions).unsqueeze(0);
    auto mask = torch::full({T, T}, -std::numeric_limits<float>::infinity(), x.options()).triu(1);
    LmOutput out;
    if (options.hidden)
        out.hidden.push_back(x);
    for (const auto &block : m_blocks) {
        const auto &b = *block;
        auto a = torch::layer_norm(x, {D}, b.ln1w, b.ln1b, eps);
        auto qkv = torch::linear(a, b.attnW, b.attnB).view({B, T, 3, H, hd}).permute({2, 0, 3, 1, 4});
        auto q = qkv[0].reshape({B * H, T, hd}), k = qkv[1].reshape({B * H, T, hd}), v = qkv[2].reshape({B * H, T, hd});
        auto attn = torch::softmax(
            torch::baddbmm(mask.unsqueeze(0), q, k.transpose(1, 2), 1.0, 1.0 / std::sqrt(double(hd))), -1);
        if (options.attention)
            out.attention.push_back(attn.view({B, H, T, T}));
        auto ctx = torch::bmm(attn, v).view({B, H, T, hd}).transpose(1, 2).reshape({B, T, D});
        x = x + torch::linear(ctx, b.projW, b.projB);
        auto m = torch::linear(torch::layer_norm(x, {D}, b.ln2w, b.ln2b, eps), b.fcW, b.fcB);
        x = x + torch::linear(activate(m), b.fcProjW, b.fcProjB);
        if (options.hidden)
            out.hidden.push_back(x);
    }
    out.logits = torch::linear(torch::layer_norm(x, {D}, m_lnfW, m_lnfB, eps), m_spec.tiedHead ? m_wte : m_head);
    return out;
}

std::vector<HfTensor> Gpt2LMImpl::hfTensors() const
{
    std::vector<HfTensor> out{{"transformer.wte.weight", m_wte, false}, {"transformer.wpe.weight", m_wpe, false}};
    for (std::size_t i = 0; i < m_blocks.size(); ++i) {
        const auto &b = *m_blocks[i];
        const std::string h = "transformer.h." + std::to_string(i) + ".";
        for (const HfTensor &n : std::vector<HfTensor>{
                 {"ln_1.weight", b.ln1w, false}, {"ln_1.bias", b.ln1b, false}, {"attn.c_attn.weight", b.attnW, true},
                 {"attn.c_attn.bias", b.attnB, false}, {"attn.c_proj.weight", b.projW, true},
                 {"attn.c_proj.bias", b.projB, false}, {"ln_2.weight", b.ln2w, false}, {"ln_2.bias", b.ln2b, false},
                 {"mlp.c_fc.weight", b.fcW, true}, {"mlp.c_fc.bias", b.fcB, false},
                 {"mlp.c_proj.weight", b.fcProjW, true}, {"mlp.c_proj.bias", b.fcProjB, false}})
            out.push_back({h + n.name, n.tensor, n.transposed});
    }
    out.push_back({"transformer.ln_f.weight", m_lnfW, false});
    out.push_back({"transformer.ln_f.bias", m_lnfB, false});
    if (!m_spec.tiedHead)
        out.push_back({"lm_head.weight", m_head, false});
    return out;
}

namespace {

class HfGpt2Lm : public ModuleLm<Gpt2LM>
{
public:
    HfGpt2Lm(Gpt2LM model, std::string origin)
        : ModuleLm(std::move(model))
        , m_origin(std::move(origin))
    {
        const Gpt2Spec &s = m_model->spec();
        m_info.architecture = "gpt2";
        m_info.vocab = s.vocab;
        m_info.layers = s.layers;
        m_info.hidden = s.hidden;
        m_info.heads = m_info.kvHeads = s.heads;
        m_info.ffn = s.ffn;
        m_info.maxLength = s.maxLen;
        m_info.norm = "layernorm";
        m_info.positions = "learned";
        m_info.activation = s.activation;
        m_info.tiedHead = s.tiedHead;
    }
    std::string describe() const override
    {
        const Gpt2Spec &s = m_model->spec();
        return m_origin + " L" + std::to_string(s.layers) + " d" + std::to_string(s.hidden) + " h"
               + std::to_string(s.heads) + " ffn" + std::to_string(s.ffn) + " V" + std::to_string(s.vocab) + ", "
               + hfActivationName(s.activation) + (s.tiedHead ? ", tied head" : "");
    }
    double forwardFlopsPerToken(std::int64_t seqLen) const override
    {
        const Gpt2Spec &s = m_model->spec();
        return core::forwardFlopsPerToken(ModelShape{s.vocab, s.layers, s.hidden, s.heads, s.ffn, s.maxLen}, seqLen);
    }
    using ModuleLm::parameters;
    std::vector<torch::Tensor> parameters(ParameterScope scope) const override
    {
        const bool tied = m_model->spec().tiedHead;
        return scoped(
            scope,
            [tied](const std::string &name) {
                return name == "lm_head" || name.rfind("ln_f_", 0) == 0 || (tied && name == "wte");
            },
            "h" + std::to_string(m_model->spec().layers - 1) + ".");
    }
    Status save(const std::string &path) const override
    {
        const Gpt2Spec &s = m_model->spec();
        const auto code = std::find(activationCodes().begin(), activationCodes().end(), s.activation)
                          - activationCodes().begin();
        return saveWithHeader(
            path, {s.vocab, s.layers, s.hidden, s.heads, s.ffn, s.maxLen, s.tiedHead ? 1 : 0},
            {{kGpt2SpecKey, torch::tensor(std::vector<double>{s.eps, double(code)}, torch::kDouble)}});
    }
    std::unique_ptr<CausalLm> withLayers(const std::vector<std::int64_t> &layers) const override
    {
        Gpt2Spec spec = m_model->spec();
        spec.layers = std::int64_t(layers.size());
        Gpt2LM copy(spec);
        copyRenumbered(*copy, *m_model, "h", layers);
        return std::make_unique<HfGpt2Lm>(copy, "GPT-2 (from the teacher's layers)");
    }

private:
    std::string m_origin;
};

} // namespace

Gpt2LM gpt2Module(const CausalLm &model)
{
    if (const auto *g = dynamic_cast<const HfGpt2Lm *>(&model))
        return g->module();
    return nullptr;
}

Result<std::unique_ptr<CausalLm>> loadGpt2Checkpoint(const std::string &path, torch::serialize::InputArchive &archive,
                                                     const ModelShape &shape, const torch::Tensor &specTensor)
{
    using R = Result<std::unique_ptr<CausalLm>>;
    if (specTensor.dim() != 1 || specTensor.numel() != 2)
        return R::failure(errc::kBadCheckpoint, path + ": the GPT-2 header holds " + std::to_string(specTensor.numel())
                                                    + " numbers, expected 2");
    auto v = specTensor.to(torch::kDouble).contiguous();
    const double eps = v[0].item<double>(), code = v[1].item<double>();
    if (!(eps > 0 && eps <= 1) || !(code >= 0 && code < double(activationCodes().size())) || code != std::floor(code))
        return R::failure(errc::kBadCheckpoint, path + ": the GPT-2 header's epsilon or activation is out of range");
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path, ec);
    if (auto problem = modelShapeProblem(shape, ec ? 0 : std::uint64_t(bytes)); !problem.empty())
        return R::failure(errc::kBadCheckpoint, path + ": " + problem);
    Gpt2Spec s;
    s.vocab = shape.vocab;
    s.layers = shape.layers;
    s.hidden = shape.dModel;
    s.heads = shape.heads;
    s.ffn = shape.ffn;
    s.maxLen = shape.maxLen;
    s.tiedHead = shape.tiedHead;
    s.eps = eps;
    s.activation = activationCodes()[std::size_t(code)];
    Gpt2LM model(s);
    if (auto problem = readModule(*model, archive, "h", s.layers); !problem.empty())
        return R::failure(errc::kBadCheckpoint, path + ": " + problem);
    return R(std::unique_ptr<CausalLm>(std::make_unique<HfGpt2Lm>(model, "GPT-2")));
}

Result<std::unique_ptr<CausalLm>> loadHfGpt2(const hf::HfConfig &config, const hf::HfWeightFiles &files,
                                             const WeightReader &w, const LoadOptions &options)
{
    using R = Result<std::unique_ptr<CausalLm>>;
    const ModelInfo &info = config.info;
    Gpt2Spec s;
    s.vocab = info.vocab;
    s.layers = info.layers;
    s.hidden = info.hidden;
    s.heads = info.heads;
    s.ffn = info.ffn;
    s.maxLen = info.maxLength;
    s.eps = config.layerNormEps;
    s.activation = info.activation;
    // A stored lm_head unties the head whatever config.json says.
    s.tiedHead = !w.has("lm_head.weight");
    if (!info.tiedHead && s.tiedHead)
        return Error{errc::kBadCheckpoint, files.files.front()
                                               + ": config.json has tie_word_embeddings = false, but there is no "
                                                 "tensor 'lm_head.weight'"};
    try {
        Gpt2LM model(s);
        model->to(options.dtype); // before any weight is written: no float32 copy at full size
        std::string stored;
        if (auto st = w.fill(model->hfTensors(), "transformer.", options, config.dir, &stored); !st.ok())
            return st.error();
        const std::string origin = "Hugging Face GPT-2 " + (config.name.empty() ? config.dir : config.name) + ", "
                                   + stored + " weights,";
        return R(std::unique_ptr<CausalLm>(std::make_unique<HfGpt2Lm>(model, origin)));
    } catch (const std::exception &e) {
        return Error{errc::kBadCheckpoint, config.dir + ": cannot load the model: " + torchErrorText(e)};
    }
}

} // namespace distillery::core::models
