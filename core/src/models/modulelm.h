#pragma once

// What the built-in models (transformer.cpp, llama.cpp) share behind CausalLm: a
// torch::nn::Module that is the whole model, so that training mode, devices, precision,
// parameters and training checkpoints are the module's own.

#include "models/causallm.h"

#include "distillery/core/errors.h"
#include "torchio.h"

#include <functional>

namespace distillery::core::models {

template <typename Holder> // a torch::nn::ModuleHolder whose forward(tokens, options) gives LmOutput
class ModuleLm : public CausalLm
{
public:
    explicit ModuleLm(Holder model)
        : m_model(std::move(model))
    {}
    LmOutput forward(const torch::Tensor &tokens, const ForwardOptions &options) override
    {
        return widened(m_model->forward(tokens, options));
    }
    const ModelInfo &info() const override { return m_info; }
    void to(const torch::Device &device) override { m_model->to(device); }
    void setTraining(bool on) override { m_model->train(on); }
    bool isTraining() const override { return m_model->is_training(); }
    std::vector<torch::Tensor> parameters() const override { return m_model->parameters(); }
    bool trainable() const override { return true; }
    void saveState(torch::serialize::OutputArchive &archive) const override { m_model->save(archive); }
    void loadState(torch::serialize::InputArchive &archive) override { m_model->load(archive); }
    Status setPrecision(torch::ScalarType dtype) override
    {
        m_model->to(dtype);
        return okStatus();
    }
    Holder module() const { return m_model; }

protected:
    // The head's parameters (`isHead`), with the last layer's (names starting `lastLayer`) for
    // LastBlock, or all of them.
    std::vector<torch::Tensor> scoped(ParameterScope scope, const std::function<bool(const std::string &)> &isHead,
                                      const std::string &lastLayer) const
    {
        std::vector<torch::Tensor> out;
        for (const auto &item : m_model->named_parameters()) {
            const std::string &name = item.key();
            if (scope == ParameterScope::All || isHead(name)
                || (scope == ParameterScope::LastBlock && name.rfind(lastLayer, 0) == 0))
                out.push_back(item.value());
        }
        return out;
    }

    // A model file: the shape header (`shapeKey`: vocab, layers, width, heads, FFN, max length
    // and, where given, the tied flag), `extra` header tensors of the architecture, the weights.
    Status saveWithHeader(const std::string &path, const std::vector<std::int64_t> &shape,
                          const std::vector<std::pair<std::string, torch::Tensor>> &extra) const
    {
        try {
            torch::serialize::OutputArchive archive;
            archive.write("distillery_shape", torch::tensor(shape, torch::kLong));
            for (const auto &[key, tensor] : extra)
                archive.write(key, tensor);
            m_model->save(archive);
            return saveArchiveAtomically(archive, path);
        } catch (const std::exception &e) {
            return Status::failure(errc::kIoWrite, path + ": cannot save the model: " + torchErrorText(e));
        }
    }

    Holder m_model;
    ModelInfo m_info;
};

} // namespace distillery::core::models
