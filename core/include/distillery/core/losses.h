#pragma once

// The loss inspector, which evaluates one term on a single position, as the GUI and the CLI see
// it (what each kind is and needs: losskinds.h). LibTorch-free.

#include "distillery/core/losskinds.h"
#include "distillery/core/result.h"

#include <map>
#include <string>
#include <vector>

namespace distillery::core {

struct LossInspection
{
    double value = 0;
    // d loss / d student logits (d loss / d student hidden for hidden-mse and hidden-cosine).
    std::vector<double> gradient;
    // softmax(z / temperature) of each side; empty for hidden losses (and teacherProbs for
    // cross-entropy without teacher logits).
    std::vector<double> studentProbs, teacherProbs;
};

// Evaluates the loss `kind` on one position, in double precision.
// params (all optional except `label` for cross-entropy): temperature (> 0, default 1),
// beta (gjsd, [0,1], 0.5), alpha (skew-kl / skew-reverse-kl, [0,1], 0.1),
// label_smoothing ([0,1], 0), label (cross-entropy: index of the true token in [0, V)),
// top_k (topk-kl: an integer in [1, V], default min(16, V)), taid_t (taid, [0,1], 0.5).
// teacherLogits and studentLogits have the same length V > 0 (hidden vectors for the hidden
// losses); teacherLogits may be empty for cross-entropy. For topk-kl the top-k cache is built
// from teacherLogits. Unknown kinds or params, wrong lengths, empty vectors, a missing or
// out-of-range label and non-finite numbers give an Error naming the parameter.
Result<LossInspection> inspectLoss(const std::string &kind,
                                   const std::map<std::string, double> &params,
                                   const std::vector<double> &teacherLogits,
                                   const std::vector<double> &studentLogits);

} // namespace distillery::core
