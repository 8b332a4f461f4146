#include "distillery/core/diversity.h"
#include "distillery/core/errors.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <set>
#include <string>
#include <unordered_map>

namespace distillery::core {

namespace {

struct NgramHash
{
    std::size_t operator()(const TokenSequence &g) const
    {
        std::size_t h = 1469598103934665603ull;
        for (const auto token : g) {
            h ^= std::hash<std::int64_t>{}(token) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
        }
        return h;
    }
};

using NgramCounts = std::unordered_map<TokenSequence, std::int64_t, NgramHash>;

std::int64_t ngramTotal(const TokenSequence &s, int n)
{
    const auto len = static_cast<std::int64_t>(s.size());
    return len >= n ? len - n + 1 : 0;
}

NgramCounts countNgrams(const TokenSequence &s, int n)
{
    NgramCounts counts;
    const std::int64_t total = ngramTotal(s, n);
    for (std::int64_t i = 0; i < total; ++i)
        ++counts[TokenSequence(s.begin() + i, s.begin() + i + n)];
    return counts;
}

constexpr int kBleuOrder = 4;
constexpr double kBleuEpsilon = 0.1; // Chen & Cherry 2014 method 1, NLTK's default

// BLEU from the per-order clipped matches and n-gram totals, with method-1 smoothing.
double bleuFromCounts(const std::int64_t (&matches)[kBleuOrder],
                      const std::int64_t (&totals)[kBleuOrder], std::int64_t hypLength,
                      std::int64_t closestRefLength)
{
    if (hypLength == 0 || matches[0] == 0)
        return 0.0;
    double logSum = 0;
    for (int k = 0; k < kBleuOrder; ++k) {
        const double denominator = static_cast<double>(std::max<std::int64_t>(1, totals[k]));
        const double numerator = matches[k] > 0 ? static_cast<double>(matches[k]) : kBleuEpsilon;
        logSum += std::log(numerator / denominator) / kBleuOrder;
    }
    const double bp = hypLength > closestRefLength
                          ? 1.0
                          : std::exp(1.0 - static_cast<double>(closestRefLength) /
                                               static_cast<double>(hypLength));
    return bp * std::exp(logSum);
}

// The reference length closest to hypLength; ties go to the shorter reference.
std::int64_t closestLength(std::int64_t hypLength, std::int64_t bestSoFar, std::int64_t candidate)
{
    const auto dBest = std::llabs(bestSoFar - hypLength);
    const auto dCand = std::llabs(candidate - hypLength);
    if (dCand < dBest || (dCand == dBest && candidate < bestSoFar))
        return candidate;
    return bestSoFar;
}

bool allFinite(const std::vector<double> &v, std::size_t *bad)
{
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (!std::isfinite(v[i])) {
            *bad = i;
            return false;
        }
    }
    return true;
}

} // namespace

double distinctN(const std::vector<TokenSequence> &samples, int n)
{
    if (n < 1)
        return 0.0;
    NgramCounts all;
    std::int64_t total = 0;
    for (const auto &s : samples) {
        const std::int64_t count = ngramTotal(s, n);
        for (std::int64_t i = 0; i < count; ++i)
            ++all[TokenSequence(s.begin() + i, s.begin() + i + n)];
        total += count;
    }
    return total > 0 ? static_cast<double>(all.size()) / static_cast<double>(total) : 0.0;
}

double bleu4(const TokenSequence &hypothesis, const std::vector<TokenSequence> &references)
{
    if (references.empty())
        return 0.0;
    const auto hypLength = static_cast<std::int64_t>(hypothesis.size());
    std::int64_t matches[kBleuOrder] = {};
    std::int64_t totals[kBleuOrder] = {};
    for (int k = 0; k < kBleuOrder; ++k) {
        const int n = k + 1;
        std::vector<NgramCounts> refCounts;
        refCounts.reserve(references.size());
        for (const auto &r : references)
            refCounts.push_back(countNgrams(r, n));
        for (const auto &[gram, count] : countNgrams(hypothesis, n)) {
            std::int64_t maxRef = 0;
            for (const auto &rc : refCounts) {
                const auto it = rc.find(gram);
                if (it != rc.end())
                    maxRef = std::max(maxRef, it->second);
            }
            matches[k] += std::min(count, maxRef);
        }
        totals[k] = ngramTotal(hypothesis, n);
    }
    std::int64_t closest = static_cast<std::int64_t>(references.front().size());
    for (const auto &r : references)
        closest = closestLength(hypLength, closest, static_cast<std::int64_t>(r.size()));
    return bleuFromCounts(matches, totals, hypLength, closest);
}

double selfBleu4(const std::vector<TokenSequence> &samples)
{
    const std::size_t count = samples.size();
    if (count < 2)
        return 0.0;

    // Per n-gram, the largest count in any sample, which sample holds it, and the largest count
    // among the other samples: max over j ≠ i is then one lookup instead of a scan over j.
    struct Best
    {
        std::int64_t first = 0;
        std::size_t owner = 0;
        std::int64_t second = 0;
    };
    std::vector<std::vector<NgramCounts>> counts(kBleuOrder, std::vector<NgramCounts>(count));
    std::vector<std::unordered_map<TokenSequence, Best, NgramHash>> best(kBleuOrder);
    for (int k = 0; k < kBleuOrder; ++k) {
        for (std::size_t i = 0; i < count; ++i) {
            counts[k][i] = countNgrams(samples[i], k + 1);
            for (const auto &[gram, c] : counts[k][i]) {
                Best &b = best[k][gram];
                if (c > b.first) {
                    b.second = b.first;
                    b.first = c;
                    b.owner = i;
                } else if (c > b.second) {
                    b.second = c;
                }
            }
        }
    }

    double sum = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const auto hypLength = static_cast<std::int64_t>(samples[i].size());
        std::int64_t matches[kBleuOrder] = {};
        std::int64_t totals[kBleuOrder] = {};
        for (int k = 0; k < kBleuOrder; ++k) {
            for (const auto &[gram, c] : counts[k][i]) {
                const Best &b = best[k].at(gram);
                const std::int64_t maxOther = b.owner == i ? b.second : b.first;
                matches[k] += std::min(c, maxOther);
            }
            totals[k] = ngramTotal(samples[i], k + 1);
        }
        std::int64_t closest = -1;
        for (std::size_t j = 0; j < count; ++j) {
            if (j == i)
                continue;
            const auto len = static_cast<std::int64_t>(samples[j].size());
            closest = closest < 0 ? len : closestLength(hypLength, closest, len);
        }
        sum += bleuFromCounts(matches, totals, hypLength, closest);
    }
    return sum / static_cast<double>(count);
}

double uniqueFraction(const std::vector<TokenSequence> &samples)
{
    if (samples.empty())
        return 0.0;
    const std::set<TokenSequence> distinct(samples.begin(), samples.end());
    return static_cast<double>(distinct.size()) / static_cast<double>(samples.size());
}

LengthStats lengthStats(const std::vector<TokenSequence> &samples)
{
    LengthStats stats;
    if (samples.empty())
        return stats;
    const double n = static_cast<double>(samples.size());
    double sum = 0;
    stats.min = static_cast<double>(samples.front().size());
    stats.max = stats.min;
    for (const auto &s : samples) {
        const double len = static_cast<double>(s.size());
        sum += len;
        stats.min = std::min(stats.min, len);
        stats.max = std::max(stats.max, len);
    }
    stats.mean = sum / n;
    double squares = 0;
    for (const auto &s : samples) {
        const double d = static_cast<double>(s.size()) - stats.mean;
        squares += d * d;
    }
    stats.std = std::sqrt(squares / n);
    return stats;
}

double meanTokenEntropy(const std::vector<std::vector<double>> &positionProbs)
{
    if (positionProbs.empty())
        return 0.0;
    double sum = 0;
    for (const auto &probs : positionProbs) {
        double h = 0;
        for (const double p : probs) {
            if (p > 0)
                h -= p * std::log(p);
        }
        sum += h;
    }
    return sum / static_cast<double>(positionProbs.size());
}

DiversityStats diversityStats(const std::vector<TokenSequence> &samples,
                              const std::vector<std::vector<double>> &positionProbs)
{
    DiversityStats stats;
    stats.distinct1 = distinctN(samples, 1);
    stats.distinct2 = distinctN(samples, 2);
    stats.distinct3 = distinctN(samples, 3);
    stats.selfBleu4 = selfBleu4(samples);
    stats.uniqueFraction = uniqueFraction(samples);
    const LengthStats lengths = lengthStats(samples);
    stats.meanLength = lengths.mean;
    stats.minLength = lengths.min;
    stats.maxLength = lengths.max;
    stats.stdLength = lengths.std;
    stats.meanTokenEntropy = meanTokenEntropy(positionProbs);
    return stats;
}

Result<PowerLawFit> fitPowerLaw(const std::vector<double> &x, const std::vector<double> &y)
{
    if (x.size() != y.size())
        return Result<PowerLawFit>::failure(
            errc::kInvalidInput, "power-law fit: x has " + std::to_string(x.size()) + " values, y has " +
                           std::to_string(y.size()) + "; expected the same number");
    std::vector<double> lx, ly;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (std::isfinite(x[i]) && std::isfinite(y[i]) && x[i] > 0 && y[i] > 0) {
            lx.push_back(std::log(x[i]));
            ly.push_back(std::log(y[i]));
        }
    }
    PowerLawFit fit;
    fit.points = static_cast<int>(lx.size());
    if (lx.size() < 2)
        return fit;
    const double n = static_cast<double>(lx.size());
    double meanX = 0, meanY = 0;
    for (std::size_t i = 0; i < lx.size(); ++i) {
        meanX += lx[i];
        meanY += ly[i];
    }
    meanX /= n;
    meanY /= n;
    double sxx = 0, sxy = 0, syy = 0;
    for (std::size_t i = 0; i < lx.size(); ++i) {
        sxx += (lx[i] - meanX) * (lx[i] - meanX);
        sxy += (lx[i] - meanX) * (ly[i] - meanY);
        syy += (ly[i] - meanY) * (ly[i] - meanY);
    }
    if (sxx <= 0)
        return fit; // a single distinct x: the slope is undefined
    const double slope = sxy / sxx;
    const double intercept = meanY - slope * meanX;
    double ssRes = 0;
    for (std::size_t i = 0; i < lx.size(); ++i) {
        const double r = ly[i] - (intercept + slope * lx[i]);
        ssRes += r * r;
    }
    fit.a = std::exp(intercept);
    fit.b = slope;
    // Equal y values give SS_tot = 0 up to rounding of the mean; the fit is then exact.
    const bool constantY = std::all_of(ly.begin(), ly.end(), [&](double v) { return v == ly[0]; });
    fit.r2 = constantY || syy <= 0 ? 1.0 : 1.0 - ssRes / syy;
    fit.valid = true;
    return fit;
}

Result<TeacherHackingReport> detectTeacherHacking(const std::vector<std::int64_t> &steps,
                                                  const std::vector<double> &oracleKl,
                                                  const std::vector<double> &teacherKl, int window)
{
    using R = Result<TeacherHackingReport>;
    if (window < 1)
        return R::failure(errc::kInvalidInput, "teacher hacking: window must be at least 1, got " +
                                         std::to_string(window));
    if (oracleKl.size() != steps.size() || teacherKl.size() != steps.size())
        return R::failure(errc::kInvalidInput, "teacher hacking: " + std::to_string(steps.size()) +
                                         " steps, " + std::to_string(oracleKl.size()) +
                                         " oracle KL values and " +
                                         std::to_string(teacherKl.size()) +
                                         " teacher KL values; expected the same number");
    for (std::size_t i = 1; i < steps.size(); ++i) {
        if (steps[i] <= steps[i - 1])
            return R::failure(errc::kInvalidInput, "teacher hacking: steps must increase, but step " +
                                             std::to_string(steps[i]) + " (index " +
                                             std::to_string(i) + ") follows step " +
                                             std::to_string(steps[i - 1]));
    }
    std::size_t bad = 0;
    if (!allFinite(oracleKl, &bad))
        return R::failure(errc::kInvalidInput, "teacher hacking: oracle KL at step " +
                                         std::to_string(steps[bad]) + " is not finite");
    if (!allFinite(teacherKl, &bad))
        return R::failure(errc::kInvalidInput, "teacher hacking: teacher KL at step " +
                                         std::to_string(steps[bad]) + " is not finite");

    TeacherHackingReport report;
    const std::vector<double> x(steps.begin(), steps.end());
    report.oracleFit = fitPowerLaw(x, oracleKl).value();
    report.teacherFit = fitPowerLaw(x, teacherKl).value();

    // oracleRun / teacherRun: how many consecutive evaluations, ending at i, satisfy each half of
    // the rule; argmin: the last evaluation where the oracle KL equalled its moving minimum.
    const std::size_t k = static_cast<std::size_t>(window);
    double runningMin = oracleKl.empty() ? 0.0 : oracleKl.front();
    std::size_t argmin = 0;
    std::size_t oracleRun = 0, teacherRun = 0;
    for (std::size_t i = 1; i < steps.size(); ++i) {
        oracleRun = oracleKl[i] > runningMin ? oracleRun + 1 : 0;
        teacherRun = teacherKl[i] < teacherKl[i - 1] ? teacherRun + 1 : 0;
        if (oracleKl[i] <= runningMin) {
            runningMin = oracleKl[i];
            argmin = i;
        }
        if (oracleRun >= k && teacherRun >= k) {
            report.flagged = true;
            report.flaggedStep = steps[argmin];
            report.detectedStep = steps[i];
            break;
        }
    }
    return report;
}

} // namespace distillery::core
