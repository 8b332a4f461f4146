#include "distillery/core/bench.h"
#include "train/median.h"

#include "losses/losses.h"
#include "models/lm.h"
#include "train/overlap.h"

#include <algorithm>
#include <chrono>
#include <numeric>

namespace distillery::core {

namespace {

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

} // namespace

Result<BenchResult> runBenchmark(const BenchOptions &options, const ProgressCallback &progress)
{
    if (options.steps < 1)
        return Result<BenchResult>::failure("bad-input", "--steps must be at least 1");
    try {
        constexpr std::int64_t V = 512, T = 128, B = 16;
        const double tau = 2.0;
        const auto threads = train::planThreads(options.threads, false, options.overlapTeacher);

        BenchResult r;
        // The peaks first, with BLAS on one thread and on every core.
        at::set_num_threads(1);
        r.gemmOneThreadGflops = gemmGflops(1);
        r.gemmPeakGflops = gemmGflops(threads.total);
        train::applyThreadPlan(threads);

        torch::manual_seed(0);
        ModelShape teacherShape{V, 4, 256, 4, 1024, T};
        ModelShape studentShape{V, 2, 128, 4, 512, T};
        models::TransformerLM teacher(teacherShape);
        teacher->train(false);
        for (auto &p : teacher->parameters())
            p.set_requires_grad(false);
        models::TransformerLM student(studentShape);
        student->train(true);
        torch::optim::AdamW opt(student->parameters(),
                                torch::optim::AdamWOptions(3e-4).weight_decay(0.01));
        auto gen = at::detail::createCPUGenerator(1);

        r.steps = options.steps;
        r.warmupSteps = options.warmupSteps;
        r.threads = describeThreads() + (threads.overlap ? ", teacher overlapped on a second thread"
                                                         : ", teacher and student in turn");
        r.overlapTeacher = threads.overlap;
        r.flopsPerToken = forwardFlopsPerToken(teacherShape, T)
                          + 3.0 * forwardFlopsPerToken(studentShape, T);

        struct TeacherOut
        {
            torch::Tensor logits;
            double ms = 0;
        };
        const int chunks = train::teacherChunks(B);
        const std::int64_t rowsPerChunk = (B + chunks - 1) / chunks;
        auto teacherWork = [&teacher, rowsPerChunk](torch::Tensor inputs) {
            return [&teacher, rowsPerChunk, inputs](int chunk) {
                const auto t0 = Clock::now();
                auto part = inputs.slice(0, chunk * rowsPerChunk, (chunk + 1) * rowsPerChunk);
                TeacherOut out{teacher->forward(part).logits, 0};
                out.ms = msSince(t0);
                return out;
            };
        };
        auto merge = [](const std::vector<TeacherOut> &parts, double &ms) {
            std::vector<torch::Tensor> logits;
            for (const auto &p : parts) {
                logits.push_back(p.logits);
                ms += p.ms;
            }
            return torch::cat(logits).reshape({-1, V});
        };
        auto makeBatch = [&] { return torch::randint(0, V, {B, T + 1}, gen, torch::kLong); };
        train::SharedPass<TeacherOut> pass;

        losses::LossConfig ce, kd;
        kd.temperature = tau;
        std::vector<double> times, teacherMs, forwardMs, backwardMs, optimizerMs, waitMs;
        const int total = options.warmupSteps + options.steps;
        torch::Tensor x = makeBatch();
        for (int step = 0; step < total; ++step) {
            const auto t0 = Clock::now();
            auto inputs = x.slice(1, 0, T), targets = x.slice(1, 1, T + 1).reshape({-1});
            if (!pass.pending()) {
                if (threads.overlap)
                    pass.start(chunks, teacherWork(inputs));
            }
            double teacherTime = 0;
            const auto w0 = Clock::now();
            torch::Tensor tLogits = merge(pass.pending() ? pass.finish()
                                                         : train::SharedPass<TeacherOut>::runHere(
                                                               chunks, teacherWork(inputs)),
                                          teacherTime);
            const double wait = msSince(w0);
            // The next batch is known now; its teacher pass runs beside this step's student.
            torch::Tensor next = step + 1 < total ? makeBatch() : torch::Tensor();
            if (threads.overlap && next.defined())
                pass.start(chunks, teacherWork(next.slice(1, 0, T)));

            const auto f0 = Clock::now();
            auto sLogits = student->forward(inputs).logits.reshape({-1, V});
            losses::LossInputs in;
            in.studentLogits = sLogits;
            in.teacherLogits = tLogits;
            in.labels = targets;
            in.mask = torch::ones({B * T});
            auto loss = 0.5 * losses::crossEntropy(in, ce) + 0.5 * losses::forwardKl(in, kd);
            const auto b0 = Clock::now();
            opt.zero_grad();
            loss.backward();
            const auto o0 = Clock::now();
            opt.step();
            const double lossValue = loss.item<double>();
            const auto end = Clock::now();
            const double dt = std::chrono::duration<double>(end - t0).count();
            if (step >= options.warmupSteps) {
                times.push_back(dt);
                teacherMs.push_back(teacherTime);
                waitMs.push_back(wait);
                forwardMs.push_back(std::chrono::duration<double, std::milli>(b0 - f0).count());
                backwardMs.push_back(std::chrono::duration<double, std::milli>(o0 - b0).count());
                optimizerMs.push_back(std::chrono::duration<double, std::milli>(end - o0).count());
            }
            if (progress) {
                Progress p;
                p.phase = step < options.warmupSteps ? "warm-up" : "bench";
                p.step = step + 1;
                p.totalSteps = total;
                p.loss = lossValue;
                p.tokensPerSecond = double(B * T) / dt;
                progress(p);
            }
            x = next;
        }
        const double med = median(times);
        r.msPerStep = med * 1e3;
        r.meanMsPerStep = std::accumulate(times.begin(), times.end(), 0.0) / double(times.size()) * 1e3;
        r.tokensPerSecond = double(B * T) / med;
        r.achievedGflops = r.tokensPerSecond * r.flopsPerToken / 1e9;
        r.teacherMs = median(teacherMs);
        r.teacherWaitMs = median(waitMs);
        r.studentForwardMs = median(forwardMs);
        r.backwardMs = median(backwardMs);
        r.optimizerMs = median(optimizerMs);
        return r;
    } catch (const std::exception &e) {
        return Result<BenchResult>::failure("bench", std::string("benchmark failed: ") + e.what());
    }
}

} // namespace distillery::core
