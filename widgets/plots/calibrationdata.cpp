#include "plots/calibrationdata.h"

#include <cmath>

namespace distillery::widgets {

namespace {
std::string quantity(const std::string &who, const char *what)
{
    return "calibration/" + who + "/" + what;
}
} // namespace

double eceFromBins(const std::vector<float> &count, const std::vector<float> &confidence,
                   const std::vector<float> &accuracy)
{
    double total = 0.0, weighted = 0.0;
    for (std::size_t b = 0; b < count.size() && b < confidence.size() && b < accuracy.size(); ++b) {
        total += count[b];
        weighted += double(count[b]) * std::abs(double(accuracy[b]) - double(confidence[b]));
    }
    return total > 0 ? weighted / total : 0.0;
}

std::vector<std::int64_t> calibrationSteps(const core::StoreReader &reader, core::RunId run)
{
    auto steps = reader.tokenDiagnosticSteps(run, quantity("student", "count"));
    return steps.ok() ? std::move(steps).value() : std::vector<std::int64_t>{};
}

ReliabilityBins loadReliabilityBins(const core::StoreReader &reader, core::RunId run,
                                    const std::string &who, std::int64_t step)
{
    ReliabilityBins bins;
    bins.step = step;
    if (step < 0)
        return bins;
    auto read = [&](const char *what) {
        auto values = reader.tokenDiagnostic(run, step, 0, quantity(who, what));
        return values.ok() ? std::move(values).value() : std::vector<float>{};
    };
    bins.count = read("count");
    bins.confidence = read("confidence");
    bins.accuracy = read("accuracy");
    if (bins.count.size() != std::size_t(kCalibrationViewBins)
        || bins.confidence.size() != bins.count.size() || bins.accuracy.size() != bins.count.size()) {
        bins.count.clear(); // a run without a teacher, or bins of another layout
        bins.confidence.clear();
        bins.accuracy.clear();
        return bins;
    }
    auto ece = reader.scalars(run, "eval/calibration/" + who + "/ece", step - 1);
    if (ece.ok() && !ece.value().empty() && ece.value().front().step == step
        && std::isfinite(ece.value().front().value)) {
        bins.ece = ece.value().front().value;
        bins.eceStored = true;
    } else {
        bins.ece = eceFromBins(bins.count, bins.confidence, bins.accuracy);
    }
    return bins;
}

} // namespace distillery::widgets
