// Hugging Face GPT2LMHeadModel folders behind CausalLm: config.json (hf/hfconfig.h) and the
// weights in safetensors (hf/safetensors.h), memory-mapped and converted to float32.
//
// GPT-2's semantics: h = wte[x] + wpe[t]; per block h += c_proj(attn(ln_1(h))),
// h += mlp.c_proj(act(mlp.c_fc(ln_2(h)))); logits = ln_f(h) wte^T, or lm_head when the head is
// untied. Conv1D keeps its weight as [in, out]; it is transposed once at load to LibTorch's
// [out, in] so that every projection is one torch::linear. Tensor names may carry the
// "transformer." prefix (GPT2LMHeadModel) or not (GPT2Model, as many hub files have them).

#include "models/hfweights.h"

#include "distillery/core/errors.h"
#include "hf/hfconfig.h"
#include "hf/safetensors.h"
#include "torchio.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <map>

namespace distillery::core::models {

namespace {

struct Gpt2Block
{
    torch::Tensor ln1w, ln1b, attnW, attnB, projW, projB, ln2w, ln2b, fcW, fcB, fcProjW, fcProjB;
};

class HfGpt2Lm : public CausalLm
{
public:
    HfGpt2Lm(hf::HfConfig config, torch::Tensor wte, torch::Tensor wpe, std::vector<Gpt2Block> blocks,
             torch::Tensor lnfW, torch::Tensor lnfB, torch::Tensor head)
        : m_config(std::move(config))
        , m_wte(std::move(wte))
        , m_wpe(std::move(wpe))
        , m_blocks(std::move(blocks))
        , m_lnfW(std::move(lnfW))
        , m_lnfB(std::move(lnfB))
        , m_head(std::move(head))
    {
        m_info = m_config.info;
    }

    LmOutput forward(const torch::Tensor &tokens, const ForwardOptions &options) override
    {
        return widened(forwardAsStored(tokens, options));
    }
    Status setPrecision(torch::ScalarType dtype) override
    {
        for (auto *t : tensors())
            *t = t->to(dtype);
        if (m_info.tiedHead)
            m_head = m_wte;
        return okStatus();
    }

    LmOutput forwardAsStored(const torch::Tensor &tokens, const ForwardOptions &options)
    {
        const auto B = tokens.size(0), T = tokens.size(1), D = m_info.hidden, H = m_info.heads;
        const auto hd = D / H;
        const double eps = m_config.layerNormEps;
        auto positions = torch::arange(T, tokens.options().dtype(torch::kLong));
        auto x = torch::embedding(m_wte, tokens) + torch::embedding(m_wpe, positions).unsqueeze(0);
        auto mask = torch::full({T, T}, -std::numeric_limits<float>::infinity(), x.options()).triu(1);
        LmOutput out;
        if (options.hidden)
            out.hidden.push_back(x);
        for (const auto &b : m_blocks) {
            auto a = torch::layer_norm(x, {D}, b.ln1w, b.ln1b, eps);
            auto qkv = torch::linear(a, b.attnW, b.attnB).view({B, T, 3, H, hd}).permute({2, 0, 3, 1, 4});
            auto q = qkv[0].reshape({B * H, T, hd}), k = qkv[1].reshape({B * H, T, hd}),
                 v = qkv[2].reshape({B * H, T, hd});
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
        out.logits = torch::linear(torch::layer_norm(x, {D}, m_lnfW, m_lnfB, eps), m_head);
        return out;
    }

    const ModelInfo &info() const override { return m_info; }
    std::string describe() const override
    {
        return "Hugging Face GPT-2 " + (m_config.name.empty() ? m_config.dir : m_config.name) + " L"
               + std::to_string(m_info.layers) + " d" + std::to_string(m_info.hidden) + " h"
               + std::to_string(m_info.heads) + " ffn" + std::to_string(m_info.ffn) + " V"
               + std::to_string(m_info.vocab) + ", " + m_config.activationFunction
               + (m_info.tiedHead ? ", tied head" : "") + ", " + m_config.storedDtype + " weights";
    }
    double forwardFlopsPerToken(std::int64_t seqLen) const override
    {
        const ModelShape s{m_info.vocab, m_info.layers, m_info.hidden, m_info.heads, m_info.ffn, m_info.maxLength};
        return core::forwardFlopsPerToken(s, seqLen);
    }
    void to(const torch::Device &device) override
    {
        for (auto *t : tensors())
            *t = t->to(device);
        if (m_info.tiedHead)
            m_head = m_wte;
    }
    void setTraining(bool on) override { m_training = on; }
    bool isTraining() const override { return m_training; }
    std::vector<torch::Tensor> parameters() const override
    {
        std::vector<torch::Tensor> out;
        for (auto *t : const_cast<HfGpt2Lm *>(this)->tensors())
            if (!(m_info.tiedHead && t == &m_head))
                out.push_back(*t);
        return out;
    }
    std::vector<torch::Tensor> parameters(ParameterScope scope) const override
    {
        if (scope == ParameterScope::All)
            return parameters();
        std::vector<torch::Tensor> out{m_lnfW, m_lnfB};
        if (!m_info.tiedHead)
            out.push_back(m_head);
        if (scope == ParameterScope::LastBlock && !m_blocks.empty()) {
            const auto &b = m_blocks.back();
            for (const auto &t : {b.ln1w, b.ln1b, b.attnW, b.attnB, b.projW, b.projB, b.ln2w, b.ln2b, b.fcW,
                                  b.fcB, b.fcProjW, b.fcProjB})
                out.push_back(t);
        }
        return out;
    }
    Status save(const std::string &path) const override
    {
        return Status::failure(errc::kExportUnsupported,
                               path + ": a Hugging Face model is read from its folder, not saved as a file");
    }

private:
    torch::Tensor activate(const torch::Tensor &x) const
    {
        const std::string &a = m_info.activation;
        if (a == "gelu")
            return torch::gelu(x);
        if (a == "gelu_tanh")
            return torch::gelu(x, "tanh");
        if (a == "quick_gelu")
            return x * torch::sigmoid(1.702 * x);
        return torch::relu(x);
    }

    // Every tensor once; with a tied head m_head is m_wte.
    std::vector<torch::Tensor *> tensors()
    {
        std::vector<torch::Tensor *> out{&m_wte, &m_wpe, &m_lnfW, &m_lnfB};
        for (auto &b : m_blocks)
            for (auto *t : {&b.ln1w, &b.ln1b, &b.attnW, &b.attnB, &b.projW, &b.projB, &b.ln2w, &b.ln2b, &b.fcW,
                            &b.fcB, &b.fcProjW, &b.fcProjB})
                out.push_back(t);
        if (!m_info.tiedHead)
            out.push_back(&m_head);
        return out;
    }

    hf::HfConfig m_config;
    ModelInfo m_info;
    torch::Tensor m_wte, m_wpe;
    std::vector<Gpt2Block> m_blocks;
    torch::Tensor m_lnfW, m_lnfB, m_head;
    bool m_training = false;
};

} // namespace

Result<std::unique_ptr<CausalLm>> loadHfGpt2(const hf::HfConfig &config, const hf::HfWeightFiles &files,
                                             const WeightReader &w, const LoadOptions &options)
{
    using R = Result<std::unique_ptr<CausalLm>>;
    const ModelInfo &info = config.info;
    const std::int64_t V = info.vocab, P = info.maxLength, D = info.hidden, F = info.ffn;
    // GPT2LMHeadModel names its body "transformer."; a bare GPT2Model does not.
    const std::string prefix = w.has("transformer.wte.weight") ? "transformer." : "";
    try {
        std::map<std::string, torch::Tensor> t;
        std::string stored;
        std::vector<std::pair<std::string, std::vector<std::int64_t>>> wanted = {
            {"wte.weight", {V, D}}, {"wpe.weight", {P, D}}, {"ln_f.weight", {D}}, {"ln_f.bias", {D}}};
        for (std::int64_t i = 0; i < info.layers; ++i) {
            const std::string h = "h." + std::to_string(i) + ".";
            for (const auto &[name, shape] : std::vector<std::pair<std::string, std::vector<std::int64_t>>>{
                     {"ln_1.weight", {D}}, {"ln_1.bias", {D}}, {"attn.c_attn.weight", {D, 3 * D}},
                     {"attn.c_attn.bias", {3 * D}}, {"attn.c_proj.weight", {D, D}}, {"attn.c_proj.bias", {D}},
                     {"ln_2.weight", {D}}, {"ln_2.bias", {D}}, {"mlp.c_fc.weight", {D, F}},
                     {"mlp.c_fc.bias", {F}}, {"mlp.c_proj.weight", {F, D}}, {"mlp.c_proj.bias", {D}}})
                wanted.push_back({h + name, shape});
        }
        for (const auto &[name, shape] : wanted) {
            auto tensor = w.read(name, prefix, shape, name == "wte.weight" ? &stored : nullptr);
            if (!tensor.ok())
                return tensor.error();
            // Conv1D [in, out] -> Linear [out, in], before the next tensor is read.
            const bool conv = name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0
                              && (name.find(".c_") != std::string::npos);
            t[name] = (conv ? tensor.value().t().contiguous() : tensor.value()).to(options.dtype);
            if (!w.tick(options, std::int64_t(wanted.size())))
                return WeightReader::cancelled(config.dir);
        }
        torch::Tensor head = t["wte.weight"];
        hf::HfConfig cfg = config;
        cfg.storedDtype = stored;
        if (w.has("lm_head.weight")) {
            auto h = w.read("lm_head.weight", "", {V, D});
            if (!h.ok())
                return h.error();
            head = h.value().to(options.dtype);
            cfg.info.tiedHead = false;
        } else if (!cfg.info.tiedHead) {
            return Error{errc::kBadCheckpoint, files.files.front()
                                                   + ": config.json has tie_word_embeddings = false, but "
                                                     "there is no tensor 'lm_head.weight'"};
        }
        std::vector<Gpt2Block> blocks;
        for (std::int64_t i = 0; i < info.layers; ++i) {
            const std::string h = "h." + std::to_string(i) + ".";
            auto conv = [&](const std::string &name) { return t[h + name]; };
            blocks.push_back(Gpt2Block{t[h + "ln_1.weight"], t[h + "ln_1.bias"], conv("attn.c_attn.weight"),
                                       t[h + "attn.c_attn.bias"], conv("attn.c_proj.weight"),
                                       t[h + "attn.c_proj.bias"], t[h + "ln_2.weight"], t[h + "ln_2.bias"],
                                       conv("mlp.c_fc.weight"), t[h + "mlp.c_fc.bias"],
                                       conv("mlp.c_proj.weight"), t[h + "mlp.c_proj.bias"]});
        }
        auto model = std::make_unique<HfGpt2Lm>(std::move(cfg), t["wte.weight"], t["wpe.weight"],
                                                std::move(blocks), t["ln_f.weight"], t["ln_f.bias"], head);
        return R(std::unique_ptr<CausalLm>(std::move(model)));
    } catch (const std::exception &e) {
        return Error{errc::kBadCheckpoint, config.dir + ": cannot load the model: " + torchErrorText(e)};
    }
}

} // namespace distillery::core::models
