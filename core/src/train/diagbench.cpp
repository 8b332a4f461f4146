// distillery-cli bench --diagnostics: the standard workload trained with and without the
// Diagnostics node, alternating, to measure what the diagnostics add to the training time.

#include "distillery/core/bench.h"
#include "distillery/core/errors.h"
#include "train/median.h"
#include "train/workload.h"
#include "distillery/core/graph.h"
#include "distillery/core/store.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

namespace distillery::core {

namespace {

using train::median;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

} // namespace

Result<DiagnosticsBenchResult> runDiagnosticsBenchmark(const DiagnosticsBenchOptions &options,
                                                       const ProgressCallback &progress)
{
    if (options.steps < 1 || options.rounds < 1 || options.evalInterval < 1)
        return Result<DiagnosticsBenchResult>::failure(
            errc::kInvalidInput, "--steps, --rounds and --eval-interval must be at least 1");
    auto scratch = train::makeScratchDir(options.workDir, "diagbench");
    if (!scratch.ok())
        return scratch.error();
    const fs::path dir = scratch.value().path();
    const std::string store = (dir / "runs.sqlite").string();

    DiagnosticsBenchResult r;
    std::map<std::string, std::vector<double>> diagTimes;
    std::vector<double> fractions;
    for (int round = 0; round < options.rounds; ++round) {
        // Alternate which configuration goes first, so drift of the machine cancels out.
        for (int k = 0; k < 2; ++k) {
            const bool with = (round + k) % 2 == 1;
            train::WorkloadOptions wo;
            wo.steps = options.steps;
            wo.evalInterval = options.evalInterval;
            wo.threads = options.threads;
            wo.diagnostics = with;
            auto graph = train::standardWorkload(wo);
            if (!graph.ok())
                return Result<DiagnosticsBenchResult>(graph.error());
            RunOptions ro;
            ro.storePath = store;
            ro.name = with ? "with diagnostics" : "without diagnostics";
            ro.artifactsDir = (dir / "artifacts").string();
            std::optional<Clock::time_point> start;
            auto result = runExperiment(graph.value(), ro, [&](const Progress &p) {
                if (!start && p.phase == "student")
                    start = Clock::now();
                if (progress) {
                    Progress q = p;
                    q.phase = "round " + std::to_string(round + 1) + "/" +
                              std::to_string(options.rounds) + (with ? ", with" : ", without") +
                              " diagnostics: " + p.phase;
                    progress(q);
                }
            });
            if (!result.ok())
                return Result<DiagnosticsBenchResult>(result.error());
            if (result.value().status != RunStatus::Finished)
                return Result<DiagnosticsBenchResult>::failure(
                    errc::kRunFailed, "benchmark run failed: " + result.value().error);
            const double seconds =
                std::chrono::duration<double>(Clock::now() - start.value_or(Clock::now())).count();
            (with ? r.secondsWith : r.secondsWithout).push_back(seconds);
            auto reader = StoreReader::open(store);
            if (!reader.ok())
                return Result<DiagnosticsBenchResult>(reader.error());
            const RunId id = result.value().runId;
            if (auto evals = reader.value()->scalars(id, "eval/student_nll"); evals.ok())
                r.evaluations = int(evals.value().size());
            if (with) {
                double all = 0;
                for (const char *part : {"calibration", "alignment", "param_alignment", "diversity"}) {
                    auto points = reader.value()->scalars(id, std::string("diag/seconds/") + part);
                    if (!points.ok() || points.value().empty())
                        continue;
                    double total = 0;
                    for (const auto &p : points.value())
                        total += p.value;
                    diagTimes[part].push_back(total);
                    all += total;
                }
                fractions.push_back(seconds > all ? all / (seconds - all) : 0.0);
            }
        }
    }
    r.medianWith = median(r.secondsWith);
    r.medianWithout = median(r.secondsWithout);
    std::vector<double> ratios;
    for (std::size_t i = 0; i < r.secondsWith.size() && i < r.secondsWithout.size(); ++i)
        if (r.secondsWithout[i] > 0)
            ratios.push_back(r.secondsWith[i] / r.secondsWithout[i]);
    r.overhead = ratios.empty() ? 0.0 : median(ratios) - 1.0;
    r.measuredFraction = median(fractions);
    for (const auto &[part, times] : diagTimes)
        r.diagnosticsSeconds[part] = median(times);
    return r;
}

} // namespace distillery::core
