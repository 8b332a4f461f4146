#include "plots/alignmentdata.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery::widgets {

std::vector<std::int64_t> alignmentSteps(const core::StoreReader &reader, core::RunId run)
{
    auto steps = reader.tokenDiagnosticSteps(run, "grad_cosine");
    return steps.ok() ? std::move(steps).value() : std::vector<std::int64_t>{};
}

AlignmentHistogram loadAlignmentHistogram(const core::StoreReader *reader, core::RunId run,
                                          std::int64_t step, int bins)
{
    AlignmentHistogram h;
    h.step = step;
    h.correct.assign(std::size_t(bins), 0);
    h.incorrect.assign(std::size_t(bins), 0);
    double correctSum = 0, incorrectSum = 0;
    if (reader && run != 0 && step >= 0) {
        for (int sample = 0;; ++sample) {
            auto cosine = reader->tokenDiagnostic(run, step, sample, "grad_cosine");
            if (!cosine.ok() || cosine.value().empty())
                break;
            auto correct = reader->tokenDiagnostic(run, step, sample, "student_correct");
            for (std::size_t t = 0; t < cosine.value().size(); ++t) {
                const double c = cosine.value()[t];
                if (!std::isfinite(c))
                    continue;
                const int bin = std::clamp(int(std::floor((c + 1.0) / 2.0 * bins)), 0, bins - 1);
                const bool right = correct.ok() && t < correct.value().size() && correct.value()[t] > 0.5;
                if (right) {
                    ++h.correct[std::size_t(bin)];
                    ++h.correctCount;
                    correctSum += c;
                } else {
                    ++h.incorrect[std::size_t(bin)];
                    ++h.incorrectCount;
                    incorrectSum += c;
                }
            }
        }
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    h.correctMean = h.correctCount ? correctSum / h.correctCount : nan;
    h.incorrectMean = h.incorrectCount ? incorrectSum / h.incorrectCount : nan;
    return h;
}

} // namespace distillery::widgets
