#pragma once

// The SQLite run store. One RunWriter per training process (WAL, synchronous=NORMAL, batched
// transactions); any number of StoreReader connections opened read-only, also from other
// processes, for live tails and comparisons. Schema: docs/store-schema.md. Inside (core/src/store):
// SQLite helpers, schema and migrations, run rows, the writer, the reader, maintenance.

#include "distillery/core/result.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace distillery::core {

using RunId = std::int64_t;

enum class RunStatus { Running, Finished, Failed, Cancelled, Interrupted };
std::string runStatusName(RunStatus status);
std::optional<RunStatus> runStatusFromName(const std::string &name);

constexpr int kStoreSchemaVersion = 4;

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
    std::string error;     // why it failed, if it did
    RunId resumedFrom = 0; // reserved; 0 = none
    std::string note;              // the user's free text
    std::string group;             // explicit group (the sweep that made the run); "" if none
    std::vector<std::string> tags; // sorted
};

struct ScalarPoint
{
    std::int64_t step = 0;
    double wallTime = 0; // unix seconds when written
    double value = 0;
};

// A series in brief: its last row and its smallest and largest finite values with the step
// each was first reached at (step -1 when the series has no finite value).
struct SeriesStats
{
    ScalarPoint last;
    double min = 0, max = 0;
    std::int64_t minStep = -1, maxStep = -1;
    bool hasFinite() const { return minStep >= 0; }
};

struct CheckpointInfo
{
    RunId run = 0;
    std::int64_t step = 0;
    std::string path;
    std::string kind; // "student" (full training state), "teacher" (a frozen teacher) or
                      // "model" (the trained student at the run's last step)
    double createdAt = 0;
};

// A student written out for other tools (distillery-cli export, the GUI's Export student…).
struct ExportInfo
{
    RunId run = 0;
    std::int64_t step = 0;
    std::string format; // "hf", "torchscript" or "onnx"
    std::string dtype;  // "f32", "f16" or "bf16"
    std::string path;   // the folder or file
    std::int64_t bytes = 0;
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
    std::string group; // explicit group, e.g. the sweep's name
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
    // Claims an existing run for writing (resume), in one transaction: a run still being written
    // by a live process is refused (store.run_active, naming its pid and host), so two resumes
    // can never both train it; otherwise it becomes running with this process's heartbeat.
    Status reopenRun(RunId run);
    // Gives a run reopened by this writer back as it was before reopenRun (status, error, end
    // time): a resume that could not start changes nothing.
    Status releaseRun(RunId run);

    // Buffered; nothing is dropped: every call ends up in the table at the next flush.
    // A step written again replaces the earlier row (a resumed run rewrites its steps).
    // NaN values are stored as NULL and read back as NaN.
    void addScalar(RunId run, const std::string &key, std::int64_t step, double value);
    // The run's progress (runs.last_step). addScalar raises it for runs this writer opened,
    // except for teacher/ series: the teacher phase counts steps of its own, so a run killed
    // while its teacher trains has made no progress of its student.
    void setLastStep(RunId run, std::int64_t step);
    // One float32 per position of probe sample `sample` (e.g. quantity "kl", "top1_agree").
    void addTokenDiagnostic(RunId run, std::int64_t step, int sample, const std::string &quantity,
                            const std::vector<float> &values);
    // A generated text sample.
    void addSample(RunId run, std::int64_t step, int idx, const std::string &text);
    // Buffered and flushed at once (a checkpoint must be visible as soon as it exists). On a
    // failed flush the row stays pending and the next flush retries it.
    Status addCheckpoint(const CheckpointInfo &checkpoint);
    Status setRunMeta(RunId run, const std::string &key, const std::string &value);
    // Resume support: flushes, then deletes the run's scalars, token diagnostics and samples
    // after `step` (rows the checkpoint never saw), rebuilds its latest values and sets
    // last_step = step. Series whose key starts with a non-empty `keepPrefix` are kept whole
    // (a resumed run keeps its teacher's training curve, which has its own step axis).
    Status discardAfter(RunId run, std::int64_t step, const std::string &keepPrefix = {});

    // Commits buffered rows and updates the heartbeat.
    Status flush();
    // Flushes if at least `intervalSeconds` passed since the last flush.
    Status maybeFlush(double intervalSeconds = 0.25);
    // Flushes, then sets the final status (and error text), in the same transaction. If the
    // flush fails the status change stays pending too and the next flush retries it.
    Status finishRun(RunId run, RunStatus status, const std::string &error = {});

    // Rows (of any kind) and status changes waiting for the next flush.
    std::size_t pendingCount() const;
    const std::string &path() const;

private:
    struct Impl; // SQLite stays out of this header (store/writer.cpp)
    explicit RunWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
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
    // Last, smallest and largest value of every key of a run (from summary tables, no history
    // scan: what run browsers and comparisons over many runs read).
    Result<std::map<std::string, SeriesStats>> seriesStats(RunId run) const;
    Result<std::vector<CheckpointInfo>> checkpoints(RunId run) const;
    // The run's exports, oldest first.
    Result<std::vector<ExportInfo>> exports(RunId run) const;
    Result<std::map<std::string, std::string>> runMeta(RunId run) const;
    // One float per position; empty when nothing was stored for that (step, sample, quantity).
    Result<std::vector<float>> tokenDiagnostic(RunId run, std::int64_t step, int sample,
                                               const std::string &quantity) const;
    // Steps that have `quantity` stored, ascending.
    Result<std::vector<std::int64_t>> tokenDiagnosticSteps(RunId run,
                                                           const std::string &quantity) const;
    // Text samples of one step, ordered by index.
    // The generated texts of one step, byte for byte (not necessarily valid UTF-8: a byte-level
    // model's output is kept as it was; displays replace what is not, see utf8.h).
    Result<std::vector<std::string>> samples(RunId run, std::int64_t step) const;
    // The steps that have samples, in order.
    Result<std::vector<std::int64_t>> sampleSteps(RunId run) const;
    Result<std::string> integrityCheck() const; // "ok" when PRAGMA integrity_check passes
    int schemaVersion() const;

private:
    struct Impl; // store/reader.cpp
    explicit StoreReader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// Marks runs whose writer died as interrupted in the file (needs write access). Returns the ids.
Result<std::vector<RunId>> markInterruptedRuns(const std::string &path, double staleSeconds = 30.0);
Status renameRun(const std::string &path, RunId run, const std::string &name);
// The user's note on a run (any text; "" clears it).
Status setRunNote(const std::string &path, RunId run, const std::string &note);
// Replaces a run's tags. A tag is 1 to 64 characters without commas, line breaks or leading or
// trailing spaces (store.bad_tag names the offending one); duplicates count once.
Status setRunTags(const std::string &path, RunId run, const std::vector<std::string> &tags);
// Puts a run in an explicit group ("" takes it out).
Status setRunGroup(const std::string &path, RunId run, const std::string &group);
// Records an export of a run's student (a new one, or the same path written again).
Status recordExport(const std::string &path, const ExportInfo &info);
// Deletes a run's rows from every table in one transaction (its checkpoint and artifact files
// stay on disk). Refuses a run still marked running whose writer is alive (same staleness rule
// as StoreReader::runs()): cancel it first. A dead writer's run can be deleted.
Status deleteRun(const std::string &path, RunId run, double staleSeconds = 30.0);

// Files beside a store (checkpoints, teachers, caches) are recorded relative to the store's
// folder, so that a store and its artifacts can be moved together and used from any current
// directory. storeRelativePath() gives what to record (absolute when outside that folder);
// resolveStorePath() gives the file to open (a relative path recorded by an older version,
// relative to its writer's current directory, is tried as it is when not found beside the store).
std::string storeRelativePath(const std::string &storePath, const std::string &path);
std::string resolveStorePath(const std::string &storePath, const std::string &recorded);
// `<store folder>/<store file>.artifacts`, absolute.
std::string defaultArtifactsFolder(const std::string &storePath);

} // namespace distillery::core
