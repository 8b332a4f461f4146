#include "store/runrow.h"

#include "store/sqlite.h"

#include <cerrno>
#include <chrono>
#include <ctime>
#include <map>

#include <signal.h>
#include <unistd.h>

namespace distillery::core {

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

namespace store {

namespace {

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

} // namespace

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

const char *const kRunColumns =
    "id, name, status, template, graph_json, device, threads, seed, steps_total, last_step, "
    "created_at, finished_at, heartbeat_at, pid, host, error, note, group_name";

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
    info.note = columnText(stmt, 16);
    info.group = columnText(stmt, 17);
    return info;
}

std::optional<Error> attachTags(sqlite3 *db, const std::string &path, std::vector<RunInfo> &runs)
{
    if (runs.empty())
        return std::nullopt;
    std::map<RunId, RunInfo *> byId;
    for (RunInfo &r : runs)
        byId[r.id] = &r;
    const bool one = runs.size() == 1;
    Statement query(db, one ? "SELECT run, tag FROM run_tags WHERE run = ?1 ORDER BY tag"
                            : "SELECT run, tag FROM run_tags ORDER BY run, tag");
    if (!query.ok())
        return sqlFailure(db, path, "cannot read the run tags");
    if (one)
        sqlite3_bind_int64(query.get(), 1, runs.front().id);
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW)
        if (auto it = byId.find(sqlite3_column_int64(query.get(), 0)); it != byId.end())
            it->second->tags.push_back(columnText(query.get(), 1));
    if (rc != SQLITE_DONE)
        return sqlFailure(db, path, "cannot read the run tags");
    return std::nullopt;
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

Result<RunInfo> selectRun(sqlite3 *db, const std::string &path, RunId run)
{
    const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?1";
    Statement query(db, sql.c_str());
    if (!query.ok())
        return sqlFailure(db, path, "cannot read run " + std::to_string(run));
    sqlite3_bind_int64(query.get(), 1, run);
    const int rc = sqlite3_step(query.get());
    if (rc == SQLITE_DONE)
        return noSuchRun(path, run);
    if (rc != SQLITE_ROW)
        return sqlFailure(db, path, "cannot read run " + std::to_string(run));
    std::vector<RunInfo> one{readRun(query.get())};
    if (auto failed = attachTags(db, path, one))
        return *failed;
    return std::move(one.front());
}

std::optional<Error> activeWriter(const std::string &path, const RunInfo &info, double staleSeconds,
                                  const std::string &then)
{
    if (info.status != RunStatus::Running || writerGone(info, staleSeconds, unixNow()))
        return std::nullopt;
    return Error{"store.run_active",
                 path + ": run " + std::to_string(info.id) + " ('" + info.name +
                     "') is still running: it is being written by pid " + std::to_string(info.pid) +
                     (info.host.empty() ? std::string() : " on " + info.host) + "; " + then};
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

} // namespace store

} // namespace distillery::core
