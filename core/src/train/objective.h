#pragma once

// The run's objective: the weighted sum of its loss terms (Combine's scale times Σ w_i(t)·L_i),
// built once from the plan. The training step and the gradient-alignment diagnostics evaluate
// the same terms through this one class.

#include "diagnostics/diagnostics.h"
#include "train/teacherpass.h"
#include "train/trainingstate.h"

#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace distillery::core::train {

struct ObjectiveInputs
{
    torch::Tensor studentLogits; // [N,V]
    torch::Tensor labels;        // [N] int64
    torch::Tensor mask;          // [N]
    std::map<NodeId, torch::Tensor> teacherLogits; // [N,V] by teacher node
    // The teachers' top-k from the cache, [N,k] each; without it top-k terms take theirs from
    // the teacher's logits.
    std::optional<std::pair<torch::Tensor, torch::Tensor>> cachedTopk;
    // Hidden states for hidden-state terms (absent: those terms are left out).
    const models::LmOutput *student = nullptr;
    const TeacherOutputs *teachers = nullptr;
    // The student's own samples: supervised terms get no positions.
    bool onPolicy = false;
    // Only the terms of this teacher (kInvalidNode: every term).
    NodeId onlyTeacher = kInvalidNode;
};

struct TermValue
{
    const TermPlan *term = nullptr;
    torch::Tensor value; // 0-dim, attached to the student's graph
    double weight = 0;
    double temperature = 0;
    double taidT = 0; // TAID terms: the interpolation coefficient used
};

struct ObjectiveValue
{
    torch::Tensor total; // combine scale × Σ weight·value
    std::vector<TermValue> terms;
};

class Objective
{
public:
    Objective(const Plan &plan, TrainingState &state)
        : m_plan(plan)
        , m_state(state)
    {}

    // The terms at `step` on these inputs. A term whose inputs are absent (hidden states, or a
    // teacher's logits) is left out, which the alignment diagnostics rely on.
    ObjectiveValue compute(const ObjectiveInputs &in, std::int64_t step) const;

    // The objective at `step` as a function of one sequence's student logits [T,V], with the
    // teachers' logits, labels and mask of that sequence fixed (hidden-state terms do not act on
    // the logits and are left out).
    diagnostics::Objective ofLogits(std::int64_t step, std::map<NodeId, torch::Tensor> teacherLogits,
                                    torch::Tensor labels, torch::Tensor mask,
                                    NodeId onlyTeacher = kInvalidNode) const;

    // After the step: TAID's coefficient follows its term's value (losses::taidUpdate).
    // numbers: the terms' values, in value.terms' order.
    void afterStep(const ObjectiveValue &value, const std::vector<double> &numbers,
                   std::int64_t step);

private:
    torch::Tensor hidden(const HiddenSource &src, const models::LmOutput &out) const;

    const Plan &m_plan;
    TrainingState &m_state;
};

} // namespace distillery::core::train
