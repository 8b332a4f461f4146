#pragma once

// What the alignment histogram reads from the store: the evaluations with per-token gradient
// alignment, and at one of them the histogram of the per-token cosine (token_diagnostics
// grad_cosine, every probe sequence) split by whether the student's top-1 token was right
// (student_correct), with each group's mean.

#include "distillery/core/store.h"

#include <cstdint>
#include <vector>

namespace distillery::widgets {

struct AlignmentHistogram
{
    std::int64_t step = -1;
    std::vector<int> correct, incorrect; // tokens per equal-width bin over [−1, 1]
    int correctCount = 0, incorrectCount = 0;
    double correctMean = 0, incorrectMean = 0; // NaN for an empty group
    int tokens() const { return correctCount + incorrectCount; }
};

std::vector<std::int64_t> alignmentSteps(const core::StoreReader &reader, core::RunId run);
// An empty histogram (all bins 0, means NaN) for step < 0 or nothing stored.
AlignmentHistogram loadAlignmentHistogram(const core::StoreReader *reader, core::RunId run,
                                          std::int64_t step, int bins);

} // namespace distillery::widgets
