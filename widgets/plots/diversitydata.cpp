#include "plots/diversitydata.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace distillery::widgets {

namespace {

const std::string kOracleKey = "eval/kl_oracle_student";
const std::string kTeacherKey = "eval/kl_teacher_student";
const std::string kStepsKey = "diag/diversity/distinct1";

// Appends the rows after the last step held; true when there were any.
bool appendTail(const core::StoreReader &reader, core::RunId run, const std::string &key,
                std::vector<core::ScalarPoint> &points)
{
    auto tail = reader.scalars(run, key, points.empty() ? -1 : points.back().step);
    if (!tail.ok() || tail.value().empty())
        return false;
    points.insert(points.end(), tail.value().begin(), tail.value().end());
    return true;
}

core::PowerLawFit fitOf(const std::vector<core::ScalarPoint> &points)
{
    std::vector<double> x, y;
    logLogPoints(points, x, y);
    auto fit = core::fitPowerLaw(x, y);
    return fit.ok() ? fit.value() : core::PowerLawFit{};
}

} // namespace

const std::vector<DiversityMeasure> &diversityMeasures()
{
    static const std::vector<DiversityMeasure> measures = {
        {"diag/diversity/distinct1", "distinct-1", 3, ""},
        {"diag/diversity/distinct2", "distinct-2", 3, ""},
        {"diag/diversity/distinct3", "distinct-3", 3, ""},
        {"diag/diversity/self_bleu4", "self-BLEU-4", 3, ""},
        {"diag/diversity/unique_fraction", "unique", 2, ""},
        {"diag/diversity/token_entropy", "entropy", 2, " nats"},
        {"diag/diversity/mean_length", "mean length", 1, " tokens"},
    };
    return measures;
}

std::vector<std::int64_t> DiversityRunData::steps() const
{
    std::vector<std::int64_t> out;
    if (const auto it = measures.find(kStepsKey); it != measures.end())
        for (const auto &p : it->second)
            out.push_back(p.step);
    return out;
}

const core::ScalarPoint *DiversityRunData::measureAt(const std::string &key, std::int64_t step) const
{
    const auto it = measures.find(key);
    if (it == measures.end())
        return nullptr;
    const auto &points = it->second;
    const auto p = std::lower_bound(points.begin(), points.end(), step,
                                    [](const core::ScalarPoint &a, std::int64_t s) { return a.step < s; });
    return p != points.end() && p->step == step ? &*p : nullptr;
}

DiversityUpdate updateDiversityRun(const core::StoreReader &reader, core::RunId run,
                                   DiversityRunData &data)
{
    DiversityUpdate update;
    // The other measures are written with distinct-1, in the same transaction.
    if (appendTail(reader, run, kStepsKey, data.measures[kStepsKey])) {
        for (const auto &m : diversityMeasures())
            if (m.key != kStepsKey)
                appendTail(reader, run, m.key, data.measures[m.key]);
        update.measures = true;
    }
    const bool oracleGrew = appendTail(reader, run, kOracleKey, data.oracle);
    const bool teacherGrew = appendTail(reader, run, kTeacherKey, data.teacher);
    if (oracleGrew || teacherGrew || !data.metaRead) {
        data.oracleFit = fitOf(data.oracle);
        data.teacherFit = fitOf(data.teacher);
        // The trainer sets the flag in the flush that writes the evaluation.
        data.hackingStep = -1;
        if (auto meta = reader.runMeta(run); meta.ok()) {
            const auto it = meta.value().find("teacher_hacking_step");
            if (it != meta.value().end()) {
                char *end = nullptr;
                const long long step = std::strtoll(it->second.c_str(), &end, 10);
                if (end && *end == '\0' && !it->second.empty() && step >= 0)
                    data.hackingStep = step;
            }
        }
        data.metaRead = true;
        update.kl = true;
    }
    return update;
}

std::vector<std::string> loadSamples(const core::StoreReader &reader, core::RunId run, std::int64_t step)
{
    if (run == 0 || step < 0)
        return {};
    auto samples = reader.samples(run, step);
    return samples.ok() ? std::move(samples).value() : std::vector<std::string>{};
}

void logLogPoints(const std::vector<core::ScalarPoint> &points, std::vector<double> &x,
                  std::vector<double> &y)
{
    x.clear();
    y.clear();
    for (const auto &p : points) {
        if (p.step > 0 && std::isfinite(p.value) && p.value > 0) {
            x.push_back(double(p.step));
            y.push_back(p.value);
        }
    }
}

} // namespace distillery::widgets
