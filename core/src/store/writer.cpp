// The run store's one writer: rows buffered in memory and committed in one transaction per
// flush, each table by its own function; on any failure the transaction rolls back and every
// row stays buffered for the next attempt.

#include "distillery/core/store.h"
#include "distillery/core/errors.h"
#include "distillery/core/utf8.h"

#include "store/runrow.h"
#include "store/schema.h"
#include "store/sqlite.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

#include <unistd.h>

namespace distillery::core {

using namespace store;

namespace {

struct PendingScalar
{
    RunId run;
    std::string key;
    std::int64_t step;
    double wallTime;
    double value;
};
struct PendingDiagnostic
{
    RunId run;
    std::int64_t step;
    int sample;
    std::string quantity;
    std::vector<float> values;
};
struct PendingSample
{
    RunId run;
    std::int64_t step;
    int idx;
    std::string text;
};
struct PendingMeta
{
    RunId run;
    std::string key;
    std::string value;
};
struct PendingFinish
{
    RunId run;
    RunStatus status;
    std::string error;
    double finishedAt;
};

} // namespace

struct RunWriter::Impl
{
    Connection db;
    StatementCache statements;
    std::string path;
    std::vector<PendingScalar> scalars;
    std::vector<PendingDiagnostic> diagnostics;
    std::vector<PendingSample> samples;
    std::vector<CheckpointInfo> checkpoints;
    std::vector<PendingMeta> meta;
    std::vector<PendingFinish> finishes;
    std::map<RunId, std::int64_t> lastSteps;
    std::vector<RunId> openRuns;
    std::map<RunId, RunInfo> beforeReopen; // what releaseRun() puts back
    double lastFlush = 0; // steady-clock seconds
    std::map<std::string, std::int64_t> keyIds;
    std::map<std::string, std::int64_t> newKeys; // interned by the transaction in progress
    // The highest step of each (run, key id) in the file as far as this writer knows (read from
    // `latest` on first sight). A row at or below it rewrites history, and the series' extremes
    // are then recomputed from its rows instead of updated in place.
    std::map<std::pair<RunId, std::int64_t>, std::int64_t> topSteps;

    Impl(Connection connection, std::string file)
        : db(std::move(connection))
        , statements(db.get())
        , path(std::move(file))
    {}

    Error storeError(const std::string &what) const { return sqlFailure(db.get(), path, what); }
    bool isOpen(RunId run) const
    {
        return std::find(openRuns.begin(), openRuns.end(), run) != openRuns.end();
    }

    // One function per table; each returns the failure that ends the transaction.
    std::optional<std::int64_t> keyId(const std::string &name);
    std::optional<Error> writeScalars();
    std::optional<std::int64_t> topStep(RunId run, std::int64_t key);
    std::optional<Error> recomputeStats(RunId run, std::int64_t key);
    std::optional<Error> writeDiagnostics();
    std::optional<Error> writeSamples();
    std::optional<Error> writeCheckpoints();
    std::optional<Error> writeMeta();
    std::optional<Error> writeRunRows(double now);
    void forgetWritten();
    Status flush(double now);
};

// The id of a series name, interning it in this transaction when new. Ids made in the
// transaction join the cache only once it commits.
std::optional<std::int64_t> RunWriter::Impl::keyId(const std::string &name)
{
    if (auto it = keyIds.find(name); it != keyIds.end())
        return it->second;
    if (auto it = newKeys.find(name); it != newKeys.end())
        return it->second;
    sqlite3_stmt *select = statements.get("SELECT id FROM keys WHERE name = ?1");
    if (!select)
        return std::nullopt;
    bindText(select, 1, name);
    const int rc = sqlite3_step(select);
    if (rc == SQLITE_ROW) {
        const std::int64_t id = sqlite3_column_int64(select, 0);
        sqlite3_reset(select);
        newKeys[name] = id;
        return id;
    }
    sqlite3_reset(select);
    if (rc != SQLITE_DONE)
        return std::nullopt;
    sqlite3_stmt *insert = statements.get("INSERT INTO keys (name) VALUES (?1)");
    if (!insert)
        return std::nullopt;
    bindText(insert, 1, name);
    if (!stepDone(insert))
        return std::nullopt;
    const std::int64_t id = sqlite3_last_insert_rowid(db.get());
    newKeys[name] = id;
    return id;
}

std::optional<std::int64_t> RunWriter::Impl::topStep(RunId run, std::int64_t key)
{
    if (auto it = topSteps.find({run, key}); it != topSteps.end())
        return it->second;
    sqlite3_stmt *select = statements.get("SELECT step FROM latest WHERE run = ?1 AND key = ?2");
    if (!select)
        return std::nullopt;
    sqlite3_bind_int64(select, 1, run);
    sqlite3_bind_int64(select, 2, key);
    const int rc = sqlite3_step(select);
    const std::int64_t top = rc == SQLITE_ROW ? sqlite3_column_int64(select, 0)
                                              : std::numeric_limits<std::int64_t>::min();
    sqlite3_reset(select);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return std::nullopt;
    topSteps[{run, key}] = top;
    return top;
}

// The extremes of one series from its rows (after a step was written again).
std::optional<Error> RunWriter::Impl::recomputeStats(RunId run, std::int64_t key)
{
    static const char *const sql[] = {
        "DELETE FROM series_stats WHERE run = ?1 AND key = ?2",
        "INSERT INTO series_stats (run, key, min, min_step, max, max_step) "
        "SELECT ?1, ?2, lo.value, lo.step, hi.value, hi.step FROM "
        "(SELECT value, step FROM scalars WHERE run = ?1 AND key = ?2 AND value IS NOT NULL "
        " AND abs(value) <= 1.7976931348623157e308 ORDER BY value ASC, step ASC LIMIT 1) lo, "
        "(SELECT value, step FROM scalars WHERE run = ?1 AND key = ?2 AND value IS NOT NULL "
        " AND abs(value) <= 1.7976931348623157e308 ORDER BY value DESC, step ASC LIMIT 1) hi",
    };
    for (const char *text : sql) {
        sqlite3_stmt *stmt = statements.get(text);
        if (!stmt)
            return storeError("cannot prepare the series summary update");
        sqlite3_bind_int64(stmt, 1, run);
        sqlite3_bind_int64(stmt, 2, key);
        if (!stepDone(stmt))
            return storeError("cannot update the series summary");
    }
    return std::nullopt;
}

std::optional<Error> RunWriter::Impl::writeScalars()
{
    std::set<std::pair<RunId, std::int64_t>> rewritten;
    for (const PendingScalar &p : scalars) {
        auto key = keyId(p.key);
        if (!key)
            return storeError("cannot intern series name '" + p.key + "'");
        sqlite3_stmt *insert = statements.get(
            "INSERT OR REPLACE INTO scalars (run, key, step, wall_time, value) "
            "VALUES (?1, ?2, ?3, ?4, ?5)");
        sqlite3_stmt *latest = statements.get(
            "INSERT INTO latest (run, key, step, wall_time, value) "
            "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (run, key) DO UPDATE SET "
            "step = excluded.step, wall_time = excluded.wall_time, value = excluded.value "
            "WHERE excluded.step >= latest.step");
        // Every SET expression sees the row as it was, so min and min_step change together.
        sqlite3_stmt *stats = statements.get(
            "INSERT INTO series_stats (run, key, min, min_step, max, max_step) "
            "VALUES (?1, ?2, ?3, ?4, ?3, ?4) ON CONFLICT (run, key) DO UPDATE SET "
            "min = CASE WHEN excluded.min < min THEN excluded.min ELSE min END, "
            "min_step = CASE WHEN excluded.min < min THEN excluded.min_step ELSE min_step END, "
            "max = CASE WHEN excluded.max > max THEN excluded.max ELSE max END, "
            "max_step = CASE WHEN excluded.max > max THEN excluded.max_step ELSE max_step END");
        if (!insert || !latest || !stats)
            return storeError("cannot prepare the scalar insert");
        auto top = topStep(p.run, *key);
        if (!top)
            return storeError("cannot read the last step of '" + p.key + "'");
        for (sqlite3_stmt *stmt : {insert, latest}) {
            sqlite3_bind_int64(stmt, 1, p.run);
            sqlite3_bind_int64(stmt, 2, *key);
            sqlite3_bind_int64(stmt, 3, p.step);
            sqlite3_bind_double(stmt, 4, p.wallTime);
            sqlite3_bind_double(stmt, 5, p.value);
        }
        if (!stepDone(insert))
            return storeError("cannot write scalar '" + p.key + "'");
        if (!stepDone(latest))
            return storeError("cannot update the latest value of '" + p.key + "'");
        if (p.step <= *top) {
            rewritten.insert({p.run, *key});
        } else {
            topSteps[{p.run, *key}] = p.step;
            if (std::isfinite(p.value)) {
                sqlite3_bind_int64(stats, 1, p.run);
                sqlite3_bind_int64(stats, 2, *key);
                sqlite3_bind_double(stats, 3, p.value);
                sqlite3_bind_int64(stats, 4, p.step);
                if (!stepDone(stats))
                    return storeError("cannot update the summary of '" + p.key + "'");
            }
        }
    }
    for (const auto &[run, key] : rewritten)
        if (auto failed = recomputeStats(run, key))
            return failed;
    return std::nullopt;
}

std::optional<Error> RunWriter::Impl::writeDiagnostics()
{
    for (const PendingDiagnostic &d : diagnostics) {
        sqlite3_stmt *insert = statements.get(
            "INSERT OR REPLACE INTO token_diagnostics (run, step, sample, quantity, data, mean) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        if (!insert)
            return storeError("cannot prepare the token diagnostic insert");
        const std::string blob = floatsToBlob(d.values);
        double sum = 0;
        for (float v : d.values)
            sum += v;
        sqlite3_bind_int64(insert, 1, d.run);
        sqlite3_bind_int64(insert, 2, d.step);
        sqlite3_bind_int(insert, 3, d.sample);
        bindText(insert, 4, d.quantity);
        sqlite3_bind_blob(insert, 5, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
        if (d.values.empty())
            sqlite3_bind_null(insert, 6);
        else
            sqlite3_bind_double(insert, 6, sum / static_cast<double>(d.values.size()));
        if (!stepDone(insert))
            return storeError("cannot write token diagnostic '" + d.quantity + "'");
    }
    return std::nullopt;
}

std::optional<Error> RunWriter::Impl::writeSamples()
{
    for (const PendingSample &s : samples) {
        sqlite3_stmt *insert = statements.get(
            "INSERT OR REPLACE INTO samples (run, step, idx, text) VALUES (?1, ?2, ?3, ?4)");
        if (!insert)
            return storeError("cannot prepare the sample insert");
        sqlite3_bind_int64(insert, 1, s.run);
        sqlite3_bind_int64(insert, 2, s.step);
        sqlite3_bind_int(insert, 3, s.idx);
        // Text that is not UTF-8 (a byte-level model's raw output) is kept byte for byte as a
        // BLOB; readers get the same bytes back.
        if (isValidUtf8(s.text))
            bindText(insert, 4, s.text);
        else
            sqlite3_bind_blob(insert, 4, s.text.data(), int(s.text.size()), SQLITE_TRANSIENT);
        if (!stepDone(insert))
            return storeError("cannot write a text sample");
    }
    return std::nullopt;
}

std::optional<Error> RunWriter::Impl::writeCheckpoints()
{
    for (const CheckpointInfo &c : checkpoints) {
        sqlite3_stmt *insert = statements.get(
            "INSERT OR REPLACE INTO checkpoints (run, step, kind, path, created_at) "
            "VALUES (?1, ?2, ?3, ?4, ?5)");
        if (!insert)
            return storeError("cannot prepare the checkpoint insert");
        sqlite3_bind_int64(insert, 1, c.run);
        sqlite3_bind_int64(insert, 2, c.step);
        bindText(insert, 3, c.kind);
        bindText(insert, 4, c.path);
        sqlite3_bind_double(insert, 5, c.createdAt);
        if (!stepDone(insert))
            return storeError("cannot record checkpoint '" + c.path + "'");
    }
    return std::nullopt;
}

std::optional<Error> RunWriter::Impl::writeMeta()
{
    for (const PendingMeta &m : meta) {
        sqlite3_stmt *insert =
            statements.get("INSERT OR REPLACE INTO run_meta (run, key, value) VALUES (?1, ?2, ?3)");
        if (!insert)
            return storeError("cannot prepare the run metadata insert");
        sqlite3_bind_int64(insert, 1, m.run);
        bindText(insert, 2, m.key);
        bindText(insert, 3, m.value);
        if (!stepDone(insert))
            return storeError("cannot write run metadata '" + m.key + "'");
    }
    return std::nullopt;
}

// Progress, heartbeats and status changes in the runs table.
std::optional<Error> RunWriter::Impl::writeRunRows(double now)
{
    for (const auto &[runId, step] : lastSteps) {
        sqlite3_stmt *update = statements.get("UPDATE runs SET last_step = ?2 WHERE id = ?1");
        if (!update)
            return storeError("cannot prepare the progress update");
        sqlite3_bind_int64(update, 1, runId);
        sqlite3_bind_int64(update, 2, step);
        if (!stepDone(update))
            return storeError("cannot update the progress of run " + std::to_string(runId));
    }
    for (RunId runId : openRuns) {
        sqlite3_stmt *update = statements.get("UPDATE runs SET heartbeat_at = ?2 WHERE id = ?1");
        if (!update)
            return storeError("cannot prepare the heartbeat update");
        sqlite3_bind_int64(update, 1, runId);
        sqlite3_bind_double(update, 2, now);
        if (!stepDone(update))
            return storeError("cannot update the heartbeat of run " + std::to_string(runId));
    }
    for (const PendingFinish &f : finishes) {
        sqlite3_stmt *update = statements.get(
            "UPDATE runs SET status = ?2, finished_at = ?3, error = ?4, heartbeat_at = ?5 "
            "WHERE id = ?1");
        if (!update)
            return storeError("cannot prepare the status update");
        sqlite3_bind_int64(update, 1, f.run);
        bindText(update, 2, runStatusName(f.status));
        if (f.status == RunStatus::Running)
            sqlite3_bind_null(update, 3);
        else
            sqlite3_bind_double(update, 3, f.finishedAt);
        bindOptionalText(update, 4, f.error);
        sqlite3_bind_double(update, 5, now);
        if (!stepDone(update))
            return storeError("cannot set the status of run " + std::to_string(f.run));
    }
    return std::nullopt;
}

// After a commit: what was pending is in the file now.
void RunWriter::Impl::forgetWritten()
{
    keyIds.insert(newKeys.begin(), newKeys.end());
    newKeys.clear();
    scalars.clear();
    diagnostics.clear();
    samples.clear();
    checkpoints.clear();
    meta.clear();
    for (const PendingFinish &f : finishes) {
        if (f.status == RunStatus::Running)
            continue;
        openRuns.erase(std::remove(openRuns.begin(), openRuns.end(), f.run), openRuns.end());
        lastSteps.erase(f.run);
    }
    finishes.clear();
    // Progress of runs this writer does not hold open was written once; drop it.
    for (auto it = lastSteps.begin(); it != lastSteps.end();)
        it = isOpen(it->first) ? std::next(it) : lastSteps.erase(it);
}

Status RunWriter::Impl::flush(double now)
{
    newKeys.clear();
    Transaction tx(db.get());
    if (!tx.began())
        return storeError("cannot start a write transaction");
    for (auto write : {&Impl::writeScalars, &Impl::writeDiagnostics, &Impl::writeSamples,
                       &Impl::writeCheckpoints, &Impl::writeMeta})
        if (auto error = (this->*write)())
            return *error;
    if (auto error = writeRunRows(now))
        return *error;
    if (!tx.commit())
        return storeError("cannot commit buffered rows");
    forgetWritten();
    return okStatus();
}

// ---------------------------------------------------------------------------------------------

RunWriter::RunWriter(std::unique_ptr<Impl> impl)
    : m_impl(std::move(impl))
{}

Result<std::unique_ptr<RunWriter>> RunWriter::open(const std::string &path)
{
    auto db = openWritable(path, true);
    if (!db)
        return db.error();
    auto impl = std::make_unique<Impl>(std::move(db.value()), path);
    impl->lastFlush = steadyNow();
    return std::unique_ptr<RunWriter>(new RunWriter(std::move(impl)));
}

RunWriter::~RunWriter()
{
    // Best effort: the rows are the run's history. Open runs stay 'running'; the owner
    // finishes them, and a dead writer shows up through its heartbeat.
    if (pendingCount() > 0 || !m_impl->openRuns.empty()) {
        if (auto flushed = flush(); !flushed)
            spdlog::error("run store: {} rows could not be written on close: {}", pendingCount(),
                          flushed.error().message);
    }
}

const std::string &RunWriter::path() const
{
    return m_impl->path;
}

Result<RunId> RunWriter::createRun(const NewRun &run)
{
    Impl &d = *m_impl;
    sqlite3_stmt *stmt = d.statements.get(
        "INSERT INTO runs (name, status, template, graph_json, device, threads, seed, "
        "steps_total, last_step, created_at, finished_at, heartbeat_at, pid, host, error, group_name) "
        "VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, NULL, ?8, ?9, ?10, NULL, ?11)");
    if (!stmt)
        return d.storeError("cannot prepare the run insert");
    bindText(stmt, 1, run.name);
    bindText(stmt, 2, run.templateName);
    bindText(stmt, 3, run.graphJson);
    bindText(stmt, 4, run.device);
    sqlite3_bind_int(stmt, 5, run.threads);
    sqlite3_bind_int64(stmt, 6, run.seed);
    sqlite3_bind_int64(stmt, 7, run.stepsTotal);
    sqlite3_bind_double(stmt, 8, unixNow());
    sqlite3_bind_int64(stmt, 9, static_cast<std::int64_t>(getpid()));
    bindText(stmt, 10, hostName());
    bindOptionalText(stmt, 11, run.group);
    if (!stepDone(stmt))
        return d.storeError("cannot create run '" + run.name + "'");
    const RunId id = sqlite3_last_insert_rowid(d.db.get());
    d.openRuns.push_back(id);
    d.lastSteps[id] = 0;
    return id;
}

Status RunWriter::reopenRun(RunId run)
{
    Impl &d = *m_impl;
    const std::string name = "run " + std::to_string(run);
    // Read and claim under one write lock: a second claimer waits, then sees this one's claim.
    Transaction tx(d.db.get());
    if (!tx.began())
        return d.storeError("cannot lock the store to claim " + name);
    auto selected = selectRun(d.db.get(), d.path, run);
    if (!selected.ok())
        return selected.error();
    RunInfo before = std::move(selected).value();
    if (auto active = activeWriter(d.path, before, 30.0,
                                   "only one process can write a run (stop that one first)"))
        return *active;
    if (before.status == RunStatus::Running) { // its writer is gone: it was interrupted
        before.status = RunStatus::Interrupted;
        before.error = interruptedMessage(before);
    }
    sqlite3_stmt *stmt = d.statements.get(
        "UPDATE runs SET status = 'running', error = NULL, finished_at = NULL, pid = ?2, "
        "host = ?3, heartbeat_at = ?4 WHERE id = ?1");
    if (!stmt)
        return d.storeError("cannot prepare the run update");
    sqlite3_bind_int64(stmt, 1, run);
    sqlite3_bind_int64(stmt, 2, static_cast<std::int64_t>(getpid()));
    bindText(stmt, 3, hostName());
    sqlite3_bind_double(stmt, 4, unixNow());
    if (!stepDone(stmt) || !tx.commit())
        return d.storeError("cannot reopen " + name);
    // A finish still pending from before would close the run again at the next flush.
    d.finishes.erase(std::remove_if(d.finishes.begin(), d.finishes.end(),
                                    [run](const PendingFinish &f) { return f.run == run; }),
                     d.finishes.end());
    if (!d.isOpen(run))
        d.openRuns.push_back(run);
    d.lastSteps[run] = before.lastStep;
    d.beforeReopen[run] = before;
    return okStatus();
}

Status RunWriter::releaseRun(RunId run)
{
    Impl &d = *m_impl;
    const auto it = d.beforeReopen.find(run);
    if (it == d.beforeReopen.end())
        return Status::failure(errc::kInternal, "run " + std::to_string(run) +
                                                    " was not reopened by this writer");
    const RunInfo before = it->second;
    if (auto flushed = flush(); !flushed.ok())
        return flushed;
    sqlite3_stmt *stmt = d.statements.get(
        "UPDATE runs SET status = ?2, error = ?3, finished_at = ?4, last_step = ?5 WHERE id = ?1");
    if (!stmt)
        return d.storeError("cannot prepare the run update");
    sqlite3_bind_int64(stmt, 1, run);
    bindText(stmt, 2, runStatusName(before.status));
    if (before.error.empty())
        sqlite3_bind_null(stmt, 3);
    else
        bindText(stmt, 3, before.error);
    if (before.finishedAt > 0)
        sqlite3_bind_double(stmt, 4, before.finishedAt);
    else
        sqlite3_bind_null(stmt, 4);
    sqlite3_bind_int64(stmt, 5, before.lastStep);
    if (!stepDone(stmt))
        return d.storeError("cannot give run " + std::to_string(run) + " back");
    d.openRuns.erase(std::remove(d.openRuns.begin(), d.openRuns.end(), run), d.openRuns.end());
    d.lastSteps.erase(run);
    d.beforeReopen.erase(it);
    return okStatus();
}

void RunWriter::addScalar(RunId run, const std::string &key, std::int64_t step, double value)
{
    m_impl->scalars.push_back(PendingScalar{run, key, step, unixNow(), value});
    // teacher/ series count the teacher phase's own steps, not the run's.
    if (key.rfind("teacher/", 0) == 0)
        return;
    auto it = m_impl->lastSteps.find(run);
    if (it != m_impl->lastSteps.end() && step > it->second)
        it->second = step;
}

void RunWriter::setLastStep(RunId run, std::int64_t step)
{
    m_impl->lastSteps[run] = step;
}

void RunWriter::addTokenDiagnostic(RunId run, std::int64_t step, int sample,
                                   const std::string &quantity, const std::vector<float> &values)
{
    m_impl->diagnostics.push_back(PendingDiagnostic{run, step, sample, quantity, values});
}

void RunWriter::addSample(RunId run, std::int64_t step, int idx, const std::string &text)
{
    m_impl->samples.push_back(PendingSample{run, step, idx, text});
}

Status RunWriter::addCheckpoint(const CheckpointInfo &checkpoint)
{
    CheckpointInfo row = checkpoint;
    row.path = storeRelativePath(m_impl->path, row.path);
    if (row.createdAt <= 0)
        row.createdAt = unixNow();
    m_impl->checkpoints.push_back(row);
    return flush();
}

Status RunWriter::setRunMeta(RunId run, const std::string &key, const std::string &value)
{
    m_impl->meta.push_back(PendingMeta{run, key, value});
    return flush();
}

std::size_t RunWriter::pendingCount() const
{
    const Impl &d = *m_impl;
    return d.scalars.size() + d.diagnostics.size() + d.samples.size() + d.checkpoints.size()
           + d.meta.size() + d.finishes.size();
}

Status RunWriter::maybeFlush(double intervalSeconds)
{
    if (steadyNow() - m_impl->lastFlush < intervalSeconds)
        return okStatus();
    return flush();
}

Status RunWriter::flush()
{
    // Retries follow the flush interval even after a failure, so a locked or full disk does
    // not turn every maybeFlush() into a busy wait.
    m_impl->lastFlush = steadyNow();
    return m_impl->flush(unixNow());
}

Status RunWriter::finishRun(RunId run, RunStatus status, const std::string &error)
{
    m_impl->finishes.push_back(PendingFinish{run, status, error, unixNow()});
    return flush();
}

Status RunWriter::discardAfter(RunId run, std::int64_t step, const std::string &keepPrefix)
{
    if (auto flushed = flush(); !flushed)
        return flushed;
    Impl &d = *m_impl;
    Transaction tx(d.db.get());
    if (!tx.began())
        return d.storeError("cannot start a write transaction");
    static const char *statements[] = {
        "DELETE FROM scalars WHERE run = ?1 AND step > ?2 AND key NOT IN "
        "(SELECT id FROM keys WHERE ?3 <> '' AND substr(name, 1, length(?3)) = ?3)",
        "DELETE FROM token_diagnostics WHERE run = ?1 AND step > ?2",
        "DELETE FROM samples WHERE run = ?1 AND step > ?2",
        "DELETE FROM latest WHERE run = ?1",
        // Rebuild from history: for each key, the row at its highest remaining step.
        "INSERT INTO latest (run, key, step, wall_time, value) "
        "SELECT s.run, s.key, s.step, s.wall_time, s.value FROM scalars s "
        "WHERE s.run = ?1 AND s.step = (SELECT MAX(step) FROM scalars t "
        "WHERE t.run = s.run AND t.key = s.key)",
        "DELETE FROM series_stats WHERE run = ?1",
        "INSERT INTO series_stats (run, key, min, min_step, max, max_step) "
        "SELECT run, key, MIN(value), NULL, MAX(value), NULL FROM scalars WHERE run = ?1 "
        "AND value IS NOT NULL AND abs(value) <= 1.7976931348623157e308 GROUP BY run, key",
        "UPDATE series_stats SET "
        "min_step = (SELECT MIN(s.step) FROM scalars s WHERE s.run = series_stats.run "
        "AND s.key = series_stats.key AND s.value = series_stats.min), "
        "max_step = (SELECT MIN(s.step) FROM scalars s WHERE s.run = series_stats.run "
        "AND s.key = series_stats.key AND s.value = series_stats.max) WHERE run = ?1",
        "UPDATE runs SET last_step = ?2 WHERE id = ?1",
    };
    for (const char *sql : statements) {
        Statement query(d.db.get(), sql);
        if (!query.ok())
            return d.storeError("cannot prepare the resume cleanup");
        sqlite3_bind_int64(query.get(), 1, run);
        if (sqlite3_bind_parameter_count(query.get()) >= 2)
            sqlite3_bind_int64(query.get(), 2, step);
        if (sqlite3_bind_parameter_count(query.get()) >= 3)
            bindText(query.get(), 3, keepPrefix);
        if (sqlite3_step(query.get()) != SQLITE_DONE)
            return d.storeError("cannot discard the rows of run " + std::to_string(run) + " after step "
                             + std::to_string(step));
    }
    if (!tx.commit())
        return d.storeError("cannot commit the resume cleanup");
    if (d.lastSteps.count(run))
        d.lastSteps[run] = step;
    for (auto it = d.topSteps.begin(); it != d.topSteps.end();)
        it = it->first.first == run ? d.topSteps.erase(it) : std::next(it);
    return okStatus();
}

} // namespace distillery::core
