#include "models/lm.h"

#include <torch/script.h>

#include <cmath>
#include <fstream>
#include <sstream>

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

torch::Tensor BlockImpl::forward(const torch::Tensor &x, const torch::Tensor &causalMask)
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

LmOutput TransformerLMImpl::forward(const torch::Tensor &tokens, bool wantHidden)
{
    const auto T = tokens.size(1);
    auto positions = torch::arange(T, tokens.options().dtype(torch::kLong));
    auto x = m_tok->forward(tokens) + m_pos->forward(positions).unsqueeze(0);
    LmOutput out;
    if (wantHidden)
        out.hidden.push_back(x);
    for (auto &block : m_blocks) {
        x = block->forward(x, m_mask);
        if (wantHidden)
            out.hidden.push_back(x);
    }
    out.logits = m_head->forward(m_lnf->forward(x));
    return out;
}

namespace {

class BuiltinLm : public LanguageModel
{
public:
    explicit BuiltinLm(TransformerLM model) : m_model(std::move(model)) {}
    LmOutput forward(const torch::Tensor &tokens, bool wantHidden) override
    {
        return m_model->forward(tokens, wantHidden);
    }
    std::int64_t vocab() const override { return m_model->shape().vocab; }
    std::int64_t hiddenSize() const override { return m_model->shape().dModel; }
    void to(const torch::Device &device) override { m_model->to(device); }
    void setTraining(bool on) override { m_model->train(on); }
    std::vector<torch::Tensor> parameters() override { return m_model->parameters(); }
    std::string describe() const override
    {
        const auto &s = m_model->shape();
        return "Transformer L" + std::to_string(s.layers) + " d" + std::to_string(s.dModel) + " h"
               + std::to_string(s.heads) + " ffn" + std::to_string(s.ffn) + " ("
               + describeModel(s, s.maxLen) + ")";
    }
    TransformerLM builtin() override { return m_model; }

private:
    TransformerLM m_model;
};

class ScriptLm : public LanguageModel
{
public:
    ScriptLm(torch::jit::Module module, std::string path, std::int64_t vocab, std::int64_t hidden)
        : m_module(std::move(module)), m_path(std::move(path)), m_vocab(vocab), m_hidden(hidden)
    {}
    LmOutput forward(const torch::Tensor &tokens, bool wantHidden) override
    {
        return unpack(m_module.forward({tokens}), wantHidden);
    }
    std::int64_t vocab() const override { return m_vocab; }
    std::int64_t hiddenSize() const override { return m_hidden; }
    void to(const torch::Device &device) override { m_module.to(device); }
    void setTraining(bool on) override { m_module.train(on); }
    std::vector<torch::Tensor> parameters() override
    {
        std::vector<torch::Tensor> out;
        for (const auto &p : m_module.parameters())
            out.push_back(p);
        return out;
    }
    std::string describe() const override { return "TorchScript " + m_path; }

    // Accepts a tensor, or a tuple/list whose first element is the logits and whose further
    // elements are hidden-state tensors or lists of them.
    static LmOutput unpack(const c10::IValue &value, bool wantHidden)
    {
        LmOutput out;
        if (value.isTensor()) {
            out.logits = value.toTensor();
            return out;
        }
        std::vector<c10::IValue> items;
        if (value.isTuple())
            items = value.toTupleRef().elements().vec();
        else if (value.isList())
            for (const auto &v : value.toListRef())
                items.push_back(v);
        else
            throw std::runtime_error("forward returned " + value.tagKind()
                                     + ", expected a tensor or a tuple (logits, hidden...)");
        if (items.empty() || !items[0].isTensor())
            throw std::runtime_error("the first element of forward's result is not a tensor");
        out.logits = items[0].toTensor();
        if (wantHidden)
            for (std::size_t i = 1; i < items.size(); ++i) {
                if (items[i].isTensor())
                    out.hidden.push_back(items[i].toTensor());
                else if (items[i].isTensorList())
                    for (const auto &t : items[i].toTensorVector())
                        out.hidden.push_back(t);
            }
        return out;
    }

private:
    torch::jit::Module m_module;
    std::string m_path;
    std::int64_t m_vocab;
    std::int64_t m_hidden;
};

// TorchScript's messages start with a traceback; the cause ("RuntimeError: ...") is the last
// non-empty line. Other LibTorch messages put it first.
std::string conciseError(const std::string &what)
{
    std::vector<std::string> lines;
    std::istringstream in(what);
    for (std::string line; std::getline(in, line);)
        if (line.find_first_not_of(" \t") != std::string::npos)
            lines.push_back(line);
    if (lines.empty())
        return what;
    if (what.find("TorchScript interpreter") != std::string::npos
        || (lines.size() > 1 && lines.back().find("Error") != std::string::npos))
        return lines.back().substr(lines.back().find_first_not_of(" \t"));
    return lines.front();
}

std::string shapeString(const torch::Tensor &t)
{
    std::ostringstream s;
    s << "[";
    for (int i = 0; i < t.dim(); ++i)
        s << (i ? "," : "") << t.size(i);
    s << "]";
    return s.str();
}

} // namespace

std::unique_ptr<LanguageModel> makeBuiltin(const ModelShape &shape)
{
    return std::make_unique<BuiltinLm>(TransformerLM(shape));
}

std::unique_ptr<LanguageModel> wrapBuiltin(TransformerLM model)
{
    return std::make_unique<BuiltinLm>(std::move(model));
}

Status saveBuiltin(TransformerLM &model, const std::string &path)
{
    try {
        torch::serialize::OutputArchive archive;
        const auto &s = model->shape();
        archive.write("distillery_shape",
                      torch::tensor({s.vocab, s.layers, s.dModel, s.heads, s.ffn, s.maxLen},
                                    torch::kLong));
        model->save(archive);
        const std::string tmp = path + ".tmp";
        archive.save_to(tmp);
        if (std::rename(tmp.c_str(), path.c_str()) != 0)
            return Status::failure("io", path + ": cannot replace the file");
        return okStatus();
    } catch (const std::exception &e) {
        return Status::failure("io", path + ": cannot save the model: " + e.what());
    }
}

Result<TransformerLM> loadBuiltin(const std::string &path)
{
    if (!std::ifstream(path).good())
        return Result<TransformerLM>::failure("missing-file",
                                              path + ": checkpoint file not found or unreadable");
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(path);
        torch::Tensor shapeTensor;
        if (!archive.try_read("distillery_shape", shapeTensor) || shapeTensor.numel() != 6)
            return Result<TransformerLM>::failure(
                "bad-checkpoint", path + ": not a Distillery model checkpoint (no model shape)");
        auto v = shapeTensor.to(torch::kLong);
        ModelShape s{v[0].item<std::int64_t>(), v[1].item<std::int64_t>(),
                     v[2].item<std::int64_t>(), v[3].item<std::int64_t>(),
                     v[4].item<std::int64_t>(), v[5].item<std::int64_t>()};
        TransformerLM model(s);
        model->load(archive);
        return model;
    } catch (const std::exception &e) {
        return Result<TransformerLM>::failure("bad-checkpoint",
                                              path + ": cannot load the checkpoint: " + e.what());
    }
}

Result<std::unique_ptr<LanguageModel>> loadTorchScript(const std::string &path,
                                                       std::int64_t expectedVocab,
                                                       std::int64_t probeLength)
{
    using R = Result<std::unique_ptr<LanguageModel>>;
    if (!std::ifstream(path).good())
        return R::failure("missing-file", path + ": TorchScript teacher not found or unreadable");
    torch::jit::Module module;
    try {
        module = torch::jit::load(path, torch::kCPU);
    } catch (const std::exception &e) {
        return R::failure("bad-teacher", path + ": not a loadable TorchScript module: "
                                             + conciseError(e.what()));
    }
    module.eval();
    const std::int64_t T = std::max<std::int64_t>(1, probeLength);
    auto probe = torch::zeros({2, T}, torch::kLong);
    LmOutput out;
    try {
        torch::NoGradGuard noGrad;
        out = ScriptLm::unpack(module.forward({probe}), true);
    } catch (const std::exception &e) {
        return R::failure("bad-teacher", path + ": forward(tokens [B,T] int64) failed: "
                                             + conciseError(e.what()));
    }
    const auto &logits = out.logits;
    if (logits.dim() != 3 || logits.size(0) != 2 || logits.size(1) != T)
        return R::failure("bad-teacher", path + ": expected logits of shape [B,T,V] = [2," + std::to_string(T)
                                             + ",V] for a probe of tokens [2," + std::to_string(T)
                                             + "], got " + shapeString(logits));
    if (!logits.is_floating_point())
        return R::failure("bad-teacher", path + ": expected floating-point logits, got "
                                             + std::string(c10::toString(logits.scalar_type())));
    if (expectedVocab > 0 && logits.size(2) != expectedVocab)
        return R::failure("vocab-mismatch",
                          path + ": the teacher's vocabulary is " + std::to_string(logits.size(2))
                              + " but the dataset's is " + std::to_string(expectedVocab));
    std::int64_t hidden = -1;
    if (!out.hidden.empty()) {
        const auto &h = out.hidden.back();
        if (h.dim() != 3 || h.size(0) != 2 || h.size(1) != T)
            return R::failure("bad-teacher", path + ": expected hidden states of shape [B,T,D], got "
                                                 + shapeString(h));
        hidden = h.size(2);
    }
    return R(std::unique_ptr<LanguageModel>(
        std::make_unique<ScriptLm>(std::move(module), path, logits.size(2), hidden)));
}

} // namespace distillery::core::models
