#include "distillery/core/errors.h"
#include "distillery/core/store.h"

#include <QtTest>

#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <thread>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace distillery::core;

#define CHECK_OK(expr)                                                                             \
    do {                                                                                           \
        const auto &checkResult_ = (expr);                                                         \
        QVERIFY2(checkResult_.ok(),                                                                \
                 checkResult_.ok() ? "" : checkResult_.error().message.c_str());                   \
    } while (false)

#define TAKE(var, expr)                                                                            \
    auto var##Result_ = (expr);                                                                    \
    QVERIFY2(var##Result_.ok(), var##Result_.ok() ? "" : var##Result_.error().message.c_str());    \
    auto &var = var##Result_.value()

namespace {

// Independent access to the file, bypassing the store's code.
std::string rawText(const std::string &path, const std::string &sql)
{
    sqlite3 *db = nullptr;
    std::string result = "<error>";
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        sqlite3_stmt *stmt = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
            const int rc = sqlite3_step(stmt);
            if (rc == SQLITE_ROW) {
                const auto *text = sqlite3_column_text(stmt, 0);
                result = text ? reinterpret_cast<const char *>(text) : "<null>";
            } else if (rc == SQLITE_DONE) {
                result = "<none>";
            }
        }
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return result;
}

bool rawExec(const std::string &path, const std::string &sql)
{
    sqlite3 *db = nullptr;
    bool ok = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK;
    if (ok) {
        sqlite3_busy_timeout(db, 5000);
        ok = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    sqlite3_close(db);
    return ok;
}

// What schema version 4 added, taken away again (to make stores of older versions).
constexpr const char *kUndoSchemaFour =
    "DROP TABLE series_stats; DROP TABLE run_tags; ALTER TABLE runs DROP COLUMN note; "
    "ALTER TABLE runs DROP COLUMN group_name; ";

NewRun newRun(const std::string &name)
{
    NewRun run;
    run.name = name;
    run.templateName = "tiny";
    run.graphJson = R"({"format":"distillery.graph","version":1})";
    run.device = "cpu";
    run.threads = 1;
    run.seed = 7;
    run.stepsTotal = 100;
    return run;
}

// Bitwise equality, so that NaN == NaN and -0.0 != 0.0 would show up.
bool sameDouble(double a, double b)
{
    if (std::isnan(a) || std::isnan(b))
        return std::isnan(a) && std::isnan(b);
    return std::memcmp(&a, &b, sizeof(double)) == 0;
}

// Waits up to `ms` for one byte on `fd`; false on timeout or EOF.
bool readByte(int fd, int ms, char *byte)
{
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, ms) != 1)
        return false;
    return read(fd, byte, 1) == 1;
}

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

class tst_Store : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_counter = 0;

    std::string freshPath()
    {
        return m_dir.filePath(QString("store%1.sqlite").arg(++m_counter)).toStdString();
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void statusNames()
    {
        for (RunStatus s : {RunStatus::Running, RunStatus::Finished, RunStatus::Failed,
                            RunStatus::Cancelled, RunStatus::Interrupted})
            QVERIFY(runStatusFromName(runStatusName(s)) == s);
        QCOMPARE(runStatusName(RunStatus::Cancelled), std::string("cancelled"));
        QVERIFY(!runStatusFromName("paused"));
    }

    void createAndMigrate()
    {
        const std::string path = freshPath();
        {
            TAKE(writer, RunWriter::open(path));
            QCOMPARE(writer->path(), path);
        }
        QCOMPARE(rawText(path, "PRAGMA user_version"), std::to_string(kStoreSchemaVersion));
        QCOMPARE(rawText(path, "PRAGMA journal_mode"), std::string("wal"));
        for (const char *table : {"runs", "keys", "scalars", "latest", "checkpoints", "run_meta",
                                  "token_diagnostics", "samples"}) {
            const std::string sql = std::string("SELECT name FROM sqlite_master WHERE type = "
                                                "'table' AND name = '") +
                                    table + "'";
            QCOMPARE(rawText(path, sql), std::string(table));
        }
        // Opening again leaves it as it is.
        {
            TAKE(writer, RunWriter::open(path));
            CHECK_OK(writer->createRun(newRun("again")));
        }
        TAKE(reader, StoreReader::open(path));
        QCOMPARE(reader->schemaVersion(), kStoreSchemaVersion);
        QCOMPARE(reader->schemaVersion(), 4);
        TAKE(check, reader->integrityCheck());
        QCOMPARE(check, std::string("ok"));
    }

    void refusesNewerSchema()
    {
        const std::string path = freshPath();
        QVERIFY(RunWriter::open(path).ok());
        QVERIFY(rawExec(path, "PRAGMA user_version = 99"));
        auto writer = RunWriter::open(path);
        QVERIFY(!writer.ok());
        QCOMPARE(writer.error().code, std::string("store.newer_schema"));
        QVERIFY2(writer.error().message.find(path) != std::string::npos,
                 writer.error().message.c_str());
        QVERIFY(writer.error().message.find("version 99") != std::string::npos);
        auto reader = StoreReader::open(path);
        QVERIFY(!reader.ok());
        QCOMPARE(reader.error().code, std::string("store.newer_schema"));
        QVERIFY(reader.error().message.find(path) != std::string::npos);
        // The file was not touched.
        QCOMPARE(rawText(path, "PRAGMA user_version"), std::string("99"));
    }

    // Schema 1 numbered steps by their 0-based index; opening such a store (to read or to write)
    // renumbers every row by the updates done, and in-graph teachers' checkpoints keep theirs.
    void schemaOneStepsAreRenumbered()
    {
        const std::string path = freshPath();
        RunId trained = 0, empty = 0;
        {
            TAKE(writer, RunWriter::open(path));
            TAKE(a, writer->createRun(newRun("trained")));
            TAKE(b, writer->createRun(newRun("nothing yet")));
            trained = a;
            empty = b;
            for (std::int64_t i = 0; i < 5; ++i)
                writer->addScalar(trained, "train/loss", i, 1.0 + double(i));
            for (std::int64_t i = 0; i < 3; ++i)
                writer->addScalar(trained, "teacher/t/loss", i, 9.0 - double(i));
            writer->addScalar(empty, "teacher/t/loss", 0, 9.0);
            writer->addTokenDiagnostic(trained, 4, 0, "kl", {0.5f, 0.25f});
            writer->addSample(trained, 4, 0, "text");
            CHECK_OK(writer->addCheckpoint({trained, 4, "/x/step-4.pt", "student", 0}));
            CHECK_OK(writer->addCheckpoint({trained, 4, "/x/student.pt", "model", 0}));
            CHECK_OK(writer->addCheckpoint({trained, 3, "/x/teacher-2.pt", "teacher", 0}));
            writer->setLastStep(trained, 4);
            CHECK_OK(writer->flush());
            CHECK_OK(writer->finishRun(trained, RunStatus::Finished));
            CHECK_OK(writer->finishRun(empty, RunStatus::Cancelled));
        }
        // What version 1 had: no exports table, 0-based steps.
        QVERIFY(rawExec(path, std::string(kUndoSchemaFour) + "DROP TABLE exports; PRAGMA user_version = 1"));
        QVERIFY(rawExec(path, "UPDATE runs SET last_step = 0 WHERE id = " + std::to_string(empty)));

        TAKE(reader, StoreReader::open(path));
        QCOMPARE(reader->schemaVersion(), kStoreSchemaVersion);
        TAKE(loss, reader->scalars(trained, "train/loss"));
        QCOMPARE(int(loss.size()), 5);
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(loss[std::size_t(i)].step, std::int64_t(i + 1));
            QCOMPARE(loss[std::size_t(i)].value, 1.0 + i);
        }
        TAKE(teacher, reader->scalars(trained, "teacher/t/loss"));
        QCOMPARE(teacher.back().step, std::int64_t(3));
        TAKE(latest, reader->latest(trained));
        QCOMPARE(latest["train/loss"].step, std::int64_t(5));
        TAKE(info, reader->run(trained));
        QCOMPARE(info.lastStep, std::int64_t(5));
        TAKE(other, reader->run(empty));
        QCOMPARE(other.lastStep, std::int64_t(0)); // only its teacher trained: no student step
        TAKE(steps, reader->tokenDiagnosticSteps(trained, "kl"));
        QCOMPARE(steps, (std::vector<std::int64_t>{5}));
        TAKE(texts, reader->samples(trained, 5));
        QCOMPARE(texts, (std::vector<std::string>{"text"}));
        TAKE(cps, reader->checkpoints(trained));
        std::map<std::string, std::int64_t> byKind;
        for (const auto &c : cps)
            byKind[c.kind] = c.step;
        QCOMPARE(byKind["student"], std::int64_t(5));
        QCOMPARE(byKind["model"], std::int64_t(5));
        QCOMPARE(byKind["teacher"], std::int64_t(3));
        TAKE(check, reader->integrityCheck());
        QCOMPARE(check, std::string("ok"));
    }

    // Exports are recorded per run, the same path written again replaces its row, paths
    // inside the store's folder are kept relative to it, and an unknown run is refused.
    void recordsExports()
    {
        const std::string path = freshPath();
        RunId run = 0;
        {
            TAKE(writer, RunWriter::open(path));
            TAKE(id, writer->createRun(newRun("exported")));
            run = id;
        }
        const std::string folder = QFileInfo(QString::fromStdString(path)).absolutePath().toStdString();
        CHECK_OK(recordExport(path, ExportInfo{run, 5, "hf", "f32", folder + "/out/hf", 1000, 10.0}));
        CHECK_OK(recordExport(path, ExportInfo{run, 8, "torchscript", "bf16", "/elsewhere/s.pt", 500, 11.0}));
        CHECK_OK(recordExport(path, ExportInfo{run, 8, "hf", "f16", folder + "/out/hf", 600, 12.0}));
        QCOMPARE(rawText(path, "SELECT path FROM exports WHERE format = 'hf'"), std::string("out/hf"));
        TAKE(reader, StoreReader::open(path));
        TAKE(list, reader->exports(run));
        QCOMPARE(int(list.size()), 2);
        QCOMPARE(list[0].format, std::string("torchscript"));
        QCOMPARE(list[0].path, std::string("/elsewhere/s.pt"));
        QCOMPARE(list[1].format, std::string("hf"));
        QCOMPARE(list[1].step, std::int64_t(8));
        QCOMPARE(list[1].dtype, std::string("f16"));
        QCOMPARE(list[1].bytes, std::int64_t(600));
        QCOMPARE(list[1].path, folder + "/out/hf");
        auto unknown = recordExport(path, ExportInfo{run + 10, 1, "hf", "f32", "/x", 1, 0});
        QVERIFY(!unknown.ok());
        QCOMPARE(unknown.error().code, std::string("store.no_such_run"));
    }

    void refusesNonSqlite()
    {
        const std::string path = freshPath();
        {
            std::ofstream out(path);
            for (int i = 0; i < 100; ++i)
                out << "step,loss\n" << i << "," << 1.0 / (i + 1) << "\n";
        }
        auto writer = RunWriter::open(path);
        QVERIFY(!writer.ok());
        QCOMPARE(writer.error().code, std::string("store.not_sqlite"));
        QVERIFY2(writer.error().message.find(path) != std::string::npos,
                 writer.error().message.c_str());
        auto reader = StoreReader::open(path);
        QVERIFY(!reader.ok());
        QCOMPARE(reader.error().code, std::string("store.not_sqlite"));
        QVERIFY(reader.error().message.find(path) != std::string::npos);
        // Still the same text file.
        std::ifstream in(path);
        std::string first;
        std::getline(in, first);
        QCOMPARE(first, std::string("step,loss"));
    }

    // A file of another program is never turned into a store; an empty file is a new store.
    void refusesForeignSqlite()
    {
        const std::string path = freshPath();
        {
            sqlite3 *db = nullptr;
            QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
            QCOMPARE(sqlite3_exec(db, "CREATE TABLE invoices (id INTEGER, total REAL)", nullptr,
                                  nullptr, nullptr),
                     SQLITE_OK);
            sqlite3_close(db);
        }
        auto writer = RunWriter::open(path);
        QVERIFY(!writer.ok());
        QCOMPARE(writer.error().code, std::string("store.not_a_store"));
        QVERIFY2(writer.error().message.find("invoices") != std::string::npos,
                 writer.error().message.c_str());
        QVERIFY(isInputError(writer.error()));
        // Unchanged: no WAL file, no runs table, still its own journal mode.
        QVERIFY(!QFileInfo::exists(QString::fromStdString(path + "-wal")));
        QCOMPARE(rawText(path, "SELECT count(*) FROM sqlite_master WHERE name = 'runs'"),
                 std::string("0"));
        QCOMPARE(rawText(path, "PRAGMA journal_mode"), std::string("delete"));

        const std::string empty = freshPath();
        { std::ofstream touch(empty); }
        TAKE(fresh, RunWriter::open(empty));
        TAKE(run, fresh->createRun(newRun("in an empty file")));
        QCOMPARE(run, RunId(1));
    }

    // Claiming a run for writing is one step: while its writer lives, a second one is refused
    // with the owner's pid and host; releaseRun gives a reopened run back unchanged.
    void claimIsExclusive()
    {
        const std::string path = freshPath();
        TAKE(first, RunWriter::open(path));
        TAKE(second, RunWriter::open(path));
        TAKE(run, first->createRun(newRun("owned")));
        auto refused = second->reopenRun(run);
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, std::string("store.run_active"));
        QVERIFY2(refused.error().message.find("pid " + std::to_string(getpid())) != std::string::npos,
                 refused.error().message.c_str());
        QVERIFY(isInputError(refused.error()));

        CHECK_OK(first->finishRun(run, RunStatus::Cancelled, "cancelled by the user"));
        CHECK_OK(second->reopenRun(run));
        TAKE(reader, StoreReader::open(path));
        TAKE(claimed, reader->run(run));
        QCOMPARE(claimed.status, RunStatus::Running);
        QVERIFY(!first->reopenRun(run).ok()); // now the second owns it
        CHECK_OK(second->releaseRun(run));
        TAKE(back, reader->run(run));
        QCOMPARE(back.status, RunStatus::Cancelled);
        QCOMPARE(back.error, std::string("cancelled by the user"));
        QVERIFY(back.finishedAt > 0);
        QVERIFY(!second->releaseRun(run).ok()); // not reopened any more
    }

    // Checkpoints are recorded relative to the store's folder and found again after the
    // store and its artifacts moved, from any current directory.
    void checkpointPathsFollowTheStore()
    {
        QTemporaryDir a, b;
        const std::string path = a.filePath("runs.sqlite").toStdString();
        const std::string artifacts = defaultArtifactsFolder(path);
        QCOMPARE(QString::fromStdString(artifacts), a.filePath("runs.sqlite.artifacts"));
        QCOMPARE(QString::fromStdString(defaultArtifactsFolder("runs.sqlite")),
                 QDir::current().absoluteFilePath("runs.sqlite.artifacts"));
        {
            TAKE(writer, RunWriter::open(path));
            TAKE(run, writer->createRun(newRun("moved")));
            CHECK_OK(writer->addCheckpoint({run, 3, artifacts + "/run-1/step-3.pt", "student", 0}));
            CHECK_OK(writer->addCheckpoint({run, 4, "/elsewhere/step-4.pt", "student", 0}));
            CHECK_OK(writer->finishRun(run, RunStatus::Finished));
        }
        QCOMPARE(rawText(path, "SELECT path FROM checkpoints WHERE step = 3"),
                 std::string("runs.sqlite.artifacts/run-1/step-3.pt"));
        QCOMPARE(rawText(path, "SELECT path FROM checkpoints WHERE step = 4"),
                 std::string("/elsewhere/step-4.pt"));
        QVERIFY(QFile::rename(a.filePath("runs.sqlite"), b.filePath("runs.sqlite")));
        const std::string moved = b.filePath("runs.sqlite").toStdString();
        TAKE(reader, StoreReader::open(moved));
        TAKE(cps, reader->checkpoints(1));
        QCOMPARE(QString::fromStdString(cps[0].path), b.filePath("runs.sqlite.artifacts/run-1/step-3.pt"));
        QCOMPARE(cps[1].path, std::string("/elsewhere/step-4.pt"));
        QCOMPARE(storeRelativePath(moved, b.filePath("x/y.pt").toStdString()), std::string("x/y.pt"));
        QCOMPARE(resolveStorePath(moved, "x/y.pt"), b.filePath("x/y.pt").toStdString());
    }

    void missingFile()
    {
        const std::string path = m_dir.filePath("nowhere/missing.sqlite").toStdString();
        auto reader = StoreReader::open(path);
        QVERIFY(!reader.ok());
        QCOMPARE(reader.error().code, std::string("store.not_found"));
        QVERIFY(reader.error().message.find(path) != std::string::npos);
        auto marked = markInterruptedRuns(path);
        QVERIFY(!marked.ok());
        QVERIFY(marked.error().message.find(path) != std::string::npos);
        QVERIFY(!renameRun(path, 1, "x").ok());
        auto writer = RunWriter::open(path); // its folder does not exist
        QVERIFY(!writer.ok());
        QVERIFY(writer.error().message.find(path) != std::string::npos);
    }

    void scalarsVisibleAfterFlush()
    {
        const std::string path = freshPath();
        TAKE(writer, RunWriter::open(path));
        TAKE(run, writer->createRun(newRun("flush")));
        TAKE(reader, StoreReader::open(path));
        for (int batch = 0; batch < 3; ++batch) {
            for (int i = 0; i < 10; ++i) {
                const int step = batch * 10 + i;
                writer->addScalar(run, "train/loss", step, 10.0 - 0.25 * step);
            }
            QCOMPARE(writer->pendingCount(), std::size_t(10));
            TAKE(before, reader->scalars(run, "train/loss"));
            QCOMPARE(int(before.size()), batch * 10);
            CHECK_OK(writer->flush());
            QCOMPARE(writer->pendingCount(), std::size_t(0));
            TAKE(after, reader->scalars(run, "train/loss"));
            QCOMPARE(int(after.size()), batch * 10 + 10);
            for (int i = 0; i < int(after.size()); ++i) {
                QCOMPARE(after[i].step, std::int64_t(i));
                QCOMPARE(after[i].value, 10.0 - 0.25 * i);
                QVERIFY(after[i].wallTime > 1.6e9);
            }
        }
        // The teacher phase's steps are its own: they do not move the run's progress.
        writer->addScalar(run, "teacher/teacher/loss", 500, 1.0);
        CHECK_OK(writer->flush());
        TAKE(info, reader->run(run));
        QCOMPARE(info.lastStep, std::int64_t(29)); // raised by addScalar
        QCOMPARE(info.status, RunStatus::Running);
        QCOMPARE(info.name, std::string("flush"));
        QCOMPARE(info.templateName, std::string("tiny"));
        QCOMPARE(info.device, std::string("cpu"));
        QCOMPARE(info.seed, std::int64_t(7));
        QCOMPARE(info.stepsTotal, std::int64_t(100));
        QCOMPARE(info.pid, std::int64_t(getpid()));
        QVERIFY(!info.host.empty());
        QCOMPARE(info.finishedAt, 0.0);
        // Unknown series: empty, not an error.
        TAKE(none, reader->scalars(run, "no/such/key"));
        QVERIFY(none.empty());
        writer->setLastStep(run, 31);
        CHECK_OK(writer->flush());
        TAKE(info2, reader->run(run));
        QCOMPARE(info2.lastStep, std::int64_t(31));
        QVERIFY(info2.heartbeatAt >= info.heartbeatAt);
    }

    void maybeFlushWaitsForInterval()
    {
        const std::string path = freshPath();
        TAKE(writer, RunWriter::open(path));
        TAKE(run, writer->createRun(newRun("interval")));
        CHECK_OK(writer->flush());
        writer->addScalar(run, "a", 0, 1.0);
        CHECK_OK(writer->maybeFlush(3600.0));
        QCOMPARE(writer->pendingCount(), std::size_t(1));
        CHECK_OK(writer->maybeFlush(0.0));
        QCOMPARE(writer->pendingCount(), std::size_t(0));
    }

    void liveTail()
    {
        const std::string path = freshPath();
        TAKE(writer, RunWriter::open(path));
        TAKE(run, writer->createRun(newRun("tail")));
        TAKE(reader, StoreReader::open(path));
        std::vector<ScalarPoint> seen;
        std::int64_t after = -1;
        int step = 0;
        for (int chunk = 0; chunk < 60; ++chunk) {
            const int n = 1 + (chunk * 7) % 23;
            for (int i = 0; i < n; ++i, ++step) {
                writer->addScalar(run, "train/loss", step, std::sin(step));
                writer->addScalar(run, "train/lr", step, 1e-3);
            }
            if (chunk % 3 != 2) // sometimes several flushes between two reads
                CHECK_OK(writer->flush());
            if (chunk % 2 == 0) {
                TAKE(tail, reader->scalars(run, "train/loss", after));
                for (const ScalarPoint &p : tail)
                    seen.push_back(p);
                if (!seen.empty())
                    after = seen.back().step;
                // Reading again without new commits yields nothing.
                TAKE(again, reader->scalars(run, "train/loss", after));
                QVERIFY(again.empty());
            }
        }
        CHECK_OK(writer->flush());
        TAKE(tail, reader->scalars(run, "train/loss", after));
        for (const ScalarPoint &p : tail)
            seen.push_back(p);
        QCOMPARE(int(seen.size()), step);
        for (int i = 0; i < step; ++i) {
            QCOMPARE(seen[i].step, std::int64_t(i));
            QCOMPARE(seen[i].value, std::sin(i));
        }
    }

    void latestMatchesHistory()
    {
        const std::string path = freshPath();
        TAKE(writer, RunWriter::open(path));
        TAKE(run, writer->createRun(newRun("latest")));
        TAKE(other, writer->createRun(newRun("other")));
        const std::vector<std::string> names = {"train/loss", "eval/student_nll", "eval/ece",
                                                "train/grad_norm"};
        for (int step = 0; step < 200; ++step) {
            for (std::size_t k = 0; k < names.size(); ++k) {
                if (step % int(k + 1) == 0)
                    writer->addScalar(run, names[k], step, step * 0.5 + double(k));
            }
            writer->addScalar(other, "train/loss", step, -step);
            if (step % 37 == 0)
                CHECK_OK(writer->flush());
        }
        CHECK_OK(writer->flush());
        TAKE(reader, StoreReader::open(path));
        TAKE(keys, reader->keys(run));
        std::vector<std::string> sorted = names;
        std::sort(sorted.begin(), sorted.end());
        QCOMPARE(keys, sorted);
        TAKE(latest, reader->latest(run));
        QCOMPARE(latest.size(), names.size());
        for (const std::string &name : names) {
            TAKE(series, reader->scalars(run, name));
            QVERIFY(!series.empty());
            const ScalarPoint &last = series.back();
            QVERIFY(latest.count(name));
            QCOMPARE(latest[name].step, last.step);
            QCOMPARE(latest[name].value, last.value);
            QCOMPARE(latest[name].wallTime, last.wallTime);
        }
        QCOMPARE(latest["train/grad_norm"].step, std::int64_t(196));
        TAKE(otherLatest, reader->latest(other));
        QCOMPARE(otherLatest.size(), std::size_t(1));
        QCOMPARE(otherLatest["train/loss"].value, -199.0);
    }

    void rewrittenStepsReplace()
    {
        const std::string path = freshPath();
        TAKE(writer, RunWriter::open(path));
        TAKE(run, writer->createRun(newRun("resume")));
        for (int step = 0; step < 10; ++step)
            writer->addScalar(run, "train/loss", step, 1.0);
        CHECK_OK(writer->flush());
        for (int step = 5; step < 10; ++step)
            writer->addScalar(run, "train/loss", step, 2.0);
        writer->addScalar(run, "train/loss", 3, 3.0); // same step twice in one flush: last wins
        writer->addScalar(run, "train/loss", 3, 4.0);
        CHECK_OK(writer->flush());
        TAKE(reader, StoreReader::open(path));
        TAKE(series, reader->scalars(run, "train/loss"));
        QCOMPARE(int(series.size()), 10);
        for (int step = 0; step < 10; ++step) {
            QCOMPARE(series[step].step, std::int64_t(step));
            const double expected = step == 3 ? 4.0 : (step >= 5 ? 2.0 : 1.0);
            QCOMPARE(series[step].value, expected);
        }
        TAKE(latest, reader->latest(run));
        QCOMPARE(latest["train/loss"].step, std::int64_t(9));
        QCOMPARE(latest["train/loss"].value, 2.0);

        // Resume from a checkpoint at step 6: rows after it go, latest follows.
        writer->addTokenDiagnostic(run, 4, 0, "kl", {1.f});
        writer->addTokenDiagnostic(run, 8, 0, "kl", {2.f});
        writer->addSample(run, 8, 0, "late");
        CHECK_OK(writer->discardAfter(run, 6));
        TAKE(cut, reader->scalars(run, "train/loss"));
        QCOMPARE(int(cut.size()), 7);
        QCOMPARE(cut.back().step, std::int64_t(6));
        TAKE(latestCut, reader->latest(run));
        QCOMPARE(latestCut["train/loss"].step, std::int64_t(6));
        QCOMPARE(latestCut["train/loss"].value, 2.0);
        TAKE(diagSteps, reader->tokenDiagnosticSteps(run, "kl"));
        QCOMPARE(diagSteps, std::vector<std::int64_t>{4});
        TAKE(late, reader->samples(run, 8));
        QVERIFY(late.empty());
        TAKE(info, reader->run(run));
        QCOMPARE(info.lastStep, std::int64_t(6));
    }

    // The extremes kept beside the history equal the ones computed from it, through NaN and
    // infinite values, steps written again within and across flushes, and a resume cut.
    void seriesStatsMatchHistory()
    {
        const std::string path = freshPath();
        TAKE(writer, RunWriter::open(path));
        TAKE(run, writer->createRun(newRun("stats")));
        std::uint32_t state = 12345;
        auto noise = [&] {
            state = state * 1664525u + 1013904223u;
            return double(state >> 8) / double(1u << 24);
        };
        auto check = [&](const char *when) {
            TAKE(reader, StoreReader::open(path));
            TAKE(stats, reader->seriesStats(run));
            TAKE(keys, reader->keys(run));
            QCOMPARE(stats.size(), keys.size());
            for (const std::string &key : keys) {
                TAKE(series, reader->scalars(run, key));
                double lo = 0, hi = 0;
                std::int64_t loStep = -1, hiStep = -1;
                for (const ScalarPoint &p : series) {
                    if (!std::isfinite(p.value))
                        continue;
                    if (loStep < 0 || p.value < lo)
                        lo = p.value, loStep = p.step;
                    if (hiStep < 0 || p.value > hi)
                        hi = p.value, hiStep = p.step;
                }
                const SeriesStats &s = stats.at(key);
                QVERIFY2(s.minStep == loStep && s.maxStep == hiStep,
                         (std::string(when) + ": " + key + " steps " + std::to_string(s.minStep) + "/" +
                          std::to_string(s.maxStep) + " vs " + std::to_string(loStep) + "/" +
                          std::to_string(hiStep)).c_str());
                if (loStep >= 0) {
                    QCOMPARE(s.min, lo);
                    QCOMPARE(s.max, hi);
                }
                QCOMPARE(s.last.step, series.back().step);
                QVERIFY(sameDouble(s.last.value, series.back().value));
            }
        };
        for (int step = 1; step <= 300; ++step) {
            writer->addScalar(run, "eval/student_nll", step, 3.0 - step * 0.001 + noise());
            writer->addScalar(run, "train/loss", step, step % 17 == 0 ? std::nan("") : noise());
            if (step == 150)
                writer->addScalar(run, "train/loss", step, std::numeric_limits<double>::infinity());
            writer->addScalar(run, "all_nan", step, std::nan(""));
            if (step % 41 == 0)
                CHECK_OK(writer->flush());
        }
        CHECK_OK(writer->flush());
        check("written once");
        // The minimum and the maximum rewritten with ordinary values, in a later flush and twice
        // within one flush.
        {
            TAKE(reader, StoreReader::open(path));
            TAKE(stats, reader->seriesStats(run));
            const SeriesStats nll = stats.at("eval/student_nll");
            writer->addScalar(run, "eval/student_nll", nll.minStep, 2.5);
            writer->addScalar(run, "eval/student_nll", nll.maxStep, 2.6);
            writer->addScalar(run, "eval/student_nll", nll.maxStep, 2.7);
        }
        CHECK_OK(writer->flush());
        check("rewritten");
        // A writer that did not write the run before (a resume): cut, then carry on.
        CHECK_OK(writer->finishRun(run, RunStatus::Cancelled));
        writer.reset();
        TAKE(resumed, RunWriter::open(path));
        CHECK_OK(resumed->reopenRun(run));
        CHECK_OK(resumed->discardAfter(run, 100));
        check("cut at 100");
        for (int step = 90; step <= 200; ++step)
            resumed->addScalar(run, "eval/student_nll", step, 10.0 + noise());
        CHECK_OK(resumed->flush());
        check("resumed");
        TAKE(reader, StoreReader::open(path));
        TAKE(stats, reader->seriesStats(run));
        QVERIFY(!stats.at("all_nan").hasFinite());
        QVERIFY(stats.at("eval/student_nll").max >= 10.0);
    }

    void notesTagsAndGroups()
    {
        const std::string path = freshPath();
        RunId a = 0, b = 0;
        {
            TAKE(writer, RunWriter::open(path));
            NewRun grouped = newRun("a");
            grouped.group = "temperature sweep";
            TAKE(ra, writer->createRun(grouped));
            TAKE(rb, writer->createRun(newRun("b")));
            a = ra, b = rb;
            CHECK_OK(writer->finishRun(a, RunStatus::Finished));
            CHECK_OK(writer->finishRun(b, RunStatus::Finished));
        }
        CHECK_OK(setRunNote(path, a, "lr too high?\nsecond line"));
        CHECK_OK(setRunTags(path, a, {"baseline", "paper", "baseline"}));
        CHECK_OK(setRunTags(path, b, {"ablation"}));
        CHECK_OK(setRunGroup(path, b, "seeds"));
        {
            TAKE(reader, StoreReader::open(path));
            TAKE(runs, reader->runs());
            QCOMPARE(int(runs.size()), 2);
            const RunInfo &ra = runs[1].id == a ? runs[1] : runs[0];
            const RunInfo &rb = runs[1].id == a ? runs[0] : runs[1];
            QCOMPARE(ra.note, std::string("lr too high?\nsecond line"));
            QCOMPARE(ra.tags, (std::vector<std::string>{"baseline", "paper"}));
            QCOMPARE(ra.group, std::string("temperature sweep"));
            QCOMPARE(rb.tags, std::vector<std::string>{"ablation"});
            QCOMPARE(rb.group, std::string("seeds"));
            TAKE(one, reader->run(a));
            QCOMPARE(one.tags, (std::vector<std::string>{"baseline", "paper"}));
        }
        // Clearing, bad tags, unknown runs.
        CHECK_OK(setRunTags(path, a, {}));
        CHECK_OK(setRunNote(path, a, ""));
        CHECK_OK(setRunGroup(path, a, ""));
        for (const std::string &bad : {std::string(), std::string("a,b"), std::string(" x"),
                                       std::string("line\nbreak"), std::string(65, 't')}) {
            auto refused = setRunTags(path, b, {"fine", bad});
            QVERIFY(!refused.ok());
            QCOMPARE(refused.error().code, std::string("store.bad_tag"));
        }
        QCOMPARE(setRunTags(path, 999, {"x"}).error().code, std::string("store.no_such_run"));
        QCOMPARE(setRunNote(path, 999, "x").error().code, std::string("store.no_such_run"));
        QCOMPARE(setRunGroup(path, b, "two\nlines").error().code, std::string("store.bad_group"));
        {
            TAKE(reader, StoreReader::open(path));
            TAKE(ra, reader->run(a));
            QVERIFY(ra.tags.empty() && ra.note.empty() && ra.group.empty());
            TAKE(rb, reader->run(b));
            QCOMPARE(rb.tags, std::vector<std::string>{"ablation"}); // the refused update changed nothing
        }
        CHECK_OK(deleteRun(path, b));
        QCOMPARE(rawText(path, "SELECT COUNT(*) FROM run_tags"), std::string("0"));
    }

    // A version 3 store gains the new columns and tables, with the extremes of its history.
    void schemaThreeGainsSummaries()
    {
        const std::string path = freshPath();
        RunId run = 0;
        {
            TAKE(writer, RunWriter::open(path));
            TAKE(r, writer->createRun(newRun("old")));
            run = r;
            for (int step = 1; step <= 20; ++step)
                writer->addScalar(run, "train/loss", step, step == 7 ? -1.0 : step == 3 ? 50.0 : 1.0);
            writer->addScalar(run, "nan_only", 1, std::nan(""));
            CHECK_OK(writer->finishRun(run, RunStatus::Finished));
        }
        QVERIFY(rawExec(path, std::string(kUndoSchemaFour) + "PRAGMA user_version = 3;"));
        TAKE(reader, StoreReader::open(path));
        QCOMPARE(reader->schemaVersion(), 4);
        TAKE(stats, reader->seriesStats(run));
        QCOMPARE(stats.at("train/loss").min, -1.0);
        QCOMPARE(stats.at("train/loss").minStep, std::int64_t(7));
        QCOMPARE(stats.at("train/loss").max, 50.0);
        QCOMPARE(stats.at("train/loss").maxStep, std::int64_t(3));
        QVERIFY(!stats.at("nan_only").hasFinite());
        TAKE(info, reader->run(run));
        QVERIFY(info.tags.empty() && info.note.empty());
    }

    void statusTransitions_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("error");
        QTest::newRow("finished") << int(RunStatus::Finished) << QString();
        QTest::newRow("failed") << int(RunStatus::Failed)
                                << QString(
                                       "teacher.pt: expected logits of shape [B,T,V], got [B,V]");
        QTest::newRow("cancelled") << int(RunStatus::Cancelled) << QString();
    }

    void statusTransitions()
    {
        QFETCH(int, status);
        QFETCH(QString, error);
        const RunStatus target = RunStatus(status);
        const std::string path = freshPath();
        TAKE(writer, RunWriter::open(path));
        TAKE(run, writer->createRun(newRun("status")));
        TAKE(reader, StoreReader::open(path));
        TAKE(running, reader->run(run));
        QCOMPARE(running.status, RunStatus::Running);
        writer->addScalar(run, "train/loss", 0, 1.5);
        CHECK_OK(writer->finishRun(run, target, error.toStdString()));
        // finishRun flushed the scalar too.
        TAKE(series, reader->scalars(run, "train/loss"));
        QCOMPARE(int(series.size()), 1);
        TAKE(done, reader->run(run, 0.0)); // no staleness for finished runs
        QCOMPARE(done.status, target);
        QCOMPARE(done.error, error.toStdString());
        QVERIFY(done.finishedAt >= done.createdAt);
        QCOMPARE(rawText(path, "SELECT status FROM runs WHERE id = " + std::to_string(run)),
                 runStatusName(target));

        CHECK_OK(writer->reopenRun(run));
        TAKE(reopened, reader->run(run));
        QCOMPARE(reopened.status, RunStatus::Running);
        QCOMPARE(reopened.error, std::string());
        QCOMPARE(reopened.finishedAt, 0.0);
        CHECK_OK(writer->finishRun(run, RunStatus::Finished));
        TAKE(finished, reader->run(run));
        QCOMPARE(finished.status, RunStatus::Finished);
        QCOMPARE(finished.error, std::string());

        auto missing = writer->reopenRun(run + 100);
        QVERIFY(!missing.ok());
        QCOMPARE(missing.error().code, std::string("store.no_such_run"));
        auto missingRead = reader->run(run + 100);
        QVERIFY(!missingRead.ok());
        QVERIFY(missingRead.error().message.find(std::to_string(run + 100)) != std::string::npos);

        CHECK_OK(renameRun(path, run, "renamed"));
        TAKE(renamed, reader->run(run));
        QCOMPARE(renamed.name, std::string("renamed"));
        auto badRename = renameRun(path, run + 100, "x");
        QVERIFY(!badRename.ok());
        QCOMPARE(badRename.error().code, std::string("store.no_such_run"));
    }

    void runsNewestFirst()
    {
        const std::string path = freshPath();
        TAKE(writer, RunWriter::open(path));
        std::vector<RunId> ids;
        for (const char *name : {"first", "second", "third"}) {
            TAKE(id, writer->createRun(newRun(name)));
            ids.push_back(id);
        }
        CHECK_OK(writer->finishRun(ids[1], RunStatus::Finished));
        TAKE(reader, StoreReader::open(path));
        TAKE(runs, reader->runs());
        QCOMPARE(int(runs.size()), 3);
        QCOMPARE(runs[0].id, ids[2]);
        QCOMPARE(runs[1].id, ids[1]);
        QCOMPARE(runs[2].id, ids[0]);
        QCOMPARE(runs[0].name, std::string("third"));
        QCOMPARE(runs[1].status, RunStatus::Finished);
        QCOMPARE(runs[2].status, RunStatus::Running);
        QVERIFY(runs[0].createdAt >= runs[2].createdAt);
    }

    void tenThousandInOneFlush()
    {
        const std::string path = freshPath();
        TAKE(writer, RunWriter::open(path));
        TAKE(run, writer->createRun(newRun("bulk")));
        const int n = 10000;
        auto valueAt = [](int i) {
            if (i == 17)
                return std::numeric_limits<double>::quiet_NaN();
            if (i == 18)
                return std::numeric_limits<double>::infinity();
            if (i == 19)
                return -std::numeric_limits<double>::infinity();
            return std::exp(-i * 1e-3) * (i % 2 ? 1.0 : -1.0) + 1e-300 * i;
        };
        for (int i = 0; i < n; ++i) {
            writer->addScalar(run, "train/loss", i, valueAt(i));
            writer->addScalar(run, "key" + std::to_string(i % 7), i, i);
        }
        QCOMPARE(writer->pendingCount(), std::size_t(2 * n));
        CHECK_OK(writer->flush());
        QCOMPARE(writer->pendingCount(), std::size_t(0));
        TAKE(reader, StoreReader::open(path));
        TAKE(series, reader->scalars(run, "train/loss"));
        QCOMPARE(int(series.size()), n);
        for (int i = 0; i < n; ++i) {
            QCOMPARE(series[i].step, std::int64_t(i));
            QVERIFY2(sameDouble(series[i].value, valueAt(i)), qPrintable(QString::number(i)));
        }
        QCOMPARE(rawText(path, "SELECT COUNT(*) FROM scalars"), std::to_string(2 * n));
        TAKE(keys, reader->keys(run));
        QCOMPARE(int(keys.size()), 8);
    }

    void diagnosticsSamplesCheckpointsMeta()
    {
        const std::string path = freshPath();
        TAKE(writer, RunWriter::open(path));
        TAKE(run, writer->createRun(newRun("diag")));
        auto values = [](int step, int sample) {
            std::vector<float> v(64);
            for (int i = 0; i < 64; ++i)
                v[i] = float(step) * 0.01f + float(sample) - 1.0f / float(i + 1);
            return v;
        };
        for (int step : {0, 10, 20}) {
            for (int sample = 0; sample < 2; ++sample) {
                writer->addTokenDiagnostic(run, step, sample, "kl", values(step, sample));
                writer->addSample(run, step, 1 - sample,
                                  "text " + std::to_string(step) + "/" +
                                      std::to_string(1 - sample));
            }
        }
        writer->addTokenDiagnostic(run, 5, 0, "top1_agree", {1.f, 0.f, 1.f, 1.f});
        writer->addTokenDiagnostic(run, 6, 0, "top1_agree", {});
        CHECK_OK(writer->flush());
        CHECK_OK(writer->addCheckpoint({run, 20, "/tmp/ckpt/step20.pt", "student", 0}));
        CHECK_OK(writer->addCheckpoint({run, 10, "/tmp/ckpt/step10.pt", "student", 123.0}));
        CHECK_OK(writer->setRunMeta(run, "teacher", "/models/teacher.pt"));
        CHECK_OK(writer->setRunMeta(run, "summary", "{\"nll\": 1.5}"));
        CHECK_OK(writer->setRunMeta(run, "summary", "{\"nll\": 1.25}"));

        TAKE(reader, StoreReader::open(path));
        for (int step : {0, 10, 20}) {
            for (int sample = 0; sample < 2; ++sample) {
                TAKE(got, reader->tokenDiagnostic(run, step, sample, "kl"));
                QCOMPARE(got, values(step, sample));
            }
        }
        TAKE(steps, reader->tokenDiagnosticSteps(run, "kl"));
        QCOMPARE(steps, (std::vector<std::int64_t>{0, 10, 20}));
        TAKE(agreeSteps, reader->tokenDiagnosticSteps(run, "top1_agree"));
        QCOMPARE(agreeSteps, (std::vector<std::int64_t>{5, 6}));
        TAKE(empty, reader->tokenDiagnostic(run, 6, 0, "top1_agree"));
        QVERIFY(empty.empty());
        TAKE(missing, reader->tokenDiagnostic(run, 7, 0, "kl"));
        QVERIFY(missing.empty());
        // The stored layout is plain float32 little-endian with the mean beside it.
        QCOMPARE(rawText(path, "SELECT length(data) FROM token_diagnostics WHERE quantity = "
                               "'kl' AND step = 10 AND sample = 1"),
                 std::string("256"));
        QCOMPARE(rawText(path, "SELECT hex(data) FROM token_diagnostics WHERE step = 5"),
                 std::string("0000803F000000000000803F0000803F"));
        QCOMPARE(rawText(path, "SELECT mean FROM token_diagnostics WHERE step = 5"),
                 std::string("0.75"));
        TAKE(texts, reader->samples(run, 10));
        QCOMPARE(texts, (std::vector<std::string>{"text 10/0", "text 10/1"}));
        TAKE(sampleSteps, reader->sampleSteps(run));
        QCOMPARE(sampleSteps, (std::vector<std::int64_t>{0, 10, 20}));
        // A byte-level model's output that is not UTF-8 comes back byte for byte.
        const std::string raw("ok \xC3\x28 \xFF\x00 end", 13);
        writer->addSample(run, 30, 0, raw);
        CHECK_OK(writer->flush());
        TAKE(rawBack, reader->samples(run, 30));
        QCOMPARE(rawBack.size(), std::size_t(1));
        QCOMPARE(rawBack[0], raw);
        QCOMPARE(rawText(path, "SELECT typeof(text) FROM samples WHERE step = 30"), std::string("blob"));
        QCOMPARE(rawText(path, "SELECT typeof(text) FROM samples WHERE step = 10 AND idx = 0"),
                 std::string("text"));
        TAKE(checkpoints, reader->checkpoints(run));
        QCOMPARE(int(checkpoints.size()), 2);
        QCOMPARE(checkpoints[0].step, std::int64_t(10));
        QCOMPARE(checkpoints[0].createdAt, 123.0);
        QCOMPARE(checkpoints[1].path, std::string("/tmp/ckpt/step20.pt"));
        QCOMPARE(checkpoints[1].kind, std::string("student"));
        QVERIFY(checkpoints[1].createdAt > 1.6e9);
        TAKE(meta, reader->runMeta(run));
        QCOMPARE(int(meta.size()), 2);
        QCOMPARE(meta["teacher"], std::string("/models/teacher.pt"));
        QCOMPARE(meta["summary"], std::string("{\"nll\": 1.25}"));
    }

    void failedFlushKeepsRows()
    {
        const std::string path = freshPath();
        TAKE(writer, RunWriter::open(path));
        TAKE(run, writer->createRun(newRun("busy")));
        for (int i = 0; i < 100; ++i)
            writer->addScalar(run, "train/loss", i, i);
        // Another connection holds the write lock past the busy timeout.
        sqlite3 *other = nullptr;
        QCOMPARE(sqlite3_open(path.c_str(), &other), SQLITE_OK);
        QCOMPARE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
        const auto start = std::chrono::steady_clock::now();
        auto flushed = writer->flush();
        const double waited = secondsSince(start);
        QVERIFY(!flushed.ok());
        QCOMPARE(flushed.error().code, std::string("store.busy"));
        QVERIFY(flushed.error().message.find(path) != std::string::npos);
        QVERIFY(waited > 4.0); // it waited for the busy timeout first
        QCOMPARE(writer->pendingCount(), std::size_t(100));
        QCOMPARE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(other);
        CHECK_OK(writer->flush());
        QCOMPARE(writer->pendingCount(), std::size_t(0));
        TAKE(reader, StoreReader::open(path));
        TAKE(series, reader->scalars(run, "train/loss"));
        QCOMPARE(int(series.size()), 100);
    }

    void readerAfterWriterClosed()
    {
        const std::string path = freshPath();
        RunId run = 0;
        {
            TAKE(writer, RunWriter::open(path));
            TAKE(id, writer->createRun(newRun("closed")));
            run = id;
            writer->addScalar(run, "train/loss", 0, 0.5);
            // No flush: the destructor writes what is pending.
        }
        // The last connection checkpointed and removed the WAL files.
        QVERIFY(!QFile::exists(QString::fromStdString(path + "-wal")));
        TAKE(reader, StoreReader::open(path));
        TAKE(series, reader->scalars(run, "train/loss"));
        QCOMPARE(int(series.size()), 1);
        TAKE(info, reader->run(run, 3600));
        QCOMPARE(info.status, RunStatus::Running); // left to its owner; pid alive, fresh beat
        // A new writer appears while the reader stays open; it may claim the run only once the
        // old owner's heartbeat is stale.
        TAKE(writer, RunWriter::open(path));
        QCOMPARE(writer->reopenRun(run).error().code, std::string("store.run_active"));
        QVERIFY(rawExec(path, "UPDATE runs SET heartbeat_at = 1700000000.0, pid = 0 WHERE id = " +
                                  std::to_string(run)));
        CHECK_OK(writer->reopenRun(run));
        writer->addScalar(run, "train/loss", 1, 0.25);
        CHECK_OK(writer->flush());
        TAKE(more, reader->scalars(run, "train/loss", 0));
        QCOMPARE(int(more.size()), 1);
        QCOMPARE(more[0].value, 0.25);
    }

    void staleHeartbeat()
    {
        const std::string path = freshPath();
        RunId stale = 0;
        {
            // This writer goes away without finishing its run; its heartbeat stops.
            TAKE(gone, RunWriter::open(path));
            TAKE(id, gone->createRun(newRun("stale")));
            stale = id;
        }
        TAKE(writer, RunWriter::open(path));
        TAKE(fresh, writer->createRun(newRun("fresh")));
        CHECK_OK(writer->flush());
        const double old = 1700000000.0; // 2023-11-14T22:13:20Z
        QVERIFY(rawExec(path, "UPDATE runs SET heartbeat_at = " + std::to_string(old) +
                                  " WHERE id = " + std::to_string(stale)));
        TAKE(reader, StoreReader::open(path));
        TAKE(a, reader->run(stale, 30.0));
        QCOMPARE(a.status, RunStatus::Interrupted);
        TAKE(b, reader->run(fresh, 30.0));
        QCOMPARE(b.status, RunStatus::Running);
        TAKE(list, reader->runs(30.0));
        QCOMPARE(list[1].status, RunStatus::Interrupted);
        QCOMPARE(list[0].status, RunStatus::Running);
        // Only inferred so far.
        QCOMPARE(rawText(path, "SELECT status FROM runs WHERE id = " + std::to_string(stale)),
                 std::string("running"));

        TAKE(marked, markInterruptedRuns(path, 30.0));
        QCOMPARE(marked, std::vector<RunId>{stale});
        QCOMPARE(rawText(path, "SELECT status FROM runs WHERE id = " + std::to_string(stale)),
                 std::string("interrupted"));
        TAKE(c, reader->run(stale, 1e12));
        QCOMPARE(c.status, RunStatus::Interrupted);
        QCOMPARE(c.error, std::string("the writing process stopped without finishing the run "
                                      "(no heartbeat since 2023-11-14T22:13:20Z)"));
        TAKE(again, markInterruptedRuns(path, 30.0));
        QVERIFY(again.empty());
        // The fresh run's heartbeat keeps going.
        CHECK_OK(writer->flush());
        TAKE(d, reader->run(fresh, 30.0));
        QCOMPARE(d.status, RunStatus::Running);
    }

    void deleteRunRemovesEveryRow()
    {
        const std::string path = freshPath();
        TAKE(writer, RunWriter::open(path));
        TAKE(keep, writer->createRun(newRun("keep")));
        TAKE(drop, writer->createRun(newRun("drop")));
        for (RunId run : {keep, drop}) {
            writer->addScalar(run, "train/loss", 0, 1.0);
            writer->addScalar(run, "eval/student_nll", 0, 2.0);
            writer->addTokenDiagnostic(run, 0, 0, "kl", {0.5f, 0.25f});
            writer->addSample(run, 0, 0, "abc");
            CHECK_OK(writer->setRunMeta(run, "summary", "x"));
            CHECK_OK(writer->addCheckpoint(CheckpointInfo{run, 0, "/tmp/none.pt", "student", 0}));
        }
        CHECK_OK(writer->flush());
        for (RunId run : {keep, drop})
            CHECK_OK(recordExport(path, ExportInfo{run, 1, "hf", "f32", "/tmp/export-" + std::to_string(run), 10, 0}));

        // A live writer's run is refused, with a message naming the run.
        auto refused = deleteRun(path, drop);
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, std::string("store.run_active"));
        QVERIFY(refused.error().message.find("still running") != std::string::npos);
        QVERIFY(refused.error().message.find("'drop'") != std::string::npos);
        QCOMPARE(rawText(path, "SELECT COUNT(*) FROM runs"), std::string("2"));

        CHECK_OK(writer->finishRun(drop, RunStatus::Finished));
        CHECK_OK(deleteRun(path, drop));
        const std::string id = std::to_string(drop);
        for (const char *table :
             {"scalars", "latest", "checkpoints", "run_meta", "token_diagnostics", "samples", "exports"}) {
            QCOMPARE(
                rawText(path, std::string("SELECT COUNT(*) FROM ") + table + " WHERE run = " + id),
                std::string("0"));
            // The other run keeps its rows.
            QVERIFY(rawText(path, std::string("SELECT COUNT(*) FROM ") + table +
                                      " WHERE run = " + std::to_string(keep)) != "0");
        }
        TAKE(reader, StoreReader::open(path));
        TAKE(list, reader->runs());
        QCOMPARE(int(list.size()), 1);
        QCOMPARE(list[0].id, keep);
        QVERIFY(!reader->run(drop).ok());
        // Deleting again: no such run.
        auto again = deleteRun(path, drop);
        QVERIFY(!again.ok());
        QCOMPARE(again.error().code, std::string("store.no_such_run"));

        // A running run whose writer is gone (stale heartbeat) can be deleted.
        QVERIFY(rawExec(path, "UPDATE runs SET heartbeat_at = 1700000000.0, pid = 0 WHERE id = " +
                                  std::to_string(keep)));
        QVERIFY(rawExec(path, "UPDATE runs SET host = '' WHERE id = " + std::to_string(keep)));
        CHECK_OK(deleteRun(path, keep, 30.0));
        QCOMPARE(rawText(path, "SELECT COUNT(*) FROM runs"), std::string("0"));
    }

    void deadWriterProcess()
    {
        const std::string path = freshPath();
        const pid_t child = fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            int code = 1;
            auto writer = RunWriter::open(path);
            if (writer.ok()) {
                auto run = writer.value()->createRun(newRun("orphan"));
                if (run.ok()) {
                    writer.value()->addScalar(run.value(), "train/loss", 0, 1.0);
                    code = writer.value()->flush().ok() ? 0 : 2;
                }
            }
            _exit(code); // no destructor, no finishRun: the writer just stops
        }
        int status = 0;
        QCOMPARE(waitpid(child, &status, 0), child);
        QVERIFY(WIFEXITED(status));
        QCOMPARE(WEXITSTATUS(status), 0);

        TAKE(reader, StoreReader::open(path));
        TAKE(runs, reader->runs(1e12)); // the heartbeat is fresh: only the pid can tell
        QCOMPARE(int(runs.size()), 1);
        QCOMPARE(runs[0].pid, std::int64_t(child));
        QCOMPARE(runs[0].status, RunStatus::Interrupted);
        TAKE(marked, markInterruptedRuns(path, 1e12));
        QCOMPARE(marked, std::vector<RunId>{runs[0].id});
        TAKE(info, reader->run(runs[0].id));
        QCOMPARE(info.status, RunStatus::Interrupted);
        QVERIFY(info.error.find("no heartbeat since") != std::string::npos);
        TAKE(series, reader->scalars(info.id, "train/loss"));
        QCOMPARE(int(series.size()), 1);
    }

    // A writer killed in the middle of its work leaves a consistent file: whole flushes only.
    void crashSafety()
    {
        const std::string path = freshPath();
        int ready[2];
        QCOMPARE(pipe(ready), 0);
        const pid_t child = fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            close(ready[0]);
            auto writer = RunWriter::open(path);
            if (!writer.ok())
                _exit(2);
            RunWriter &w = *writer.value();
            auto run = w.createRun(newRun("crash"));
            if (!run.ok())
                _exit(3);
            std::vector<float> blob(4096);
            const auto start = std::chrono::steady_clock::now();
            bool signalled = false;
            for (std::int64_t step = 0; secondsSince(start) < 20.0; ++step) {
                w.addScalar(*run, "train/loss", step, 1.0 / double(step + 1));
                w.addScalar(*run, "train/lr", step, double(step));
                if (step % 4 == 0) {
                    for (std::size_t i = 0; i < blob.size(); ++i)
                        blob[i] = float(step) + float(i);
                    w.addTokenDiagnostic(*run, step, 0, "kl", blob);
                }
                if (!w.maybeFlush(0.001).ok())
                    _exit(4);
                if (!signalled && w.pendingCount() == 0) {
                    signalled = write(ready[1], "r", 1) == 1;
                }
            }
            _exit(5); // the parent never killed it
        }
        close(ready[1]);
        char byte = 0;
        const bool started = readByte(ready[0], 10000, &byte);
        close(ready[0]);
        if (started)
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
        kill(child, SIGKILL);
        int status = 0;
        QCOMPARE(waitpid(child, &status, 0), child);
        QVERIFY2(started, "the writing child never flushed");
        QVERIFY(WIFSIGNALED(status));
        QCOMPARE(WTERMSIG(status), SIGKILL);

        TAKE(reader, StoreReader::open(path));
        TAKE(check, reader->integrityCheck());
        QCOMPARE(check, std::string("ok"));
        TAKE(runs, reader->runs());
        QCOMPARE(int(runs.size()), 1);
        const RunId run = runs[0].id;
        QCOMPARE(runs[0].status, RunStatus::Interrupted);
        TAKE(loss, reader->scalars(run, "train/loss"));
        TAKE(lr, reader->scalars(run, "train/lr"));
        QVERIFY(loss.size() > 10);
        QCOMPARE(lr.size(), loss.size()); // both keys of a step commit together
        for (std::size_t i = 0; i < loss.size(); ++i) {
            QCOMPARE(loss[i].step, std::int64_t(i)); // a contiguous prefix: no gaps
            QCOMPARE(loss[i].value, 1.0 / double(i + 1));
            QCOMPARE(lr[i].value, double(i));
        }
        TAKE(diagSteps, reader->tokenDiagnosticSteps(run, "kl"));
        QCOMPARE(int(diagSteps.size()), int((loss.size() + 3) / 4));
        TAKE(lastBlob, reader->tokenDiagnostic(run, diagSteps.back(), 0, "kl"));
        QCOMPARE(int(lastBlob.size()), 4096);
        QCOMPARE(lastBlob[4095], float(diagSteps.back()) + 4095.0f);
        TAKE(latest, reader->latest(run));
        QCOMPARE(latest["train/loss"].step, loss.back().step);
        qInfo("the killed writer had committed %d steps", int(loss.size()));

        TAKE(marked, markInterruptedRuns(path));
        QCOMPARE(marked, std::vector<RunId>{run});
        // The file stays writable after the crash.
        TAKE(writer, RunWriter::open(path));
        CHECK_OK(writer->reopenRun(run));
        writer->addScalar(run, "train/loss", std::int64_t(loss.size()), 0.0);
        CHECK_OK(writer->finishRun(run, RunStatus::Finished));
        TAKE(after, reader->scalars(run, "train/loss"));
        QCOMPARE(after.size(), loss.size() + 1);
    }

    // A reader in another process sees what this process's writer commits, while it stays open.
    void readerInOtherProcess()
    {
        const std::string path = freshPath();
        int toChild[2];
        int fromChild[2];
        QCOMPARE(pipe(toChild), 0);
        QCOMPARE(pipe(fromChild), 0);
        // Fork before this process opens the file, so the child inherits no SQLite state of it.
        const pid_t child = fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            close(toChild[1]);
            close(fromChild[0]);
            char go = 0;
            for (int round = 0; round < 2; ++round) {
                if (!readByte(toChild[0], 10000, &go))
                    _exit(2);
                auto reader = StoreReader::open(path);
                if (!reader.ok())
                    _exit(3);
                auto runs = reader.value()->runs();
                if (!runs.ok() || runs.value().size() != 1)
                    _exit(4);
                auto series = reader.value()->scalars(runs.value()[0].id, "train/loss");
                if (!series.ok())
                    _exit(5);
                std::int64_t answer[2] = {std::int64_t(series.value().size()),
                                          std::int64_t(runs.value()[0].status)};
                if (write(fromChild[1], answer, sizeof(answer)) != sizeof(answer))
                    _exit(6);
            }
            _exit(0);
        }
        close(toChild[0]);
        close(fromChild[1]);
        auto ask = [&](std::int64_t *answer) {
            if (write(toChild[1], "g", 1) != 1)
                return false;
            pollfd p{fromChild[0], POLLIN, 0};
            if (poll(&p, 1, 10000) != 1)
                return false;
            return read(fromChild[0], answer, 2 * sizeof(std::int64_t)) ==
                   ssize_t(2 * sizeof(std::int64_t));
        };
        bool ok = true;
        std::int64_t first[2] = {-1, -1};
        std::int64_t second[2] = {-1, -1};
        {
            auto writer = RunWriter::open(path);
            if (writer.ok()) {
                RunWriter &w = *writer.value();
                auto run = w.createRun(newRun("shared"));
                ok = run.ok();
                for (int i = 0; ok && i < 123; ++i)
                    w.addScalar(*run, "train/loss", i, i);
                ok = ok && w.flush().ok() && ask(first);
                for (int i = 123; ok && i < 200; ++i)
                    w.addScalar(*run, "train/loss", i, i);
                ok = ok && w.flush().ok() && ask(second);
            } else {
                ok = false;
            }
        }
        close(toChild[1]);
        close(fromChild[0]);
        int status = 0;
        QCOMPARE(waitpid(child, &status, 0), child);
        QVERIFY(ok);
        QVERIFY(WIFEXITED(status));
        QCOMPARE(WEXITSTATUS(status), 0);
        QCOMPARE(first[0], std::int64_t(123));
        QCOMPARE(first[1], std::int64_t(RunStatus::Running));
        QCOMPARE(second[0], std::int64_t(200));
    }
};

QTEST_GUILESS_MAIN(tst_Store)
#include "tst_store.moc"
