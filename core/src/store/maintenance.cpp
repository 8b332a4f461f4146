// Changes to a store outside a run: marking dead writers' runs interrupted, renaming and
// deleting runs. Each opens its own connection and changes the file in one transaction.

#include "distillery/core/store.h"

#include "store/runrow.h"
#include "store/schema.h"
#include "store/sqlite.h"

#include <optional>

namespace distillery::core {

using namespace store;

Result<std::vector<RunId>> markInterruptedRuns(const std::string &path, double staleSeconds)
{
    auto opened = openWritable(path, false);
    if (!opened)
        return opened.error();
    sqlite3 *db = opened.value().get();
    Transaction tx(db);
    if (!tx.began())
        return sqlFailure(db, path, "cannot start a write transaction");
    std::vector<RunInfo> gone;
    {
        const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE status = 'running'";
        Statement query(db, sql.c_str());
        if (!query.ok())
            return sqlFailure(db, path, "cannot list running runs");
        const double now = unixNow();
        int rc;
        while ((rc = sqlite3_step(query.get())) == SQLITE_ROW) {
            RunInfo info = readRun(query.get());
            if (writerGone(info, staleSeconds, now))
                gone.push_back(std::move(info));
        }
        if (rc != SQLITE_DONE)
            return sqlFailure(db, path, "cannot list running runs");
    }
    std::vector<RunId> ids;
    Statement update(db, "UPDATE runs SET status = 'interrupted', error = ?2 "
                         "WHERE id = ?1 AND status = 'running'");
    if (!update.ok())
        return sqlFailure(db, path, "cannot prepare the status update");
    for (const RunInfo &info : gone) {
        sqlite3_reset(update.get());
        sqlite3_bind_int64(update.get(), 1, info.id);
        bindText(update.get(), 2, interruptedMessage(info));
        if (sqlite3_step(update.get()) != SQLITE_DONE)
            return sqlFailure(db, path, "cannot mark run " + std::to_string(info.id) + " interrupted");
        ids.push_back(info.id);
    }
    if (!tx.commit())
        return sqlFailure(db, path, "cannot commit interrupted runs");
    return ids;
}

namespace {

// One text column of one run set to `value` (NULL when `nullWhenEmpty` and empty).
Status updateRunColumn(const std::string &path, RunId run, const char *sql, const std::string &value,
                       bool nullWhenEmpty, const std::string &what)
{
    auto opened = openWritable(path, false);
    if (!opened)
        return opened.error();
    sqlite3 *db = opened.value().get();
    Statement update(db, sql);
    if (!update.ok())
        return sqlFailure(db, path, "cannot prepare to " + what);
    sqlite3_bind_int64(update.get(), 1, run);
    if (nullWhenEmpty)
        bindOptionalText(update.get(), 2, value);
    else
        bindText(update.get(), 2, value);
    if (sqlite3_step(update.get()) != SQLITE_DONE)
        return sqlFailure(db, path, "cannot " + what + " of run " + std::to_string(run));
    if (sqlite3_changes(db) == 0)
        return noSuchRun(path, run);
    return okStatus();
}

std::optional<Error> badTag(const std::string &tag)
{
    std::string why;
    if (tag.empty())
        why = "it is empty";
    else if (tag.size() > 64)
        why = "it is longer than 64 characters";
    else if (tag.find_first_of(",\n\r\t") != std::string::npos)
        why = "it holds a comma, tab or line break";
    else if (tag.front() == ' ' || tag.back() == ' ')
        why = "it starts or ends with a space";
    else
        return std::nullopt;
    return Error{"store.bad_tag", "tag '" + tag + "' is not allowed: " + why +
                                      " (a tag is 1 to 64 characters without commas or line breaks)"};
}

} // namespace

Status renameRun(const std::string &path, RunId run, const std::string &name)
{
    return updateRunColumn(path, run, "UPDATE runs SET name = ?2 WHERE id = ?1", name, false,
                           "rename");
}

Status setRunNote(const std::string &path, RunId run, const std::string &note)
{
    return updateRunColumn(path, run, "UPDATE runs SET note = ?2 WHERE id = ?1", note, true,
                           "set the note");
}

Status setRunGroup(const std::string &path, RunId run, const std::string &group)
{
    if (group.size() > 200 || group.find_first_of("\n\r") != std::string::npos)
        return Error{"store.bad_group", "group '" + group + "' is not allowed: a group name is one "
                                        "line of at most 200 characters"};
    return updateRunColumn(path, run, "UPDATE runs SET group_name = ?2 WHERE id = ?1", group, true,
                           "set the group");
}

Status setRunTags(const std::string &path, RunId run, const std::vector<std::string> &tags)
{
    for (const std::string &tag : tags)
        if (auto bad = badTag(tag))
            return *bad;
    auto opened = openWritable(path, false);
    if (!opened)
        return opened.error();
    sqlite3 *db = opened.value().get();
    Transaction tx(db);
    if (!tx.began())
        return sqlFailure(db, path, "cannot start a write transaction");
    if (auto info = selectRun(db, path, run); !info.ok())
        return info.error();
    Statement clear(db, "DELETE FROM run_tags WHERE run = ?1");
    Statement insert(db, "INSERT OR IGNORE INTO run_tags (run, tag) VALUES (?1, ?2)");
    if (!clear.ok() || !insert.ok())
        return sqlFailure(db, path, "cannot prepare the tag update");
    sqlite3_bind_int64(clear.get(), 1, run);
    if (sqlite3_step(clear.get()) != SQLITE_DONE)
        return sqlFailure(db, path, "cannot clear the tags of run " + std::to_string(run));
    for (const std::string &tag : tags) {
        sqlite3_reset(insert.get());
        sqlite3_bind_int64(insert.get(), 1, run);
        bindText(insert.get(), 2, tag);
        if (sqlite3_step(insert.get()) != SQLITE_DONE)
            return sqlFailure(db, path, "cannot tag run " + std::to_string(run));
    }
    if (!tx.commit())
        return sqlFailure(db, path, "cannot commit the tags of run " + std::to_string(run));
    return okStatus();
}

Status recordExport(const std::string &path, const ExportInfo &info)
{
    auto opened = openWritable(path, false);
    if (!opened)
        return opened.error();
    sqlite3 *db = opened.value().get();
    Statement exists(db, "SELECT 1 FROM runs WHERE id = ?1");
    if (!exists.ok())
        return sqlFailure(db, path, "cannot read the runs");
    sqlite3_bind_int64(exists.get(), 1, info.run);
    if (sqlite3_step(exists.get()) != SQLITE_ROW)
        return noSuchRun(path, info.run);
    Statement insert(db, "INSERT OR REPLACE INTO exports (run, step, format, dtype, path, bytes, "
                         "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!insert.ok())
        return sqlFailure(db, path, "cannot prepare the export record");
    sqlite3_bind_int64(insert.get(), 1, info.run);
    sqlite3_bind_int64(insert.get(), 2, info.step);
    bindText(insert.get(), 3, info.format);
    bindText(insert.get(), 4, info.dtype);
    bindText(insert.get(), 5, storeRelativePath(path, info.path));
    sqlite3_bind_int64(insert.get(), 6, info.bytes);
    sqlite3_bind_double(insert.get(), 7, info.createdAt > 0 ? info.createdAt : unixNow());
    if (sqlite3_step(insert.get()) != SQLITE_DONE)
        return sqlFailure(db, path, "cannot record the export of run " + std::to_string(info.run));
    return okStatus();
}

Status deleteRun(const std::string &path, RunId run, double staleSeconds)
{
    auto opened = openWritable(path, false);
    if (!opened)
        return opened.error();
    sqlite3 *db = opened.value().get();
    // IMMEDIATE: no writer can flush (and refresh the heartbeat) between the check and the delete.
    Transaction tx(db);
    if (!tx.began())
        return sqlFailure(db, path, "cannot start a write transaction");
    auto info = selectRun(db, path, run);
    if (!info.ok())
        return info.error();
    if (auto active = activeWriter(path, info.value(), staleSeconds, "stop it before deleting it"))
        return *active;
    static const char *const statements[] = {
        "DELETE FROM scalars WHERE run = ?1",
        "DELETE FROM latest WHERE run = ?1",
        "DELETE FROM checkpoints WHERE run = ?1",
        "DELETE FROM run_meta WHERE run = ?1",
        "DELETE FROM token_diagnostics WHERE run = ?1",
        "DELETE FROM samples WHERE run = ?1",
        "DELETE FROM exports WHERE run = ?1",
        "DELETE FROM run_tags WHERE run = ?1",
        "DELETE FROM series_stats WHERE run = ?1",
        "DELETE FROM runs WHERE id = ?1",
    };
    for (const char *sql : statements) {
        Statement del(db, sql);
        if (!del.ok())
            return sqlFailure(db, path, "cannot prepare the delete of run " + std::to_string(run));
        sqlite3_bind_int64(del.get(), 1, run);
        if (sqlite3_step(del.get()) != SQLITE_DONE)
            return sqlFailure(db, path, "cannot delete run " + std::to_string(run));
    }
    if (!tx.commit())
        return sqlFailure(db, path, "cannot commit the delete of run " + std::to_string(run));
    return okStatus();
}

} // namespace distillery::core
