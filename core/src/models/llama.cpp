#include "models/llama.h"

#include "distillery/core/errors.h"
#include "models/hfweights.h"
#include "models/modulelm.h"
#include "models/transformer.h"
#include "torchio.h"

#include <cmath>
#include <filesystem>
#include <limits>

namespace distillery::core::models {

const char *const kLlamaSpecKey = "distillery_llama";

LlamaSpec llamaSpec(const ModelShape &s)
{
    LlamaSpec spec;
    spec.vocab = s.vocab;
    spec.layers = s.layers;
    spec.hidden = s.dModel;
    spec.heads = s.heads;
    spec.kvHeads = s.keyValueHeads();
    spec.headDim = s.heads > 0 ? s.dModel / s.heads : 0;
    spec.ffn = s.ffn;
    spec.maxLen = s.maxLen;
    spec.ropeTheta = s.ropeTheta;
    spec.tiedHead = s.tiedHead;
    return spec;
}

std::string llamaSpecProblem(const LlamaSpec &s, std::uint64_t fileBytes)
{
    struct Field
    {
        const char *name;
        std::int64_t value, max;
    };
    for (const Field &f : {Field{"vocab", s.vocab, 1 << 22}, Field{"layers", s.layers, 4096},
                           Field{"hidden", s.hidden, 1 << 16}, Field{"heads", s.heads, 1024},
                           Field{"kv_heads", s.kvHeads, 1024}, Field{"head_dim", s.headDim, 4096},
                           Field{"ffn", s.ffn, 1 << 18}, Field{"max_len", s.maxLen, 1 << 22}})
        if (f.value < 1 || f.value > f.max)
            return std::string("the Llama shape says ") + f.name + " = " + std::to_string(f.value) + ", expected 1.."
                   + std::to_string(f.max);
    if (s.heads % s.kvHeads != 0)
        return "the Llama shape's kv_heads = " + std::to_string(s.kvHeads) + " do not divide heads = "
               + std::to_string(s.heads);
    if (s.headDim % 2 != 0)
        return "the Llama shape's head_dim = " + std::to_string(s.headDim) + " is odd";
    if (!(s.ropeTheta > 1.0) || s.ropeTheta > 1e12 || !(s.rmsEps > 0) || s.rmsEps > 1 || s.slidingWindow < 0)
        return "the Llama shape's rope_theta, rms_eps or sliding window is out of range";
    const double per = double(s.hidden) * double(s.heads * s.headDim) * 2 + 2.0 * double(s.hidden)
                       * double(s.kvHeads * s.headDim) + 3.0 * double(s.hidden) * double(s.ffn);
    const double params = double(s.vocab) * double(s.hidden) * (s.tiedHead ? 1 : 2) + double(s.layers) * per;
    if (params > double(fileBytes) / 2)
        return "the Llama shape describes " + std::to_string(std::int64_t(params))
               + " parameters, more than a file of " + std::to_string(fileBytes) + " bytes can hold";
    return {};
}

LlamaLayerImpl::LlamaLayerImpl(const LlamaSpec &s)
{
    const std::int64_t D = s.hidden, Q = s.heads * s.headDim, KV = s.kvHeads * s.headDim, F = s.ffn;
    auto p = [this](const char *name, std::vector<std::int64_t> shape) {
        return register_parameter(name, torch::empty(shape));
    };
    attnNorm = p("attn_norm", {D});
    q = p("q_proj", {Q, D});
    k = p("k_proj", {KV, D});
    v = p("v_proj", {KV, D});
    o = p("o_proj", {D, Q});
    if (s.qkvBias) {
        qBias = p("q_bias", {Q});
        kBias = p("k_bias", {KV});
        vBias = p("v_bias", {KV});
    }
    if (s.outputBias)
        oBias = p("o_bias", {D});
    mlpNorm = p("mlp_norm", {D});
    gate = p("gate_proj", {F, D});
    up = p("up_proj", {F, D});
    down = p("down_proj", {D, F});
    if (s.mlpBias) {
        gateBias = p("gate_bias", {F});
        upBias = p("up_bias", {F});
        downBias = p("down_bias", {D});
    }
}

LlamaLMImpl::LlamaLMImpl(const LlamaSpec &spec, bool initialise)
    : m_spec(spec)
{
    m_embed = register_parameter("embed", torch::empty({spec.vocab, spec.hidden}));
    for (std::int64_t i = 0; i < spec.layers; ++i)
        m_layers.push_back(register_module("layer" + std::to_string(i), LlamaLayer(spec)));
    m_norm = register_parameter("norm", torch::empty({spec.hidden}));
    if (!spec.tiedHead)
        m_head = register_parameter("head", torch::empty({spec.vocab, spec.hidden}));
    if (!initialise)
        return;
    torch::NoGradGuard noGrad;
    const double residualStd = 0.02 / std::sqrt(2.0 * double(std::max<std::int64_t>(1, spec.layers)));
    for (auto &item : named_parameters()) {
        const std::string &name = item.key();
        auto &t = item.value();
        if (name.find("norm") != std::string::npos)
            t.fill_(1.0);
        else if (name.find("_bias") != std::string::npos)
            t.zero_();
        else if (name.find("o_proj") != std::string::npos || name.find("down_proj") != std::string::npos)
            t.normal_(0.0, residualStd);
        else
            t.normal_(0.0, 0.02);
    }
}

namespace {

// In float32 whatever the weights' precision, as Hugging Face computes it.
torch::Tensor rmsNorm(const torch::Tensor &x, const torch::Tensor &w, double eps)
{
    if (x.scalar_type() != torch::kFloat) {
        auto f = x.to(torch::kFloat);
        return (f * torch::rsqrt(f.pow(2).mean(-1, /*keepdim=*/true) + eps)).to(x.scalar_type()) * w;
    }
    return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * w;
}

torch::Tensor linear(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b)
{
    return b.defined() ? torch::linear(x, w, b) : torch::linear(x, w);
}

// x [B,H,T,hd] rotated: x cos + rotate_half(x) sin, rotate_half(x) = (-x2, x1).
torch::Tensor rotate(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin)
{
    const auto half = x.size(-1) / 2;
    auto rotated = torch::cat({-x.slice(-1, half), x.slice(-1, 0, half)}, -1);
    return x * cos + rotated * sin;
}

} // namespace

LmOutput LlamaLMImpl::forward(const torch::Tensor &tokens, const ForwardOptions &options)
{
    const LlamaSpec &s = m_spec;
    const auto B = tokens.size(0), T = tokens.size(1), H = s.heads, KV = s.kvHeads, hd = s.headDim;
    auto x = torch::embedding(m_embed, tokens);
    if (!m_cos.defined() || m_cos.size(0) < T || m_cos.device() != x.device()) {
        // As Hugging Face computes them: inverse frequencies and angles in float32.
        const auto f32 = torch::TensorOptions().dtype(torch::kFloat).device(x.device());
        auto inv = 1.0 / torch::pow(s.ropeTheta, torch::arange(0, hd, 2, f32.dtype(torch::kLong)).to(torch::kFloat) / double(hd));
        auto angles = torch::outer(torch::arange(std::max<std::int64_t>(T, s.maxLen), f32), inv);
        auto emb = torch::cat({angles, angles}, -1);
        m_cos = emb.cos();
        m_sin = emb.sin();
    }
    auto cos = m_cos.slice(0, 0, T).to(x.dtype()), sin = m_sin.slice(0, 0, T).to(x.dtype());
    auto mask = torch::full({T, T}, -std::numeric_limits<float>::infinity(), x.options()).triu(1);
    if (s.slidingWindow > 0 && s.slidingWindow < T)
        mask = mask + torch::full({T, T}, -std::numeric_limits<float>::infinity(), x.options())
                          .tril(-s.slidingWindow);
    mask = mask.unsqueeze(0);
    const double scale = 1.0 / std::sqrt(double(hd));
    LmOutput out;
    if (options.hidden)
        out.hidden.push_back(x);
    for (const auto &layer : m_layers) {
        auto h = rmsNorm(x, layer->attnNorm, s.rmsEps);
        auto q = rotate(linear(h, layer->q, layer->qBias).view({B, T, H, hd}).transpose(1, 2), cos, sin);
        auto k = rotate(linear(h, layer->k, layer->kBias).view({B, T, KV, hd}).transpose(1, 2), cos, sin);
        auto v = linear(h, layer->v, layer->vBias).view({B, T, KV, hd}).transpose(1, 2);
        if (KV != H) {
            k = k.repeat_interleave(H / KV, 1);
            v = v.repeat_interleave(H / KV, 1);
        }
        auto attn = torch::softmax(torch::baddbmm(mask, q.reshape({B * H, T, hd}),
                                                  k.reshape({B * H, T, hd}).transpose(1, 2), 1.0, scale),
                                   -1);
        if (options.attention)
            out.attention.push_back(attn.view({B, H, T, T}));
        auto ctx = torch::bmm(attn, v.reshape({B * H, T, hd})).view({B, H, T, hd}).transpose(1, 2).reshape({B, T, H * hd});
        x = x + linear(ctx, layer->o, layer->oBias);
        auto m = rmsNorm(x, layer->mlpNorm, s.rmsEps);
        x = x + linear(torch::silu(linear(m, layer->gate, layer->gateBias)) * linear(m, layer->up, layer->upBias),
                       layer->down, layer->downBias);
        if (options.hidden)
            out.hidden.push_back(x);
    }
    out.logits = torch::linear(rmsNorm(x, m_norm, s.rmsEps), s.tiedHead ? m_embed : m_head);
    return out;
}

std::vector<HfTensor> LlamaLMImpl::hfTensors() const
{
    std::vector<HfTensor> out{{"model.embed_tokens.weight", m_embed}};
    for (std::size_t i = 0; i < m_layers.size(); ++i) {
        const auto &l = *m_layers[i];
        const std::string p = "model.layers." + std::to_string(i) + ".";
        out.push_back({p + "input_layernorm.weight", l.attnNorm});
        for (const auto &[name, w, b] : std::vector<std::tuple<std::string, torch::Tensor, torch::Tensor>>{
                 {"self_attn.q_proj", l.q, l.qBias}, {"self_attn.k_proj", l.k, l.kBias},
                 {"self_attn.v_proj", l.v, l.vBias}, {"self_attn.o_proj", l.o, l.oBias}}) {
            out.push_back({p + name + ".weight", w});
            if (b.defined())
                out.push_back({p + name + ".bias", b});
        }
        out.push_back({p + "post_attention_layernorm.weight", l.mlpNorm});
        for (const auto &[name, w, b] : std::vector<std::tuple<std::string, torch::Tensor, torch::Tensor>>{
                 {"mlp.gate_proj", l.gate, l.gateBias}, {"mlp.up_proj", l.up, l.upBias},
                 {"mlp.down_proj", l.down, l.downBias}}) {
            out.push_back({p + name + ".weight", w});
            if (b.defined())
                out.push_back({p + name + ".bias", b});
        }
    }
    out.push_back({"model.norm.weight", m_norm});
    if (!m_spec.tiedHead)
        out.push_back({"lm_head.weight", m_head});
    return out;
}

namespace {

// Forward FLOPs per token, as core::forwardFlopsPerToken counts them.
double llamaFlops(const LlamaSpec &s, std::int64_t seqLen)
{
    const double D = double(s.hidden), Q = double(s.heads * s.headDim), KV = double(s.kvHeads * s.headDim);
    const double matmul = double(s.layers) * (2.0 * D * Q + 2.0 * D * KV + 3.0 * D * double(s.ffn))
                          + D * double(s.vocab);
    return 2.0 * matmul + double(s.layers) * 4.0 * double(seqLen) * Q;
}

class LlamaLm : public ModuleLm<LlamaLM>
{
public:
    LlamaLm(LlamaLM model, std::string origin)
        : ModuleLm(std::move(model))
        , m_origin(std::move(origin))
    {
        const LlamaSpec &s = m_model->spec();
        m_info.architecture = s.modelType;
        m_info.vocab = s.vocab;
        m_info.layers = s.layers;
        m_info.hidden = s.hidden;
        m_info.heads = s.heads;
        m_info.kvHeads = s.kvHeads;
        m_info.ffn = s.ffn;
        m_info.maxLength = s.maxLen;
        m_info.norm = "rmsnorm";
        m_info.positions = "rotary";
        m_info.activation = "swiglu";
        m_info.tiedHead = s.tiedHead;
    }
    std::string describe() const override
    {
        const LlamaSpec &s = m_model->spec();
        return m_origin + " L" + std::to_string(s.layers) + " d" + std::to_string(s.hidden) + " h"
               + std::to_string(s.heads) + " kv" + std::to_string(s.kvHeads) + " ffn" + std::to_string(s.ffn)
               + " V" + std::to_string(s.vocab) + (s.tiedHead ? " tied" : "")
               + (s.slidingWindow > 0 ? " window" + std::to_string(s.slidingWindow) : "") + " ("
               + describeSize(double(parameterCount()), llamaFlops(s, s.maxLen)) + ")";
    }
    double forwardFlopsPerToken(std::int64_t seqLen) const override { return llamaFlops(m_model->spec(), seqLen); }
    using ModuleLm::parameters;
    std::vector<torch::Tensor> parameters(ParameterScope scope) const override
    {
        const bool tied = m_model->spec().tiedHead;
        return scoped(
            scope, [tied](const std::string &name) { return name == "head" || name == "norm" || (tied && name == "embed"); },
            "layer" + std::to_string(m_model->spec().layers - 1) + ".");
    }
    std::unique_ptr<CausalLm> withLayers(const std::vector<std::int64_t> &layers) const override
    {
        LlamaSpec spec = m_model->spec();
        spec.layers = std::int64_t(layers.size());
        LlamaLM copy(spec, false);
        copyRenumbered(*copy, *m_model, "layer", layers);
        return std::make_unique<LlamaLm>(copy, "Llama (from the teacher's layers)");
    }
    Status save(const std::string &path) const override
    {
        const LlamaSpec &s = m_model->spec();
        const double type = s.modelType == "mistral" ? 1 : s.modelType == "qwen2" ? 2 : 0;
        return saveWithHeader(path, {s.vocab, s.layers, s.hidden, s.heads, s.ffn, s.maxLen, s.tiedHead ? 1 : 0},
                              {{kLlamaSpecKey,
                                torch::tensor(std::vector<double>{double(s.kvHeads), double(s.headDim), s.ropeTheta,
                                                                  s.rmsEps, double(s.qkvBias), double(s.outputBias),
                                                                  double(s.mlpBias), double(s.slidingWindow), type},
                                              torch::kDouble)}});
    }

private:
    std::string m_origin;
};

} // namespace

std::unique_ptr<CausalLm> makeLlama(const LlamaSpec &spec)
{
    return std::make_unique<LlamaLm>(LlamaLM(spec, true), "Llama");
}

LlamaLM llamaModule(const CausalLm &model)
{
    if (const auto *l = dynamic_cast<const LlamaLm *>(&model))
        return l->module();
    return nullptr;
}

Result<std::unique_ptr<CausalLm>> loadLlamaCheckpoint(const std::string &path, torch::serialize::InputArchive &archive,
                                                      const ModelShape &shape, const torch::Tensor &specTensor)
{
    using R = Result<std::unique_ptr<CausalLm>>;
    if (specTensor.dim() != 1 || specTensor.numel() != 9)
        return R::failure(errc::kBadCheckpoint, path + ": the Llama shape header holds "
                                                    + std::to_string(specTensor.numel()) + " numbers, expected 9");
    auto v = specTensor.to(torch::kDouble).contiguous();
    const double *n = v.data_ptr<double>();
    for (int i = 0; i < 9; ++i)
        if (!std::isfinite(n[i]) || n[i] < 0 || n[i] > 1e12)
            return R::failure(errc::kBadCheckpoint, path + ": the Llama shape header's number "
                                                        + std::to_string(i + 1) + " is out of range");
    LlamaSpec s;
    s.vocab = shape.vocab;
    s.layers = shape.layers;
    s.hidden = shape.dModel;
    s.heads = shape.heads;
    s.ffn = shape.ffn;
    s.maxLen = shape.maxLen;
    s.tiedHead = shape.tiedHead;
    s.kvHeads = std::int64_t(n[0]);
    s.headDim = std::int64_t(n[1]);
    s.ropeTheta = n[2];
    s.rmsEps = n[3];
    s.qkvBias = n[4] != 0;
    s.outputBias = n[5] != 0;
    s.mlpBias = n[6] != 0;
    s.slidingWindow = std::int64_t(n[7]);
    s.modelType = n[8] == 1 ? "mistral" : n[8] == 2 ? "qwen2" : "llama";
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path, ec);
    if (auto problem = llamaSpecProblem(s, ec ? 0 : std::uint64_t(bytes)); !problem.empty())
        return R::failure(errc::kBadCheckpoint, path + ": " + problem);
    LlamaLM model(s, false);
    if (auto problem = readModule(*model, archive, "layer", s.layers); !problem.empty())
        return R::failure(errc::kBadCheckpoint, path + ": " + problem);
    return R(std::unique_ptr<CausalLm>(std::make_unique<LlamaLm>(model, "Llama")));
}

Result<std::unique_ptr<CausalLm>> loadHfLlama(const hf::HfConfig &config, const hf::HfWeightFiles &files,
                                              const WeightReader &w, const LoadOptions &options)
{
    using R = Result<std::unique_ptr<CausalLm>>;
    const ModelInfo &info = config.info;
    LlamaSpec s;
    s.modelType = config.modelType;
    s.vocab = info.vocab;
    s.layers = info.layers;
    s.hidden = info.hidden;
    s.heads = info.heads;
    s.kvHeads = info.kvHeads;
    s.headDim = config.headDim;
    s.ffn = info.ffn;
    s.maxLen = info.maxLength;
    s.ropeTheta = config.ropeTheta;
    s.rmsEps = config.layerNormEps;
    s.tiedHead = info.tiedHead;
    s.qkvBias = config.qkvBias;
    s.outputBias = config.outputBias;
    s.mlpBias = config.mlpBias;
    s.slidingWindow = config.slidingWindow;
    if (!s.tiedHead && !w.has("lm_head.weight"))
        return Error{errc::kBadCheckpoint, files.files.front() + ": config.json has tie_word_embeddings = false, but "
                                                                 "there is no tensor 'lm_head.weight'"};
    try {
        LlamaLM model(s, false);
        // Converted before any weight is written, so that only the untouched float32 buffers
        // (no memory yet) ever exist at full size.
        model->to(options.dtype);
        std::string stored;
        if (auto st = w.fill(model->hfTensors(), "model.", options, config.dir, &stored); !st.ok())
            return st.error();
        std::string origin = "Hugging Face " + config.modelType + " " + (config.name.empty() ? config.dir : config.name)
                             + ", " + stored + " weights,";
        return R(std::unique_ptr<CausalLm>(std::make_unique<LlamaLm>(model, std::move(origin))));
    } catch (const std::exception &e) {
        return Error{errc::kBadCheckpoint, config.dir + ": cannot load the model: " + torchErrorText(e)};
    }
}

} // namespace distillery::core::models
