#include "diagnostics/diagnostics.h"

#include <cmath>
#include <limits>

namespace distillery::core::diagnostics {

// Per requested position t, with J_t = ∂z_t/∂θ the Jacobian of the student's logits at t w.r.t.
// the chosen parameters θ:
//   u_t = J_tᵀ g_t,  g_t = ∂L/∂z_t for the run's objective L (the update position t asks of θ),
//   v_t = J_tᵀ h_t,  h_t = p_S − p_oracle (the gradient of KL(p_oracle‖p_S), "Unmasking
//                    On-Policy Distillation"), or p_S − onehot(y_t) without an oracle,
//   result_t = cos(u_t, v_t).
// Each u_t, v_t is one vector-Jacobian product: ∇_θ Σ_v z_t,v(θ) c_v with c = g_t or h_t held
// fixed. Unlike the logit-space cosine of tokenAlignment this sees the student's geometry:
// cos(u, v) = gᵀ K_t h / (‖J_tᵀ g‖ ‖J_tᵀ h‖) with the tangent kernel K_t = J_t J_tᵀ.
// Positions outside [0, T) and positions where either vector is zero get NaN.
std::vector<float> parameterAlignment(const torch::Tensor &studentLogits,
                                      const torch::Tensor &targets,
                                      const torch::Tensor &oracleProbs, const Objective &objective,
                                      const std::vector<std::int64_t> &positions,
                                      const std::vector<torch::Tensor> &params)
{
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> result(positions.size(), nan);
    if (positions.empty() || !studentLogits.defined())
        return result;

    torch::AutoGradMode enable(true);
    const auto vocab = studentLogits.size(-1);
    auto z = studentLogits.reshape({-1, vocab});
    const auto steps = z.size(0);

    // Parameters outside the graph (or frozen) contribute nothing to u_t or v_t.
    std::vector<torch::Tensor> inputs;
    for (const auto &p : params)
        if (p.defined() && p.requires_grad())
            inputs.push_back(p);
    if (inputs.empty() || !z.requires_grad())
        return result;
    if (!oracleProbs.defined() && !targets.defined())
        return result;

    // g = ∂L/∂z on a detached copy, so the objective never reaches the parameters.
    torch::Tensor grad;
    {
        auto leaf = z.detach().clone().requires_grad_(true);
        auto loss = objective(leaf);
        if (loss.requires_grad())
            grad = torch::autograd::grad({loss}, {leaf}, {}, false, false, true)[0];
        if (!grad.defined())
            grad = torch::zeros_like(leaf);
    }

    torch::Tensor ideal;
    {
        torch::NoGradGuard noGrad;
        auto ps = torch::softmax(z.detach().to(torch::kDouble), -1);
        if (oracleProbs.defined()) {
            ideal = ps - oracleProbs.detach().reshape({-1, vocab}).to(z.device(), torch::kDouble);
        } else {
            auto y = targets.detach().reshape({-1}).to(z.device(), torch::kLong);
            ideal = ps - torch::one_hot(y, vocab).to(torch::kDouble);
        }
        ideal = ideal.to(z.scalar_type());
        grad = grad.detach().to(z.scalar_type());
    }

    // ∇_θ Σ_v z_t,v c_v, one tensor per input (undefined where θ does not reach z_t).
    auto vjp = [&](const torch::Tensor &zt, const torch::Tensor &c) {
        return torch::autograd::grad({(zt * c).sum()}, inputs, {}, /*retain_graph=*/true,
                                     /*create_graph=*/false, /*allow_unused=*/true);
    };

    for (std::size_t i = 0; i < positions.size(); ++i) {
        const auto t = positions[i];
        if (t < 0 || t >= steps)
            continue;
        auto zt = z[t];
        const auto u = vjp(zt, grad[t]);
        const auto v = vjp(zt, ideal[t]);
        // Σ over parameters of u·v, ‖u‖², ‖v‖² in double: the cosine of the concatenations.
        auto sums =
            torch::zeros({3}, torch::TensorOptions().dtype(torch::kDouble).device(z.device()));
        for (std::size_t k = 0; k < inputs.size(); ++k) {
            if (!u[k].defined() && !v[k].defined())
                continue;
            auto a =
                (u[k].defined() ? u[k] : torch::zeros_like(v[k])).reshape({-1}).to(torch::kDouble);
            auto b =
                (v[k].defined() ? v[k] : torch::zeros_like(u[k])).reshape({-1}).to(torch::kDouble);
            sums += torch::stack({(a * b).sum(), (a * a).sum(), (b * b).sum()});
        }
        auto s = sums.to(torch::kCPU);
        const double dot = s[0].item<double>(), nu = s[1].item<double>(), nv = s[2].item<double>();
        if (nu > 0 && nv > 0)
            result[i] = float(dot / std::sqrt(nu * nv));
    }
    return result;
}

} // namespace distillery::core::diagnostics
