#include "train/sampling.h"

#include "train/runcontext.h"

namespace distillery::core::train {

torch::Tensor sampleContinuations(models::CausalLm &model, const torch::Tensor &prompts,
                                  std::int64_t total, double temperature, at::Generator &gen,
                                  const torch::Device &device,
                                  std::vector<std::vector<double>> *probs)
{
    torch::NoGradGuard noGrad;
    const std::int64_t N = prompts.size(0), P = prompts.size(1);
    auto rows = torch::zeros({N, total}, torch::kLong);
    rows.slice(1, 0, P).copy_(prompts);
    const bool wasTraining = model.isTraining();
    model.setTraining(false);
    for (std::int64_t t = P; t < total; ++t) {
        auto logits = model.forward(rows.slice(1, 0, t).to(device)).logits.select(1, t - 1);
        auto p = torch::softmax(logits.to(torch::kCPU, torch::kDouble) / temperature, -1);
        rows.select(1, t).copy_(torch::multinomial(p, 1, false, gen).squeeze(1));
        if (probs)
            for (std::int64_t i = 0; i < N; ++i) {
                auto row = p[i].contiguous();
                probs->emplace_back(row.data_ptr<double>(), row.data_ptr<double>() + row.numel());
            }
    }
    model.setTraining(wasTraining);
    return rows;
}

data::Batch onPolicyBatch(models::CausalLm &student, const data::Dataset &data, const Plan &plan,
                          const data::Batch &batch, std::int64_t step, const torch::Device &device)
{
    const std::int64_t T = batch.inputs.size(1), P = plan.promptLen;
    auto gen = at::detail::createCPUGenerator(stepSeed(plan.seed, step, 0x5a3b1e));
    auto rows = sampleContinuations(student, batch.inputs.slice(1, 0, P), T + 1,
                                    plan.sampleTemperature, gen, device);
    auto out = data.batchFromRows(rows);
    // Only the sampled continuation counts; the prompt's predictions are not the student's.
    out.mask.slice(1, 0, P - 1).zero_();
    out.indices = batch.indices;
    return out;
}

} // namespace distillery::core::train
