#include "store/schema.h"

#include "distillery/core/store.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <vector>

#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>

namespace distillery::core::store {

namespace {

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
        // 1 -> 2: steps count the updates done (the first is step 1, step-N.pt holds N of them),
        // as the checkpoints of in-graph teachers always did. Version 1 stored the 0-based index.
        // Each shift goes through negative numbers first: SQLite checks keys row by row.
        R"sql(
UPDATE runs SET last_step = CASE WHEN EXISTS (
    SELECT 1 FROM latest l JOIN keys k ON k.id = l.key
    WHERE l.run = runs.id AND k.name NOT LIKE 'teacher/%') THEN last_step + 1 ELSE 0 END;
UPDATE scalars SET step = -step - 2;
UPDATE scalars SET step = -step - 1;
UPDATE latest SET step = step + 1;
UPDATE checkpoints SET step = -step - 2 WHERE kind <> 'teacher';
UPDATE checkpoints SET step = -step - 1 WHERE kind <> 'teacher' AND step < 0;
UPDATE token_diagnostics SET step = -step - 2;
UPDATE token_diagnostics SET step = -step - 1;
UPDATE samples SET step = -step - 2;
UPDATE samples SET step = -step - 1;
)sql",
        // 2 -> 3: exported students.
        R"sql(
CREATE TABLE exports (       -- a run's student exported for other tools
    run INTEGER,             -- runs.id
    step INTEGER,            -- the student steps done by the exported weights
    format TEXT,             -- hf | torchscript | onnx
    dtype TEXT,              -- f32 | f16 | bf16
    path TEXT,               -- the folder or file written (relative to the store's folder when inside it)
    bytes INTEGER,           -- size of what was written
    created_at REAL,         -- unix seconds
    PRIMARY KEY (run, format, path)
) WITHOUT ROWID;
)sql",
        // 3 -> 4: notes, tags and groups of runs; per-series extremes for comparisons.
        R"sql(
ALTER TABLE runs ADD COLUMN note TEXT;       -- free text written by the user
ALTER TABLE runs ADD COLUMN group_name TEXT; -- explicit group (the sweep that made the run); NULL if none
CREATE TABLE run_tags (      -- user tags, any number per run
    run INTEGER,             -- runs.id
    tag TEXT,
    PRIMARY KEY (run, tag)
) WITHOUT ROWID;
CREATE INDEX run_tags_by_tag ON run_tags (tag, run);
-- The smallest and the largest finite value of every series with the step where it was
-- first reached, kept by the writer in the same transaction as scalars, so that best / min /
-- max columns over many runs never scan history.
CREATE TABLE series_stats (
    run INTEGER,
    key INTEGER,             -- keys.id
    min REAL,
    min_step INTEGER,
    max REAL,
    max_step INTEGER,
    PRIMARY KEY (run, key)
) WITHOUT ROWID;
INSERT INTO series_stats (run, key, min, min_step, max, max_step)
SELECT run, key, MIN(value), NULL, MAX(value), NULL FROM scalars
WHERE value IS NOT NULL AND abs(value) <= 1.7976931348623157e308 GROUP BY run, key;
UPDATE series_stats SET
    min_step = (SELECT MIN(s.step) FROM scalars s WHERE s.run = series_stats.run
                AND s.key = series_stats.key AND s.value = series_stats.min),
    max_step = (SELECT MIN(s.step) FROM scalars s WHERE s.run = series_stats.run
                AND s.key = series_stats.key AND s.value = series_stats.max);
)sql",
    };
    return scripts;
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
        Transaction tx(db);
        if (!tx.began())
            return sqlFailure(db, path, "cannot lock the store to check its schema");
        // Read inside the write lock: another writer may have migrated meanwhile.
        auto version = readUserVersion(db, path);
        if (!version)
            return version.error();
        if (*version > kStoreSchemaVersion)
            return newerSchemaError(path, *version);
        if (*version == kStoreSchemaVersion) {
            if (!tx.commit())
                return sqlFailure(db, path, "cannot finish the schema check");
            return okStatus();
        }
        const int target = *version + 1;
        if (!exec(db, scripts[static_cast<std::size_t>(*version)]))
            return sqlFailure(db, path, "schema migration to version " + std::to_string(target) + " failed");
        const std::string setVersion = "PRAGMA user_version = " + std::to_string(target);
        if (!exec(db, setVersion.c_str()) || !tx.commit())
            return sqlFailure(db, path, "cannot commit schema version " + std::to_string(target));
        spdlog::debug("{}: run store migrated to schema version {}", path, target);
    }
}

} // namespace

bool fileExists(const std::string &path)
{
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

std::string folderOf(const std::string &path)
{
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

Result<int> readUserVersion(sqlite3 *db, const std::string &path)
{
    Statement query(db, "PRAGMA user_version");
    if (!query.ok() || sqlite3_step(query.get()) != SQLITE_ROW) {
        if (sqlite3_errcode(db) == SQLITE_NOTADB)
            return Error{"store.not_sqlite",
                         path + ": not an SQLite database (expected a Distillery run store)"};
        return sqlFailure(db, path, "cannot read the schema version");
    }
    return sqlite3_column_int(query.get(), 0);
}

Result<std::pair<Connection, int>> openChecked(const std::string &path, int flags, const char *purpose)
{
    sqlite3 *raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    Connection db(raw);
    if (rc != SQLITE_OK)
        return sqlFailure(raw, path, std::string("cannot open the run store for ") + purpose);
    sqlite3_busy_timeout(raw, kBusyTimeoutMs);
    auto version = readUserVersion(raw, path);
    if (!version)
        return version.error();
    if (*version > kStoreSchemaVersion)
        return newerSchemaError(path, *version);
    return std::make_pair(std::move(db), *version);
}

Result<Connection> openWritable(const std::string &path, bool create)
{
    if (!create && !fileExists(path))
        return Error{"store.not_found", path + ": run store not found"};
    // SQLite would open a file it cannot write read-only and fail at the first write: a
    // read-only store (or folder, for the WAL files) is refused before anything starts.
    const std::string folder = folderOf(path);
    const bool fileLocked = fileExists(path) && ::access(path.c_str(), W_OK) != 0;
    if (fileLocked || ::access(folder.c_str(), W_OK) != 0) {
        const std::string why = errno == EROFS ? "a read-only file system"
                                : fileLocked   ? "no write permission on the file"
                                               : "no write permission on the folder " + folder;
        return Error{"store.read_only", path + ": the run store is read-only (" + why +
                                            "); it can be listed and shown, not written"};
    }
    auto opened = openChecked(path, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0), "writing");
    if (!opened)
        return opened.error();
    Connection db = std::move(opened.value().first);
    // Schema version 0 is a new store only if the file is empty: an SQLite file of some other
    // program is refused before anything (WAL mode included) changes it.
    if (opened.value().second == 0) {
        Statement query(db.get(), "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                                  "ORDER BY name LIMIT 4");
        if (!query.ok())
            return sqlFailure(db.get(), path, "cannot read the store's tables");
        std::string tables;
        int count = 0;
        while (sqlite3_step(query.get()) == SQLITE_ROW)
            tables += (count++ ? ", " : "") + columnText(query.get(), 0);
        if (count > 0)
            return Error{"store.not_a_store",
                         path + ": an SQLite database of another program (it holds " + tables +
                             (count > 3 ? ", ..." : "") +
                             "), not a Distillery run store; give a new file or a run store"};
    }
    std::optional<std::string> journalMode;
    {
        Statement query(db.get(), "PRAGMA journal_mode = WAL");
        if (query.ok() && sqlite3_step(query.get()) == SQLITE_ROW)
            journalMode = columnText(query.get(), 0);
    }
    if (!journalMode)
        return sqlFailure(db.get(), path, "cannot switch the store to WAL mode");
    if (*journalMode != "wal")
        spdlog::warn("{}: WAL mode unavailable on this file system (journal mode {}); readers "
                     "may wait on the writer",
                     path, *journalMode);
    if (!exec(db.get(), "PRAGMA synchronous = NORMAL"))
        return sqlFailure(db.get(), path, "cannot set synchronous = NORMAL");
    if (auto migrated = migrate(db.get(), path); !migrated)
        return migrated.error();
    return db;
}

} // namespace distillery::core::store
