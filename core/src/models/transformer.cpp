#include "models/transformer.h"
#include "models/hfgpt2.h"
#include "models/llama.h"
#include "models/modulelm.h"
#include "distillery/core/errors.h"
#include "torchio.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

namespace distillery::core::models {

BlockImpl::BlockImpl(std::int64_t dModel, std::int64_t heads, std::int64_t ffn)
    : m_heads(heads)
{
    m_ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dModel})));
    m_qkv = register_module("qkv", torch::nn::Linear(dModel, 3 * dModel));
    m_proj = register_module("proj", torch::nn::Linear(dModel, dModel));
    m_ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dModel})));
    m_fc1 = register_module("fc1", torch::nn::Linear(dModel, ffn));
    m_fc2 = register_module("fc2", torch::nn::Linear(ffn, dModel));
}

torch::Tensor BlockImpl::forward(const torch::Tensor &x, const torch::Tensor &causalMask,
                                 torch::Tensor *attention)
{
    const auto B = x.size(0), T = x.size(1), D = x.size(2);
    const auto hd = D / m_heads;
    // [B,T,3D] -> [3,B,H,T,hd]
    auto qkv = m_qkv->forward(m_ln1->forward(x)).view({B, T, 3, m_heads, hd}).permute({2, 0, 3, 1, 4});
    auto q = qkv[0], k = qkv[1], v = qkv[2];
    // softmax(q k^T / sqrt(hd) + mask) v, with the scale folded into baddbmm.
    auto scores = torch::baddbmm(causalMask.slice(0, 0, T).slice(1, 0, T).unsqueeze(0),
                                 q.reshape({B * m_heads, T, hd}),
                                 k.reshape({B * m_heads, T, hd}).transpose(1, 2), 1.0,
                                 1.0 / std::sqrt(double(hd)));
    auto attn = torch::softmax(scores, -1);
    if (attention)
        *attention = attn.view({B, m_heads, T, T});
    auto ctx = torch::bmm(attn, v.reshape({B * m_heads, T, hd}))
                   .view({B, m_heads, T, hd})
                   .transpose(1, 2)
                   .reshape({B, T, D});
    auto h = x + m_proj->forward(ctx);
    return h + m_fc2->forward(torch::gelu(m_fc1->forward(m_ln2->forward(h))));
}

TransformerLMImpl::TransformerLMImpl(const ModelShape &shape)
    : m_shape(shape)
{
    m_tok = register_module("tok", torch::nn::Embedding(shape.vocab, shape.dModel));
    m_pos = register_module("pos", torch::nn::Embedding(shape.maxLen, shape.dModel));
    for (std::int64_t i = 0; i < shape.layers; ++i)
        m_blocks.push_back(register_module("block" + std::to_string(i),
                                           Block(shape.dModel, shape.heads, shape.ffn)));
    m_lnf = register_module("lnf",
                            torch::nn::LayerNorm(torch::nn::LayerNormOptions({shape.dModel})));
    if (!shape.tiedHead)
        m_head = register_module("head",
                                 torch::nn::Linear(torch::nn::LinearOptions(shape.dModel, shape.vocab)
                                                       .bias(false)));
    m_mask = register_buffer(
        "mask", torch::full({shape.maxLen, shape.maxLen}, -std::numeric_limits<float>::infinity())
                    .triu(1));

    torch::NoGradGuard noGrad;
    const double residualStd = 0.02 / std::sqrt(2.0 * double(std::max<std::int64_t>(1, shape.layers)));
    for (auto &item : named_parameters()) {
        const auto &name = item.key();
        auto &p = item.value();
        if (name.find("ln") != std::string::npos)
            continue; // LayerNorm keeps weight 1, bias 0
        if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0)
            p.zero_();
        else if (name.find(".proj.") != std::string::npos || name.find(".fc2.") != std::string::npos)
            p.normal_(0.0, residualStd);
        else
            p.normal_(0.0, 0.02);
    }
}

LmOutput TransformerLMImpl::forward(const torch::Tensor &tokens, const ForwardOptions &options)
{
    const auto T = tokens.size(1);
    auto positions = torch::arange(T, tokens.options().dtype(torch::kLong));
    auto x = m_tok->forward(tokens) + m_pos->forward(positions).unsqueeze(0);
    LmOutput out;
    if (options.hidden)
        out.hidden.push_back(x);
    for (auto &block : m_blocks) {
        torch::Tensor attention;
        x = block->forward(x, m_mask, options.attention ? &attention : nullptr);
        if (options.hidden)
            out.hidden.push_back(x);
        if (options.attention)
            out.attention.push_back(attention);
    }
    out.logits = m_shape.tiedHead ? torch::linear(m_lnf->forward(x), m_tok->weight)
                                  : m_head->forward(m_lnf->forward(x));
    return out;
}

namespace {

constexpr const char *kShapeKey = "distillery_shape";

class BuiltinLm : public ModuleLm<TransformerLM>
{
public:
    explicit BuiltinLm(TransformerLM model)
        : ModuleLm(std::move(model))
    {
        const ModelShape &s = m_model->shape();
        m_info.architecture = "gpt";
        m_info.vocab = s.vocab;
        m_info.layers = s.layers;
        m_info.hidden = s.dModel;
        m_info.heads = m_info.kvHeads = s.heads;
        m_info.ffn = s.ffn;
        m_info.maxLength = s.maxLen;
        m_info.norm = "layernorm";
        m_info.positions = "learned";
        m_info.activation = "gelu";
        m_info.tiedHead = s.tiedHead;
    }
    std::string describe() const override
    {
        const auto &s = m_model->shape();
        return "Transformer L" + std::to_string(s.layers) + " d" + std::to_string(s.dModel) + " h"
               + std::to_string(s.heads) + " ffn" + std::to_string(s.ffn) + (s.tiedHead ? " tied" : "") + " ("
               + describeModel(s, s.maxLen) + ")";
    }
    double forwardFlopsPerToken(std::int64_t seqLen) const override
    {
        return core::forwardFlopsPerToken(m_model->shape(), seqLen);
    }
    using ModuleLm::parameters;
    std::vector<torch::Tensor> parameters(ParameterScope scope) const override
    {
        // A tied head is the token embedding.
        const bool tied = m_model->shape().tiedHead;
        return scoped(
            scope,
            [tied](const std::string &name) {
                return name.rfind("head.", 0) == 0 || name.rfind("lnf.", 0) == 0 || (tied && name.rfind("tok.", 0) == 0);
            },
            "block" + std::to_string(m_model->shape().layers - 1) + ".");
    }
    Status save(const std::string &path) const override
    {
        const auto &s = m_model->shape();
        // Six numbers for an untied head (the format's first version), a seventh 1 if tied.
        std::vector<std::int64_t> header{s.vocab, s.layers, s.dModel, s.heads, s.ffn, s.maxLen};
        if (s.tiedHead)
            header.push_back(1);
        return saveWithHeader(path, header, {});
    }
    std::unique_ptr<CausalLm> withLayers(const std::vector<std::int64_t> &layers) const override
    {
        ModelShape shape = m_model->shape();
        shape.layers = std::int64_t(layers.size());
        TransformerLM copy(shape);
        copyRenumbered(*copy, *m_model, "block", layers);
        return std::make_unique<BuiltinLm>(copy);
    }
};

} // namespace

// Every parameter and buffer of `module` must be in `archive` with the same shape: a header
// that disagrees with the tensors (or tensors that were cut) is refused before loading.
std::string checkArchiveAgainst(torch::nn::Module &module, torch::serialize::InputArchive &archive,
                         const std::string &prefix)
{
    auto check = [&](const std::string &name, const torch::Tensor &expected,
                     bool isBuffer) -> std::string {
        torch::Tensor stored;
        if (!archive.try_read(name, stored, isBuffer))
            return "tensor '" + prefix + name + "' is missing";
        if (stored.sizes() != expected.sizes())
            return "tensor '" + prefix + name + "' has shape " + shapeString(stored)
                   + ", the header's shape needs " + shapeString(expected);
        return {};
    };
    for (const auto &p : module.named_parameters(false))
        if (auto e = check(p.key(), p.value(), false); !e.empty())
            return e;
    for (const auto &b : module.named_buffers(false))
        if (auto e = check(b.key(), b.value(), true); !e.empty())
            return e;
    for (const auto &child : module.named_children()) {
        torch::serialize::InputArchive sub;
        if (!archive.try_read(child.key(), sub))
            return "module '" + prefix + child.key() + "' is missing";
        if (auto e = checkArchiveAgainst(*child.value(), sub, prefix + child.key() + "."); !e.empty())
            return e;
    }
    return {};
}

std::unique_ptr<CausalLm> makeTransformer(const ModelShape &shape)
{
    if (shape.family == ModelFamily::Llama)
        return makeLlama(llamaSpec(shape));
    return std::make_unique<BuiltinLm>(TransformerLM(shape));
}

void copyRenumbered(torch::nn::Module &dst, const torch::nn::Module &src, const std::string &prefix,
                    const std::vector<std::int64_t> &layers)
{
    torch::NoGradGuard noGrad;
    const auto from = src.named_parameters();
    const auto fromBuffers = src.named_buffers();
    auto source = [&](const std::string &name) {
        if (name.rfind(prefix, 0) != 0)
            return name;
        const auto dot = name.find('.');
        const std::size_t i = std::stoul(name.substr(prefix.size(), dot - prefix.size()));
        return prefix + std::to_string(layers.at(i)) + name.substr(dot);
    };
    for (auto &item : dst.named_parameters())
        item.value().copy_(from[source(item.key())]);
    for (auto &item : dst.named_buffers())
        item.value().copy_(fromBuffers[source(item.key())]);
}

std::string readModule(torch::nn::Module &module, torch::serialize::InputArchive &archive,
                       const std::string &layerPrefix, std::int64_t layers)
{
    if (auto problem = checkArchiveAgainst(module, archive, ""); !problem.empty())
        return problem;
    torch::serialize::InputArchive extra;
    if (archive.try_read(layerPrefix + std::to_string(layers), extra))
        return "holds more blocks than the shape's layers = " + std::to_string(layers);
    module.load(archive);
    return {};
}

TransformerLM builtinModule(const CausalLm &model)
{
    if (const auto *b = dynamic_cast<const BuiltinLm *>(&model))
        return b->module();
    return nullptr;
}

Result<std::unique_ptr<CausalLm>> loadCheckpoint(const std::string &path)
{
    using R = Result<std::unique_ptr<CausalLm>>;
    if (!std::ifstream(path).good())
        return R::failure(errc::kModelNotFound, path + ": checkpoint file not found or unreadable");
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(path);
        torch::Tensor shapeTensor;
        if (!archive.try_read(kShapeKey, shapeTensor) || shapeTensor.dim() != 1
            || (shapeTensor.numel() != 6 && shapeTensor.numel() != 7))
            return R::failure(errc::kBadCheckpoint,
                              path + ": not a Distillery model checkpoint (no model shape)");
        auto v = shapeTensor.to(torch::kLong);
        ModelShape s{v[0].item<std::int64_t>(), v[1].item<std::int64_t>(), v[2].item<std::int64_t>(),
                     v[3].item<std::int64_t>(), v[4].item<std::int64_t>(), v[5].item<std::int64_t>()};
        if (v.numel() == 7) {
            if (v[6].item<std::int64_t>() != 0 && v[6].item<std::int64_t>() != 1)
                return R::failure(errc::kBadCheckpoint, path + ": the model shape's tied-head flag is "
                                                            + std::to_string(v[6].item<std::int64_t>())
                                                            + ", expected 0 or 1");
            s.tiedHead = v[6].item<std::int64_t>() == 1;
        }
        torch::Tensor llama, gpt2;
        if (archive.try_read(kGpt2SpecKey, gpt2)) {
            if (v.numel() != 7)
                return R::failure(errc::kBadCheckpoint, path + ": a GPT-2 checkpoint's shape header holds 7 numbers");
            return loadGpt2Checkpoint(path, archive, s, gpt2);
        }
        if (archive.try_read(kLlamaSpecKey, llama)) {
            if (v.numel() != 7)
                return R::failure(errc::kBadCheckpoint, path + ": a Llama checkpoint's shape header holds 7 numbers");
            return loadLlamaCheckpoint(path, archive, s, llama);
        }
        // The header decides what is built: every field must be sane before anything is.
        std::error_code ec;
        const auto bytes = std::filesystem::file_size(path, ec);
        if (auto problem = modelShapeProblem(s, ec ? 0 : std::uint64_t(bytes)); !problem.empty())
            return R::failure(errc::kBadCheckpoint, path + ": " + problem);
        TransformerLM model(s);
        if (auto problem = readModule(*model, archive, "block", s.layers); !problem.empty())
            return R::failure(errc::kBadCheckpoint, path + ": " + problem);
        return R(std::unique_ptr<CausalLm>(std::make_unique<BuiltinLm>(model)));
    } catch (const std::exception &e) {
        return R::failure(errc::kBadCheckpoint, path + ": cannot load the checkpoint: " + torchErrorText(e));
    }
}

} // namespace distillery::core::models
