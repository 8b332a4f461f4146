#pragma once

// The standard distillation workload as an experiment graph, for the benchmarks (bench.h):
// classic-kd with V=512, T=128, B=16, a frozen teacher L4 d256 h4 ffn1024 (randomly
// initialised: train_steps 0), a student L2 d128 h4 ffn512, loss 0.5·CE + 0.5·τ²·KL with τ = 2,
// AdamW lr 3e-4 and weight decay 0.01, on HMM-oracle data; fp32 on the CPU.

#include "distillery/core/graph.h"
#include "distillery/core/result.h"

#include <filesystem>
#include <string>

namespace distillery::core::train {

struct WorkloadOptions
{
    int steps = 100;
    int evalInterval = 0; // 0 = only after the last step
    int threads = 0;
    bool diagnostics = false;
};

Result<Graph> standardWorkload(const WorkloadOptions &options);

// A benchmark's folder for its temporary run store and checkpoints: <base>/distillery-<name>-<pid>
// (base: the system's temp folder when empty), removed with all it holds when the object goes.
class ScratchDir
{
public:
    explicit ScratchDir(std::filesystem::path path)
        : m_path(std::move(path))
    {}
    ScratchDir(ScratchDir &&other) noexcept
        : m_path(std::move(other.m_path))
    {
        other.m_path.clear();
    }
    ScratchDir &operator=(ScratchDir &&) = delete;
    ScratchDir(const ScratchDir &) = delete;
    ~ScratchDir();
    const std::filesystem::path &path() const { return m_path; }

private:
    std::filesystem::path m_path;
};
Result<ScratchDir> makeScratchDir(const std::string &base, const std::string &name);

} // namespace distillery::core::train
