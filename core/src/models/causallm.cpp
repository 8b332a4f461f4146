#include "models/causallm.h"

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
