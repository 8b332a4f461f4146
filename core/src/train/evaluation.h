#pragma once

// Evaluation on the validation split: the student's (and the first teacher's) NLL and
// accuracy, KL(teacher‖student), and against the oracle where the data have one. Observers see
// every batch and the finished evaluation; the diagnostics plug in that way
// (diagnosticsrunner.h).

#include "train/runcontext.h"
#include "train/teachers.h"

#include <map>
#include <string>
#include <vector>

namespace distillery::core::train {

// One validation batch as the evaluation saw it, flattened over positions.
struct EvalBatch
{
    torch::Tensor studentLogp; // [N,V] float32 log-probabilities
    torch::Tensor teacherLogp; // [N,V] the first teacher's; undefined without a teacher
    torch::Tensor targets;     // [N] int64
    torch::Tensor mask;        // [N] 1 = counted
};

struct Evaluation
{
    std::int64_t step = 0;
    std::map<std::string, double> metrics; // eval/..., stored at `step`
};

class EvaluationObserver
{
public:
    virtual ~EvaluationObserver() = default;
    virtual void beginEvaluation(std::int64_t step) {}
    virtual void onBatch(const EvalBatch &batch) {}
    // After the last batch. Metrics added here are stored and returned with the evaluation's.
    virtual void onEvaluation(Evaluation &evaluation) {}
};

class Evaluator
{
public:
    Evaluator(const RunContext &ctx, models::CausalLm &student, const std::vector<Teacher> &teachers)
        : m_ctx(ctx)
        , m_student(student)
        , m_teachers(teachers)
    {}
    void addObserver(EvaluationObserver &observer) { m_observers.push_back(&observer); }
    // Evaluates after `step` updates (steps are numbered from 1), tells the observers, stores every metric and flushes.
    // Without validation data: no metrics, no observers, and a warning (once, also in the
    // run's meta as warning/evaluation).
    Evaluation run(std::int64_t step);

private:
    bool haveValidationData();

    const RunContext &m_ctx;
    models::CausalLm &m_student;
    const std::vector<Teacher> &m_teachers;
    std::vector<EvaluationObserver *> m_observers;
    bool m_warned = false;
};

} // namespace distillery::core::train
