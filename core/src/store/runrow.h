#pragma once

// Rows of the runs table and whether their writer is still alive (heartbeat, pid on this host).

#include "distillery/core/store.h"

#include <sqlite3.h>

#include <optional>
#include <string>
#include <vector>

namespace distillery::core::store {

// The columns readRun() reads, in its order.
extern const char *const kRunColumns;
RunInfo readRun(sqlite3_stmt *stmt);
// Fills the tags of the runs read by readRun (one query).
std::optional<Error> attachTags(sqlite3 *db, const std::string &path, std::vector<RunInfo> &runs);

// The row of run `run` as stored (no staleness rule applied), or store.no_such_run.
Result<RunInfo> selectRun(sqlite3 *db, const std::string &path, RunId run);

// A run marked running whose writer is gone: same host and dead pid, or a stale heartbeat.
bool writerGone(const RunInfo &info, double staleSeconds, double now);
// store.run_active, naming the writer's pid and host, when `info` is running and its writer
// alive; `then` says what the user can do ("stop it before deleting it").
std::optional<Error> activeWriter(const std::string &path, const RunInfo &info, double staleSeconds,
                                  const std::string &then);
std::string interruptedMessage(const RunInfo &info);
Error noSuchRun(const std::string &path, RunId run);

double unixNow();
double steadyNow();
const std::string &hostName();

} // namespace distillery::core::store
