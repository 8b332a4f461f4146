// Calibration and per-token alignment against hand computations and independent autograd.

#include <QtTest>

#include "diagnostics/diagnostics.h"
#include "losses/losses.h"

#include <algorithm>
#include <cmath>

using namespace distillery::core;
using namespace distillery::core::diagnostics;

namespace {

// Two-class logits whose softmax is (c, 1 − c).
torch::Tensor twoClass(const std::vector<double> &confidences)
{
    auto t = torch::empty({std::int64_t(confidences.size()), 2}, torch::kDouble);
    for (std::size_t i = 0; i < confidences.size(); ++i) {
        t[std::int64_t(i)][0] = std::log(confidences[i]);
        t[std::int64_t(i)][1] = std::log(1 - confidences[i]);
    }
    return t;
}

// A tiny student: embedding [V,d] → tanh → linear [d→V], z = tanh(E[x]) Wᵀ + b, in double.
// theta = {E, W, b}.
torch::Tensor tinyLogits(const std::vector<torch::Tensor> &theta, const torch::Tensor &x)
{
    return torch::tanh(theta[0].index_select(0, x)).matmul(theta[1].t()) + theta[2];
}

struct TinyProbe
{
    static constexpr std::int64_t T = 6, V = 7, D = 5;
    std::vector<torch::Tensor> theta;
    torch::Tensor x, y, teacher, oracle;
};

TinyProbe tinyProbe(std::uint64_t seed)
{
    torch::manual_seed(seed);
    TinyProbe p;
    const auto opts = torch::TensorOptions().dtype(torch::kDouble);
    p.theta = {torch::randn({TinyProbe::V, TinyProbe::D}, opts).requires_grad_(true),
               torch::randn({TinyProbe::V, TinyProbe::D}, opts).requires_grad_(true),
               (0.5 * torch::randn({TinyProbe::V}, opts)).requires_grad_(true)};
    p.x = torch::randint(0, TinyProbe::V, {TinyProbe::T}, torch::kLong);
    p.y = torch::randint(0, TinyProbe::V, {TinyProbe::T}, torch::kLong);
    p.teacher = 2 * torch::randn({TinyProbe::T, TinyProbe::V}, opts);
    p.oracle = torch::softmax(torch::randn({TinyProbe::T, TinyProbe::V}, opts), -1);
    return p;
}

// L(z) = mean_t KL(p_T,t ‖ p_S,t) + 0.3 · mean_t −log p_S,t(y_t).
Objective klPlusCe(const TinyProbe &p)
{
    return [teacher = p.teacher, y = p.y](const torch::Tensor &z) {
        auto logPs = torch::log_softmax(z, -1);
        auto pt = torch::softmax(teacher, -1);
        auto kl = (pt * (pt.log() - logPs)).sum(-1).mean();
        auto ce = -logPs.gather(1, y.unsqueeze(1)).mean();
        return kl + 0.3 * ce;
    };
}

// ∂L/∂z_t of klPlusCe by hand: (p_S − p_T + 0.3 (p_S − onehot(y_t))) / T.
torch::Tensor klPlusCeGradient(const TinyProbe &p, const torch::Tensor &z, std::int64_t t)
{
    auto ps = torch::softmax(z[t], -1);
    auto pt = torch::softmax(p.teacher[t], -1);
    auto onehot = torch::one_hot(p.y[t], TinyProbe::V).to(torch::kDouble);
    return (ps - pt + 0.3 * (ps - onehot)) / double(TinyProbe::T);
}

// Central differences of f(θ) = Σ_v z_t(θ)_v c_v w.r.t. every entry of the parameters listed in
// `which`, concatenated: an estimate of J_tᵀ c that never runs a backward pass.
torch::Tensor finiteDifferenceVjp(const TinyProbe &p, std::int64_t t, const torch::Tensor &c,
                                  const std::vector<std::size_t> &which)
{
    torch::NoGradGuard noGrad;
    const double eps = 1e-6;
    std::vector<double> out;
    for (std::size_t k : which) {
        for (std::int64_t i = 0; i < p.theta[k].numel(); ++i) {
            auto f = [&](double delta) {
                std::vector<torch::Tensor> theta;
                for (const auto &q : p.theta)
                    theta.push_back(q.detach().clone());
                theta[k].view({-1})[i] += delta;
                return (tinyLogits(theta, p.x)[t] * c).sum().item<double>();
            };
            out.push_back((f(eps) - f(-eps)) / (2 * eps));
        }
    }
    return torch::tensor(out, torch::kDouble);
}

double cosine(const torch::Tensor &a, const torch::Tensor &b)
{
    return (a * b).sum().item<double>() / (a.norm().item<double>() * b.norm().item<double>());
}

} // namespace

class tst_Diagnostics : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void calibrationOnHandMadeBins()
    {
        // Bin of 0.9 (b = 13 of 15): 4 tokens, 3 right. Bin of 0.62 (b = 9): 2 tokens, 1 right.
        // A masked row with garbage does not count.
        auto logits = twoClass({0.9, 0.9, 0.9, 0.9, 0.62, 0.62, 0.5});
        logits[6][0] = 1e9;
        auto targets = torch::tensor({0, 0, 0, 1, 0, 1, 1}, torch::kLong);
        auto mask = torch::tensor({1, 1, 1, 1, 1, 1, 0}, torch::kFloat);
        const Calibration c = calibration(logits, targets, mask);
        QCOMPARE(c.tokens, std::int64_t(6));
        QCOMPARE(int(c.bins.size()), kCalibrationBins);
        QCOMPARE(c.bins[13].count, std::int64_t(4));
        QCOMPARE(c.bins[9].count, std::int64_t(2));
        QVERIFY(std::abs(c.bins[13].meanConfidence - 0.9) < 1e-12);
        QVERIFY(std::abs(c.bins[13].accuracy - 0.75) < 1e-12);
        QVERIFY(std::abs(c.bins[9].accuracy - 0.5) < 1e-12);
        const double ece = 4.0 / 6 * 0.15 + 2.0 / 6 * 0.12;
        QVERIFY2(std::abs(c.ece - ece) < 1e-12, qPrintable(QString::number(c.ece, 'g', 17)));
        QVERIFY(std::abs(c.mce - 0.15) < 1e-12);
        // Brier for two classes: 2(1 − c)² when y = 0, 2c² when y = 1.
        const double brier = (3 * 2 * 0.01 + 2 * 0.81 + 2 * 0.38 * 0.38 + 2 * 0.62 * 0.62) / 6;
        QVERIFY(std::abs(c.brier - brier) < 1e-12);
        const double nll = (-3 * std::log(0.9) - std::log(0.1) - std::log(0.62) - std::log(0.38)) / 6;
        QVERIFY(std::abs(c.nll - nll) < 1e-12);
        QVERIFY(std::abs(c.confidenceMinusAccuracy - ((3.6 + 1.24) / 6 - 4.0 / 6)) < 1e-12);
        for (int b = 0; b < kCalibrationBins; ++b)
            if (b != 9 && b != 13)
                QCOMPARE(c.bins[std::size_t(b)].count, std::int64_t(0));
    }

    void binEdgesAndAccumulation()
    {
        // Confidence exactly 1 goes to the last bin; a perfectly calibrated bin has gap 0.
        auto logits = torch::tensor({{50.0, -50.0}, {-50.0, 50.0}}, torch::kDouble);
        auto c = calibration(logits, torch::tensor({0, 1}, torch::kLong), torch::ones({2}));
        QCOMPARE(c.bins.back().count, std::int64_t(2));
        QVERIFY(c.ece < 1e-12);
        // Two batches accumulate to the same result as one.
        auto a = torch::randn({40, 7}, torch::kDouble);
        auto y = torch::randint(0, 7, {40}, torch::kLong);
        auto m = torch::ones({40});
        CalibrationAccumulator acc;
        acc.add(a.slice(0, 0, 15), y.slice(0, 0, 15), m.slice(0, 0, 15));
        acc.add(a.slice(0, 15), y.slice(0, 15), m.slice(0, 15));
        const auto split = acc.result(), whole = calibration(a, y, m);
        QVERIFY(std::abs(split.ece - whole.ece) < 1e-12);
        QVERIFY(std::abs(split.brier - whole.brier) < 1e-12);
        QCOMPARE(split.tokens, std::int64_t(40));
    }

    // The logit-space alignment equals the cosine of gradients computed separately, one position
    // at a time, against the gradient of KL(oracle‖student).
    void alignmentMatchesSeparateAutograd()
    {
        torch::manual_seed(3);
        const std::int64_t T = 6, V = 5;
        auto s = torch::randn({T, V}, torch::kDouble);
        auto t = torch::randn({T, V}, torch::kDouble) * 2;
        auto oracle = torch::softmax(torch::randn({T, V}, torch::kDouble), -1);
        auto y = torch::randint(0, V, {T}, torch::kLong);
        losses::LossConfig cfg;
        cfg.temperature = 2.0;
        auto objective = [&](const torch::Tensor &z) {
            losses::LossInputs in;
            in.studentLogits = z;
            in.teacherLogits = t;
            in.mask = torch::ones({z.size(0)});
            return losses::forwardKl(in, cfg);
        };
        const TokenAlignment a = tokenAlignment(s, t, y, oracle, objective);
        QCOMPARE(int(a.gradCosine.size()), int(T));
        for (std::int64_t i = 0; i < T; ++i) {
            auto zi = s.slice(0, i, i + 1).clone().requires_grad_(true);
            losses::LossInputs in;
            in.studentLogits = zi;
            in.teacherLogits = t.slice(0, i, i + 1);
            in.mask = torch::ones({1});
            losses::forwardKl(in, cfg).backward();
            auto g = zi.grad().squeeze(0);
            auto ideal = torch::softmax(s[i], -1) - oracle[i];
            const double cosine = (g * ideal).sum().item<double>()
                                  / (g.norm().item<double>() * ideal.norm().item<double>());
            QVERIFY2(std::abs(a.gradCosine[std::size_t(i)] - cosine) < 1e-5,
                     qPrintable(QString("%1 vs %2").arg(a.gradCosine[std::size_t(i)]).arg(cosine)));
            // The divergences against their definitions.
            auto ps = torch::softmax(s[i], -1), pt = torch::softmax(t[i], -1);
            const double klTs = (pt * (pt.log() - ps.log())).sum().item<double>();
            const double klSt = (ps * (ps.log() - pt.log())).sum().item<double>();
            auto m = 0.5 * (ps + pt);
            const double js = 0.5 * (pt * (pt.log() - m.log())).sum().item<double>()
                              + 0.5 * (ps * (ps.log() - m.log())).sum().item<double>();
            QVERIFY(std::abs(a.klTeacherStudent[std::size_t(i)] - klTs) < 1e-5);
            QVERIFY(std::abs(a.klStudentTeacher[std::size_t(i)] - klSt) < 1e-5);
            QVERIFY(std::abs(a.js[std::size_t(i)] - js) < 1e-5);
            QVERIFY(a.js[std::size_t(i)] <= std::log(2.0) + 1e-6);
            QCOMPARE(a.top1Agree[std::size_t(i)], float(ps.argmax().item<std::int64_t>() == pt.argmax().item<std::int64_t>()));
            QVERIFY(std::abs(a.studentPTrue[std::size_t(i)] - ps[y[i].item<std::int64_t>()].item<double>()) < 1e-6);
        }
        // Split by correctness: the two means partition the positions.
        int right = 0;
        double sumRight = 0, sumWrong = 0;
        for (std::size_t i = 0; i < a.gradCosine.size(); ++i) {
            if (a.studentCorrect[i] == 1) {
                ++right;
                sumRight += a.gradCosine[i];
            } else {
                sumWrong += a.gradCosine[i];
            }
        }
        if (right > 0)
            QVERIFY(std::abs(a.meanGradCosineCorrect - sumRight / right) < 1e-6);
        if (right < T)
            QVERIFY(std::abs(a.meanGradCosineIncorrect - sumWrong / double(T - right)) < 1e-6);
    }

    void alignmentWithoutOracleUsesTheTrueToken()
    {
        // Cross-entropy's own gradient is p_S − onehot(y): the cosine with the ideal is 1.
        auto s = torch::randn({4, 6}, torch::kDouble);
        auto y = torch::tensor({0, 3, 5, 1}, torch::kLong);
        auto objective = [&](const torch::Tensor &z) {
            losses::LossInputs in;
            in.studentLogits = z;
            in.labels = y;
            in.mask = torch::ones({4});
            return losses::crossEntropy(in, losses::LossConfig());
        };
        const auto a = tokenAlignment(s, s, y, torch::Tensor(), objective);
        for (float c : a.gradCosine)
            QVERIFY(std::abs(c - 1.0f) < 1e-5);
        // Student = teacher: zero divergences, full agreement, equal entropies.
        for (std::size_t i = 0; i < 4; ++i) {
            QVERIFY(std::abs(a.klTeacherStudent[i]) < 1e-6);
            QCOMPARE(a.top1Agree[i], 1.0f);
            QVERIFY(std::abs(a.teacherEntropy[i] - a.studentEntropy[i]) < 1e-6);
        }
        QCOMPARE(int(alignmentQuantities(a).size()), 10);
    }
    // The parameter-space cosine equals the cosine of J_tᵀ g_t and J_tᵀ h_t estimated by central
    // finite differences over every parameter entry, with g_t worked out by hand.
    void parameterAlignmentMatchesFiniteDifferences()
    {
        const TinyProbe p = tinyProbe(11);
        auto z = tinyLogits(p.theta, p.x);
        const std::vector<std::int64_t> positions = {0, 1, 2, 3, 4, 5};
        const auto c = parameterAlignment(z, p.y, p.oracle, klPlusCe(p), positions, p.theta);
        QCOMPARE(int(c.size()), int(positions.size()));
        double largestGap = 0; // against the logit-space cosine, which ignores J_t
        for (std::int64_t t : positions) {
            auto zd = z.detach();
            auto g = klPlusCeGradient(p, zd, t);
            auto h = torch::softmax(zd[t], -1) - p.oracle[t];
            const double expected = cosine(finiteDifferenceVjp(p, t, g, {0, 1, 2}),
                                           finiteDifferenceVjp(p, t, h, {0, 1, 2}));
            const float got = c[std::size_t(t)];
            QVERIFY2(std::abs(got - expected) < 1e-5,
                     qPrintable(QString("t=%1: %2 vs %3").arg(t).arg(got).arg(expected)));
            largestGap = std::max(largestGap, std::abs(expected - cosine(g, h)));
        }
        QVERIFY2(largestGap > 1e-3, qPrintable(QString::number(largestGap)));
        // autograd::grad leaves no .grad behind.
        for (const auto &q : p.theta)
            QVERIFY(!q.grad().defined());
        // A parameter outside the graph and a frozen one change nothing.
        auto unused = torch::randn({3}, torch::kDouble).requires_grad_(true);
        auto frozen = torch::randn({3}, torch::kDouble);
        auto params = p.theta;
        params.push_back(unused);
        params.push_back(frozen);
        const auto again = parameterAlignment(z, p.y, p.oracle, klPlusCe(p), positions, params);
        for (std::size_t i = 0; i < c.size(); ++i)
            QVERIFY(std::abs(again[i] - c[i]) < 1e-6);
        QVERIFY(!unused.grad().defined());
    }

    // Restricted to some parameters, the cosine is that of their gradient alone: for the last
    // layer u = (g aᵀ, g) with a = tanh(E[x_t]) (which makes it the logit-space cosine, since
    // J Jᵀ = (‖a‖² + 1) I there); for the embedding alone it is the finite-difference one.
    void parameterAlignmentOverALayerSubset()
    {
        const TinyProbe p = tinyProbe(5);
        auto z = tinyLogits(p.theta, p.x);
        const std::vector<std::int64_t> positions = {0, 2, 5};
        const auto last =
            parameterAlignment(z, p.y, p.oracle, klPlusCe(p), positions, {p.theta[1], p.theta[2]});
        const auto first =
            parameterAlignment(z, p.y, p.oracle, klPlusCe(p), positions, {p.theta[0]});
        const auto all = parameterAlignment(z, p.y, p.oracle, klPlusCe(p), positions, p.theta);
        double largestGap = 0;
        for (std::size_t i = 0; i < positions.size(); ++i) {
            const auto t = positions[i];
            auto zd = z.detach();
            auto g = klPlusCeGradient(p, zd, t);
            auto h = torch::softmax(zd[t], -1) - p.oracle[t];
            auto a = torch::tanh(p.theta[0].detach()[p.x[t].item<std::int64_t>()]);
            auto u = torch::cat({torch::outer(g, a).reshape({-1}), g});
            auto v = torch::cat({torch::outer(h, a).reshape({-1}), h});
            QVERIFY2(std::abs(last[i] - cosine(u, v)) < 1e-5,
                     qPrintable(QString("t=%1: %2 vs %3").arg(t).arg(last[i]).arg(cosine(u, v))));
            QVERIFY(std::abs(last[i] - cosine(g, h)) < 1e-5);
            const double embedding =
                cosine(finiteDifferenceVjp(p, t, g, {0}), finiteDifferenceVjp(p, t, h, {0}));
            QVERIFY2(std::abs(first[i] - embedding) < 1e-5,
                     qPrintable(QString("t=%1: %2 vs %3").arg(t).arg(first[i]).arg(embedding)));
            largestGap = std::max(largestGap, double(std::abs(all[i] - last[i])));
        }
        QVERIFY2(largestGap > 1e-3, qPrintable(QString::number(largestGap)));
    }

    void parameterAlignmentOutOfRangeIsNaN()
    {
        const TinyProbe p = tinyProbe(7);
        auto z = tinyLogits(p.theta, p.x);
        const auto c =
            parameterAlignment(z, p.y, p.oracle, klPlusCe(p), {-1, TinyProbe::T, 2, 100}, p.theta);
        QCOMPARE(int(c.size()), 4);
        QVERIFY(std::isnan(c[0]));
        QVERIFY(std::isnan(c[1]));
        QVERIFY(!std::isnan(c[2]));
        QVERIFY(std::isnan(c[3]));
        QVERIFY(parameterAlignment(z, p.y, p.oracle, klPlusCe(p), {}, p.theta).empty());
        // Logits outside any graph: no Jacobian, so no direction.
        const auto detached =
            parameterAlignment(z.detach(), p.y, p.oracle, klPlusCe(p), {0, 1}, p.theta);
        QVERIFY(std::isnan(detached[0]) && std::isnan(detached[1]));
    }

    void parameterAlignmentOfTheIdealObjectiveIsOne()
    {
        // Mean cross-entropy has g_t = (p_S − onehot(y_t)) / T, a positive multiple of the ideal
        // without an oracle, so u_t and v_t are parallel whatever J_t is.
        const TinyProbe p = tinyProbe(9);
        auto z = tinyLogits(p.theta, p.x);
        auto objective = [y = p.y](const torch::Tensor &logits) {
            return -torch::log_softmax(logits, -1).gather(1, y.unsqueeze(1)).mean();
        };
        const auto c =
            parameterAlignment(z, p.y, torch::Tensor(), objective, {0, 1, 2, 3, 4, 5}, p.theta);
        for (float v : c)
            QVERIFY2(std::abs(v - 1.0f) < 1e-5, qPrintable(QString::number(v)));
    }
};

QTEST_GUILESS_MAIN(tst_Diagnostics)
#include "tst_diagnostics.moc"
