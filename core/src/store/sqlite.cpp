#include "store/sqlite.h"

#include <cstring>
#include <limits>

namespace distillery::core::store {

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
    const std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    return Error{errorCode, path + ": " + what + " (" + message + ")"};
}

bool exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

StatementCache::~StatementCache()
{
    for (auto &entry : m_statements)
        sqlite3_finalize(entry.second);
}

sqlite3_stmt *StatementCache::get(const char *sql)
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

Transaction::Transaction(sqlite3 *db)
    : m_db(db)
{
    m_active = exec(db, "BEGIN IMMEDIATE");
}

Transaction::~Transaction()
{
    if (m_active && !sqlite3_get_autocommit(m_db))
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
}

bool Transaction::commit()
{
    if (!m_active || !exec(m_db, "COMMIT"))
        return false;
    m_active = false;
    return true;
}

bool stepDone(sqlite3_stmt *stmt)
{
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE;
}

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

double columnValue(sqlite3_stmt *stmt, int column)
{
    if (sqlite3_column_type(stmt, column) == SQLITE_NULL)
        return std::numeric_limits<double>::quiet_NaN();
    return sqlite3_column_double(stmt, column);
}

namespace {

bool littleEndian()
{
    const std::uint32_t one = 1;
    unsigned char first;
    std::memcpy(&first, &one, 1);
    return first == 1;
}

void swapWords(std::string &bytes)
{
    for (std::size_t i = 0; i + 3 < bytes.size(); i += 4) {
        std::swap(bytes[i], bytes[i + 3]);
        std::swap(bytes[i + 1], bytes[i + 2]);
    }
}

} // namespace

std::string floatsToBlob(const std::vector<float> &values)
{
    std::string blob(values.size() * sizeof(float), '\0');
    if (!values.empty())
        std::memcpy(blob.data(), values.data(), blob.size());
    if (!littleEndian())
        swapWords(blob);
    return blob;
}

std::vector<float> blobToFloats(const void *data, int bytes)
{
    std::vector<float> values(static_cast<std::size_t>(bytes) / sizeof(float));
    if (values.empty())
        return values;
    std::string blob(static_cast<const char *>(data), values.size() * sizeof(float));
    if (!littleEndian())
        swapWords(blob);
    std::memcpy(values.data(), blob.data(), blob.size());
    return values;
}

} // namespace distillery::core::store
