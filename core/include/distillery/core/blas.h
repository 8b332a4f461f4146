#pragma once

// Which BLAS kernels the process runs on. OpenBLAS built with DYNAMIC_ARCH picks its kernel set
// from the CPU when it loads; a release older than the CPU does not recognise it and falls back
// to its Prescott (SSE3) kernels, 3-6x slower on AVX-512 machines. OpenBLAS reads
// OPENBLAS_CORETYPE once, as it loads, so the only way to change the choice is to start the
// program again with the variable set: selectBlasKernels() does that, first thing in main().
// LibTorch-free.

#include <string>

namespace distillery::core {

// The instruction-set extensions that decide which OpenBLAS kernel sets can run (each one
// usable: supported by the CPU and enabled by the operating system).
struct CpuFeatures
{
    bool sse3 = false, ssse3 = false, sse41 = false, sse42 = false;
    bool avx = false, avx2 = false, fma = false;
    bool avx512f = false, avx512cd = false, avx512bw = false, avx512dq = false, avx512vl = false;
    bool avx512bf16 = false;
};

// This CPU's features (cpuid and the OS's saved-state mask).
CpuFeatures detectCpuFeatures();

// The best OpenBLAS x86-64 kernel set for these features, by the instructions each set's
// kernels use: Cooperlake (AVX-512 with BF16), SkylakeX (AVX-512 F/CD/BW/DQ/VL), Haswell
// (AVX2 + FMA), Sandybridge (AVX), Nehalem (SSE4.2), Core2 (SSSE3), Prescott (SSE3).
std::string bestBlasCore(const CpuFeatures &features);

// Where a kernel set ranks in that ladder (0 = Prescott ... 6 = Cooperlake); -1 for a name the
// ladder does not know (another vendor's own sets, e.g. Zen at rank 4, are placed by what they
// use). Case-insensitive.
int blasCoreRank(const std::string &core);

struct BlasDecision
{
    std::string detected;  // the kernel set OpenBLAS chose by itself ("" = not OpenBLAS)
    std::string chosen;    // the set to run on; equals detected when nothing changes
    bool restart = false;  // start again with OPENBLAS_CORETYPE=chosen
    std::string reason;    // one line for logs and run_meta
};

// The decision, as a pure function. userCoretype: OPENBLAS_CORETYPE as the user set it (empty =
// unset; a set value is always kept). mode: DISTILLERY_BLAS_CORETYPE, "" or "auto" (choose),
// "off" (keep what OpenBLAS detected), or a kernel-set name to use when the CPU supports it.
BlasDecision decideBlasKernels(const CpuFeatures &features, const std::string &detected,
                               const std::string &userCoretype, const std::string &mode);

// Call first in main(), before any thread starts: when the decision is to restart, sets
// OPENBLAS_CORETYPE and re-executes the program with the same arguments (it does not return
// then). Otherwise returns, and blasInfo() reports what is in force.
void selectBlasKernels(int argc, char **argv);

struct BlasInfo
{
    std::string library; // openblas_get_config(), or "not OpenBLAS"
    std::string core;    // openblas_get_corename(), or ""
    std::string how;     // how the set came to be chosen (the decision's reason)
};
BlasInfo blasInfo();
// "OpenBLAS Cooperlake kernels (detected by OpenBLAS)"
std::string describeBlas();

} // namespace distillery::core
