#pragma once

// Diagnostics over tensors. Pure functions: no state, no store, no progress.

#include "distillery/core/diagnostics.h"

#include <torch/torch.h>

#include <functional>

namespace distillery::core::diagnostics {

// Sums per bin across batches; result() gives the Calibration of everything added.
class CalibrationAccumulator
{
public:
    explicit CalibrationAccumulator(int bins = kCalibrationBins);
    // logits [N,V] (or [B,T,V]), targets [N] (int64), mask [N] (1 = counted, 0 = padding).
    void add(const torch::Tensor &logits, const torch::Tensor &targets, const torch::Tensor &mask);
    Calibration result() const;

private:
    std::vector<double> m_count, m_confidence, m_correct;
    double m_tokens = 0, m_brier = 0, m_nll = 0, m_confidenceSum = 0, m_correctSum = 0;
};

Calibration calibration(const torch::Tensor &logits, const torch::Tensor &targets,
                        const torch::Tensor &mask, int bins = kCalibrationBins);

// The distillation objective as a function of the student's logits [T,V] (a scalar).
using Objective = std::function<torch::Tensor(const torch::Tensor &studentLogits)>;

// One probe sequence: student and teacher logits [T,V], true next tokens [T], and the oracle's
// next-token distributions [T,V] when the dataset has them (undefined tensor otherwise).
TokenAlignment tokenAlignment(const torch::Tensor &studentLogits, const torch::Tensor &teacherLogits,
                              const torch::Tensor &targets, const torch::Tensor &oracleProbs,
                              const Objective &objective);

// Parameter-space alignment at a few positions of one probe sequence. `studentLogits` [T,V]
// must be attached to the autograd graph of `params` (e.g. the student's last layers).
// For each t in `positions`: u_t = J_tᵀ g_t and v_t = J_tᵀ h_t, where J_t = ∂z_t/∂θ over
// `params`, g_t = ∂L/∂z_t of the objective (evaluated on the detached logits) and h_t the
// ideal logit gradient as in tokenAlignment; the result is cos(u_t, v_t) (NaN when either is 0).
std::vector<float> parameterAlignment(const torch::Tensor &studentLogits, const torch::Tensor &targets,
                                      const torch::Tensor &oracleProbs, const Objective &objective,
                                      const std::vector<std::int64_t> &positions,
                                      const std::vector<torch::Tensor> &params);

} // namespace distillery::core::diagnostics
