#include "distillery/core/trainer.h"

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

// LibTorch parallelises its own kernels (intra-op threads) and calls OpenBLAS for GEMMs, which
// has its own pool. Both at once oversubscribe the cores (see TOOLCHAIN.md), so OpenBLAS runs
// single-threaded inside LibTorch's threads unless DISTILLERY_BLAS_THREADS says otherwise.
void applyThreads(int threads)
{
    int n = threads;
    if (n <= 0)
        n = std::max(1u, std::thread::hardware_concurrency());
    at::set_num_threads(n);
    int blas = 1;
    if (const char *env = std::getenv("DISTILLERY_BLAS_THREADS"))
        blas = std::max(1, std::atoi(env));
    if (auto set = blasSetter())
        set(blas);
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
