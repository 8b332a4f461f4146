#include "distillery/core/store.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>
#include <set>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace distillery::core {

namespace {

constexpr int kBusyTimeoutMs = 5000;

// Migration i (0-based) brings user_version i to i + 1, inside one transaction. Never edit a
// released entry: append a new one and bump kStoreSchemaVersion. Comments inside the CREATE
// statements are kept by SQLite, so `.schema` in the sqlite3 shell shows them.
const std::vector<const char *> &migrations()
{
    static const std::vector<const char *> scripts = {
        // 0 -> 1: the initial schema.
        R"sql(
CREATE TABLE runs (          -- one row per training run
    id INTEGER PRIMARY KEY,
    name TEXT,               -- display name, editable
    status TEXT,             -- running | finished | failed | cancelled | interrupted
    template TEXT,           -- template the graph came from, if any
    graph_json TEXT,         -- the experiment graph as run (distillery.graph JSON)
    device TEXT,             -- cpu | cuda | cuda:N
    threads INTEGER,         -- CPU threads given to the run
    seed INTEGER,
    steps_total INTEGER,     -- planned optimizer steps
    last_step INTEGER,       -- last step reached (updated on every flush)
    created_at REAL,         -- unix seconds
    finished_at REAL,        -- unix seconds; NULL while running
    heartbeat_at REAL,       -- unix seconds of the writer's last flush
    pid INTEGER,             -- writer process id
    host TEXT,               -- writer host name
    error TEXT               -- why it failed or was interrupted; NULL otherwise
);
CREATE TABLE keys (          -- interned series names, e.g. 'train/loss', 'eval/student_nll'
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE
);
CREATE TABLE scalars (       -- the scalar series: one value per (run, key, step)
    run INTEGER,             -- runs.id
    key INTEGER,             -- keys.id
    step INTEGER,
    wall_time REAL,          -- unix seconds when the value was produced
    value REAL,              -- NULL stands for NaN
    PRIMARY KEY (run, key, step)
) WITHOUT ROWID;
-- The row at the highest step of each (run, key), written in the same transaction as
-- scalars, so run lists never scan history.
CREATE TABLE latest (        -- last value of every series
    run INTEGER,
    key INTEGER,
    step INTEGER,
    wall_time REAL,
    value REAL,
    PRIMARY KEY (run, key)
) WITHOUT ROWID;
CREATE TABLE checkpoints (   -- files written during a run
    run INTEGER,
    step INTEGER,
    kind TEXT,               -- student (full training state) | teacher (a frozen teacher)
    path TEXT,
    created_at REAL,
    PRIMARY KEY (run, kind, step)
) WITHOUT ROWID;
CREATE TABLE run_meta (      -- free-form strings per run (artifact paths, final summary)
    run INTEGER,
    key TEXT,
    value TEXT,
    PRIMARY KEY (run, key)
) WITHOUT ROWID;
CREATE TABLE token_diagnostics ( -- per-position diagnostics of one probe sample
    run INTEGER,
    step INTEGER,
    sample INTEGER,          -- index of the probe sequence
    quantity TEXT,           -- e.g. kl, top1_agree, student_entropy, grad_cosine
    data BLOB,               -- float32 little-endian, one value per position
    mean REAL,               -- mean over positions (NULL if empty or NaN)
    PRIMARY KEY (run, step, sample, quantity)
) WITHOUT ROWID;
CREATE INDEX token_diagnostics_by_quantity ON token_diagnostics (run, quantity, step);
CREATE TABLE samples (       -- generated text
    run INTEGER,
    step INTEGER,
    idx INTEGER,
    text TEXT,
    PRIMARY KEY (run, step, idx)
) WITHOUT ROWID;
)sql",
    };
    return scripts;
}

double unixNow()
{
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

double steadyNow()
{
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

const std::string &hostName()
{
    static const std::string name = [] {
        char buffer[256] = {};
        if (gethostname(buffer, sizeof(buffer) - 1) != 0)
            return std::string();
        return std::string(buffer);
    }();
    return name;
}

bool processAlive(std::int64_t pid)
{
    if (pid <= 0)
        return true; // unknown: only the heartbeat can tell
    // EPERM means it exists but belongs to someone else.
    return !(kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH);
}

std::string isoTime(double unixSeconds)
{
    std::time_t t = static_cast<std::time_t>(unixSeconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

bool fileExists(const std::string &path)
{
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

std::string dbMessage(sqlite3 *db)
{
    return db ? sqlite3_errmsg(db) : "out of memory";
}

Error sqlFailure(sqlite3 *db, const std::string &path, const std::string &what)
{
    const int code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;
    std::string errorCode = "store.sql";
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        errorCode = "store.busy";
    else if (code == SQLITE_FULL)
        errorCode = "store.full";
    else if (code == SQLITE_NOTADB)
        errorCode = "store.not_sqlite";
    return Error{errorCode, path + ": " + what + " (" + dbMessage(db) + ")"};
}

bool exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

void rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
}

// A statement prepared for one query (readers and rare writes).
class Query
{
public:
    Query(sqlite3 *db, const char *sql)
    {
        m_rc = sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr);
    }
    ~Query() { sqlite3_finalize(m_stmt); }
    Query(const Query &) = delete;
    Query &operator=(const Query &) = delete;
    bool ok() const { return m_rc == SQLITE_OK; }
    sqlite3_stmt *get() const { return m_stmt; }

private:
    sqlite3_stmt *m_stmt = nullptr;
    int m_rc = SQLITE_OK;
};

void bindText(sqlite3_stmt *stmt, int index, const std::string &text)
{
    sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void bindOptionalText(sqlite3_stmt *stmt, int index, const std::string &text)
{
    if (text.empty())
        sqlite3_bind_null(stmt, index);
    else
        bindText(stmt, index, text);
}

std::string columnText(sqlite3_stmt *stmt, int column)
{
    const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(stmt, column));
    return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, column)))
                : std::string();
}

// SQLite turns NaN into NULL on the way in; turn it back.
double columnValue(sqlite3_stmt *stmt, int column)
{
    if (sqlite3_column_type(stmt, column) == SQLITE_NULL)
        return std::numeric_limits<double>::quiet_NaN();
    return sqlite3_column_double(stmt, column);
}

bool littleEndian()
{
    const std::uint32_t one = 1;
    unsigned char first;
    std::memcpy(&first, &one, 1);
    return first == 1;
}

std::string floatsToBlob(const std::vector<float> &values)
{
    std::string blob(values.size() * sizeof(float), '\0');
    if (!values.empty())
        std::memcpy(blob.data(), values.data(), blob.size());
    if (!littleEndian()) {
        for (std::size_t i = 0; i < blob.size(); i += 4) {
            std::swap(blob[i], blob[i + 3]);
            std::swap(blob[i + 1], blob[i + 2]);
        }
    }
    return blob;
}

std::vector<float> blobToFloats(const void *data, int bytes)
{
    std::vector<float> values(static_cast<std::size_t>(bytes) / sizeof(float));
    if (values.empty())
        return values;
    std::string blob(static_cast<const char *>(data), values.size() * sizeof(float));
    if (!littleEndian()) {
        for (std::size_t i = 0; i < blob.size(); i += 4) {
            std::swap(blob[i], blob[i + 3]);
            std::swap(blob[i + 1], blob[i + 2]);
        }
    }
    std::memcpy(values.data(), blob.data(), blob.size());
    return values;
}

Result<int> readUserVersion(sqlite3 *db, const std::string &path)
{
    Query query(db, "PRAGMA user_version");
    if (!query.ok() || sqlite3_step(query.get()) != SQLITE_ROW) {
        if (sqlite3_errcode(db) == SQLITE_NOTADB)
            return Error{"store.not_sqlite",
                         path + ": not an SQLite database (expected a Distillery run store)"};
        return sqlFailure(db, path, "cannot read the schema version");
    }
    return sqlite3_column_int(query.get(), 0);
}

Error newerSchemaError(const std::string &path, int version)
{
    return Error{"store.newer_schema",
                 path + ": run store schema version " + std::to_string(version) +
                     " is newer than this build supports (" + std::to_string(kStoreSchemaVersion) +
                     "); open it with a newer Distillery"};
}

// Brings the file to kStoreSchemaVersion, one migration per transaction.
Status migrate(sqlite3 *db, const std::string &path)
{
    const auto &scripts = migrations();
    for (;;) {
        if (!exec(db, "BEGIN IMMEDIATE"))
            return sqlFailure(db, path, "cannot lock the store to check its schema");
        // Read inside the write lock: another writer may have migrated meanwhile.
        auto version = readUserVersion(db, path);
        if (!version) {
            rollback(db);
            return version.error();
        }
        if (*version > kStoreSchemaVersion) {
            rollback(db);
            return newerSchemaError(path, *version);
        }
        if (*version == kStoreSchemaVersion) {
            exec(db, "COMMIT");
            return okStatus();
        }
        const int target = *version + 1;
        if (!exec(db, scripts[static_cast<std::size_t>(*version)])) {
            Error error = sqlFailure(
                db, path, "schema migration to version " + std::to_string(target) + " failed");
            rollback(db);
            return error;
        }
        const std::string setVersion = "PRAGMA user_version = " + std::to_string(target);
        if (!exec(db, setVersion.c_str()) || !exec(db, "COMMIT")) {
            Error error =
                sqlFailure(db, path, "cannot commit schema version " + std::to_string(target));
            rollback(db);
            return error;
        }
        spdlog::debug("{}: run store migrated to schema version {}", path, target);
    }
}

// Opens a connection for writing (WAL, synchronous=NORMAL, busy timeout) and migrates it.
// Opens a connection with the busy timeout and refuses a schema newer than this program's.
// Gives the schema version it found beside the connection.
Result<std::pair<sqlite3 *, int>> openChecked(const std::string &path, int flags, const char *purpose)
{
    sqlite3 *db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
        Error error = sqlFailure(db, path, std::string("cannot open the run store for ") + purpose);
        sqlite3_close(db);
        return error;
    }
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    auto version = readUserVersion(db, path);
    if (!version) {
        sqlite3_close(db);
        return version.error();
    }
    if (*version > kStoreSchemaVersion) {
        sqlite3_close(db);
        return newerSchemaError(path, *version);
    }
    return std::make_pair(db, *version);
}

Result<sqlite3 *> openWritable(const std::string &path, bool create)
{
    if (!create && !fileExists(path))
        return Error{"store.not_found", path + ": run store not found"};
    auto opened = openChecked(
        path, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0), "writing");
    if (!opened)
        return opened.error();
    sqlite3 *db = opened->first;
    std::optional<std::string> journalMode;
    {
        Query query(db, "PRAGMA journal_mode = WAL");
        if (query.ok() && sqlite3_step(query.get()) == SQLITE_ROW)
            journalMode = columnText(query.get(), 0);
    }
    if (!journalMode) {
        Error error = sqlFailure(db, path, "cannot switch the store to WAL mode");
        sqlite3_close(db);
        return error;
    }
    if (*journalMode != "wal")
        spdlog::warn("{}: WAL mode unavailable on this file system (journal mode {}); readers "
                     "may wait on the writer",
                     path, *journalMode);
    if (!exec(db, "PRAGMA synchronous = NORMAL")) {
        Error error = sqlFailure(db, path, "cannot set synchronous = NORMAL");
        sqlite3_close(db);
        return error;
    }
    if (auto migrated = migrate(db, path); !migrated) {
        sqlite3_close(db);
        return migrated.error();
    }
    return db;
}

constexpr const char *kRunColumns =
    "id, name, status, template, graph_json, device, threads, seed, steps_total, last_step, "
    "created_at, finished_at, heartbeat_at, pid, host, error";

RunInfo readRun(sqlite3_stmt *stmt)
{
    RunInfo info;
    info.id = sqlite3_column_int64(stmt, 0);
    info.name = columnText(stmt, 1);
    info.status = runStatusFromName(columnText(stmt, 2)).value_or(RunStatus::Failed);
    info.templateName = columnText(stmt, 3);
    info.graphJson = columnText(stmt, 4);
    info.device = columnText(stmt, 5);
    info.threads = sqlite3_column_int(stmt, 6);
    info.seed = sqlite3_column_int64(stmt, 7);
    info.stepsTotal = sqlite3_column_int64(stmt, 8);
    info.lastStep = sqlite3_column_int64(stmt, 9);
    info.createdAt = sqlite3_column_double(stmt, 10);
    info.finishedAt = sqlite3_column_double(stmt, 11);
    info.heartbeatAt = sqlite3_column_double(stmt, 12);
    info.pid = sqlite3_column_int64(stmt, 13);
    info.host = columnText(stmt, 14);
    info.error = columnText(stmt, 15);
    return info;
}

// A run marked running whose writer is gone: same host and dead pid, or a stale heartbeat.
bool writerGone(const RunInfo &info, double staleSeconds, double now)
{
    if (info.status != RunStatus::Running)
        return false;
    if (!info.host.empty() && info.host == hostName() && !processAlive(info.pid))
        return true;
    return now - info.heartbeatAt > staleSeconds;
}

std::string interruptedMessage(const RunInfo &info)
{
    const double since = info.heartbeatAt > 0 ? info.heartbeatAt : info.createdAt;
    return "the writing process stopped without finishing the run (no heartbeat since " +
           isoTime(since) + ")";
}

Error noSuchRun(const std::string &path, RunId run)
{
    return Error{"store.no_such_run", path + ": no run with id " + std::to_string(run)};
}

} // namespace

std::string runStatusName(RunStatus status)
{
    switch (status) {
    case RunStatus::Running:
        return "running";
    case RunStatus::Finished:
        return "finished";
    case RunStatus::Failed:
        return "failed";
    case RunStatus::Cancelled:
        return "cancelled";
    case RunStatus::Interrupted:
        return "interrupted";
    }
    return "failed";
}

std::optional<RunStatus> runStatusFromName(const std::string &name)
{
    for (RunStatus status : {RunStatus::Running, RunStatus::Finished, RunStatus::Failed,
                             RunStatus::Cancelled, RunStatus::Interrupted}) {
        if (runStatusName(status) == name)
            return status;
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// RunWriter

Result<std::unique_ptr<RunWriter>> RunWriter::open(const std::string &path)
{
    auto db = openWritable(path, true);
    if (!db)
        return db.error();
    std::unique_ptr<RunWriter> writer(new RunWriter());
    writer->m_db = *db;
    writer->m_path = path;
    writer->m_lastFlush = steadyNow();
    return writer;
}

RunWriter::~RunWriter()
{
    if (!m_db)
        return;
    // Best effort: the rows are the run's history. Open runs stay 'running'; the owner
    // finishes them, and a dead writer shows up through its heartbeat.
    if (pendingCount() > 0 || !m_openRuns.empty()) {
        if (auto flushed = flush(); !flushed)
            spdlog::error("run store: {} rows could not be written on close: {}", pendingCount(),
                          flushed.error().message);
    }
    for (auto &entry : m_statements)
        sqlite3_finalize(entry.second);
    m_statements.clear();
    sqlite3_close(m_db);
}

std::string RunWriter::sqlError(const std::string &what) const
{
    return m_path + ": " + what + " (" + dbMessage(m_db) + ")";
}

sqlite3_stmt *RunWriter::statement(const char *sql)
{
    auto it = m_statements.find(sql);
    if (it != m_statements.end()) {
        sqlite3_reset(it->second);
        sqlite3_clear_bindings(it->second);
        return it->second;
    }
    sqlite3_stmt *stmt = nullptr;
    if (sqlite3_prepare_v3(m_db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return nullptr;
    }
    m_statements.emplace(sql, stmt);
    return stmt;
}

Result<RunId> RunWriter::createRun(const NewRun &run)
{
    sqlite3_stmt *stmt = statement(
        "INSERT INTO runs (name, status, template, graph_json, device, threads, seed, "
        "steps_total, last_step, created_at, finished_at, heartbeat_at, pid, host, error) "
        "VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, NULL, ?8, ?9, ?10, NULL)");
    if (!stmt)
        return sqlFailure(m_db, m_path, "cannot prepare the run insert");
    const double now = unixNow();
    bindText(stmt, 1, run.name);
    bindText(stmt, 2, run.templateName);
    bindText(stmt, 3, run.graphJson);
    bindText(stmt, 4, run.device);
    sqlite3_bind_int(stmt, 5, run.threads);
    sqlite3_bind_int64(stmt, 6, run.seed);
    sqlite3_bind_int64(stmt, 7, run.stepsTotal);
    sqlite3_bind_double(stmt, 8, now);
    sqlite3_bind_int64(stmt, 9, static_cast<std::int64_t>(getpid()));
    bindText(stmt, 10, hostName());
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return sqlFailure(m_db, m_path, "cannot create run '" + run.name + "'");
    const RunId id = sqlite3_last_insert_rowid(m_db);
    m_openRuns.push_back(id);
    m_lastSteps[id] = 0;
    return id;
}

Status RunWriter::reopenRun(RunId run)
{
    std::int64_t lastStep = 0;
    {
        Query query(m_db, "SELECT last_step FROM runs WHERE id = ?1");
        if (!query.ok())
            return sqlFailure(m_db, m_path, "cannot read run " + std::to_string(run));
        sqlite3_bind_int64(query.get(), 1, run);
        const int rc = sqlite3_step(query.get());
        if (rc == SQLITE_DONE)
            return noSuchRun(m_path, run);
        if (rc != SQLITE_ROW)
            return sqlFailure(m_db, m_path, "cannot read run " + std::to_string(run));
        lastStep = sqlite3_column_int64(query.get(), 0);
    }
    sqlite3_stmt *stmt =
        statement("UPDATE runs SET status = 'running', error = NULL, finished_at = NULL, pid = ?2, "
                  "host = ?3, heartbeat_at = ?4 WHERE id = ?1");
    if (!stmt)
        return sqlFailure(m_db, m_path, "cannot prepare the run update");
    sqlite3_bind_int64(stmt, 1, run);
    sqlite3_bind_int64(stmt, 2, static_cast<std::int64_t>(getpid()));
    bindText(stmt, 3, hostName());
    sqlite3_bind_double(stmt, 4, unixNow());
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return sqlFailure(m_db, m_path, "cannot reopen run " + std::to_string(run));
    // A finish still pending from before would close the run again at the next flush.
    m_pendingFinishes.erase(std::remove_if(m_pendingFinishes.begin(), m_pendingFinishes.end(),
                                           [run](const PendingFinish &f) { return f.run == run; }),
                            m_pendingFinishes.end());
    if (std::find(m_openRuns.begin(), m_openRuns.end(), run) == m_openRuns.end())
        m_openRuns.push_back(run);
    m_lastSteps[run] = lastStep;
    return okStatus();
}

void RunWriter::addScalar(RunId run, const std::string &key, std::int64_t step, double value)
{
    m_pending.push_back(Pending{run, key, step, unixNow(), value});
    auto it = m_lastSteps.find(run);
    if (it != m_lastSteps.end() && step > it->second)
        it->second = step;
}

void RunWriter::setLastStep(RunId run, std::int64_t step)
{
    m_lastSteps[run] = step;
}

void RunWriter::addTokenDiagnostic(RunId run, std::int64_t step, int sample,
                                   const std::string &quantity, const std::vector<float> &values)
{
    m_pendingDiagnostics.push_back(PendingDiagnostic{run, step, sample, quantity, values});
}

void RunWriter::addSample(RunId run, std::int64_t step, int idx, const std::string &text)
{
    m_pendingSamples.push_back(PendingSample{run, step, idx, text});
}

Status RunWriter::addCheckpoint(const CheckpointInfo &checkpoint)
{
    CheckpointInfo row = checkpoint;
    if (row.createdAt <= 0)
        row.createdAt = unixNow();
    m_pendingCheckpoints.push_back(row);
    return flush();
}

Status RunWriter::setRunMeta(RunId run, const std::string &key, const std::string &value)
{
    m_pendingMeta.push_back(PendingMeta{run, key, value});
    return flush();
}

std::size_t RunWriter::pendingCount() const
{
    return m_pending.size() + m_pendingDiagnostics.size() + m_pendingSamples.size() +
           m_pendingCheckpoints.size() + m_pendingMeta.size() + m_pendingFinishes.size();
}

Status RunWriter::maybeFlush(double intervalSeconds)
{
    if (steadyNow() - m_lastFlush < intervalSeconds)
        return okStatus();
    return flush();
}

Status RunWriter::flush()
{
    // Retries follow the flush interval even after a failure, so a locked or full disk does
    // not turn every maybeFlush() into a busy wait.
    m_lastFlush = steadyNow();
    return flushLocked(unixNow());
}

// Writes everything pending in one transaction. On any failure the transaction is rolled back
// and every pending row stays buffered for the next attempt.
Status RunWriter::flushLocked(double now)
{
    if (!exec(m_db, "BEGIN IMMEDIATE"))
        return sqlFailure(m_db, m_path, "cannot start a write transaction");

    auto fail = [this](const std::string &what) -> Status {
        Error error = sqlFailure(m_db, m_path, what);
        rollback(m_db);
        return error;
    };
    auto run = [](sqlite3_stmt *stmt) {
        const int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        return rc == SQLITE_DONE;
    };

    // Key ids created in this transaction join the cache only once it commits.
    std::map<std::string, std::int64_t> newKeys;
    auto keyId = [&](const std::string &name) -> std::optional<std::int64_t> {
        if (auto it = m_keyIds.find(name); it != m_keyIds.end())
            return it->second;
        if (auto it = newKeys.find(name); it != newKeys.end())
            return it->second;
        sqlite3_stmt *select = statement("SELECT id FROM keys WHERE name = ?1");
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
        sqlite3_stmt *insert = statement("INSERT INTO keys (name) VALUES (?1)");
        if (!insert)
            return std::nullopt;
        bindText(insert, 1, name);
        if (!run(insert))
            return std::nullopt;
        const std::int64_t id = sqlite3_last_insert_rowid(m_db);
        newKeys[name] = id;
        return id;
    };

    for (const Pending &p : m_pending) {
        auto key = keyId(p.key);
        if (!key)
            return fail("cannot intern series name '" + p.key + "'");
        sqlite3_stmt *insert =
            statement("INSERT OR REPLACE INTO scalars (run, key, step, wall_time, value) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)");
        if (!insert)
            return fail("cannot prepare the scalar insert");
        sqlite3_bind_int64(insert, 1, p.run);
        sqlite3_bind_int64(insert, 2, *key);
        sqlite3_bind_int64(insert, 3, p.step);
        sqlite3_bind_double(insert, 4, p.wallTime);
        sqlite3_bind_double(insert, 5, p.value);
        if (!run(insert))
            return fail("cannot write scalar '" + p.key + "'");
        sqlite3_stmt *latest = statement(
            "INSERT INTO latest (run, key, step, wall_time, value) "
            "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (run, key) DO UPDATE SET "
            "step = excluded.step, wall_time = excluded.wall_time, value = excluded.value "
            "WHERE excluded.step >= latest.step");
        if (!latest)
            return fail("cannot prepare the latest-value update");
        sqlite3_bind_int64(latest, 1, p.run);
        sqlite3_bind_int64(latest, 2, *key);
        sqlite3_bind_int64(latest, 3, p.step);
        sqlite3_bind_double(latest, 4, p.wallTime);
        sqlite3_bind_double(latest, 5, p.value);
        if (!run(latest))
            return fail("cannot update the latest value of '" + p.key + "'");
    }

    for (const PendingDiagnostic &d : m_pendingDiagnostics) {
        sqlite3_stmt *insert = statement(
            "INSERT OR REPLACE INTO token_diagnostics (run, step, sample, quantity, data, mean) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        if (!insert)
            return fail("cannot prepare the token diagnostic insert");
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
        if (!run(insert))
            return fail("cannot write token diagnostic '" + d.quantity + "'");
    }

    for (const PendingSample &s : m_pendingSamples) {
        sqlite3_stmt *insert = statement(
            "INSERT OR REPLACE INTO samples (run, step, idx, text) VALUES (?1, ?2, ?3, ?4)");
        if (!insert)
            return fail("cannot prepare the sample insert");
        sqlite3_bind_int64(insert, 1, s.run);
        sqlite3_bind_int64(insert, 2, s.step);
        sqlite3_bind_int(insert, 3, s.idx);
        bindText(insert, 4, s.text);
        if (!run(insert))
            return fail("cannot write a text sample");
    }

    for (const CheckpointInfo &c : m_pendingCheckpoints) {
        sqlite3_stmt *insert =
            statement("INSERT OR REPLACE INTO checkpoints (run, step, kind, path, created_at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)");
        if (!insert)
            return fail("cannot prepare the checkpoint insert");
        sqlite3_bind_int64(insert, 1, c.run);
        sqlite3_bind_int64(insert, 2, c.step);
        bindText(insert, 3, c.kind);
        bindText(insert, 4, c.path);
        sqlite3_bind_double(insert, 5, c.createdAt);
        if (!run(insert))
            return fail("cannot record checkpoint '" + c.path + "'");
    }

    for (const PendingMeta &m : m_pendingMeta) {
        sqlite3_stmt *insert =
            statement("INSERT OR REPLACE INTO run_meta (run, key, value) VALUES (?1, ?2, ?3)");
        if (!insert)
            return fail("cannot prepare the run metadata insert");
        sqlite3_bind_int64(insert, 1, m.run);
        bindText(insert, 2, m.key);
        bindText(insert, 3, m.value);
        if (!run(insert))
            return fail("cannot write run metadata '" + m.key + "'");
    }

    for (const auto &[runId, step] : m_lastSteps) {
        sqlite3_stmt *update = statement("UPDATE runs SET last_step = ?2 WHERE id = ?1");
        if (!update)
            return fail("cannot prepare the progress update");
        sqlite3_bind_int64(update, 1, runId);
        sqlite3_bind_int64(update, 2, step);
        if (!run(update))
            return fail("cannot update the progress of run " + std::to_string(runId));
    }

    for (RunId runId : m_openRuns) {
        sqlite3_stmt *update = statement("UPDATE runs SET heartbeat_at = ?2 WHERE id = ?1");
        if (!update)
            return fail("cannot prepare the heartbeat update");
        sqlite3_bind_int64(update, 1, runId);
        sqlite3_bind_double(update, 2, now);
        if (!run(update))
            return fail("cannot update the heartbeat of run " + std::to_string(runId));
    }

    for (const PendingFinish &f : m_pendingFinishes) {
        sqlite3_stmt *update = statement(
            "UPDATE runs SET status = ?2, finished_at = ?3, error = ?4, heartbeat_at = ?5 "
            "WHERE id = ?1");
        if (!update)
            return fail("cannot prepare the status update");
        sqlite3_bind_int64(update, 1, f.run);
        bindText(update, 2, runStatusName(f.status));
        if (f.status == RunStatus::Running)
            sqlite3_bind_null(update, 3);
        else
            sqlite3_bind_double(update, 3, f.finishedAt);
        bindOptionalText(update, 4, f.error);
        sqlite3_bind_double(update, 5, now);
        if (!run(update))
            return fail("cannot set the status of run " + std::to_string(f.run));
    }

    if (!exec(m_db, "COMMIT"))
        return fail("cannot commit buffered rows");

    // Committed: only now forget what was pending.
    m_keyIds.insert(newKeys.begin(), newKeys.end());
    m_pending.clear();
    m_pendingDiagnostics.clear();
    m_pendingSamples.clear();
    m_pendingCheckpoints.clear();
    m_pendingMeta.clear();
    for (const PendingFinish &f : m_pendingFinishes) {
        if (f.status == RunStatus::Running)
            continue;
        m_openRuns.erase(std::remove(m_openRuns.begin(), m_openRuns.end(), f.run),
                         m_openRuns.end());
        m_lastSteps.erase(f.run);
    }
    m_pendingFinishes.clear();
    // Progress of runs this writer does not hold open was written once; drop it.
    for (auto it = m_lastSteps.begin(); it != m_lastSteps.end();) {
        if (std::find(m_openRuns.begin(), m_openRuns.end(), it->first) == m_openRuns.end())
            it = m_lastSteps.erase(it);
        else
            ++it;
    }
    return okStatus();
}

Status RunWriter::finishRun(RunId run, RunStatus status, const std::string &error)
{
    m_pendingFinishes.push_back(PendingFinish{run, status, error, unixNow()});
    return flush();
}

Status RunWriter::discardAfter(RunId run, std::int64_t step, const std::string &keepPrefix)
{
    if (auto flushed = flush(); !flushed)
        return flushed;
    if (!exec(m_db, "BEGIN IMMEDIATE"))
        return sqlFailure(m_db, m_path, "cannot start a write transaction");
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
        "UPDATE runs SET last_step = ?2 WHERE id = ?1",
    };
    for (const char *sql : statements) {
        Query query(m_db, sql);
        if (!query.ok()) {
            Error failure = sqlFailure(m_db, m_path, "cannot prepare the resume cleanup");
            rollback(m_db);
            return failure;
        }
        sqlite3_bind_int64(query.get(), 1, run);
        if (sqlite3_bind_parameter_count(query.get()) >= 2)
            sqlite3_bind_int64(query.get(), 2, step);
        if (sqlite3_bind_parameter_count(query.get()) >= 3)
            sqlite3_bind_text(query.get(), 3, keepPrefix.c_str(), -1, SQLITE_TRANSIENT);
        if (sqlite3_step(query.get()) != SQLITE_DONE) {
            Error failure = sqlFailure(m_db, m_path,
                                       "cannot discard the rows of run " + std::to_string(run) +
                                           " after step " + std::to_string(step));
            rollback(m_db);
            return failure;
        }
    }
    if (!exec(m_db, "COMMIT")) {
        Error failure = sqlFailure(m_db, m_path, "cannot commit the resume cleanup");
        rollback(m_db);
        return failure;
    }
    if (m_lastSteps.count(run))
        m_lastSteps[run] = step;
    return okStatus();
}

// ---------------------------------------------------------------------------------------------
// StoreReader

Result<std::unique_ptr<StoreReader>> StoreReader::open(const std::string &path)
{
    if (!fileExists(path))
        return Error{"store.not_found", path + ": run store not found"};
    auto opened = openChecked(path, SQLITE_OPEN_READONLY, "reading");
    if (!opened)
        return opened.error();
    auto [db, version] = *opened;
    if (version < kStoreSchemaVersion) {
        sqlite3_close(db);
        if (version == 0)
            return Error{"store.not_a_store",
                         path + ": not a Distillery run store (schema version 0, no tables)"};
        return Error{"store.older_schema", path + ": run store schema version " +
                                               std::to_string(version) + " is older than " +
                                               std::to_string(kStoreSchemaVersion) +
                                               "; open it for writing once to upgrade it"};
    }
    std::unique_ptr<StoreReader> reader(new StoreReader());
    reader->m_db = db;
    reader->m_path = path;
    return reader;
}

StoreReader::~StoreReader()
{
    sqlite3_close(m_db);
}

Result<std::vector<RunInfo>> StoreReader::runs(double staleSeconds) const
{
    const std::string sql =
        std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY created_at DESC, id DESC";
    Query query(m_db, sql.c_str());
    if (!query.ok())
        return sqlFailure(m_db, m_path, "cannot list runs");
    std::vector<RunInfo> result;
    const double now = unixNow();
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW) {
        RunInfo info = readRun(query.get());
        if (writerGone(info, staleSeconds, now))
            info.status = RunStatus::Interrupted;
        result.push_back(std::move(info));
    }
    if (rc != SQLITE_DONE)
        return sqlFailure(m_db, m_path, "cannot list runs");
    return result;
}

Result<RunInfo> StoreReader::run(RunId id, double staleSeconds) const
{
    const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?1";
    Query query(m_db, sql.c_str());
    if (!query.ok())
        return sqlFailure(m_db, m_path, "cannot read run " + std::to_string(id));
    sqlite3_bind_int64(query.get(), 1, id);
    const int rc = sqlite3_step(query.get());
    if (rc == SQLITE_DONE)
        return noSuchRun(m_path, id);
    if (rc != SQLITE_ROW)
        return sqlFailure(m_db, m_path, "cannot read run " + std::to_string(id));
    RunInfo info = readRun(query.get());
    if (writerGone(info, staleSeconds, unixNow()))
        info.status = RunStatus::Interrupted;
    return info;
}

Result<std::vector<std::string>> StoreReader::keys(RunId run) const
{
    Query query(m_db, "SELECT k.name FROM latest l JOIN keys k ON k.id = l.key "
                      "WHERE l.run = ?1 ORDER BY k.name");
    if (!query.ok())
        return sqlFailure(m_db, m_path, "cannot list series names");
    sqlite3_bind_int64(query.get(), 1, run);
    std::vector<std::string> result;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW)
        result.push_back(columnText(query.get(), 0));
    if (rc != SQLITE_DONE)
        return sqlFailure(m_db, m_path, "cannot list series names");
    return result;
}

Result<std::vector<ScalarPoint>> StoreReader::scalars(RunId run, const std::string &key,
                                                      std::int64_t afterStep) const
{
    Query query(m_db, "SELECT s.step, s.wall_time, s.value FROM scalars s "
                      "JOIN keys k ON k.id = s.key "
                      "WHERE k.name = ?2 AND s.run = ?1 AND s.step > ?3 ORDER BY s.step");
    if (!query.ok())
        return sqlFailure(m_db, m_path, "cannot read series '" + key + "'");
    sqlite3_bind_int64(query.get(), 1, run);
    bindText(query.get(), 2, key);
    sqlite3_bind_int64(query.get(), 3, afterStep);
    std::vector<ScalarPoint> result;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW) {
        result.push_back(ScalarPoint{sqlite3_column_int64(query.get(), 0),
                                     sqlite3_column_double(query.get(), 1),
                                     columnValue(query.get(), 2)});
    }
    if (rc != SQLITE_DONE)
        return sqlFailure(m_db, m_path, "cannot read series '" + key + "'");
    return result;
}

Result<std::map<std::string, ScalarPoint>> StoreReader::latest(RunId run) const
{
    Query query(m_db, "SELECT k.name, l.step, l.wall_time, l.value FROM latest l "
                      "JOIN keys k ON k.id = l.key WHERE l.run = ?1");
    if (!query.ok())
        return sqlFailure(m_db, m_path, "cannot read the latest values");
    sqlite3_bind_int64(query.get(), 1, run);
    std::map<std::string, ScalarPoint> result;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW) {
        result[columnText(query.get(), 0)] =
            ScalarPoint{sqlite3_column_int64(query.get(), 1), sqlite3_column_double(query.get(), 2),
                        columnValue(query.get(), 3)};
    }
    if (rc != SQLITE_DONE)
        return sqlFailure(m_db, m_path, "cannot read the latest values");
    return result;
}

Result<std::vector<CheckpointInfo>> StoreReader::checkpoints(RunId run) const
{
    Query query(m_db, "SELECT run, step, path, kind, created_at FROM checkpoints "
                      "WHERE run = ?1 ORDER BY step, kind");
    if (!query.ok())
        return sqlFailure(m_db, m_path, "cannot list checkpoints");
    sqlite3_bind_int64(query.get(), 1, run);
    std::vector<CheckpointInfo> result;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW) {
        CheckpointInfo info;
        info.run = sqlite3_column_int64(query.get(), 0);
        info.step = sqlite3_column_int64(query.get(), 1);
        info.path = columnText(query.get(), 2);
        info.kind = columnText(query.get(), 3);
        info.createdAt = sqlite3_column_double(query.get(), 4);
        result.push_back(std::move(info));
    }
    if (rc != SQLITE_DONE)
        return sqlFailure(m_db, m_path, "cannot list checkpoints");
    return result;
}

Result<std::map<std::string, std::string>> StoreReader::runMeta(RunId run) const
{
    Query query(m_db, "SELECT key, value FROM run_meta WHERE run = ?1");
    if (!query.ok())
        return sqlFailure(m_db, m_path, "cannot read run metadata");
    sqlite3_bind_int64(query.get(), 1, run);
    std::map<std::string, std::string> result;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW)
        result[columnText(query.get(), 0)] = columnText(query.get(), 1);
    if (rc != SQLITE_DONE)
        return sqlFailure(m_db, m_path, "cannot read run metadata");
    return result;
}

Result<std::vector<float>> StoreReader::tokenDiagnostic(RunId run, std::int64_t step, int sample,
                                                        const std::string &quantity) const
{
    Query query(m_db, "SELECT data FROM token_diagnostics "
                      "WHERE run = ?1 AND step = ?2 AND sample = ?3 AND quantity = ?4");
    if (!query.ok())
        return sqlFailure(m_db, m_path, "cannot read token diagnostic '" + quantity + "'");
    sqlite3_bind_int64(query.get(), 1, run);
    sqlite3_bind_int64(query.get(), 2, step);
    sqlite3_bind_int(query.get(), 3, sample);
    bindText(query.get(), 4, quantity);
    const int rc = sqlite3_step(query.get());
    if (rc == SQLITE_DONE)
        return std::vector<float>();
    if (rc != SQLITE_ROW)
        return sqlFailure(m_db, m_path, "cannot read token diagnostic '" + quantity + "'");
    return blobToFloats(sqlite3_column_blob(query.get(), 0), sqlite3_column_bytes(query.get(), 0));
}

Result<std::vector<std::int64_t>>
StoreReader::tokenDiagnosticSteps(RunId run, const std::string &quantity) const
{
    Query query(m_db, "SELECT DISTINCT step FROM token_diagnostics "
                      "WHERE run = ?1 AND quantity = ?2 ORDER BY step");
    if (!query.ok())
        return sqlFailure(m_db, m_path, "cannot list token diagnostic steps");
    sqlite3_bind_int64(query.get(), 1, run);
    bindText(query.get(), 2, quantity);
    std::vector<std::int64_t> result;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW)
        result.push_back(sqlite3_column_int64(query.get(), 0));
    if (rc != SQLITE_DONE)
        return sqlFailure(m_db, m_path, "cannot list token diagnostic steps");
    return result;
}

Result<std::vector<std::string>> StoreReader::samples(RunId run, std::int64_t step) const
{
    Query query(m_db, "SELECT text FROM samples WHERE run = ?1 AND step = ?2 ORDER BY idx");
    if (!query.ok())
        return sqlFailure(m_db, m_path, "cannot read text samples");
    sqlite3_bind_int64(query.get(), 1, run);
    sqlite3_bind_int64(query.get(), 2, step);
    std::vector<std::string> result;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW)
        result.push_back(columnText(query.get(), 0));
    if (rc != SQLITE_DONE)
        return sqlFailure(m_db, m_path, "cannot read text samples");
    return result;
}

Result<std::string> StoreReader::integrityCheck() const
{
    Query query(m_db, "PRAGMA integrity_check");
    if (!query.ok())
        return sqlFailure(m_db, m_path, "cannot run the integrity check");
    std::string report;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW) {
        if (!report.empty())
            report += '\n';
        report += columnText(query.get(), 0);
    }
    if (rc != SQLITE_DONE)
        return sqlFailure(m_db, m_path, "integrity check failed to run");
    return report;
}

int StoreReader::schemaVersion() const
{
    auto version = readUserVersion(m_db, m_path);
    return version ? *version : -1;
}

// ---------------------------------------------------------------------------------------------
// Maintenance

namespace {
// Closes a connection opened for one maintenance call when the call returns.
struct ConnectionCloser
{
    sqlite3 *db;
    ~ConnectionCloser() { sqlite3_close(db); }
};
} // namespace

Result<std::vector<RunId>> markInterruptedRuns(const std::string &path, double staleSeconds)
{
    auto opened = openWritable(path, false);
    if (!opened)
        return opened.error();
    sqlite3 *db = *opened;
    const ConnectionCloser closer{db};

    if (!exec(db, "BEGIN IMMEDIATE"))
        return sqlFailure(db, path, "cannot start a write transaction");
    std::vector<RunInfo> gone;
    {
        const std::string sql =
            std::string("SELECT ") + kRunColumns + " FROM runs WHERE status = 'running'";
        Query query(db, sql.c_str());
        if (!query.ok()) {
            Error error = sqlFailure(db, path, "cannot list running runs");
            rollback(db);
            return error;
        }
        const double now = unixNow();
        int rc;
        while ((rc = sqlite3_step(query.get())) == SQLITE_ROW) {
            RunInfo info = readRun(query.get());
            if (writerGone(info, staleSeconds, now))
                gone.push_back(std::move(info));
        }
        if (rc != SQLITE_DONE) {
            Error error = sqlFailure(db, path, "cannot list running runs");
            rollback(db);
            return error;
        }
    }
    std::vector<RunId> ids;
    {
        Query update(db, "UPDATE runs SET status = 'interrupted', error = ?2 "
                         "WHERE id = ?1 AND status = 'running'");
        if (!update.ok()) {
            Error error = sqlFailure(db, path, "cannot prepare the status update");
            rollback(db);
            return error;
        }
        for (const RunInfo &info : gone) {
            sqlite3_reset(update.get());
            sqlite3_bind_int64(update.get(), 1, info.id);
            bindText(update.get(), 2, interruptedMessage(info));
            if (sqlite3_step(update.get()) != SQLITE_DONE) {
                Error error = sqlFailure(
                    db, path, "cannot mark run " + std::to_string(info.id) + " interrupted");
                rollback(db);
                return error;
            }
            ids.push_back(info.id);
        }
    }
    if (!exec(db, "COMMIT")) {
        Error error = sqlFailure(db, path, "cannot commit interrupted runs");
        rollback(db);
        return error;
    }
    return ids;
}

Status renameRun(const std::string &path, RunId run, const std::string &name)
{
    auto opened = openWritable(path, false);
    if (!opened)
        return opened.error();
    sqlite3 *db = *opened;
    const ConnectionCloser closer{db};
    Query update(db, "UPDATE runs SET name = ?2 WHERE id = ?1");
    if (!update.ok())
        return sqlFailure(db, path, "cannot prepare the rename");
    sqlite3_bind_int64(update.get(), 1, run);
    bindText(update.get(), 2, name);
    if (sqlite3_step(update.get()) != SQLITE_DONE)
        return sqlFailure(db, path, "cannot rename run " + std::to_string(run));
    if (sqlite3_changes(db) == 0)
        return noSuchRun(path, run);
    return okStatus();
}

Status deleteRun(const std::string &path, RunId run, double staleSeconds)
{
    auto opened = openWritable(path, false);
    if (!opened)
        return opened.error();
    sqlite3 *db = *opened;
    const ConnectionCloser closer{db};

    // IMMEDIATE: no writer can flush (and refresh the heartbeat) between the check and the delete.
    if (!exec(db, "BEGIN IMMEDIATE"))
        return sqlFailure(db, path, "cannot start a write transaction");
    {
        const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?1";
        Query query(db, sql.c_str());
        if (!query.ok()) {
            Error error = sqlFailure(db, path, "cannot read run " + std::to_string(run));
            rollback(db);
            return error;
        }
        sqlite3_bind_int64(query.get(), 1, run);
        const int rc = sqlite3_step(query.get());
        if (rc == SQLITE_DONE) {
            rollback(db);
            return noSuchRun(path, run);
        }
        if (rc != SQLITE_ROW) {
            Error error = sqlFailure(db, path, "cannot read run " + std::to_string(run));
            rollback(db);
            return error;
        }
        const RunInfo info = readRun(query.get());
        if (info.status == RunStatus::Running && !writerGone(info, staleSeconds, unixNow())) {
            rollback(db);
            return Error{"store.run_active",
                         path + ": run " + std::to_string(run) + " ('" + info.name +
                             "') is still running (writer pid " + std::to_string(info.pid) +
                             (info.host.empty() ? std::string() : " on " + info.host) +
                             "); stop it before deleting it"};
        }
    }
    static const char *const statements[] = {
        "DELETE FROM scalars WHERE run = ?1",
        "DELETE FROM latest WHERE run = ?1",
        "DELETE FROM checkpoints WHERE run = ?1",
        "DELETE FROM run_meta WHERE run = ?1",
        "DELETE FROM token_diagnostics WHERE run = ?1",
        "DELETE FROM samples WHERE run = ?1",
        "DELETE FROM runs WHERE id = ?1",
    };
    for (const char *sql : statements) {
        Query del(db, sql);
        if (!del.ok()) {
            Error error =
                sqlFailure(db, path, "cannot prepare the delete of run " + std::to_string(run));
            rollback(db);
            return error;
        }
        sqlite3_bind_int64(del.get(), 1, run);
        if (sqlite3_step(del.get()) != SQLITE_DONE) {
            Error error = sqlFailure(db, path, "cannot delete run " + std::to_string(run));
            rollback(db);
            return error;
        }
    }
    if (!exec(db, "COMMIT")) {
        Error error =
            sqlFailure(db, path, "cannot commit the delete of run " + std::to_string(run));
        rollback(db);
        return error;
    }
    return okStatus();
}

} // namespace distillery::core
