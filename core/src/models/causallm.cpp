#include "models/causallm.h"

#include "distillery/core/errors.h"

#include <sstream>
#include <stdexcept>

namespace distillery::core::models {

std::int64_t CausalLm::parameterCount() const
{
    std::int64_t n = 0;
    for (const auto &p : parameters())
        n += p.numel();
    return n;
}

void CausalLm::freeze()
{
    setTraining(false);
    for (auto &p : parameters())
        p.set_requires_grad(false);
}

void CausalLm::saveState(torch::serialize::OutputArchive &) const
{
    throw std::logic_error(describe() + ": this model cannot be trained, so it has no training state");
}

void CausalLm::loadState(torch::serialize::InputArchive &)
{
    throw std::logic_error(describe() + ": this model cannot be trained, so it has no training state");
}

Status CausalLm::setPrecision(torch::ScalarType dtype)
{
    if (dtype == torch::kFloat)
        return okStatus();
    return Status::failure(errc::kBadOption, describe() + ": this model runs in float32 only");
}

std::unique_ptr<CausalLm> CausalLm::withLayers(const std::vector<std::int64_t> &) const
{
    return nullptr;
}

LmOutput widened(LmOutput out)
{
    if (out.logits.defined() && out.logits.scalar_type() != torch::kFloat) {
        out.logits = out.logits.to(torch::kFloat);
        for (auto *list : {&out.hidden, &out.attention})
            for (auto &t : *list)
                t = t.to(torch::kFloat);
    }
    return out;
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

} // namespace distillery::core::models
