#pragma once

// The standard distillation workload, timed (distillery-cli bench): V=512, T=128, B=16; teacher
// L4 d256 h4 ffn1024 frozen; student L2 d128 h4 ffn512; pre-LN, GELU, learned positions, untied
// head; loss 0.5*CE + 0.5*tau^2*KL(p_T||p_S), tau = 2; AdamW lr 3e-4, weight decay 0.01; fp32.

#include "distillery/core/result.h"
#include "distillery/core/trainer.h"

#include <string>

namespace distillery::core {

struct BenchOptions
{
    int steps = 30;
    int warmupSteps = 5;
    int threads = 0; // 0 = one per core
    // Run the frozen teacher's forward for the next batch on a second core while the student
    // trains on the current one (the trainer's default on CPU with 2+ threads).
    bool overlapTeacher = true;
};

struct BenchResult
{
    int steps = 0;
    int warmupSteps = 0;
    std::string threads;        // thread settings in force
    double tokensPerSecond = 0; // B*T / median step time
    double msPerStep = 0;       // median
    double meanMsPerStep = 0;
    double flopsPerToken = 0;   // teacher forward + 3x student forward
    double achievedGflops = 0;
    double gemmPeakGflops = 0;  // fp32 GEMM 2048x1024x1024 on all threads, same process
    double gemmOneThreadGflops = 0; // the same GEMM on one thread
    bool overlapTeacher = false;    // whether the teacher ran beside the student
    // Median milliseconds per phase. With overlap the teacher's time is hidden behind the
    // student's except for teacherWaitMs, the time the student waited for it.
    double teacherMs = 0, studentForwardMs = 0, backwardMs = 0, optimizerMs = 0,
           teacherWaitMs = 0;
};

Result<BenchResult> runBenchmark(const BenchOptions &options, const ProgressCallback &progress = {});

} // namespace distillery::core
