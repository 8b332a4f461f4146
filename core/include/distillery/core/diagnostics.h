#pragma once

// Distillation diagnostics as plain structs (the GUI and the store see these; the computations
// over tensors live in core/src/diagnostics). Calibration and per-token alignment here;
// diversity in diversity.h.

#include <cstdint>
#include <string>
#include <vector>

namespace distillery::core {

// Reliability-diagram bins: equal-width on the confidence c = max_v p(v); bin b (0-based, of
// B) holds c in (b/B, (b+1)/B], with c = 0 in bin 0.
constexpr int kCalibrationBins = 15;

struct CalibrationBin
{
    std::int64_t count = 0;
    double meanConfidence = 0; // 0 when empty
    double accuracy = 0;       // share of tokens whose argmax is the true token; 0 when empty
};

struct Calibration
{
    std::int64_t tokens = 0;
    // ECE = Σ_b (n_b / N) |acc_b − conf_b|  (Guo et al. 2017, "On Calibration of Modern Neural
    // Networks"); MCE = max over non-empty bins of |acc_b − conf_b|.
    double ece = 0;
    double mce = 0;
    // Multiclass Brier score: mean over tokens of Σ_v (p(v) − 1[v = y])²  (Brier 1950).
    double brier = 0;
    double nll = 0;                     // mean −log p(y)
    double confidenceMinusAccuracy = 0; // > 0: over-confident
    double meanConfidence = 0;
    double accuracy = 0;
    std::vector<CalibrationBin> bins; // kCalibrationBins entries
};

// Per-position diagnostics of one probe sequence (every vector has one entry per position).
struct TokenAlignment
{
    std::vector<float> klTeacherStudent;  // KL(p_T ‖ p_S)
    std::vector<float> klStudentTeacher;  // KL(p_S ‖ p_T)
    std::vector<float> js;                // Jensen-Shannon divergence, ≤ ln 2
    std::vector<float> top1Agree;         // 1 if argmax p_T = argmax p_S
    std::vector<float> teacherEntropy, studentEntropy;
    std::vector<float> teacherPTrue, studentPTrue; // probability of the true next token
    // Cosine between the gradient of the run's distillation objective and the ideal gradient
    // (toward the oracle's distribution when there is one, else toward the true token), both
    // taken w.r.t. the student's logits at that position.
    std::vector<float> gradCosine;
    std::vector<float> studentCorrect; // 1 if argmax p_S is the true token
    // The kTopTokens most probable next tokens of each model at every position, most probable
    // first: kTopTokens·T entries, position-major (entry kTopTokens·t + k is the k-th of t).
    static constexpr int kTopTokens = 5;
    std::vector<float> teacherTopTokens, teacherTopProbs, studentTopTokens, studentTopProbs;

    // Means over positions; the cosine split by positions the student gets right and wrong
    // (NaN when there are none of that kind).
    double meanGradCosine = 0, meanGradCosineCorrect = 0, meanGradCosineIncorrect = 0;
    double meanKl = 0, meanTop1Agree = 0;
};

// The per-position quantities of TokenAlignment by the names the store uses
// (token_diagnostics.quantity), one float per position each.
std::vector<std::pair<std::string, const std::vector<float> *>>
alignmentQuantities(const TokenAlignment &a);
// The top-token lists by their store names: top5/{teacher,student}/{token,prob}.
std::vector<std::pair<std::string, const std::vector<float> *>>
alignmentTopTokens(const TokenAlignment &a);

} // namespace distillery::core
