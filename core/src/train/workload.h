#pragma once

// The standard distillation workload as an experiment graph, for the benchmarks (bench.h):
// classic-kd with V=512, T=128, B=16, a frozen teacher L4 d256 h4 ffn1024 (randomly
// initialised: train_steps 0), a student L2 d128 h4 ffn512, loss 0.5·CE + 0.5·τ²·KL with τ = 2,
// AdamW lr 3e-4 and weight decay 0.01, on HMM-oracle data; fp32 on the CPU.

#include "distillery/core/graph.h"
#include "distillery/core/result.h"

namespace distillery::core::train {

struct WorkloadOptions
{
    int steps = 100;
    int evalInterval = 0; // 0 = only after the last step
    int threads = 0;
    bool diagnostics = false;
};

Result<Graph> standardWorkload(const WorkloadOptions &options);

} // namespace distillery::core::train
