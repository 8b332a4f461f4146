#include "train/objective.h"

#include "train/runcontext.h"

namespace distillery::core::train {

torch::Tensor Objective::hidden(const HiddenSource &src, const models::LmOutput &out) const
{
    const auto n = std::int64_t(out.hidden.size());
    if (n == 0)
        throw RunFailure("no hidden states available from node " + std::to_string(src.model));
    const std::int64_t layer = src.layer < 0 ? n - 1 : src.layer;
    if (layer >= n)
        throw RunFailure("node " + std::to_string(src.model) + " has hidden layers 0.."
                         + std::to_string(n - 1) + ", the loss asks for layer "
                         + std::to_string(src.layer));
    auto h = out.hidden[std::size_t(layer)];
    if (src.projection != kInvalidNode)
        h = m_state.project(src.projection, h);
    return h.reshape({-1, h.size(-1)});
}

ObjectiveValue Objective::compute(const ObjectiveInputs &in, std::int64_t step) const
{
    ObjectiveValue out;
    out.total = torch::zeros({}, in.studentLogits.options());
    for (const auto &term : m_plan.terms) {
        const LossKind &needs = term.needs();
        if (in.onlyTeacher != kInvalidNode && term.teacher != in.onlyTeacher)
            continue;
        if (needs.needsHidden && (!in.student || !in.teachers))
            continue;
        losses::LossInputs li;
        li.studentLogits = in.studentLogits;
        li.labels = in.labels;
        li.mask = (in.onPolicy && needs.needsLabels) ? torch::zeros_like(in.mask) : in.mask;
        losses::LossConfig cfg = term.config;
        cfg.temperature = term.temperature.at(step);
        if (auto it = in.teacherLogits.find(term.teacher); it != in.teacherLogits.end())
            li.teacherLogits = it->second;
        if (needs.needsTeacherLogits && !li.teacherLogits.defined())
            continue;
        if (needs.needsTopk) {
            if (in.cachedTopk) {
                li.topkLogProbs = in.cachedTopk->first;
                li.topkIndices = in.cachedTopk->second;
            } else if (li.teacherLogits.defined()) {
                auto [lp, ix] = losses::topkFromLogits(li.teacherLogits, cfg.topK, cfg.temperature);
                li.topkLogProbs = lp;
                li.topkIndices = ix;
            } else {
                continue;
            }
        }
        if (needs.needsHidden) {
            li.studentHidden = hidden(term.studentHidden, *in.student);
            li.teacherHidden = hidden(term.teacherHidden, in.teachers->at(term.teacherHidden.model));
        }
        if (term.isTaid())
            cfg.taidT = m_state.taid(term.node).t;
        TermValue v;
        v.term = &term;
        v.value = term.loss->fn(li, cfg);
        v.weight = term.weight.at(step);
        v.temperature = cfg.temperature;
        v.taidT = cfg.taidT;
        out.total = out.total + v.weight * v.value;
        out.terms.push_back(std::move(v));
    }
    out.total = out.total * m_plan.combineScale;
    return out;
}

diagnostics::Objective Objective::ofLogits(std::int64_t step,
                                           std::map<NodeId, torch::Tensor> teacherLogits,
                                           torch::Tensor labels, torch::Tensor mask,
                                           NodeId onlyTeacher) const
{
    return [this, step, teacherLogits = std::move(teacherLogits), labels = std::move(labels),
            mask = std::move(mask), onlyTeacher](const torch::Tensor &z) {
        ObjectiveInputs in;
        in.studentLogits = z;
        in.labels = labels;
        in.mask = mask;
        in.teacherLogits = teacherLogits;
        in.onlyTeacher = onlyTeacher;
        return compute(in, step).total;
    };
}

void Objective::afterStep(const ObjectiveValue &value, const std::vector<double> &numbers,
                          std::int64_t step)
{
    for (std::size_t i = 0; i < value.terms.size() && i < numbers.size(); ++i) {
        const TermPlan &term = *value.terms[i].term;
        if (term.isTaid())
            losses::taidUpdate(m_state.taid(term.node), numbers[i], step, m_plan.steps,
                               term.taidStart, term.taidEnd, term.taidAlpha, term.taidMomentum);
    }
}

} // namespace distillery::core::train
