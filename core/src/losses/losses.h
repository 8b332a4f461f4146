#pragma once

// Distillation objectives: one pure function per loss, the math in a comment above each
// definition (losses.cpp), and a registry by name that the graph, the trainer and the loss
// inspector share.
//
// Shapes: inputs are flattened over positions (any leading shape is flattened):
//   studentLogits, teacherLogits [N,V]; labels [N] int64; mask [N] (1 = the position counts,
//   0 = padding; other non-negative weights also work); studentHidden, teacherHidden [N,D];
//   topkLogProbs [N,k] (the teacher's log-probabilities of its top-k tokens at the loss
//   temperature, i.e. log softmax(z_T / tau) restricted to the k tokens) and topkIndices [N,k].
//
// Every loss returns the masked mean over positions
//   L = sum_i mask_i * l_i / max(sum_i mask_i, 1),
// a 0-dim tensor in the student's dtype (float32 or float64), differentiable with respect to
// the student's inputs. The teacher's side is detached: it never receives a gradient.
// Masked positions contribute neither value nor gradient, as long as their inputs are finite
// (their labels may be anything, e.g. -100; their top-k indices may be out of range).
//
// Temperature convention: every divergence between tempered distributions p^tau = softmax(z/tau)
// (forward-kl, reverse-kl, gjsd, skew-kl, skew-reverse-kl, tvd, taid, topk-kl) is multiplied by
// tau^2, as in Hinton et al. (2015), so that gradient magnitudes stay comparable across tau and
// tau = 1 gives the plain divergence. cross-entropy, logit-mse and the hidden losses ignore tau.
//
// Invalid shapes throw c10::Error (TORCH_CHECK) with a message naming the tensor; callers that
// pass user input catch std::exception (see inspect.cpp).

#include "distillery/core/losskinds.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace distillery::core::losses {

struct LossInputs
{
    torch::Tensor studentLogits;
    torch::Tensor teacherLogits;
    torch::Tensor labels;
    torch::Tensor mask;
    torch::Tensor studentHidden;
    torch::Tensor teacherHidden;
    torch::Tensor
        topkLogProbs; // [N,k] teacher log-probs of its top-k tokens at the loss temperature
    torch::Tensor topkIndices; // [N,k] int64
};

struct LossConfig
{
    double temperature = 1.0;    // tau > 0
    double beta = 0.5;           // gjsd mixture weight of the teacher, in [0,1]
    double alpha = 0.1;          // skew-kl / skew-reverse-kl skew, in [0,1]
    double labelSmoothing = 0.0; // cross-entropy epsilon, in [0,1]
    double taidT = 0.5;          // taid interpolation coefficient t, in [0,1]
    int topK = 16;               // size of the teacher's top-k cache for topk-kl
};

using LossFn = torch::Tensor (*)(const LossInputs &, const LossConfig &);

torch::Tensor crossEntropy(const LossInputs &in, const LossConfig &cfg);
torch::Tensor forwardKl(const LossInputs &in, const LossConfig &cfg);
torch::Tensor reverseKl(const LossInputs &in, const LossConfig &cfg);
torch::Tensor generalizedJsd(const LossInputs &in, const LossConfig &cfg);
torch::Tensor skewKl(const LossInputs &in, const LossConfig &cfg);
torch::Tensor skewReverseKl(const LossInputs &in, const LossConfig &cfg);
torch::Tensor totalVariation(const LossInputs &in, const LossConfig &cfg);
torch::Tensor logitMse(const LossInputs &in, const LossConfig &cfg);
torch::Tensor taid(const LossInputs &in, const LossConfig &cfg);
torch::Tensor hiddenMse(const LossInputs &in, const LossConfig &cfg);
torch::Tensor hiddenCosine(const LossInputs &in, const LossConfig &cfg);
torch::Tensor topkKl(const LossInputs &in, const LossConfig &cfg);

// A loss function and its row of the loss-kind table (distillery/core/losskinds.h), which says
// what it needs; nothing about a kind is spelled out here.
struct LossEntry
{
    std::string name;
    LossFn fn;
    const LossKind *kind = nullptr;
};

// All losses, in the table's order (lossKinds()).
const std::vector<LossEntry> &registry();
// nullptr for an unknown name.
const LossEntry *find(const std::string &name);

// The top-k cache entry of full teacher logits [N,V] (any leading shape is flattened) at
// temperature tau: the k largest log-probs of log softmax(z/tau), sorted descending, and their
// indices (int64). k is clamped to [1, V]. The result is detached.
std::pair<torch::Tensor, torch::Tensor> topkFromLogits(const torch::Tensor &teacherLogits, int k,
                                                       double temperature);

// TAID's adaptive interpolation coefficient t (Shing et al. 2025, "TAID: Temporally Adaptive
// Interpolated Distillation"). See taidUpdate in losses.cpp for the rule.
struct TaidState
{
    double t = 0;
    double momentum = 0;
    double previousLoss = -1; // < 0: no previous loss yet
};

// Updates the state after the step with 0-based index `step` produced `loss`, and returns the
// new t, the coefficient for the next step. After the last step (step = totalSteps - 1) t = tEnd.
double taidUpdate(TaidState &state, double loss, std::int64_t step, std::int64_t totalSteps,
                  double tStart, double tEnd, double alpha, double beta);

} // namespace distillery::core::losses
