#include "distillery/core/losskinds.h"

namespace distillery::core {

const std::vector<LossKind> &lossKinds()
{
    // name, formula, card formula, reference,
    // teacher logits, labels, hidden, top-k, temperature, constant temperature, parameters
    static const std::vector<LossKind> kinds = {
        {"cross-entropy", "(1-ε)·(−log p_S(y)) + ε·mean_v(−log p_S(v)), p_S = softmax(z_S)",
         "CE(y, p_S)",
         "Szegedy et al. 2016, Rethinking the Inception Architecture (label smoothing)", false,
         true, false, false, false, false, {"label_smoothing"}},
        {"forward-kl", "τ²·KL(p_T^τ ‖ p_S^τ), p^τ = softmax(z/τ)", "KL(p_T ‖ p_S)",
         "Hinton et al. 2015, Distilling the Knowledge in a Neural Network", true, false, false,
         false, true, false, {}},
        {"reverse-kl", "τ²·KL(p_S^τ ‖ p_T^τ)", "KL(p_S ‖ p_T)",
         "Gu et al. 2024, MiniLLM: Knowledge Distillation of Large Language Models", true, false,
         false, false, true, false, {}},
        {"gjsd",
         "τ²·[β·KL(p_T ‖ m) + (1−β)·KL(p_S ‖ m)], m = β·p_T + (1−β)·p_S; β=0: forward KL, "
         "β=1: reverse KL",
         "JSD_β(p_T, p_S)",
         "Agarwal et al. 2024, On-Policy Distillation of Language Models (GKD)", true, false, false,
         false, true, false, {"beta"}},
        {"skew-kl", "τ²·KL(p_T ‖ α·p_T + (1−α)·p_S)", "KL(p_T ‖ αp_T+(1−α)p_S)",
         "Ko et al. 2024, DistiLLM: Towards Streamlined Distillation for Large Language Models",
         true, false, false, false, true, false, {"alpha"}},
        {"skew-reverse-kl", "τ²·KL(p_S ‖ α·p_S + (1−α)·p_T)", "KL(p_S ‖ αp_S+(1−α)p_T)",
         "Ko et al. 2024, DistiLLM: Towards Streamlined Distillation for Large Language Models",
         true, false, false, false, true, false, {"alpha"}},
        {"tvd", "τ²·½·Σ_v |p_T(v) − p_S(v)|", "½‖p_T − p_S‖₁",
         "Wen et al. 2023, f-Divergence Minimization for Sequence-Level Knowledge Distillation",
         true, false, false, false, true, false, {}},
        {"logit-mse", "mean_v (z_S(v) − z_T(v))²", "‖z_S − z_T‖²",
         "Ba & Caruana 2014, Do Deep Nets Really Need to be Deep?", true, false, false, false,
         false, false, {}},
        {"taid", "τ²·KL(p_t ‖ p_S^τ), p_t = softmax(((1−t)·sg(z_S) + t·z_T)/τ)",
         "KL(p_t ‖ p_S), TAID",
         "Shing et al. 2025, TAID: Temporally Adaptive Interpolated Distillation", true, false,
         false, false, true, false, {"taid_start", "taid_end", "taid_alpha", "taid_momentum"}},
        {"hidden-mse", "mean_d (h_S(d) − h_T(d))²", "‖W h_S − h_T‖²",
         "Sanh et al. 2019, DistilBERT; Romero et al. 2015, FitNets", false, false, true, false,
         false, false, {"student_layer", "teacher_layer"}},
        {"hidden-cosine", "1 − cos(h_S, h_T)", "1 − cos(W h_S, h_T)",
         "Sanh et al. 2019, DistilBERT", false, false, true, false, false, false,
         {"student_layer", "teacher_layer"}},
        {"topk-kl",
         "τ²·[Σ_{i∈K} p_T(i)·(log p_T(i) − log p_S(i)) + r_T·(log r_T − log r_S)], "
         "r = 1 − Σ_{i∈K} p(i)",
         "KL top-k(p_T ‖ p_S)",
         "teacher top-k cache; KL of the (k+1)-bucket coarse-graining (Cover & Thomas 2006, "
         "Elements of Information Theory, 2.7)",
         false, false, false, true, true, true, {"top_k"}},
    };
    return kinds;
}

const LossKind *findLossKind(const std::string &name)
{
    for (const auto &k : lossKinds())
        if (k.name == name)
            return &k;
    return nullptr;
}

std::vector<std::string> lossKindInputs(const LossKind &kind)
{
    std::vector<std::string> inputs;
    if (kind.needsHidden)
        return {"student_hidden", "teacher_hidden"};
    inputs.push_back("student");
    if (kind.needsTeacherLogits || kind.needsTopk)
        inputs.push_back("teacher");
    if (kind.needsLabels)
        inputs.push_back("labels");
    return inputs;
}

} // namespace distillery::core
