#pragma once

// What the units of one run share: the plan, the device, the data, the run's rows in the store,
// the progress callback and the controls. Owned by the Trainer; the units hold a reference.

#include "distillery/core/store.h"
#include "distillery/core/trainer.h"

#include "data/data.h"
#include "train/plan.h"

#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace distillery::core::train {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0);

// A failure inside a run that ends it as failed with this message.
struct RunFailure : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

// One run's rows in the store. The writer buffers them; a flush that fails keeps them for the
// next one, so a busy or full store costs a warning, not data.
class RunLog
{
public:
    RunLog(RunWriter &writer, RunId run)
        : m_writer(writer)
        , m_run(run)
    {}
    RunId run() const { return m_run; }
    void scalar(const std::string &key, std::int64_t step, double value)
    {
        m_writer.addScalar(m_run, key, step, value);
    }
    void tokens(std::int64_t step, int sample, const std::string &quantity,
                const std::vector<float> &values)
    {
        m_writer.addTokenDiagnostic(m_run, step, sample, quantity, values);
    }
    void sample(std::int64_t step, int index, const std::string &text)
    {
        m_writer.addSample(m_run, step, index, text);
    }
    void lastStep(std::int64_t step) { m_writer.setLastStep(m_run, step); }
    // Written at once; on failure the row stays pending and a warning says so.
    void meta(const std::string &key, const std::string &value);
    // A checkpoint file must be on record before the run goes on: a failure ends the run.
    void checkpoint(std::int64_t step, const std::string &path, const std::string &kind);
    // Every 0.25 s, or now when forced.
    void flush(bool force = false);
    // Drops the rows of an interrupted attempt after `step` (resume); throws RunFailure.
    void discardAfter(std::int64_t step, const std::string &keepPrefix);

private:
    RunWriter &m_writer;
    RunId m_run;
};

// Progress to the caller, stamped with the run and the time since it started.
class ProgressSink
{
public:
    ProgressSink(const ProgressCallback &callback, Clock::time_point start)
        : m_callback(callback)
        , m_start(start)
    {}
    void setRun(RunId run) { m_run = run; }
    void report(Progress p) const
    {
        if (!m_callback)
            return;
        p.runId = m_run;
        p.elapsedSeconds = secondsSince(m_start);
        m_callback(p);
    }
    Clock::time_point start() const { return m_start; }

private:
    const ProgressCallback &m_callback;
    Clock::time_point m_start;
    RunId m_run = 0;
};

struct RunContext
{
    const Plan &plan;
    torch::Device device;
    const data::Dataset &data;
    RunLog &log;
    const ProgressSink &progress;
    RunControl *control = nullptr;
    std::filesystem::path artifacts; // the run's folder for checkpoints and caches
    std::string storePath;

    bool cancelled() const { return control && control->cancelRequested(); }
    // Blocks while paused (keeping the store's heartbeat alive); false when cancelled.
    bool waitWhilePaused() const;
    std::string artifact(const std::string &name) const { return (artifacts / name).string(); }
};

// Deterministic per-(seed, step, salt) values: splitmix64 (Steele et al. 2014).
std::uint64_t stepSeed(std::int64_t seed, std::int64_t step, std::uint64_t salt);
double uniformAt(std::int64_t seed, std::int64_t step, std::uint64_t salt); // [0, 1)

} // namespace distillery::core::train
