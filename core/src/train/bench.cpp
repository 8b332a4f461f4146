// distillery-cli bench: the standard workload trained by the real trainer, timed by the
// trainer's own per-step measurements, beside the GEMM peak of the same process.

#include "distillery/core/bench.h"
#include "distillery/core/errors.h"
#include "distillery/core/blas.h"
#include "distillery/core/models.h"

#include "train/median.h"
#include "train/overlap.h"
#include "train/workload.h"

#include <chrono>
#include <filesystem>
#include <numeric>
#include <optional>

namespace distillery::core {

namespace {

namespace fs = std::filesystem;
using train::median;
using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Median throughput of an fp32 GEMM [2048x1024]x[1024x1024] with `blasThreads` BLAS threads.
double gemmGflops(int blasThreads)
{
    train::setBlasThreads(blasThreads);
    torch::NoGradGuard noGrad;
    auto a = torch::randn({2048, 1024});
    auto b = torch::randn({1024, 1024});
    auto c = torch::mm(a, b); // warm-up
    std::vector<double> rates;
    for (int i = 0; i < 12; ++i) {
        const auto t0 = Clock::now();
        c = torch::mm(a, b);
        rates.push_back(2.0 * 2048.0 * 1024.0 * 1024.0 / (msSince(t0) * 1e-3) / 1e9);
    }
    return median(rates);
}

// The values of a per-step series at steps >= `from`.
std::vector<double> after(const StoreReader &reader, RunId run, const std::string &key, int from)
{
    std::vector<double> out;
    if (auto points = reader.scalars(run, key, from - 1); points.ok())
        for (const auto &p : points.value())
            out.push_back(p.value);
    return out;
}

} // namespace

Result<BenchResult> runBenchmark(const BenchOptions &options, const ProgressCallback &progress)
{
    using R = Result<BenchResult>;
    if (options.steps < 1)
        return R::failure(errc::kInvalidInput, "--steps must be at least 1");
    if (options.warmupSteps < 0)
        return R::failure(errc::kInvalidInput, "--warmup must be 0 or more");
    auto scratch = train::makeScratchDir(options.workDir, "bench");
    if (!scratch.ok())
        return scratch.error();
    const fs::path dir = scratch.value().path();

    BenchResult r;
    r.steps = options.steps;
    r.warmupSteps = options.warmupSteps;
    r.blas = describeBlas();
    try {
        // The peaks first, with BLAS on one thread and on every core.
        const auto threads = train::planThreads(options.threads, false, false);
        at::set_num_threads(1);
        r.gemmOneThreadGflops = gemmGflops(1);
        r.gemmPeakGflops = gemmGflops(threads.total);
    } catch (const std::exception &e) {
        return R::failure(errc::kRunFailed, std::string("GEMM benchmark failed: ") + e.what());
    }

    train::WorkloadOptions wo;
    wo.steps = options.warmupSteps + options.steps;
    wo.threads = options.threads;
    auto graph = train::standardWorkload(wo);
    if (!graph.ok())
        return graph.error();
    RunOptions ro;
    ro.storePath = (dir / "runs.sqlite").string();
    ro.artifactsDir = (dir / "artifacts").string();
    ro.name = "bench";
    ro.overlapTeacher = options.overlapTeacher;
    const auto start = Clock::now();
    std::optional<Clock::time_point> firstStep;
    auto result = runExperiment(graph.value(), ro, [&](const Progress &p) {
        if (p.phase == "student" && !firstStep)
            firstStep = Clock::now();
        if (progress) {
            Progress q = p;
            q.phase = p.phase == "student" ? (p.step <= options.warmupSteps ? "warm-up" : "bench")
                                           : p.phase;
            progress(q);
        }
    });
    if (!result.ok())
        return result.error();
    if (result.value().status != RunStatus::Finished)
        return R::failure(errc::kRunFailed, "benchmark run failed: " + result.value().error);
    r.runSeconds = std::chrono::duration<double>(Clock::now() - start).count();

    auto reader = StoreReader::open(ro.storePath);
    if (!reader.ok())
        return reader.error();
    const StoreReader &store = *reader.value();
    const RunId run = result.value().runId;
    const int from = options.warmupSteps;
    const auto steps = after(store, run, "perf/step_ms", from);
    if (steps.empty())
        return R::failure(errc::kRunFailed, "the benchmark run stored no step times (perf/step_ms)");
    const auto allSteps = after(store, run, "perf/step_ms", 0);
    r.studentSeconds = std::accumulate(allSteps.begin(), allSteps.end(), 0.0) / 1e3;
    if (firstStep)
        r.setupSeconds = std::chrono::duration<double>(*firstStep - start).count()
                         - (allSteps.empty() ? 0.0 : allSteps.front() / 1e3);
    r.msPerStep = median(steps);
    r.meanMsPerStep = std::accumulate(steps.begin(), steps.end(), 0.0) / double(steps.size());
    r.teacherMs = median(after(store, run, "perf/teacher_ms", from));
    r.teacherWaitMs = median(after(store, run, "perf/teacher_wait_ms", from));
    r.studentForwardMs = median(after(store, run, "perf/forward_ms", from));
    r.backwardMs = median(after(store, run, "perf/backward_ms", from));
    r.optimizerMs = median(after(store, run, "perf/optimizer_ms", from));
    if (auto meta = store.runMeta(run); meta.ok()) {
        if (meta.value().count("threads"))
            r.threads = meta.value().at("threads");
        r.overlapTeacher = r.threads.find("overlapped") != std::string::npos;
    }

    constexpr std::int64_t V = 512, T = 128, B = 16;
    const ModelShape teacher{V, 4, 256, 4, 1024, T}, student{V, 2, 128, 4, 512, T};
    r.flopsPerToken = forwardFlopsPerToken(teacher, T) + 3.0 * forwardFlopsPerToken(student, T);
    r.tokensPerSecond = double(B * T) / (r.msPerStep / 1e3);
    r.achievedGflops = r.tokensPerSecond * r.flopsPerToken / 1e9;
    return r;
}

} // namespace distillery::core
