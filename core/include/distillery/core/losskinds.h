#pragma once

// The loss kinds: the one table that says what each kind needs and how it reads. The loss
// registry (losses/losses.h) maps the same names, in the same order, to their functions (a test
// checks it); the graph's Loss node, its validation, the canvas cards, the inspector and the
// trainer all read this table. LibTorch-free. Adding a loss: README, "Adding a loss".

#include <string>
#include <vector>

namespace distillery::core {

struct LossKind
{
    std::string name;        // e.g. "forward-kl"
    std::string formula;     // the per-position loss, e.g. "τ²·KL(p_T^τ ‖ p_S^τ), p^τ = softmax(z/τ)"
    std::string cardFormula; // short form for node cards, e.g. "KL(p_T ‖ p_S)"
    std::string reference;   // the paper it comes from
    bool needsTeacherLogits = false; // the teacher's full logits
    bool needsLabels = false;        // the true next tokens
    bool needsHidden = false;        // hidden states of student and teacher (no logits)
    bool needsTopk = false;          // the teacher's top-k log-probabilities (cache or logits)
    bool usesTemperature = false;    // divides logits by τ (and scales by τ²)
    bool constantTemperature = false; // τ cannot follow a schedule (a cache is built at one τ)
    // Parameters of the Loss node, besides weight and temperature, that act on this kind.
    std::vector<std::string> params;
};

// Every loss kind, in a fixed order: cross-entropy, forward-kl, reverse-kl, gjsd, skew-kl,
// skew-reverse-kl, tvd, logit-mse, taid, hidden-mse, hidden-cosine, topk-kl.
const std::vector<LossKind> &lossKinds();
// nullptr for an unknown name.
const LossKind *findLossKind(const std::string &name);
// The Loss node's inputs the kind reads (the others may stay unconnected): "student" for the
// logits, "teacher" for teacher logits or top-k, "labels", "student_hidden", "teacher_hidden".
std::vector<std::string> lossKindInputs(const LossKind &kind);

} // namespace distillery::core
