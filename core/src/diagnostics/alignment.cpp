#include "diagnostics/diagnostics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery::core::diagnostics {

namespace {

std::vector<float> toVector(const torch::Tensor &t)
{
    auto c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Row-wise Σ_v p (log p − log q) with 0 log 0 = 0.
torch::Tensor kl(const torch::Tensor &logP, const torch::Tensor &logQ)
{
    auto p = logP.exp();
    auto terms = p * (logP - logQ);
    return torch::where(p == 0, torch::zeros_like(terms), terms).sum(-1);
}

torch::Tensor entropy(const torch::Tensor &logP)
{
    auto p = logP.exp();
    auto terms = -p * logP;
    return torch::where(p == 0, torch::zeros_like(terms), terms).sum(-1);
}

double nanMean(const std::vector<float> &v, const std::vector<float> *select = nullptr, float want = 1)
{
    double sum = 0;
    int n = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (std::isnan(v[i]) || (select && (*select)[i] != want))
            continue;
        sum += v[i];
        ++n;
    }
    return n ? sum / n : std::numeric_limits<double>::quiet_NaN();
}

} // namespace

// Per position t, with p_S = softmax(z_S), p_T = softmax(z_T):
//   KL(p_T‖p_S), KL(p_S‖p_T), JS = ½ KL(p_T‖m) + ½ KL(p_S‖m) with m = ½(p_T + p_S),
//   H(p_T), H(p_S), p(y_t), [argmax p_T = argmax p_S], [argmax p_S = y_t];
//   cos(g_t, g*_t) with g_t = ∂L/∂z_S[t] for the run's objective L and the ideal
//   g*_t = p_S − p_oracle (the gradient of KL(p_oracle‖p_S), "Unmasking On-Policy
//   Distillation") or p_S − onehot(y_t) (cross-entropy) without an oracle. Positions where
//   either gradient is zero get NaN.
TokenAlignment tokenAlignment(const torch::Tensor &studentLogits, const torch::Tensor &teacherLogits,
                              const torch::Tensor &targets, const torch::Tensor &oracleProbs,
                              const Objective &objective)
{
    TokenAlignment a;
    const auto v = studentLogits.size(-1);
    auto z = studentLogits.detach().reshape({-1, v});
    auto y = targets.detach().reshape({-1}).to(z.device(), torch::kLong);

    torch::Tensor grad;
    {
        torch::AutoGradMode enable(true);
        auto leaf = z.clone().requires_grad_(true);
        auto loss = objective(leaf);
        grad = torch::autograd::grad({loss}, {leaf}, {}, false, false, true)[0];
        if (!grad.defined())
            grad = torch::zeros_like(leaf);
    }

    torch::NoGradGuard noGrad;
    auto logPs = torch::log_softmax(z.to(torch::kDouble), -1);
    auto logPt = torch::log_softmax(teacherLogits.detach().reshape({-1, v}).to(z.device(), torch::kDouble), -1);
    auto ps = logPs.exp(), pt = logPt.exp();
    auto logM = torch::log(0.5 * (ps + pt));
    auto js = 0.5 * kl(logPt, logM) + 0.5 * kl(logPs, logM);
    auto studentTop = ps.argmax(-1), teacherTop = pt.argmax(-1);

    torch::Tensor ideal;
    if (oracleProbs.defined())
        ideal = ps - oracleProbs.detach().reshape({-1, v}).to(z.device(), torch::kDouble);
    else
        ideal = ps - torch::one_hot(y, v).to(torch::kDouble);
    auto g = grad.to(torch::kDouble);
    auto norms = g.norm(2, -1) * ideal.norm(2, -1);
    auto cosine = (g * ideal).sum(-1) / norms;
    cosine = torch::where(norms > 0, cosine, torch::full_like(cosine, std::nan("")));

    a.klTeacherStudent = toVector(kl(logPt, logPs));
    a.klStudentTeacher = toVector(kl(logPs, logPt));
    a.js = toVector(js);
    a.top1Agree = toVector((studentTop == teacherTop).to(torch::kFloat));
    a.teacherEntropy = toVector(entropy(logPt));
    a.studentEntropy = toVector(entropy(logPs));
    a.teacherPTrue = toVector(pt.gather(1, y.unsqueeze(1)).squeeze(1));
    a.studentPTrue = toVector(ps.gather(1, y.unsqueeze(1)).squeeze(1));
    a.gradCosine = toVector(cosine);
    a.studentCorrect = toVector((studentTop == y).to(torch::kFloat));
    const auto k = std::min<std::int64_t>(TokenAlignment::kTopTokens, v);
    auto [tProbs, tTokens] = pt.topk(k, -1);
    auto [sProbs, sTokens] = ps.topk(k, -1);
    a.teacherTopTokens = toVector(tTokens);
    a.teacherTopProbs = toVector(tProbs);
    a.studentTopTokens = toVector(sTokens);
    a.studentTopProbs = toVector(sProbs);

    a.meanGradCosine = nanMean(a.gradCosine);
    a.meanGradCosineCorrect = nanMean(a.gradCosine, &a.studentCorrect, 1);
    a.meanGradCosineIncorrect = nanMean(a.gradCosine, &a.studentCorrect, 0);
    a.meanKl = nanMean(a.klTeacherStudent);
    a.meanTop1Agree = nanMean(a.top1Agree);
    return a;
}

} // namespace distillery::core::diagnostics

namespace distillery::core {

std::vector<std::pair<std::string, const std::vector<float> *>>
alignmentQuantities(const TokenAlignment &a)
{
    return {{"kl", &a.klTeacherStudent},      {"reverse_kl", &a.klStudentTeacher},
            {"js", &a.js},                    {"top1_agree", &a.top1Agree},
            {"teacher_entropy", &a.teacherEntropy}, {"student_entropy", &a.studentEntropy},
            {"teacher_p_true", &a.teacherPTrue}, {"student_p_true", &a.studentPTrue},
            {"grad_cosine", &a.gradCosine},   {"student_correct", &a.studentCorrect}};
}

std::vector<std::pair<std::string, const std::vector<float> *>>
alignmentTopTokens(const TokenAlignment &a)
{
    return {{"top5/teacher/token", &a.teacherTopTokens}, {"top5/teacher/prob", &a.teacherTopProbs},
            {"top5/student/token", &a.studentTopTokens}, {"top5/student/prob", &a.studentTopProbs}};
}

} // namespace distillery::core
