#pragma once

// The standard distillation workload, timed (distillery-cli bench): V=512, T=128, B=16; teacher
// L4 d256 h4 ffn1024 frozen; student L2 d128 h4 ffn512; pre-LN, GELU, learned positions, untied
// head; loss 0.5*CE + 0.5*tau^2*KL(p_T||p_S), tau = 2; AdamW lr 3e-4, weight decay 0.01; fp32.

#include "distillery/core/result.h"
#include "distillery/core/trainer.h"

#include <map>
#include <string>
#include <vector>

namespace distillery::core {

struct BenchOptions
{
    int steps = 30;
    int warmupSteps = 5;
    int threads = 0; // 0 = one per core
    // Run the frozen teacher's forward for the next batch on a second core while the student
    // trains on the current one (the trainer's default on CPU with 2+ threads).
    bool overlapTeacher = true;
    std::string workDir; // where the temporary run store goes; default: the system temp dir
};

// The workload trained by the real trainer (runExperiment) for warmupSteps + steps student
// steps; the times are the trainer's own per-step measurements (perf/* series), medians over
// the steps after the warm-up.
struct BenchResult
{
    int steps = 0;
    int warmupSteps = 0;
    std::string blas;           // the BLAS kernels in use and how they were chosen
    std::string threads;        // thread settings of the student phase (run_meta "threads")
    double tokensPerSecond = 0; // B*T / median step time
    double msPerStep = 0;       // median
    double meanMsPerStep = 0;
    double flopsPerToken = 0;   // teacher forward + 3x student forward
    double achievedGflops = 0;
    double gemmPeakGflops = 0;  // fp32 GEMM 2048x1024x1024 on all threads, same process
    double gemmOneThreadGflops = 0; // the same GEMM on one thread
    bool overlapTeacher = false;    // whether the teacher ran beside the student
    // Median milliseconds per part of a step: the teacher pass's own compute (on the helper
    // thread when overlapped), the time the step waited for it, the student's forward with the
    // loss, the backward pass with the gradient norm, the optimizer.
    double teacherMs = 0, teacherWaitMs = 0, studentForwardMs = 0, backwardMs = 0, optimizerMs = 0;
    // Phases of the whole run, in seconds: from the start to the first student step (data,
    // models, teacher), the student steps, and the end (evaluation and checkpoint).
    double setupSeconds = 0, studentSeconds = 0, runSeconds = 0;
};

Result<BenchResult> runBenchmark(const BenchOptions &options, const ProgressCallback &progress = {});

// The cost of the diagnostics (distillery-cli bench --diagnostics): the standard workload above
// trained by the real trainer (HMM-oracle data with V=512, teacher randomly initialised and
// frozen, evaluation every `evalInterval` steps over 4 validation batches), once with the
// Diagnostics node at its defaults and once with it disabled, alternating for `rounds` rounds.
// The time measured is the student phase: from its first step to the end of the run (every
// evaluation included, checkpoints off).
struct DiagnosticsBenchOptions
{
    int steps = 100;
    int evalInterval = 50; // the Settings node's default
    int rounds = 3;
    int threads = 0;       // 0 = one per core
    std::string workDir;   // where the temporary run store goes; default: the system temp dir
};

struct DiagnosticsBenchResult
{
    std::vector<double> secondsWithout, secondsWith; // per round
    double medianWithout = 0, medianWith = 0;
    // Median over rounds of with/without − 1: pairs of runs close in time, so slow drift of a
    // shared machine cancels out.
    double overhead = 0;
    // Median over the runs with diagnostics of the time the trainer itself measured for them
    // (diag/seconds/*) over the student phase: the same quantity, free of run-to-run noise.
    double measuredFraction = 0;
    int evaluations = 0; // per run
    std::map<std::string, double> diagnosticsSeconds; // median time per diagnostic, whole run
};

Result<DiagnosticsBenchResult> runDiagnosticsBenchmark(const DiagnosticsBenchOptions &options,
                                                       const ProgressCallback &progress = {});

} // namespace distillery::core
