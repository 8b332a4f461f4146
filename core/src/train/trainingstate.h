#pragma once

// Everything a run's student phase carries from step to step, saved and restored as one
// checkpoint: the student, the projections, TAID's state, the optimizer, the random generator
// and the diagnostics' history. A resumed run continues from it exactly.

#include "losses/losses.h"
#include "models/causallm.h"
#include "train/plan.h"
#include "train/teachers.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace distillery::core::train {

// What the diagnostics remember between evaluations (diagnosticsrunner.h).
struct DiagnosticsHistory
{
    // Teacher-hacking monitor: one entry per evaluation, steps done and both KLs.
    std::vector<std::int64_t> hackSteps;
    std::vector<double> hackOracle, hackTeacher;
    bool hackReported = false;
    std::int64_t lastProbeStep = -1; // steps done at the last alignment/diversity probe
    bool probeTokensStored = false;
};

class TrainingState
{
public:
    // The student from the plan's seed, a Projection for every projection node (sized from the
    // models it reads), TAID at its start, and the optimizer over all of their parameters.
    TrainingState(const Plan &plan, const std::vector<Teacher> &teachers, const torch::Device &device);

    models::CausalLm &student() { return *m_student; }
    const models::CausalLm &student() const { return *m_student; }
    // Projection nodes' adapters; a hidden-state term maps its input through one.
    const std::map<NodeId, torch::nn::Linear> &projections() const { return m_projections; }
    torch::Tensor project(NodeId projection, const torch::Tensor &hidden);
    losses::TaidState &taid(NodeId term) { return m_taid.at(term); }
    const losses::TaidState &taid(NodeId term) const { return m_taid.at(term); }
    torch::optim::Optimizer &optimizer() { return *m_optimizer; }
    // Everything the optimizer updates.
    const std::vector<torch::Tensor> &parameters() const { return m_parameters; }
    void setLearningRate(double lr);

    DiagnosticsHistory diagnostics;
    // The index of the update the loop starts at: 0, or after a restore the updates the saved
    // state had done (steps are stored numbered from 1, so step-N.pt resumes at index N).
    std::int64_t firstStep = 0;

    // Writes the state after `stepsDone` updates to `path` (a temporary file, then renamed);
    // throws RunFailure naming the path.
    void save(const std::string &path, std::int64_t stepsDone) const;
    // Reads a state written by save(); throws RunFailure naming the path and what is wrong.
    void restore(const std::string &path, const torch::Device &device);
    // Whether `path` holds a state save() wrote (readable, complete, with its step): checked
    // before a resume changes anything. Returns the problem, or an empty string.
    static std::string checkReadable(const std::string &path);

private:
    std::unique_ptr<models::CausalLm> m_student;
    std::map<NodeId, torch::nn::Linear> m_projections;
    std::map<NodeId, losses::TaidState> m_taid;
    std::unique_ptr<torch::optim::Optimizer> m_optimizer;
    std::vector<torch::Tensor> m_parameters;
};

} // namespace distillery::core::train
