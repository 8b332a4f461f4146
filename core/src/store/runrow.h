#pragma once

// Rows of the runs table and whether their writer is still alive (heartbeat, pid on this host).

#include "distillery/core/store.h"

#include <sqlite3.h>

#include <string>

namespace distillery::core::store {

// The columns readRun() reads, in its order.
extern const char *const kRunColumns;
RunInfo readRun(sqlite3_stmt *stmt);

// A run marked running whose writer is gone: same host and dead pid, or a stale heartbeat.
bool writerGone(const RunInfo &info, double staleSeconds, double now);
std::string interruptedMessage(const RunInfo &info);
Error noSuchRun(const std::string &path, RunId run);

double unixNow();
double steadyNow();
const std::string &hostName();

} // namespace distillery::core::store
