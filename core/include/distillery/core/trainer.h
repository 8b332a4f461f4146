#pragma once

// Running experiments: compile a graph into a plan, train on a worker thread of the caller's
// choosing, write everything to the run store, report progress through a callback. The engine
// never prints and never calls into a GUI; the CLI and the GUI both feed on the same callback.

#include "distillery/core/graph.h"
#include "distillery/core/result.h"
#include "distillery/core/store.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace distillery::core {

// Overrides and destinations for one run. Unset optionals keep the graph's Settings.
struct RunOptions
{
    std::string storePath;
    std::string name;                  // default: template name or "run"
    std::optional<std::int64_t> steps; // student steps
    std::optional<std::string> device; // auto | cpu | cuda
    std::optional<int> threads;        // 0 = one per core
    std::optional<std::int64_t> seed;
    // Run the frozen teacher's pass for the next batch beside the student's step (the default
    // on CPU with two or more threads); false: teacher and student in turn.
    std::optional<bool> overlapTeacher;
    std::string artifactsDir;          // default: <storePath>.artifacts
    std::string group;                 // the run's explicit group (a sweep's name); "" for none
};

struct Progress
{
    RunId runId = 0;   // the run this is about
    std::string phase; // "teacher 'name'", "top-k cache", "student", "paused"
    std::int64_t step = 0;
    std::int64_t totalSteps = 0;
    double loss = 0;
    double tokensPerSecond = 0;
    double etaSeconds = 0; // of the current phase
    double elapsedSeconds = 0;
    bool paused = false;
};
using ProgressCallback = std::function<void(const Progress &)>;

// Shared between the thread that trains and the one that controls it. Checked between steps.
class RunControl
{
public:
    void requestCancel() { m_cancel.store(true); }
    void setPaused(bool paused) { m_paused.store(paused); }
    bool cancelRequested() const { return m_cancel.load(); }
    bool paused() const { return m_paused.load(); }

private:
    std::atomic<bool> m_cancel{false};
    std::atomic<bool> m_paused{false};
};

struct RunResult
{
    RunId runId = 0;
    RunStatus status = RunStatus::Running;
    std::string error;  // why it failed, or where a cancelled run stopped
    std::string device; // "cpu" or "cuda:0"
    std::int64_t steps = 0;
    double seconds = 0;
    std::map<std::string, double> finalMetrics; // eval/... keys at the last evaluation
};

// Validates, compiles and runs. Returns an Error (nothing written, or no run created) for bad
// input: an invalid graph, a missing file, a wrong teacher, an empty corpus. Once the run
// exists, problems during training give a RunResult with status Failed and the message stored.
Result<RunResult> runExperiment(const Graph &graph, const RunOptions &options,
                                const ProgressCallback &progress = {},
                                RunControl *control = nullptr);

// Continues a run from its newest checkpoint; the result equals an uninterrupted run at the same
// seed. options.storePath names the store; other fields are ignored except artifactsDir.
Result<RunResult> resumeRun(RunId run, const RunOptions &options,
                            const ProgressCallback &progress = {},
                            RunControl *control = nullptr);

// Thread settings actually in force ("torch intra-op 2, BLAS 1").
std::string describeThreads();
// Applies a thread count (0 = one per core) to LibTorch and, when present, OpenBLAS, for work
// that runs on one thread of control (the trainer overlaps teacher and student on its own).
void applyThreads(int threads);
bool cudaAvailable();

} // namespace distillery::core
