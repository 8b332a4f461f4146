#pragma once

// Sampling from the student: on-policy training batches (GKD) and the diagnostics' diversity
// samples. Each new token re-runs the model over the whole prefix (no KV cache yet).

#include "data/data.h"
#include "models/causallm.h"
#include "train/plan.h"

#include <vector>

namespace distillery::core::train {

// Ancestral sampling: rows [N, total] whose first P columns hold the prompts [N, P] and whose
// columns P..total-1 are drawn one token at a time from softmax(z / temperature) with `gen`.
// With `probs`, also the distribution each token was drawn from (N per position, row-major).
// The model runs in evaluation mode and is put back as it was.
torch::Tensor sampleContinuations(models::CausalLm &model, const torch::Tensor &prompts,
                                  std::int64_t total, double temperature, at::Generator &gen,
                                  const torch::Device &device,
                                  std::vector<std::vector<double>> *probs = nullptr);

// The student continues the first prompt_len tokens of each sequence of `batch` at the
// sampling temperature, with a generator seeded by (seed, step); the divergences are then taken
// on the student's own tokens (on-policy distillation, Agarwal et al. 2024, GKD). The prompt's
// positions are masked out: only the sampled continuation counts.
data::Batch onPolicyBatch(models::CausalLm &student, const data::Dataset &data, const Plan &plan,
                          const data::Batch &batch, std::int64_t step, const torch::Device &device);

} // namespace distillery::core::train
