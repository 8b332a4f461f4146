#include "data/data.h"

#include <cmath>
#include <stdexcept>

namespace distillery::core::data {

namespace {

// SplitMix64's output function (Steele, Lea, Flood 2014): a bijective 64-bit mixer.
std::uint64_t splitMix(std::uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

// Weight of the uniform distribution mixed into every oracle row (see OracleHmm in data.h).
constexpr double kUniformMix = 1e-4;

// A symmetric Dirichlet(c) draw: G_i ~ Gamma(c, 1), p_i = G_i / Σ_j G_j, evaluated as a
// softmax of log G_i so that tiny draws keep their ratios; then mixed with the uniform row.
std::vector<double> dirichletRow(Rng &rng, int n, double concentration)
{
    std::vector<double> logs(std::size_t(n), 0.0);
    double maxLog = -INFINITY;
    for (auto &l : logs) {
        l = rng.logGamma(concentration);
        maxLog = std::max(maxLog, l);
    }
    double sum = 0;
    for (auto &l : logs) {
        l = std::exp(l - maxLog);
        sum += l;
    }
    for (auto &l : logs)
        l = (1.0 - kUniformMix) * l / sum + kUniformMix / n;
    return logs;
}

torch::Tensor toTensor(const std::vector<std::vector<double>> &rows)
{
    const auto n = std::int64_t(rows.size()), m = std::int64_t(rows.front().size());
    auto t = torch::empty({n, m}, torch::kDouble);
    auto acc = t.accessor<double, 2>();
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < m; ++j)
            acc[i][j] = rows[std::size_t(i)][std::size_t(j)];
    return t;
}

// Cumulative sums of the rows of a [R,C] float64 tensor, for inverse-CDF sampling.
std::vector<std::vector<double>> cumulativeRows(const torch::Tensor &t)
{
    auto acc = t.accessor<double, 2>();
    std::vector<std::vector<double>> out(std::size_t(t.size(0)));
    for (std::int64_t i = 0; i < t.size(0); ++i) {
        double c = 0;
        out[std::size_t(i)].resize(std::size_t(t.size(1)));
        for (std::int64_t j = 0; j < t.size(1); ++j) {
            c += acc[i][j];
            out[std::size_t(i)][std::size_t(j)] = c;
        }
    }
    return out;
}

int drawFrom(const std::vector<double> &cumulative, Rng &rng)
{
    const double u = rng.uniform() * cumulative.back();
    for (std::size_t i = 0; i < cumulative.size(); ++i)
        if (u < cumulative[i])
            return int(i);
    return int(cumulative.size() - 1);
}

} // namespace

std::uint64_t mixSeed(std::uint64_t a, std::uint64_t b)
{
    return splitMix(splitMix(a + kGolden) ^ splitMix(b + 2 * kGolden));
}

std::uint64_t Rng::next()
{
    return splitMix(m_state += kGolden);
}

double Rng::uniform()
{
    return double(next() >> 11) * 0x1.0p-53;
}

double Rng::uniformPositive()
{
    return double((next() >> 11) + 1) * 0x1.0p-53;
}

// Box–Muller transform.
double Rng::normal()
{
    const double u1 = uniformPositive(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

// Marsaglia & Tsang (2000), "A simple method for generating gamma variables", for shape >= 1;
// for shape a < 1: Gamma(a) = Gamma(a + 1) · U^(1/a), i.e. log G = log Gamma(a + 1) + log(U) / a.
double Rng::logGamma(double shape)
{
    if (shape < 1.0)
        return logGamma(shape + 1.0) + std::log(uniformPositive()) / shape;
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
        const double x = normal();
        double v = 1.0 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        const double u = uniformPositive();
        if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v))
            return std::log(d * v);
    }
}

std::int64_t Rng::below(std::int64_t n)
{
    return std::min<std::int64_t>(n - 1, std::int64_t(uniform() * double(n)));
}

OracleHmm::OracleHmm(int vocab, int states, double concentration, std::uint64_t seed)
    : m_vocab(vocab)
    , m_states(states)
{
    if (vocab < 1 || states < 1 || !(concentration > 0) || !std::isfinite(concentration))
        throw std::invalid_argument("OracleHmm: vocab and states must be positive and the "
                                    "concentration a positive finite number");
    Rng rng(mixSeed(seed, 0x6F7261636C65ULL));
    std::vector<std::vector<double>> pi{dirichletRow(rng, states, concentration)};
    std::vector<std::vector<double>> a, b;
    for (int s = 0; s < states; ++s)
        a.push_back(dirichletRow(rng, states, concentration));
    for (int s = 0; s < states; ++s)
        b.push_back(dirichletRow(rng, vocab, concentration));
    m_initial = toTensor(pi).squeeze(0).contiguous();
    m_transitions = toTensor(a);
    m_emissions = toTensor(b);
}

torch::Tensor OracleHmm::sample(std::int64_t count, std::int64_t length, std::uint64_t seed) const
{
    TORCH_CHECK(count >= 0 && length >= 0, "OracleHmm::sample: negative size");
    const auto cumPi = cumulativeRows(m_initial.unsqueeze(0)).front();
    const auto cumA = cumulativeRows(m_transitions);
    const auto cumB = cumulativeRows(m_emissions);
    auto out = torch::empty({count, length}, torch::kLong);
    auto acc = out.accessor<std::int64_t, 2>();
    for (std::int64_t i = 0; i < count; ++i) {
        Rng rng(mixSeed(seed, std::uint64_t(i)));
        int s = drawFrom(cumPi, rng);
        for (std::int64_t t = 0; t < length; ++t) {
            acc[i][t] = drawFrom(cumB[std::size_t(s)], rng);
            s = drawFrom(cumA[std::size_t(s)], rng);
        }
    }
    return out;
}

// Normalised forward filtering (see the class comment). With q_t(s) = P(s_t = s | x_1..t-1),
// q_1 = π:  alpha_t = q_t ⊙ B[:, x_t] / Σ(q_t ⊙ B[:, x_t]),  q_{t+1} = alpha_t A,
// and the prediction for position t is q_{t+1} B. Renormalising alpha at every step keeps the
// recursion in range for any length; the uniform mixing keeps every normaliser positive.
torch::Tensor OracleHmm::filteredPredictions(const torch::Tensor &inputs) const
{
    TORCH_CHECK(inputs.dim() == 2, "OracleHmm: expected inputs of shape [B,T], got ",
                inputs.sizes());
    auto x = inputs.to(torch::kCPU, torch::kLong).contiguous();
    const std::int64_t batch = x.size(0), length = x.size(1);
    if (x.numel() > 0) {
        const auto lo = x.min().item<std::int64_t>(), hi = x.max().item<std::int64_t>();
        TORCH_CHECK(lo >= 0 && hi < m_vocab, "OracleHmm: token ids must be in [0, ", m_vocab,
                    "), got values in [", lo, ", ", hi, "]");
    }
    const auto emissionsByToken = m_emissions.t().contiguous(); // [V,S]
    auto q = m_initial.unsqueeze(0).expand({batch, m_states});
    std::vector<torch::Tensor> predictions;
    predictions.reserve(std::size_t(length));
    for (std::int64_t t = 0; t < length; ++t) {
        auto alpha = q * emissionsByToken.index_select(0, x.select(1, t));
        alpha = alpha / alpha.sum(1, true);
        q = alpha.mm(m_transitions);
        predictions.push_back(q.mm(m_emissions));
    }
    if (predictions.empty())
        return torch::empty({batch, 0, m_vocab}, torch::kDouble);
    return torch::stack(predictions, 1);
}

torch::Tensor OracleHmm::nextTokenDistributions(const torch::Tensor &inputs) const
{
    return filteredPredictions(inputs).to(torch::kFloat);
}

double OracleHmm::oracleNll(const torch::Tensor &inputs, const torch::Tensor &targets) const
{
    TORCH_CHECK(inputs.sizes() == targets.sizes(), "OracleHmm::oracleNll: inputs ", inputs.sizes(),
                " and targets ", targets.sizes(), " differ in shape");
    if (inputs.numel() == 0)
        return 0.0;
    auto y = targets.to(torch::kCPU, torch::kLong);
    TORCH_CHECK(y.min().item<std::int64_t>() >= 0 && y.max().item<std::int64_t>() < m_vocab,
                "OracleHmm::oracleNll: target ids must be in [0, ", m_vocab, ")");
    auto p = filteredPredictions(inputs).gather(2, y.unsqueeze(2));
    return -p.log().mean().item<double>();
}

} // namespace distillery::core::data
