#include "distillery/core/blas.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace distillery::core {

namespace {

// Set in the environment of the restarted program: the reason for the choice, so that it (and
// programs it starts) report it and do not restart again.
constexpr const char *kRestartedVariable = "DISTILLERY_BLAS_RESTARTED";

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

std::string env(const char *name)
{
    const char *value = std::getenv(name);
    return value ? std::string(value) : std::string();
}

// The kernel sets of OpenBLAS's x86-64 DYNAMIC_ARCH build, by the instructions they need.
const std::vector<std::pair<const char *, int>> &ladder()
{
    static const std::vector<std::pair<const char *, int>> sets = {
        {"Prescott", 0},    {"Core2", 1},      {"Penryn", 1},    {"Dunnington", 1},
        {"Atom", 1},        {"Nehalem", 2},    {"Sandybridge", 3}, {"Bulldozer", 3},
        {"Piledriver", 3},  {"Steamroller", 3}, {"Excavator", 3}, {"Haswell", 4},
        {"Zen", 4},         {"SkylakeX", 5},   {"Cooperlake", 6}, {"SapphireRapids", 7},
    };
    return sets;
}

std::string canonicalName(const std::string &core)
{
    for (const auto &[name, rank] : ladder())
        if (lower(name) == lower(core))
            return name;
    return core;
}

using CharFn = char *(*)();

std::string callString(const char *symbol)
{
    auto fn = reinterpret_cast<CharFn>(dlsym(RTLD_DEFAULT, symbol));
    if (!fn)
        return {};
    const char *s = fn();
    std::string out = s ? s : "";
    while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back())))
        out.pop_back();
    return out;
}

std::string &decisionReason()
{
    static std::string reason;
    return reason;
}

} // namespace

CpuFeatures detectCpuFeatures()
{
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    f.sse3 = __builtin_cpu_supports("sse3");
    f.ssse3 = __builtin_cpu_supports("ssse3");
    f.sse41 = __builtin_cpu_supports("sse4.1");
    f.sse42 = __builtin_cpu_supports("sse4.2");
    f.avx = __builtin_cpu_supports("avx");
    f.avx2 = __builtin_cpu_supports("avx2");
    f.fma = __builtin_cpu_supports("fma");
    f.avx512f = __builtin_cpu_supports("avx512f");
    f.avx512cd = __builtin_cpu_supports("avx512cd");
    f.avx512bw = __builtin_cpu_supports("avx512bw");
    f.avx512dq = __builtin_cpu_supports("avx512dq");
    f.avx512vl = __builtin_cpu_supports("avx512vl");
    f.avx512bf16 = __builtin_cpu_supports("avx512bf16");
#endif
    return f;
}

std::string bestBlasCore(const CpuFeatures &f)
{
    const bool avx512 = f.avx512f && f.avx512cd && f.avx512bw && f.avx512dq && f.avx512vl;
    if (avx512 && f.avx512bf16)
        return "Cooperlake";
    if (avx512)
        return "SkylakeX";
    if (f.avx2 && f.fma)
        return "Haswell";
    if (f.avx)
        return "Sandybridge";
    if (f.sse42)
        return "Nehalem";
    if (f.ssse3)
        return "Core2";
    return "Prescott";
}

int blasCoreRank(const std::string &core)
{
    for (const auto &[name, rank] : ladder())
        if (lower(name) == lower(core))
            return rank;
    return -1;
}

BlasDecision decideBlasKernels(const CpuFeatures &features, const std::string &detected,
                               const std::string &userCoretype, const std::string &mode)
{
    BlasDecision d;
    d.detected = detected;
    d.chosen = detected;
    if (detected.empty()) {
        d.reason = "the BLAS is not OpenBLAS: no kernel choice";
        return d;
    }
    if (!userCoretype.empty()) {
        d.reason = "set by OPENBLAS_CORETYPE=" + userCoretype;
        return d;
    }
    const std::string m = lower(mode);
    if (m == "off") {
        d.reason = "detected by OpenBLAS (DISTILLERY_BLAS_CORETYPE=off)";
        return d;
    }
    const std::string best = bestBlasCore(features);
    const int detectedRank = blasCoreRank(detected);
    if (!m.empty() && m != "auto") {
        const int wanted = blasCoreRank(mode);
        if (wanted < 0) {
            d.reason = "detected by OpenBLAS; DISTILLERY_BLAS_CORETYPE=" + mode
                       + " is not a kernel set this program knows";
            return d;
        }
        if (wanted > blasCoreRank(best)) {
            d.reason = "detected by OpenBLAS; DISTILLERY_BLAS_CORETYPE=" + mode
                       + " needs instructions this CPU lacks (best: " + best + ")";
            return d;
        }
        d.chosen = canonicalName(mode);
        d.restart = lower(d.chosen) != lower(detected);
        d.reason = "set by DISTILLERY_BLAS_CORETYPE=" + mode;
        return d;
    }
    if (detectedRank < 0) {
        d.reason = "detected by OpenBLAS (a kernel set this program does not rank; kept)";
        return d;
    }
    if (detectedRank >= blasCoreRank(best)) {
        d.reason = "detected by OpenBLAS";
        return d;
    }
    d.chosen = best;
    d.restart = true;
    d.reason = "chosen by Distillery: OpenBLAS detected " + detected + ", but the CPU supports "
               + best + " kernels";
    return d;
}

void selectBlasKernels(int argc, char **argv)
{
    (void)argc;
    const std::string restarted = env(kRestartedVariable);
    const std::string detected = callString("openblas_get_corename");
    if (!restarted.empty()) {
        // Ours: the variable was set by the restart that brought us here (or by the Distillery
        // program that started this one).
        decisionReason() = restarted;
        if (!detected.empty() && lower(detected) != lower(env("OPENBLAS_CORETYPE")))
            decisionReason() += " (OpenBLAS did not take " + env("OPENBLAS_CORETYPE") + ")";
        return;
    }
    const BlasDecision d = decideBlasKernels(detectCpuFeatures(), detected,
                                             env("OPENBLAS_CORETYPE"),
                                             env("DISTILLERY_BLAS_CORETYPE"));
    decisionReason() = d.reason;
    if (!d.restart)
        return;
    setenv("OPENBLAS_CORETYPE", d.chosen.c_str(), 1);
    setenv(kRestartedVariable, d.reason.c_str(), 1);
    execv("/proc/self/exe", argv);
    // Still here: the restart failed. Carry on with the detected kernels, and say so.
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv(kRestartedVariable);
    decisionReason() = "detected by OpenBLAS (the restart with OPENBLAS_CORETYPE=" + d.chosen
                       + " failed)";
    std::fprintf(stderr, "warning: could not restart with OpenBLAS %s kernels; using %s\n",
                 d.chosen.c_str(), detected.c_str());
}

BlasInfo blasInfo()
{
    BlasInfo info;
    info.core = callString("openblas_get_corename");
    if (info.core.empty()) {
        info.library = "not OpenBLAS";
        info.how = "no kernel choice";
        return info;
    }
    info.library = callString("openblas_get_config");
    info.how = decisionReason();
    if (info.how.empty()) // selectBlasKernels() was not called (e.g. a test program)
        info.how = env("OPENBLAS_CORETYPE").empty() ? "detected by OpenBLAS"
                                                    : "set by OPENBLAS_CORETYPE=" + env("OPENBLAS_CORETYPE");
    return info;
}

std::string describeBlas()
{
    const BlasInfo info = blasInfo();
    if (info.core.empty())
        return "BLAS: not OpenBLAS";
    return "OpenBLAS " + info.core + " kernels (" + info.how + ")";
}

} // namespace distillery::core
