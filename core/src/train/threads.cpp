#include "distillery/core/trainer.h"

#include "train/overlap.h"

#include <torch/torch.h>

#include <dlfcn.h>
#include <cstdlib>
#include <thread>

namespace distillery::core {

namespace {
using BlasSetThreads = void (*)(int);
using BlasGetThreads = int (*)();

BlasSetThreads blasSetter()
{
    return reinterpret_cast<BlasSetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
}
BlasGetThreads blasGetter()
{
    return reinterpret_cast<BlasGetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
}
} // namespace

namespace train {

// LibTorch parallelises its own kernels (intra-op threads) and calls OpenBLAS for GEMMs, which
// has its own pool; both at once oversubscribe the cores (TOOLCHAIN.md). Measured on 2 cores
// (distillery-cli bench --no-overlap, and in-graph teacher training): OpenBLAS on every core
// with single-threaded LibTorch kernels beats 2 intra-op threads with single-threaded BLAS by
// 15-40%, because the GEMMs carry the work at these sizes. With the teacher overlapped, each of
// the two sides runs on its own cores with single-threaded BLAS.
ThreadPlan planThreads(int threads, bool cuda, bool teacherWork)
{
    ThreadPlan plan;
    plan.total = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
    plan.overlap = !cuda && teacherWork && plan.total >= 2;
    if (plan.overlap) {
        plan.intraOp = std::max(1, plan.total / 2);
        plan.blas = 1;
    } else {
        plan.intraOp = 1;
        plan.blas = plan.total;
    }
    auto fromEnv = [](const char *name, int &value) {
        if (const char *env = std::getenv(name); env && std::atoi(env) > 0)
            value = std::atoi(env);
    };
    fromEnv("DISTILLERY_INTRAOP_THREADS", plan.intraOp);
    fromEnv("DISTILLERY_BLAS_THREADS", plan.blas);
    return plan;
}

void applyThreadPlan(const ThreadPlan &plan)
{
    at::set_num_threads(plan.intraOp);
    setBlasThreads(plan.blas);
}

void setBlasThreads(int threads)
{
    if (auto set = blasSetter())
        set(std::max(1, threads));
}

} // namespace train

void applyThreads(int threads)
{
    train::applyThreadPlan(train::planThreads(threads, false, false));
}

std::string describeThreads()
{
    std::string s = "torch intra-op " + std::to_string(at::get_num_threads());
    if (auto get = blasGetter())
        s += ", OpenBLAS " + std::to_string(get());
    else
        s += ", BLAS (not OpenBLAS)";
    return s;
}

bool cudaAvailable()
{
    try {
        return torch::cuda::is_available();
    } catch (const std::exception &) {
        return false;
    }
}

} // namespace distillery::core
