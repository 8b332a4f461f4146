#pragma once

// Diversity diagnostics of sampled continuations (issue 4, section 1): distinct-n, self-BLEU,
// unique samples, lengths, token entropy, and the teacher-hacking check on KL series.
// Pure functions over token ids and plain numbers; LibTorch-free and Qt-free.

#include "distillery/core/result.h"

#include <cstdint>
#include <vector>

namespace distillery::core {

using TokenSequence = std::vector<std::int64_t>;

// distinct-n = |distinct n-grams over all samples| / |n-grams over all samples|
// (Li et al. 2016, "A Diversity-Promoting Objective Function for Neural Conversation Models").
// An n-gram never crosses a sample boundary; a sample shorter than n contributes none.
// 0 when there are no n-grams at all (no samples, all shorter than n) or when n < 1.
double distinctN(const std::vector<TokenSequence> &samples, int n);

// Sentence BLEU-4 of `hypothesis` against several references (Papineni et al. 2002):
// BP · exp(¼ Σ_{n=1..4} log p_n), p_n = Σ_g min(c_h(g), max_r c_r(g)) / max(1, |n-grams of h|),
// BP = 1 if c > r else exp(1 − r/c), r the reference length closest to c (ties: the shorter).
// Zero numerators are smoothed by Chen & Cherry 2014 method 1, p_n = ε / max(1, |n-grams|) with
// ε = 0.1; no unigram match at all (or an empty hypothesis, or no references) gives 0. This is
// NLTK's sentence_bleu(..., smoothing_function=SmoothingFunction().method1), as Texygen uses.
double bleu4(const TokenSequence &hypothesis, const std::vector<TokenSequence> &references);

// self-BLEU-4 = (1/N) Σ_i BLEU-4(sample_i; all samples j ≠ i as references)
// (Zhu et al. 2018, "Texygen: A Benchmarking Platform for Text Generation Models").
// Higher means less diverse (1 for N identical samples). 0 with one sample or none.
double selfBleu4(const std::vector<TokenSequence> &samples);

// |distinct sequences| / N: identical sequences count once. 0 when there are no samples.
double uniqueFraction(const std::vector<TokenSequence> &samples);

// Sample lengths in tokens; std is the population standard deviation sqrt((1/N) Σ (l − mean)²).
// All zero when there are no samples.
struct LengthStats
{
    double mean = 0;
    double min = 0;
    double max = 0;
    double std = 0;
};
LengthStats lengthStats(const std::vector<TokenSequence> &samples);

// (1/T) Σ_t H(p_t), H(p) = −Σ_v p_v ln p_v in nats, with 0 ln 0 = 0 (Shannon 1948).
// positionProbs[t] is the next-token distribution at position t, used as given (not
// renormalised; entries ≤ 0 contribute nothing). 0 when there are no positions.
double meanTokenEntropy(const std::vector<std::vector<double>> &positionProbs);

struct DiversityStats
{
    double distinct1 = 0;
    double distinct2 = 0;
    double distinct3 = 0;
    double selfBleu4 = 0;
    double uniqueFraction = 0;
    double meanLength = 0;
    double minLength = 0;
    double maxLength = 0;
    double stdLength = 0;
    double meanTokenEntropy = 0; // 0 when positionProbs is empty
};

// All of the above on one set of samples.
DiversityStats diversityStats(const std::vector<TokenSequence> &samples,
                              const std::vector<std::vector<double>> &positionProbs = {});

// y = a·x^b fitted by ordinary least squares on ln y = ln a + b·ln x over the points with
// x > 0 and y > 0; r2 = 1 − SS_res / SS_tot of that log–log regression (1 when all y are equal).
// valid is false (and a = b = r2 = 0) with fewer than two usable points or a single distinct x.
struct PowerLawFit
{
    double a = 0;
    double b = 0;
    double r2 = 0;
    int points = 0; // points used (x > 0, y > 0, both finite)
    bool valid = false;
};
// Error "invalid" when x and y differ in length.
Result<PowerLawFit> fitPowerLaw(const std::vector<double> &x, const std::vector<double> &y);

struct TeacherHackingReport
{
    PowerLawFit oracleFit;  // KL(oracle‖student) against step
    PowerLawFit teacherFit; // KL(teacher‖student) against step
    bool flagged = false;
    std::int64_t flaggedStep = -1;  // the step of the oracle minimum the divergence turned up from
    std::int64_t detectedStep = -1; // the step at which the rule first held
};

// Teacher hacking ("On Teacher Hacking in Language Model Distillation", Tiapkin et al. 2025):
// the student keeps getting closer to the teacher while it moves away from the oracle.
// With evaluations i = 0..N−1, oracle o_i, teacher t_i and m_i = min(o_0..o_i), the rule holds
// at the first i ≥ K with o_j > m_{j−1} for every j in (i−K, i] (the oracle's moving minimum
// stopped decreasing for K consecutive evaluations, each strictly above it) and
// t_{j} < t_{j−1} for every j in (i−K, i] (the teacher divergence fell at each of them).
// flaggedStep is then the step of the last evaluation where o equalled m_{i}, detectedStep is
// steps[i]. Errors ("invalid"): series of different lengths, steps not strictly increasing,
// non-finite values, window < 1.
Result<TeacherHackingReport> detectTeacherHacking(const std::vector<std::int64_t> &steps,
                                                  const std::vector<double> &oracleKl,
                                                  const std::vector<double> &teacherKl,
                                                  int window = 3);

} // namespace distillery::core
