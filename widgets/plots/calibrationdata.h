#pragma once

// What the calibration view reads from the store, as plain values: the evaluations that have
// reliability bins, and one evaluation's bins of the student or the teacher
// (token_diagnostics calibration/<who>/{count,confidence,accuracy}, sample 0) with its ECE
// (the eval/calibration/<who>/ece scalar, or computed from the bins when it is missing).

#include "distillery/core/store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace distillery::widgets {

constexpr int kCalibrationViewBins = 15;

struct ReliabilityBins
{
    std::int64_t step = -1; // -1: nothing loaded
    std::vector<float> count, confidence, accuracy;
    double ece = 0.0;
    bool eceStored = false; // from the scalar, not recomputed
    bool valid() const { return step >= 0 && count.size() == std::size_t(kCalibrationViewBins); }
};

// Steps with the student's bins, ascending; empty when there are none or the read fails.
std::vector<std::int64_t> calibrationSteps(const core::StoreReader &reader, core::RunId run);

// who: "student" or "teacher". A curve of another layout (not 15 bins, or arrays of different
// lengths) comes back with no bins (valid() false) but its step set.
ReliabilityBins loadReliabilityBins(const core::StoreReader &reader, core::RunId run,
                                    const std::string &who, std::int64_t step);

// Σ_b (n_b / N) |acc_b − conf_b| over the bins.
double eceFromBins(const std::vector<float> &count, const std::vector<float> &confidence,
                   const std::vector<float> &accuracy);

} // namespace distillery::widgets
