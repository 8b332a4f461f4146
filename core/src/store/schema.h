#pragma once

// The run store's schema: numbered migrations in PRAGMA user_version, and opening a connection
// that refuses files newer than this program (and brings older ones up to date for writing).
// Schema: docs/store-schema.md.

#include "store/sqlite.h"

#include <string>

namespace distillery::core::store {

// PRAGMA user_version of the file; store.not_sqlite when it is no SQLite database.
Result<int> readUserVersion(sqlite3 *db, const std::string &path);

// Opens with the busy timeout; refuses a schema newer than this program's. Gives the version
// it found beside the connection.
Result<std::pair<Connection, int>> openChecked(const std::string &path, int flags, const char *purpose);

// A connection for writing: WAL, synchronous = NORMAL, busy timeout, migrated to the current
// schema. With create = false a missing file is store.not_found.
Result<Connection> openWritable(const std::string &path, bool create);

bool fileExists(const std::string &path);
// The folder a path is in ("." for a bare file name): where SQLite puts the WAL files.
std::string folderOf(const std::string &path);

} // namespace distillery::core::store
