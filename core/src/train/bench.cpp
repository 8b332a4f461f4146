#include "distillery/core/bench.h"

#include "losses/losses.h"
#include "models/lm.h"

#include <algorithm>
#include <chrono>
#include <numeric>

namespace distillery::core {

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Median throughput of an fp32 GEMM [2048x1024]x[1024x1024], the reference peak.
double gemmPeakGflops()
{
    torch::NoGradGuard noGrad;
    auto a = torch::randn({2048, 1024});
    auto b = torch::randn({1024, 1024});
    auto c = torch::mm(a, b); // warm-up
    std::vector<double> rates;
    for (int i = 0; i < 12; ++i) {
        const auto t0 = Clock::now();
        c = torch::mm(a, b);
        const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
        rates.push_back(2.0 * 2048.0 * 1024.0 * 1024.0 / dt / 1e9);
    }
    return median(rates);
}

} // namespace

Result<BenchResult> runBenchmark(const BenchOptions &options, const ProgressCallback &progress)
{
    try {
        applyThreads(options.threads);
        constexpr std::int64_t V = 512, T = 128, B = 16;
        const double tau = 2.0;
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

        BenchResult r;
        r.steps = options.steps;
        r.warmupSteps = options.warmupSteps;
        r.threads = describeThreads();
        r.flopsPerToken = forwardFlopsPerToken(teacherShape, T)
                          + 3.0 * forwardFlopsPerToken(studentShape, T);
        r.gemmPeakGflops = gemmPeakGflops();

        losses::LossConfig ce, kd;
        kd.temperature = tau;
        std::vector<double> times;
        const int total = options.warmupSteps + options.steps;
        for (int step = 0; step < total; ++step) {
            const auto t0 = Clock::now();
            auto x = torch::randint(0, V, {B, T + 1}, gen, torch::kLong);
            auto inputs = x.slice(1, 0, T), targets = x.slice(1, 1, T + 1).reshape({-1});
            torch::Tensor tLogits;
            {
                torch::NoGradGuard noGrad;
                tLogits = teacher->forward(inputs).logits.reshape({-1, V});
            }
            auto sLogits = student->forward(inputs).logits.reshape({-1, V});
            losses::LossInputs in;
            in.studentLogits = sLogits;
            in.teacherLogits = tLogits;
            in.labels = targets;
            in.mask = torch::ones({B * T});
            auto loss = 0.5 * losses::crossEntropy(in, ce) + 0.5 * losses::forwardKl(in, kd);
            opt.zero_grad();
            loss.backward();
            opt.step();
            (void)loss.item<float>();
            const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
            if (step >= options.warmupSteps)
                times.push_back(dt);
            if (progress) {
                Progress p;
                p.phase = step < options.warmupSteps ? "warm-up" : "bench";
                p.step = step + 1;
                p.totalSteps = total;
                p.loss = loss.item<double>();
                p.tokensPerSecond = double(B * T) / dt;
                progress(p);
            }
        }
        if (times.empty())
            return Result<BenchResult>::failure("bad-input", "--steps must be at least 1");
        const double med = median(times);
        r.msPerStep = med * 1e3;
        r.meanMsPerStep = std::accumulate(times.begin(), times.end(), 0.0) / double(times.size()) * 1e3;
        r.tokensPerSecond = double(B * T) / med;
        r.achievedGflops = r.tokensPerSecond * r.flopsPerToken / 1e9;
        return r;
    } catch (const std::exception &e) {
        return Result<BenchResult>::failure("bench", std::string("benchmark failed: ") + e.what());
    }
}

} // namespace distillery::core
