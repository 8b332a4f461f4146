#pragma once

// The SQLite run store. One RunWriter per training process (WAL, synchronous=NORMAL, batched
// transactions); any number of StoreReader connections opened read-only, also from other
// processes, for live tails and comparisons. Schema: see README.md, "Run store schema".

#include "distillery/core/result.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace distillery::core {

using RunId = std::int64_t;

enum class RunStatus { Running, Finished, Failed, Cancelled, Interrupted };
std::string runStatusName(RunStatus status);
std::optional<RunStatus> runStatusFromName(const std::string &name);

constexpr int kStoreSchemaVersion = 1;

// A run as listed by readers.
struct RunInfo
{
    RunId id = 0;
    std::string name;
    RunStatus status = RunStatus::Running;
    std::string templateName;
    std::string graphJson;
    std::string device;
    int threads = 0;
    std::int64_t seed = 0;
    std::int64_t stepsTotal = 0;
    std::int64_t lastStep = 0;
    double createdAt = 0;   // unix seconds
    double finishedAt = 0;  // 0 while running
    double heartbeatAt = 0; // last writer flush
    std::int64_t pid = 0;
    std::string host;
    std::string error;      // why it failed, if it did
    RunId resumedFrom = 0;  // reserved; 0 = none
};

struct ScalarPoint
{
    std::int64_t step = 0;
    double wallTime = 0; // unix seconds when written
    double value = 0;
};

struct CheckpointInfo
{
    RunId run = 0;
    std::int64_t step = 0;
    std::string path;
    std::string kind; // "student" (full training state) or "teacher" (a frozen teacher)
    double createdAt = 0;
};

struct NewRun
{
    std::string name;
    std::string templateName;
    std::string graphJson;
    std::string device;
    int threads = 0;
    std::int64_t seed = 0;
    std::int64_t stepsTotal = 0;
};

// Opens (creating and migrating if needed) a store for writing. Owned by one thread.
// Writes are buffered and committed in one transaction per flush: flush() is called by the
// owner at least every `flushInterval` seconds (maybeFlush) and on every status change.
class RunWriter
{
public:
    static Result<std::unique_ptr<RunWriter>> open(const std::string &path);
    ~RunWriter();
    RunWriter(const RunWriter &) = delete;
    RunWriter &operator=(const RunWriter &) = delete;

    Result<RunId> createRun(const NewRun &run);
    // Reopens an existing run for writing (resume): sets it to running, takes the heartbeat.
    Status reopenRun(RunId run);

    // Buffered; nothing is dropped: every call ends up in the table at the next flush.
    void addScalar(RunId run, const std::string &key, std::int64_t step, double value);
    void setLastStep(RunId run, std::int64_t step);
    Status addCheckpoint(const CheckpointInfo &checkpoint);
    Status setRunMeta(RunId run, const std::string &key, const std::string &value);

    // Commits buffered rows and updates the heartbeat.
    Status flush();
    // Flushes if at least `intervalSeconds` passed since the last flush.
    Status maybeFlush(double intervalSeconds = 0.25);
    // Flushes, then sets the final status (and error text).
    Status finishRun(RunId run, RunStatus status, const std::string &error = {});

    const std::string &path() const { return m_path; }

private:
    RunWriter() = default;
    struct Pending
    {
        RunId run;
        std::string key;
        std::int64_t step;
        double wallTime;
        double value;
    };
    sqlite3 *m_db = nullptr;
    std::string m_path;
    std::vector<Pending> m_pending;
    std::map<RunId, std::int64_t> m_lastSteps;
    std::vector<RunId> m_openRuns;
    double m_lastFlush = 0;
    std::map<std::string, std::int64_t> m_keyIds;
};

// A read-only connection. Safe to use while a writer (in this or another process) works.
class StoreReader
{
public:
    static Result<std::unique_ptr<StoreReader>> open(const std::string &path);
    ~StoreReader();
    StoreReader(const StoreReader &) = delete;
    StoreReader &operator=(const StoreReader &) = delete;

    // Runs, newest first. A run still marked running whose writer died (no heartbeat for
    // `staleSeconds`, or its pid gone on this host) is reported as Interrupted.
    Result<std::vector<RunInfo>> runs(double staleSeconds = 30.0) const;
    Result<RunInfo> run(RunId id, double staleSeconds = 30.0) const;
    Result<std::vector<std::string>> keys(RunId run) const;
    // Rows with step > afterStep, in step order: the live tail.
    Result<std::vector<ScalarPoint>> scalars(RunId run, const std::string &key,
                                             std::int64_t afterStep = -1) const;
    // Latest value of every key of a run (from the latest-value table, no history scan).
    Result<std::map<std::string, ScalarPoint>> latest(RunId run) const;
    Result<std::vector<CheckpointInfo>> checkpoints(RunId run) const;
    Result<std::map<std::string, std::string>> runMeta(RunId run) const;
    Result<std::string> integrityCheck() const; // "ok" when PRAGMA integrity_check passes
    int schemaVersion() const;

private:
    StoreReader() = default;
    sqlite3 *m_db = nullptr;
    std::string m_path;
};

// Marks runs whose writer died as interrupted in the file (needs write access). Returns the ids.
Result<std::vector<RunId>> markInterruptedRuns(const std::string &path, double staleSeconds = 30.0);
Status renameRun(const std::string &path, RunId run, const std::string &name);

} // namespace distillery::core
