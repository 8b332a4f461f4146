#include "losses/losses.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery::core::losses {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Logits [..., V] -> [N, V], floating point.
torch::Tensor logitRows(const torch::Tensor &t, const char *name)
{
    TORCH_CHECK(t.defined(), name, " is missing");
    TORCH_CHECK(t.dim() >= 1 && t.size(-1) > 0, name, ": expected shape [N,V] with V > 0, got ",
                t.sizes());
    TORCH_CHECK(t.is_floating_point(), name, ": expected a floating-point tensor, got ",
                t.scalar_type());
    return t.dim() == 2 ? t : t.reshape({-1, t.size(-1)});
}

// The teacher's side of a pair: detached (a constant), in the student's dtype and device.
torch::Tensor teacherRows(const torch::Tensor &teacher, const torch::Tensor &student,
                          const char *name)
{
    auto t = logitRows(teacher, name).detach();
    TORCH_CHECK(t.sizes() == student.sizes(), name, ": expected shape ", student.sizes(),
                " (the student's), got ", t.sizes());
    return t.to(student.options());
}

// The positions that count: the mask as weights in the student's dtype, and the row indices
// where it is non-zero. Losses are computed on those rows only, so that whatever a padding
// position holds (label -100, garbage top-k entries, even NaN) affects neither the value nor
// the gradient, and masked rows receive an exact zero gradient.
struct Positions
{
    torch::Tensor weights; // [n] mask values of the kept rows
    torch::Tensor rows;    // [n] int64 indices into [0, N); undefined when every row is kept
    torch::Tensor total;   // sum of all mask values (0-dim)
};

Positions positions(const torch::Tensor &mask, std::int64_t n, const torch::Tensor &like)
{
    Positions p;
    if (!mask.defined()) {
        p.weights = torch::ones({n}, like.options().requires_grad(false));
        p.total = p.weights.sum();
        return p;
    }
    TORCH_CHECK(mask.numel() == n, "mask: expected ", n, " values (one per position), got ",
                mask.numel());
    auto w = mask.detach().reshape({-1}).to(like.options().requires_grad(false));
    p.total = w.sum();
    auto kept = w.nonzero().reshape({-1});
    if (kept.numel() == n) {
        p.weights = w;
    } else {
        p.rows = kept;
        p.weights = w.index_select(0, kept);
    }
    return p;
}

torch::Tensor keep(const torch::Tensor &t, const Positions &p)
{
    return p.rows.defined() ? t.index_select(0, p.rows.to(t.device())) : t;
}

// sum_i mask_i * l_i / max(sum_i mask_i, 1) over the kept rows.
torch::Tensor maskedMean(const torch::Tensor &perPosition, const Positions &p)
{
    return (p.weights * perPosition).sum() / p.total.clamp_min(1.0);
}

double checkedTemperature(const LossConfig &cfg)
{
    TORCH_CHECK(std::isfinite(cfg.temperature) && cfg.temperature > 0,
                "temperature: expected a finite value > 0, got ", cfg.temperature);
    return cfg.temperature;
}

void checkUnit(double v, const char *name)
{
    TORCH_CHECK(std::isfinite(v) && v >= 0 && v <= 1, name, ": expected a value in [0, 1], got ",
                v);
}

// Per-row KL(P || Q) = sum_v P(v) (log P(v) - log Q(v)) from log-probabilities, with the
// convention 0 log 0 = 0 (a token P gives probability 0, e.g. log P = -inf, contributes 0).
// A NaN in P stays NaN (p == 0 is false for NaN), so a broken teacher cannot look like a
// perfect match.
torch::Tensor klRows(const torch::Tensor &logP, const torch::Tensor &logQ)
{
    auto p = logP.exp();
    auto terms = p * (logP - logQ);
    return torch::where(p == 0, torch::zeros_like(terms), terms).sum(-1);
}

// log(w P + (1-w) Q) from log P and log Q, by logsumexp (no underflow, no log(0) for w in (0,1)).
torch::Tensor logMixture(double w, const torch::Tensor &logP, const torch::Tensor &logQ)
{
    if (w <= 0)
        return logQ;
    if (w >= 1)
        return logP;
    return torch::logsumexp(torch::stack({logP + std::log(w), logQ + std::log1p(-w)}), 0);
}

// log(1 - exp(x)) for x <= 0, accurate at both ends (Maechler 2012, "Accurately computing
// log(1 - exp(-|a|))"); -inf at x = 0.
torch::Tensor log1mexp(const torch::Tensor &x)
{
    return torch::where(x > -M_LN2, torch::log(-torch::expm1(x)), torch::log1p(-torch::exp(x)));
}

// The common preparation of a divergence between tempered teacher and student distributions:
// kept rows, log p_T^tau (constant) and log p_S^tau.
struct Tempered
{
    Positions pos;
    torch::Tensor logPt, logPs;
    double tau = 1;
};

Tempered tempered(const LossInputs &in, const LossConfig &cfg)
{
    Tempered r;
    r.tau = checkedTemperature(cfg);
    auto s = logitRows(in.studentLogits, "studentLogits");
    auto t = teacherRows(in.teacherLogits, s, "teacherLogits");
    r.pos = positions(in.mask, s.size(0), s);
    r.logPs = torch::log_softmax(keep(s, r.pos) / r.tau, -1);
    r.logPt = torch::log_softmax(keep(t, r.pos) / r.tau, -1);
    return r;
}

} // namespace

// Cross-entropy with label smoothing eps (Szegedy et al. 2016, "Rethinking the Inception
// Architecture"): l = (1-eps)(-log p_S(y)) + eps * mean_v(-log p_S(v)), p_S = softmax(z_S).
// No temperature. Labels at masked positions are ignored (any value, e.g. -100); a label
// outside [0, V) at a counted position is an error.
torch::Tensor crossEntropy(const LossInputs &in, const LossConfig &cfg)
{
    const double eps = cfg.labelSmoothing;
    checkUnit(eps, "label_smoothing");
    auto s = logitRows(in.studentLogits, "studentLogits");
    const auto n = s.size(0), v = s.size(1);
    TORCH_CHECK(in.labels.defined(), "labels are missing");
    TORCH_CHECK(in.labels.numel() == n, "labels: expected ", n, " values (one per position), got ",
                in.labels.numel());
    TORCH_CHECK(!in.labels.is_floating_point(), "labels: expected an integer tensor, got ",
                in.labels.scalar_type());
    auto pos = positions(in.mask, n, s);
    auto labels = keep(in.labels.reshape({-1}).to(s.device(), torch::kLong), pos);
    if (labels.numel() > 0) {
        TORCH_CHECK(labels.min().item<std::int64_t>() >= 0 && labels.max().item<std::int64_t>() < v,
                    "labels: expected token indices in [0, ", v, ") at the counted positions");
    }
    auto logP = torch::log_softmax(keep(s, pos), -1);
    auto nll = -logP.gather(-1, labels.unsqueeze(-1)).squeeze(-1);
    auto l = eps > 0 ? (1 - eps) * nll - eps * logP.mean(-1) : nll;
    return maskedMean(l, pos);
}

// Forward KL (Hinton et al. 2015, "Distilling the Knowledge in a Neural Network"):
// l = tau^2 KL(p_T^tau || p_S^tau), p^tau = softmax(z / tau). Mean-seeking: the student must
// cover every token the teacher gives mass to.
torch::Tensor forwardKl(const LossInputs &in, const LossConfig &cfg)
{
    auto d = tempered(in, cfg);
    return maskedMean(d.tau * d.tau * klRows(d.logPt, d.logPs), d.pos);
}

// Reverse KL (Gu et al. 2024, "MiniLLM: Knowledge Distillation of Large Language Models"):
// l = tau^2 KL(p_S^tau || p_T^tau). Mode-seeking: the student may drop teacher modes but is
// punished for mass where the teacher has little. tau^2 as for every tempered divergence.
torch::Tensor reverseKl(const LossInputs &in, const LossConfig &cfg)
{
    auto d = tempered(in, cfg);
    return maskedMean(d.tau * d.tau * klRows(d.logPs, d.logPt), d.pos);
}

// Generalized Jensen-Shannon divergence (Agarwal et al. 2024, "On-Policy Distillation of
// Language Models: Learning from Self-Generated Mistakes", GKD):
//   JSD_beta(p_T || p_S) = beta KL(p_T || m) + (1-beta) KL(p_S || m),  m = beta p_T + (1-beta) p_S,
// times tau^2, with log m by logsumexp. For beta in (0,1) this is GKD's formula, not normalised:
// it vanishes at both ends. Their normalised limits are taken exactly at the ends:
//   beta = 0: JSD_beta / beta       -> KL(p_T || p_S), FORWARD KL (teacher first),
//   beta = 1: JSD_beta / (1 - beta) -> KL(p_S || p_T), REVERSE KL (student first),
// so gjsd(beta=0) == forward-kl and gjsd(beta=1) == reverse-kl (a jump in scale at the ends).
// beta = 0.5 is the symmetric Jensen-Shannon divergence, at most ln 2 per position (tau = 1).
torch::Tensor generalizedJsd(const LossInputs &in, const LossConfig &cfg)
{
    const double beta = cfg.beta;
    checkUnit(beta, "beta");
    auto d = tempered(in, cfg);
    torch::Tensor l;
    if (beta == 0) {
        l = klRows(d.logPt, d.logPs);
    } else if (beta == 1) {
        l = klRows(d.logPs, d.logPt);
    } else {
        auto logM = logMixture(beta, d.logPt, d.logPs);
        l = beta * klRows(d.logPt, logM) + (1 - beta) * klRows(d.logPs, logM);
    }
    return maskedMean(d.tau * d.tau * l, d.pos);
}

// Skew KL (Ko et al. 2024, "DistiLLM: Towards Streamlined Distillation for Large Language
// Models"): l = tau^2 KL(p_T || alpha p_T + (1-alpha) p_S). alpha = 0 is forward KL; the skew
// bounds the loss by -log(alpha) and smooths its gradient where p_S is near 0.
torch::Tensor skewKl(const LossInputs &in, const LossConfig &cfg)
{
    checkUnit(cfg.alpha, "alpha");
    auto d = tempered(in, cfg);
    // alpha = 1 makes the mixture the teacher itself and the loss identically 0; it stays
    // attached to the student's graph (zero gradient) so that backward() works on it alone.
    if (cfg.alpha >= 1)
        return maskedMean(0.0 * d.logPs.sum(-1), d.pos);
    auto logM = logMixture(cfg.alpha, d.logPt, d.logPs);
    return maskedMean(d.tau * d.tau * klRows(d.logPt, logM), d.pos);
}

// Skew reverse KL (Ko et al. 2024, DistiLLM): l = tau^2 KL(p_S || alpha p_S + (1-alpha) p_T).
// alpha = 0 is reverse KL.
torch::Tensor skewReverseKl(const LossInputs &in, const LossConfig &cfg)
{
    checkUnit(cfg.alpha, "alpha");
    auto d = tempered(in, cfg);
    auto logM = logMixture(cfg.alpha, d.logPs, d.logPt);
    return maskedMean(d.tau * d.tau * klRows(d.logPs, logM), d.pos);
}

// Total variation distance (used as a distillation objective by Wen et al. 2023, "f-Divergence
// Minimization for Sequence-Level Knowledge Distillation"): l = tau^2 * 1/2 sum_v |p_T - p_S|,
// in [0, tau^2]. Where p_T = p_S the subgradient 0 is used.
torch::Tensor totalVariation(const LossInputs &in, const LossConfig &cfg)
{
    auto d = tempered(in, cfg);
    auto l = 0.5 * (d.logPt.exp() - d.logPs.exp()).abs().sum(-1);
    return maskedMean(d.tau * d.tau * l, d.pos);
}

// Logit matching (Ba & Caruana 2014, "Do Deep Nets Really Need to be Deep?"):
// l = mean_v (z_S(v) - z_T(v))^2 on raw logits (no temperature).
torch::Tensor logitMse(const LossInputs &in, const LossConfig &cfg)
{
    auto s = logitRows(in.studentLogits, "studentLogits");
    auto t = teacherRows(in.teacherLogits, s, "teacherLogits");
    auto pos = positions(in.mask, s.size(0), s);
    auto diff = keep(s, pos) - keep(t, pos);
    return maskedMean((diff * diff).mean(-1), pos);
}

// TAID (Shing et al. 2025, "TAID: Temporally Adaptive Interpolated Distillation"): the target
// interpolates in logit space between the (detached) student and the teacher,
//   p_t = softmax(((1-t) sg(z_S) + t z_T) / tau),   l = tau^2 KL(p_t || p_S^tau),
// with t = cfg.taidT in [0, 1] (t = 1 is forward KL; t = 0 is 0). taidUpdate moves t.
torch::Tensor taid(const LossInputs &in, const LossConfig &cfg)
{
    const double t = cfg.taidT;
    checkUnit(t, "taid_t");
    const double tau = checkedTemperature(cfg);
    auto s = logitRows(in.studentLogits, "studentLogits");
    auto zt = teacherRows(in.teacherLogits, s, "teacherLogits");
    auto pos = positions(in.mask, s.size(0), s);
    auto zs = keep(s, pos);
    auto target = (1 - t) * zs.detach() + t * keep(zt, pos);
    auto logTarget = torch::log_softmax(target / tau, -1);
    auto logPs = torch::log_softmax(zs / tau, -1);
    return maskedMean(tau * tau * klRows(logTarget, logPs), pos);
}

namespace {

struct HiddenPair
{
    Positions pos;
    torch::Tensor s, t;
};

HiddenPair hiddenPair(const LossInputs &in)
{
    HiddenPair h;
    auto s = logitRows(in.studentHidden, "studentHidden");
    auto t = logitRows(in.teacherHidden, "teacherHidden").detach();
    TORCH_CHECK(t.sizes() == s.sizes(), "teacherHidden: expected shape ", s.sizes(),
                " (the student's, after its projection), got ", t.sizes());
    h.pos = positions(in.mask, s.size(0), s);
    h.s = keep(s, h.pos);
    h.t = keep(t.to(s.options()), h.pos);
    return h;
}

} // namespace

// Hidden-state matching (Sanh et al. 2019, "DistilBERT"; Romero et al. 2015, "FitNets"):
// l = mean_d (h_S(d) - h_T(d))^2. Any projection of h_S is applied by the caller.
torch::Tensor hiddenMse(const LossInputs &in, const LossConfig &cfg)
{
    auto h = hiddenPair(in);
    auto diff = h.s - h.t;
    return maskedMean((diff * diff).mean(-1), h.pos);
}

// Cosine embedding loss (Sanh et al. 2019, "DistilBERT"): l = 1 - <h_S, h_T> / (|h_S| |h_T|).
// Norms are floored at 1e-8, so a zero vector has cosine 0 (loss 1) and a finite gradient.
torch::Tensor hiddenCosine(const LossInputs &in, const LossConfig &cfg)
{
    constexpr double eps = 1e-8;
    auto h = hiddenPair(in);
    auto normS = (h.s * h.s).sum(-1).clamp_min(eps * eps).sqrt();
    auto normT = (h.t * h.t).sum(-1).clamp_min(eps * eps).sqrt();
    auto cosine = (h.s * h.t).sum(-1) / (normS * normT);
    return maskedMean(1 - cosine, h.pos);
}

// Sparse KL from a cached teacher top-k (offline distillation stores only the teacher's k most
// likely tokens per position; the bound is the grouping property of KL, Cover & Thomas 2006,
// "Elements of Information Theory", 2.7). With K the cached tokens,
// the rest masses r_T = 1 - sum_K p_T(i) (exact: the cache holds normalised log-probs) and
// r_S = 1 - sum_K p_S(i):
//   l = tau^2 [ sum_K p_T(i) (log p_T(i) - log p_S(i)) + r_T (log r_T - log r_S) ],
// the exact KL between the (k+1)-bucket coarse-grainings (the top-k tokens and one "rest"
// bucket). By the data-processing inequality it is <= forward-kl, it grows with k, and it equals
// forward-kl when k = V. log r_T = log(1 - exp(logsumexp_K log p_T)) (clamped to r_T >= 0; the
// term is 0 when r_T = 0), log r_S = logsumexp of log p_S over the tokens outside K.
torch::Tensor topkKl(const LossInputs &in, const LossConfig &cfg)
{
    const double tau = checkedTemperature(cfg);
    auto s = logitRows(in.studentLogits, "studentLogits");
    const auto n = s.size(0), v = s.size(1);
    auto lp = logitRows(in.topkLogProbs, "topkLogProbs");
    TORCH_CHECK(lp.size(0) == n, "topkLogProbs: expected ", n, " rows (one per position), got ",
                lp.size(0));
    const auto k = lp.size(1);
    TORCH_CHECK(k <= v, "topkLogProbs: k = ", k, " exceeds the vocabulary (", v, ")");
    TORCH_CHECK(in.topkIndices.defined(), "topkIndices are missing");
    TORCH_CHECK(in.topkIndices.numel() == n * k, "topkIndices: expected shape [", n, ",", k,
                "] like topkLogProbs, got ", in.topkIndices.sizes());
    TORCH_CHECK(!in.topkIndices.is_floating_point(), "topkIndices: expected an integer tensor");
    auto pos = positions(in.mask, n, s);
    auto idx = keep(in.topkIndices.reshape({n, k}).to(s.device(), torch::kLong), pos);
    auto logPtK = keep(lp.detach().to(s.options()), pos);
    if (idx.numel() > 0) {
        TORCH_CHECK(idx.min().item<std::int64_t>() >= 0 && idx.max().item<std::int64_t>() < v,
                    "topkIndices: expected token indices in [0, ", v, ") at the counted positions");
    }
    auto logPs = torch::log_softmax(keep(s, pos) / tau, -1);
    auto l = klRows(logPtK, logPs.gather(-1, idx));
    if (k < v) {
        auto logRt = log1mexp(torch::logsumexp(logPtK, -1).clamp_max(0.0));
        auto logRs = logPs.scatter(-1, idx, -kInf).logsumexp(-1);
        auto rT = logRt.exp();
        auto rest = rT * (logRt - logRs);
        l = l + torch::where(rT == 0, torch::zeros_like(rest), rest);
    }
    return maskedMean(tau * tau * l, pos);
}

std::pair<torch::Tensor, torch::Tensor> topkFromLogits(const torch::Tensor &teacherLogits, int k,
                                                       double temperature)
{
    TORCH_CHECK(std::isfinite(temperature) && temperature > 0,
                "temperature: expected a finite value > 0, got ", temperature);
    auto z = logitRows(teacherLogits, "teacherLogits").detach();
    const auto kk = std::clamp<std::int64_t>(k, 1, z.size(1));
    auto logP = torch::log_softmax(z / temperature, -1);
    auto [values, indices] = logP.topk(kk, -1, /*largest=*/true, /*sorted=*/true);
    return {values, indices};
}

// TAID's adaptive schedule for t (Shing et al. 2025, Algorithm 1):
//   delta_n = (J_{n-1} - J_n) / J_{n-1}            relative decrease of the TAID loss,
//   m_n     = beta m_{n-1} + (1 - beta) delta_n     its momentum,
//   t_lin   = tStart + (tEnd - tStart) (n+1) / N    a linear lower bound,
//   t_{n+1} = min(tEnd, max(t_lin, t_n + alpha sigmoid(m_n) (1 - t_n))).
// t never decreases, stays in [tStart, tEnd] and equals tEnd after the last step (n = N-1):
// when the student learns quickly t moves ahead of the linear schedule, otherwise it follows it.
// Edge cases: the first call (previousLoss < 0) and non-finite losses leave the momentum as is;
// tStart and tEnd are clamped to [0, 1] with tEnd >= tStart; alpha < 0 counts as 0; beta is
// clamped to [0, 1]; totalSteps <= 0 gives tEnd at once.
double taidUpdate(TaidState &state, double loss, std::int64_t step, std::int64_t totalSteps,
                  double tStart, double tEnd, double alpha, double beta)
{
    tStart = std::clamp(tStart, 0.0, 1.0);
    tEnd = std::clamp(std::max(tEnd, tStart), 0.0, 1.0);
    alpha = std::max(alpha, 0.0);
    beta = std::clamp(beta, 0.0, 1.0);
    if (std::isfinite(loss)) {
        if (state.previousLoss >= 0) {
            const double delta = (state.previousLoss - loss) / (state.previousLoss + 1e-12);
            state.momentum = beta * state.momentum + (1 - beta) * delta;
        }
        state.previousLoss = loss;
    }
    const double progress =
        totalSteps > 0 ? std::clamp(double(step + 1) / double(totalSteps), 0.0, 1.0) : 1.0;
    const double tLinear = progress >= 1 ? tEnd : tStart + (tEnd - tStart) * progress;
    const double t = std::clamp(state.t, tStart, tEnd);
    const double sigmoid = 1.0 / (1.0 + std::exp(-state.momentum));
    state.t = std::min(tEnd, std::max(tLinear, t + alpha * sigmoid * (1 - t)));
    return state.t;
}

const std::vector<LossEntry> &registry()
{
    static const std::vector<LossEntry> entries = [] {
        std::vector<LossEntry> e = {
            {"cross-entropy", &crossEntropy},   {"forward-kl", &forwardKl},
            {"reverse-kl", &reverseKl},         {"gjsd", &generalizedJsd},
            {"skew-kl", &skewKl},               {"skew-reverse-kl", &skewReverseKl},
            {"tvd", &totalVariation},           {"logit-mse", &logitMse},
            {"taid", &taid},                    {"hidden-mse", &hiddenMse},
            {"hidden-cosine", &hiddenCosine},   {"topk-kl", &topkKl},
        };
        for (auto &entry : e)
            entry.kind = findLossKind(entry.name);
        return e;
    }();
    return entries;
}

const LossEntry *find(const std::string &name)
{
    for (const auto &e : registry())
        if (e.name == name)
            return &e;
    return nullptr;
}

} // namespace distillery::core::losses
