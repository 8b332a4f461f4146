#pragma once

// The diagnostics of a run, plugged into the evaluation as an observer: calibration of student
// and teacher and the student/teacher entropy ratio on every evaluation's tokens; per-token and
// parameter-space gradient alignment on probe sequences and the diversity of the student's
// samples, on the Diagnostics node's schedule; and the teacher-hacking monitor. What they
// remember between evaluations lives in the training state, so a resumed run continues them.

#include "diagnostics/diagnostics.h"
#include "train/evaluation.h"
#include "train/objective.h"
#include "train/trainingstate.h"

#include <map>
#include <string>
#include <vector>

namespace distillery::core::train {

class DiagnosticsRunner : public EvaluationObserver
{
public:
    DiagnosticsRunner(const RunContext &ctx, TrainingState &state, const std::vector<Teacher> &teachers,
                      const Objective &objective);

    void beginEvaluation(std::int64_t step) override;
    void onBatch(const EvalBatch &batch) override;
    void onEvaluation(Evaluation &evaluation) override;

private:
    void storeCalibration(std::int64_t step, const std::string &who, const Calibration &c,
                          std::map<std::string, double> &metrics);
    bool probeDue(std::int64_t step) const;
    void probeAlignment(std::int64_t step);                    // alignmentprobe.cpp
    void probeParameterAlignment(std::int64_t step, const data::Batch &batch,
                                 const std::map<NodeId, torch::Tensor> &teacherLogits,
                                 const torch::Tensor &oracle); // alignmentprobe.cpp
    void storeProbeTokens(const data::Batch &batch);           // alignmentprobe.cpp
    void probeDiversity(std::int64_t step);
    void monitorHacking(std::int64_t step, const std::map<std::string, double> &metrics);

    const RunContext &m_ctx;
    TrainingState &m_state;
    const std::vector<Teacher> &m_teachers;
    const Objective &m_objective;
    const DiagnosticsPlan &m_plan;
    DiagnosticsHistory &m_history;

    // Sums of the evaluation in progress.
    diagnostics::CalibrationAccumulator m_studentCalibration, m_teacherCalibration;
    double m_calibrationSeconds = 0, m_studentEntropy = 0, m_teacherEntropy = 0, m_tokens = 0;
    bool m_samplesDescribed = false; // samples/prompt_tokens and samples/unit are in the meta
};

} // namespace distillery::core::train
