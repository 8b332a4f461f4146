// Read-only connections to the run store: run lists, series tails, metadata, token
// diagnostics and samples. Safe beside a writer in this or another process (WAL).

#include "distillery/core/store.h"

#include "store/runrow.h"
#include "store/schema.h"
#include "store/sqlite.h"

#include <cstdio>

#include <unistd.h>

namespace distillery::core {

using namespace store;

struct StoreReader::Impl
{
    Connection db;
    std::string path;
};

StoreReader::StoreReader(std::unique_ptr<Impl> impl)
    : m_impl(std::move(impl))
{}

StoreReader::~StoreReader() = default;

namespace {

// file: URI of a path: '%', '?' and '#' escaped.
std::string uriOf(const std::string &path)
{
    std::string uri = "file:";
    for (const char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
            uri += buf;
        } else
            uri += c;
    }
    return uri;
}

} // namespace

Result<std::unique_ptr<StoreReader>> StoreReader::open(const std::string &path)
{
    if (!fileExists(path))
        return Error{"store.not_found", path + ": run store not found"};
    auto opened = openChecked(path, SQLITE_OPEN_READONLY, "reading");
    // A store on a read-only file system or folder: SQLite cannot make the shared-memory file
    // a WAL reader needs. With no -wal file nobody is writing it, and it is read as immutable
    // (nothing is created beside it).
    if (!opened && ::access(folderOf(path).c_str(), W_OK) != 0 && !fileExists(path + "-wal"))
        opened = openChecked(uriOf(path) + "?immutable=1", SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                             "reading");
    if (!opened)
        return opened.error();
    const int version = opened.value().second;
    if (version == 0)
        return Error{"store.not_a_store",
                     path + ": not a Distillery run store (schema version 0, no tables)"};
    if (version < kStoreSchemaVersion) {
        // An older store is brought up to date when it can be written, then read.
        if (auto upgraded = openWritable(path, false); upgraded.ok()) {
            { Connection migrated = std::move(upgraded.value()); } // closed at once
            opened = openChecked(path, SQLITE_OPEN_READONLY, "reading");
            if (!opened)
                return opened.error();
        } else if (upgraded.error().code != "store.read_only") {
            return upgraded.error();
        }
    }
    if (opened.value().second < kStoreSchemaVersion) {
        return Error{"store.older_schema", path + ": run store schema version " +
                                               std::to_string(opened.value().second) + " is older than " +
                                               std::to_string(kStoreSchemaVersion) +
                                               " and read-only; copy it somewhere writable "
                                               "to upgrade it"};
    }
    auto impl = std::make_unique<Impl>(Impl{std::move(opened.value().first), path});
    return std::unique_ptr<StoreReader>(new StoreReader(std::move(impl)));
}


Result<std::vector<RunInfo>> StoreReader::runs(double staleSeconds) const
{
    const std::string sql =
        std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY created_at DESC, id DESC";
    Statement query(m_impl->db.get(), sql.c_str());
    if (!query.ok())
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot list runs");
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
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot list runs");
    if (auto failed = attachTags(m_impl->db.get(), m_impl->path, result))
        return *failed;
    return result;
}

Result<RunInfo> StoreReader::run(RunId id, double staleSeconds) const
{
    auto selected = selectRun(m_impl->db.get(), m_impl->path, id);
    if (!selected.ok())
        return selected;
    RunInfo info = std::move(selected).value();
    if (writerGone(info, staleSeconds, unixNow()))
        info.status = RunStatus::Interrupted;
    return info;
}

Result<std::vector<std::string>> StoreReader::keys(RunId run) const
{
    Statement query(m_impl->db.get(), "SELECT k.name FROM latest l JOIN keys k ON k.id = l.key "
                      "WHERE l.run = ?1 ORDER BY k.name");
    if (!query.ok())
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot list series names");
    sqlite3_bind_int64(query.get(), 1, run);
    std::vector<std::string> result;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW)
        result.push_back(columnText(query.get(), 0));
    if (rc != SQLITE_DONE)
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot list series names");
    return result;
}

Result<std::vector<ScalarPoint>> StoreReader::scalars(RunId run, const std::string &key,
                                                      std::int64_t afterStep) const
{
    Statement query(m_impl->db.get(), "SELECT s.step, s.wall_time, s.value FROM scalars s "
                      "JOIN keys k ON k.id = s.key "
                      "WHERE k.name = ?2 AND s.run = ?1 AND s.step > ?3 ORDER BY s.step");
    if (!query.ok())
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot read series '" + key + "'");
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
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot read series '" + key + "'");
    return result;
}

Result<std::map<std::string, ScalarPoint>> StoreReader::latest(RunId run) const
{
    Statement query(m_impl->db.get(), "SELECT k.name, l.step, l.wall_time, l.value FROM latest l "
                      "JOIN keys k ON k.id = l.key WHERE l.run = ?1");
    if (!query.ok())
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot read the latest values");
    sqlite3_bind_int64(query.get(), 1, run);
    std::map<std::string, ScalarPoint> result;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW) {
        result[columnText(query.get(), 0)] =
            ScalarPoint{sqlite3_column_int64(query.get(), 1), sqlite3_column_double(query.get(), 2),
                        columnValue(query.get(), 3)};
    }
    if (rc != SQLITE_DONE)
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot read the latest values");
    return result;
}

Result<std::map<std::string, SeriesStats>> StoreReader::seriesStats(RunId run) const
{
    Statement query(m_impl->db.get(),
                    "SELECT k.name, l.step, l.wall_time, l.value, s.min, s.min_step, s.max, s.max_step "
                    "FROM latest l JOIN keys k ON k.id = l.key "
                    "LEFT JOIN series_stats s ON s.run = l.run AND s.key = l.key WHERE l.run = ?1");
    if (!query.ok())
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot read the series summaries");
    sqlite3_bind_int64(query.get(), 1, run);
    std::map<std::string, SeriesStats> result;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW) {
        sqlite3_stmt *row = query.get();
        SeriesStats stats;
        stats.last = ScalarPoint{sqlite3_column_int64(row, 1), sqlite3_column_double(row, 2),
                                 columnValue(row, 3)};
        if (sqlite3_column_type(row, 5) != SQLITE_NULL && sqlite3_column_type(row, 7) != SQLITE_NULL) {
            stats.min = sqlite3_column_double(row, 4);
            stats.minStep = sqlite3_column_int64(row, 5);
            stats.max = sqlite3_column_double(row, 6);
            stats.maxStep = sqlite3_column_int64(row, 7);
        }
        result[columnText(row, 0)] = stats;
    }
    if (rc != SQLITE_DONE)
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot read the series summaries");
    return result;
}

Result<std::vector<CheckpointInfo>> StoreReader::checkpoints(RunId run) const
{
    Statement query(m_impl->db.get(), "SELECT run, step, path, kind, created_at FROM checkpoints "
                      "WHERE run = ?1 ORDER BY step, kind");
    if (!query.ok())
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot list checkpoints");
    sqlite3_bind_int64(query.get(), 1, run);
    std::vector<CheckpointInfo> result;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW) {
        CheckpointInfo info;
        info.run = sqlite3_column_int64(query.get(), 0);
        info.step = sqlite3_column_int64(query.get(), 1);
        info.path = resolveStorePath(m_impl->path, columnText(query.get(), 2));
        info.kind = columnText(query.get(), 3);
        info.createdAt = sqlite3_column_double(query.get(), 4);
        result.push_back(std::move(info));
    }
    if (rc != SQLITE_DONE)
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot list checkpoints");
    return result;
}

Result<std::vector<ExportInfo>> StoreReader::exports(RunId run) const
{
    std::vector<ExportInfo> result;
    // A store of an older schema opened read-only has no exports table: no exports.
    if (schemaVersion() < 3)
        return result;
    Statement query(m_impl->db.get(), "SELECT step, format, dtype, path, bytes, created_at FROM "
                                      "exports WHERE run = ?1 ORDER BY created_at, path");
    if (!query.ok())
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot list exports");
    sqlite3_bind_int64(query.get(), 1, run);
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW) {
        ExportInfo info;
        info.run = run;
        info.step = sqlite3_column_int64(query.get(), 0);
        info.format = columnText(query.get(), 1);
        info.dtype = columnText(query.get(), 2);
        info.path = resolveStorePath(m_impl->path, columnText(query.get(), 3));
        info.bytes = sqlite3_column_int64(query.get(), 4);
        info.createdAt = sqlite3_column_double(query.get(), 5);
        result.push_back(std::move(info));
    }
    if (rc != SQLITE_DONE)
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot list exports");
    return result;
}

Result<std::map<std::string, std::string>> StoreReader::runMeta(RunId run) const
{
    Statement query(m_impl->db.get(), "SELECT key, value FROM run_meta WHERE run = ?1");
    if (!query.ok())
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot read run metadata");
    sqlite3_bind_int64(query.get(), 1, run);
    std::map<std::string, std::string> result;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW)
        result[columnText(query.get(), 0)] = columnText(query.get(), 1);
    if (rc != SQLITE_DONE)
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot read run metadata");
    return result;
}

Result<std::vector<float>> StoreReader::tokenDiagnostic(RunId run, std::int64_t step, int sample,
                                                        const std::string &quantity) const
{
    Statement query(m_impl->db.get(), "SELECT data FROM token_diagnostics "
                      "WHERE run = ?1 AND step = ?2 AND sample = ?3 AND quantity = ?4");
    if (!query.ok())
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot read token diagnostic '" + quantity + "'");
    sqlite3_bind_int64(query.get(), 1, run);
    sqlite3_bind_int64(query.get(), 2, step);
    sqlite3_bind_int(query.get(), 3, sample);
    bindText(query.get(), 4, quantity);
    const int rc = sqlite3_step(query.get());
    if (rc == SQLITE_DONE)
        return std::vector<float>();
    if (rc != SQLITE_ROW)
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot read token diagnostic '" + quantity + "'");
    return blobToFloats(sqlite3_column_blob(query.get(), 0), sqlite3_column_bytes(query.get(), 0));
}

Result<std::vector<std::int64_t>>
StoreReader::tokenDiagnosticSteps(RunId run, const std::string &quantity) const
{
    Statement query(m_impl->db.get(), "SELECT DISTINCT step FROM token_diagnostics "
                      "WHERE run = ?1 AND quantity = ?2 ORDER BY step");
    if (!query.ok())
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot list token diagnostic steps");
    sqlite3_bind_int64(query.get(), 1, run);
    bindText(query.get(), 2, quantity);
    std::vector<std::int64_t> result;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW)
        result.push_back(sqlite3_column_int64(query.get(), 0));
    if (rc != SQLITE_DONE)
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot list token diagnostic steps");
    return result;
}

Result<std::vector<std::string>> StoreReader::samples(RunId run, std::int64_t step) const
{
    Statement query(m_impl->db.get(), "SELECT text FROM samples WHERE run = ?1 AND step = ?2 ORDER BY idx");
    if (!query.ok())
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot read text samples");
    sqlite3_bind_int64(query.get(), 1, run);
    sqlite3_bind_int64(query.get(), 2, step);
    std::vector<std::string> result;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW)
        result.push_back(columnText(query.get(), 0));
    if (rc != SQLITE_DONE)
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot read text samples");
    return result;
}

Result<std::vector<std::int64_t>> StoreReader::sampleSteps(RunId run) const
{
    Statement query(m_impl->db.get(), "SELECT DISTINCT step FROM samples WHERE run = ?1 ORDER BY step");
    if (!query.ok())
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot list the sample steps");
    sqlite3_bind_int64(query.get(), 1, run);
    std::vector<std::int64_t> steps;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW)
        steps.push_back(sqlite3_column_int64(query.get(), 0));
    if (rc != SQLITE_DONE)
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot list the sample steps");
    return steps;
}

Result<std::string> StoreReader::integrityCheck() const
{
    Statement query(m_impl->db.get(), "PRAGMA integrity_check");
    if (!query.ok())
        return sqlFailure(m_impl->db.get(), m_impl->path, "cannot run the integrity check");
    std::string report;
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW) {
        if (!report.empty())
            report += '\n';
        report += columnText(query.get(), 0);
    }
    if (rc != SQLITE_DONE)
        return sqlFailure(m_impl->db.get(), m_impl->path, "integrity check failed to run");
    return report;
}

int StoreReader::schemaVersion() const
{
    auto version = readUserVersion(m_impl->db.get(), m_impl->path);
    return version ? *version : -1;
}


} // namespace distillery::core
