// TorchScript models: a module scripted or traced in Python whose forward(tokens) returns the
// logits, or a tuple (logits, hidden...). Opaque inside: no attention maps, no FLOP count.

#include "models/causallm.h"
#include "distillery/core/errors.h"
#include "torchio.h"

#include <torch/script.h>

#include <fstream>
#include <limits>
#include <sstream>

namespace distillery::core::models {

namespace {

class ScriptLm : public CausalLm
{
public:
    ScriptLm(torch::jit::Module module, std::string path, std::int64_t vocab, std::int64_t hidden,
             std::int64_t hiddenLayers, std::int64_t maxLength)
        : m_module(std::move(module)), m_path(std::move(path))
    {
        m_info.maxLength = maxLength;
        m_info.architecture = "torchscript";
        m_info.vocab = vocab;
        m_info.hidden = hidden;
        // The tuple's hidden states are the embeddings and every block's output, as for the
        // built-in model, when there are several; one is taken as the last layer's.
        m_info.layers = hiddenLayers > 1 ? hiddenLayers - 1 : -1;
    }
    LmOutput forward(const torch::Tensor &tokens, const ForwardOptions &options) override
    {
        return unpack(m_module.forward({tokens}), options.hidden);
    }
    const ModelInfo &info() const override { return m_info; }
    std::string describe() const override { return "TorchScript " + m_path; }
    double forwardFlopsPerToken(std::int64_t) const override
    {
        return std::numeric_limits<double>::quiet_NaN();
    }
    void to(const torch::Device &device) override { m_module.to(device); }
    void setTraining(bool on) override { m_module.train(on); }
    bool isTraining() const override { return m_module.is_training(); }
    std::vector<torch::Tensor> parameters() const override
    {
        std::vector<torch::Tensor> out;
        for (const auto &p : m_module.parameters())
            out.push_back(p);
        return out;
    }
    // A TorchScript module's layers are opaque: every scope is the whole module.
    std::vector<torch::Tensor> parameters(ParameterScope) const override { return parameters(); }
    Status save(const std::string &path) const override
    {
        std::ostringstream bytes;
        try {
            m_module.save(bytes);
        } catch (const std::exception &e) {
            return Status::failure(errc::kIoWrite, path + ": cannot save the TorchScript module: "
                                                       + torchErrorText(e));
        }
        return writeFileAtomically(path, bytes.str());
    }

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
    mutable torch::jit::Module m_module;
    std::string m_path;
    ModelInfo m_info;
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

} // namespace

Result<std::unique_ptr<CausalLm>> loadTorchScript(const std::string &path,
                                                       std::int64_t expectedVocab,
                                                       std::int64_t probeLength)
{
    using R = Result<std::unique_ptr<CausalLm>>;
    if (!std::ifstream(path).good())
        return R::failure(errc::kModelNotFound, path + ": TorchScript teacher not found or unreadable");
    torch::jit::Module module;
    try {
        module = torch::jit::load(path, torch::kCPU);
    } catch (const std::exception &e) {
        return R::failure(errc::kBadTeacher, path + ": not a loadable TorchScript module: "
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
        return R::failure(errc::kBadTeacher, path + ": forward(tokens [B,T] int64) failed: "
                                             + conciseError(e.what()));
    }
    const auto &logits = out.logits;
    if (logits.dim() != 3 || logits.size(0) != 2 || logits.size(1) != T)
        return R::failure(errc::kBadTeacher, path + ": expected logits of shape [B,T,V] = [2," + std::to_string(T)
                                             + ",V] for a probe of tokens [2," + std::to_string(T)
                                             + "], got " + shapeString(logits));
    if (!logits.is_floating_point())
        return R::failure(errc::kBadTeacher, path + ": expected floating-point logits, got "
                                             + std::string(c10::toString(logits.scalar_type())));
    if (expectedVocab > 0 && logits.size(2) != expectedVocab)
        return R::failure(errc::kVocabMismatch,
                          path + ": the teacher's vocabulary is " + std::to_string(logits.size(2))
                              + " but the dataset's is " + std::to_string(expectedVocab));
    std::int64_t hidden = -1;
    if (!out.hidden.empty()) {
        const auto &h = out.hidden.back();
        if (h.dim() != 3 || h.size(0) != 2 || h.size(1) != T)
            return R::failure(errc::kBadTeacher, path + ": expected hidden states of shape [B,T,D], got "
                                                 + shapeString(h));
        hidden = h.size(2);
    }
    // An integer attribute max_length (Distillery's exports have one) is the longest input.
    std::int64_t maxLength = 0;
    if (module.hasattr("max_length") && module.attr("max_length").isInt())
        maxLength = std::max<std::int64_t>(0, module.attr("max_length").toInt());
    return R(std::unique_ptr<CausalLm>(std::make_unique<ScriptLm>(
        std::move(module), path, logits.size(2), hidden, std::int64_t(out.hidden.size()), maxLength)));
}

} // namespace distillery::core::models
