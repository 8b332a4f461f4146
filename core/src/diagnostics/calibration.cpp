#include "diagnostics/diagnostics.h"

#include <algorithm>
#include <cmath>

namespace distillery::core::diagnostics {

CalibrationAccumulator::CalibrationAccumulator(int bins)
    : m_count(std::size_t(std::max(1, bins)), 0.0), m_confidence(m_count), m_correct(m_count)
{}

// Per token: confidence c = max_v p(v), correct = [argmax p = y]; bin b = ceil(c·B) − 1,
// clamped to [0, B−1], so that bin b holds c in (b/B, (b+1)/B] (see diagnostics.h).
void CalibrationAccumulator::add(const torch::Tensor &logits, const torch::Tensor &targets,
                                 const torch::Tensor &mask)
{
    torch::NoGradGuard noGrad;
    // The [N,V] work stays in the logits' precision (float in training); per-token values and
    // every sum are double.
    const auto v = logits.size(-1);
    auto z = logits.detach().reshape({-1, v}).to(torch::kCPU);
    if (!z.is_floating_point())
        z = z.to(torch::kDouble);
    auto y = targets.detach().reshape({-1}).to(torch::kCPU, torch::kLong);
    auto keep = mask.detach().reshape({-1}).to(torch::kCPU) > 0;
    if (!keep.all().item<bool>()) {
        z = z.index({keep});
        y = y.index({keep});
    }
    if (y.numel() == 0)
        return;
    auto logp = torch::log_softmax(z, -1);
    auto p = logp.exp();
    auto [maxLogp, pred] = logp.max(-1);
    auto conf = maxLogp.to(torch::kDouble).exp();
    auto correct = (pred == y).to(torch::kDouble);
    const auto bins = std::int64_t(m_count.size());
    auto index = (conf * double(bins)).ceil().to(torch::kLong).sub(1).clamp(0, bins - 1);
    auto count = torch::zeros({bins}, torch::kDouble).index_add_(0, index, torch::ones_like(conf));
    auto confSum = torch::zeros({bins}, torch::kDouble).index_add_(0, index, conf);
    auto correctSum = torch::zeros({bins}, torch::kDouble).index_add_(0, index, correct);
    const auto *n = count.data_ptr<double>(), *c = confSum.data_ptr<double>(), *a = correctSum.data_ptr<double>();
    for (std::size_t b = 0; b < std::size_t(bins); ++b) {
        m_count[b] += n[b];
        m_confidence[b] += c[b];
        m_correct[b] += a[b];
    }
    auto logpTrue = logp.gather(1, y.unsqueeze(1)).squeeze(1).to(torch::kDouble);
    m_brier += (p.square().sum(-1, false, torch::kDouble) - 2 * logpTrue.exp() + 1).sum().item<double>();
    m_nll += (-logpTrue).sum().item<double>();
    m_confidenceSum += conf.sum().item<double>();
    m_correctSum += correct.sum().item<double>();
    m_tokens += double(y.numel());
}

Calibration CalibrationAccumulator::result() const
{
    Calibration c;
    c.tokens = std::int64_t(m_tokens);
    c.bins.resize(m_count.size());
    if (m_tokens <= 0)
        return c;
    for (std::size_t b = 0; b < m_count.size(); ++b) {
        auto &bin = c.bins[b];
        bin.count = std::int64_t(m_count[b]);
        if (m_count[b] <= 0)
            continue;
        bin.meanConfidence = m_confidence[b] / m_count[b];
        bin.accuracy = m_correct[b] / m_count[b];
        const double gap = std::abs(bin.accuracy - bin.meanConfidence);
        c.ece += m_count[b] / m_tokens * gap;
        c.mce = std::max(c.mce, gap);
    }
    c.brier = m_brier / m_tokens;
    c.nll = m_nll / m_tokens;
    c.meanConfidence = m_confidenceSum / m_tokens;
    c.accuracy = m_correctSum / m_tokens;
    c.confidenceMinusAccuracy = c.meanConfidence - c.accuracy;
    return c;
}

Calibration calibration(const torch::Tensor &logits, const torch::Tensor &targets,
                        const torch::Tensor &mask, int bins)
{
    CalibrationAccumulator acc(bins);
    acc.add(logits, targets, mask);
    return acc.result();
}

} // namespace distillery::core::diagnostics
