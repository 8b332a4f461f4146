#pragma once

// Small RAII helpers over SQLite's C API for the run store: a connection, a prepared statement,
// a transaction that rolls back unless committed, binding and reading values, and errors that
// name the file. Internal to the store module.

#include "distillery/core/result.h"

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace distillery::core::store {

constexpr int kBusyTimeoutMs = 5000;

// "<path>: <what> (<SQLite's message>)" with a code from SQLite's: store.busy, store.full,
// store.not_sqlite or store.sql.
Error sqlFailure(sqlite3 *db, const std::string &path, const std::string &what);

// Runs SQL without results; false on failure (the connection holds the message).
[[nodiscard]] bool exec(sqlite3 *db, const char *sql);

// An open connection, closed when it goes.
class Connection
{
public:
    Connection() = default;
    explicit Connection(sqlite3 *db)
        : m_db(db)
    {}
    ~Connection() { sqlite3_close(m_db); }
    Connection(Connection &&other) noexcept
        : m_db(other.m_db)
    {
        other.m_db = nullptr;
    }
    Connection &operator=(Connection &&other) noexcept
    {
        std::swap(m_db, other.m_db);
        return *this;
    }
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;
    sqlite3 *get() const { return m_db; }

private:
    sqlite3 *m_db = nullptr;
};

// A statement prepared for one query, finalized when it goes.
class Statement
{
public:
    Statement(sqlite3 *db, const char *sql)
    {
        m_rc = sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr);
    }
    ~Statement() { sqlite3_finalize(m_stmt); }
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;
    bool ok() const { return m_rc == SQLITE_OK; }
    sqlite3_stmt *get() const { return m_stmt; }

private:
    sqlite3_stmt *m_stmt = nullptr;
    int m_rc = SQLITE_OK;
};

// Statements a long-lived connection prepares once and reuses, by SQL literal.
class StatementCache
{
public:
    explicit StatementCache(sqlite3 *db)
        : m_db(db)
    {}
    ~StatementCache();
    StatementCache(const StatementCache &) = delete;
    StatementCache &operator=(const StatementCache &) = delete;
    // Reset and unbound, ready to bind; nullptr when it cannot be prepared.
    sqlite3_stmt *get(const char *sql);

private:
    sqlite3 *m_db;
    std::map<const char *, sqlite3_stmt *> m_statements;
};

// BEGIN IMMEDIATE when made; ROLLBACK when it goes without commit(). Every early return of a
// write therefore leaves the file as it was.
class Transaction
{
public:
    explicit Transaction(sqlite3 *db);
    ~Transaction();
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;
    bool began() const { return m_active; }
    [[nodiscard]] bool commit();

private:
    sqlite3 *m_db;
    bool m_active = false;
};

// Steps a statement that returns no rows and resets it; true on SQLITE_DONE.
[[nodiscard]] bool stepDone(sqlite3_stmt *stmt);

void bindText(sqlite3_stmt *stmt, int index, const std::string &text);
void bindOptionalText(sqlite3_stmt *stmt, int index, const std::string &text); // "" -> NULL
std::string columnText(sqlite3_stmt *stmt, int column);
// SQLite turns NaN into NULL on the way in; this turns it back.
double columnValue(sqlite3_stmt *stmt, int column);

// float32 little-endian, whatever the machine's byte order.
std::string floatsToBlob(const std::vector<float> &values);
std::vector<float> blobToFloats(const void *data, int bytes);

} // namespace distillery::core::store
