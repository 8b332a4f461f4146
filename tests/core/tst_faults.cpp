// Faults a run must survive without losing or inventing data: a disk that fills while a
// checkpoint or a teacher is written (a preloaded library makes one folder "full"), a read-only
// store, two writers claiming one run, a resume started from another folder. Each asserts that
// the store passes integrity_check, no run is left in a wrong status and nothing is lost.

#include "ensure.h"
#include "distillery/core/graph.h"
#include "distillery/core/store.h"

#include "core/clirunner.h"
#include "core/testgraphs.h"

#include <sqlite3.h>

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <cstdlib>

using namespace distillery::core;
using distillery::core::testing::cli;
using distillery::core::testing::describe;
using distillery::core::testing::tiny;

namespace {

// Every file below `folder` whose name says it is a temporary file.
QStringList temporaryFiles(const QString &folder)
{
    QStringList found;
    QDirIterator it(folder, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString f = it.next();
        if (f.contains(".tmp"))
            found << f;
    }
    return found;
}

QStringList fullDisk(const QString &folder, qint64 bytes)
{
    return {QString("LD_PRELOAD=") + DISTILLERY_FULLFS_LIBRARY,
            "DISTILLERY_FULLFS_DIR=" + folder, "DISTILLERY_FULLFS_BYTES=" + QString::number(bytes)};
}

bool sql(const QString &store, const QString &statement)
{
    sqlite3 *db = nullptr;
    bool ok = sqlite3_open_v2(store.toUtf8().constData(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK;
    if (ok) {
        sqlite3_busy_timeout(db, 5000);
        ok = sqlite3_exec(db, statement.toUtf8().constData(), nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    sqlite3_close(db);
    return ok;
}

std::vector<double> losses(const QString &store, RunId run)
{
    std::vector<double> out;
    auto reader = StoreReader::open(store.toStdString());
    if (!reader.ok())
        return out;
    const auto points = reader.value()->scalars(run, "train/loss");
    for (const auto &p : points.value())
        out.push_back(p.value);
    return out;
}

bool sameLosses(const std::vector<double> &a, const std::vector<double> &b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::abs(a[i] - b[i]) > 1e-6 * std::max(1.0, std::abs(b[i]))) {
            qWarning("losses differ first at step %zu: %.9g vs %.9g", i, a[i], b[i]);
            return false;
        }
    return true;
}

} // namespace

class tst_Faults : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString path(const QString &name) const { return m_dir.filePath(name); }
    QString writeGraph(const QString &name, const Graph &g)
    {
        const QString p = path(name);
        if (!saveGraphFile(g, p.toStdString()).ok())
            qFatal("cannot write %s", qPrintable(p));
        return p;
    }

    // The run that `store` holds last, checked for what every fault must leave behind.
    RunInfo lastRunOf(const QString &store)
    {
        auto reader = StoreReader::open(store.toStdString());
        if (!reader.ok())
            qFatal("%s", reader.error().message.c_str());
        if (reader.value()->integrityCheck().value() != "ok")
            qFatal("integrity_check failed on %s", qPrintable(store));
        return reader.value()->runs().value().front();
    }

    // A finished run of `steps` steps with a checkpoint every 20, made to look cancelled after
    // `keep` steps (later checkpoints and rows dropped), from the working folder `workDir` with
    // the store given relative to it. Returns the store's absolute path; `reference` gets the
    // uninterrupted losses.
    QString cancelledRun(const QString &name, const QString &workDir, int steps, int keep,
                         std::vector<double> &reference)
    {
        Graph g = tiny("classic-kd", steps);
        distillery::core::testing::setAll(g, "Settings", {{"checkpoint_interval", std::int64_t(20)},
                                                          {"eval_interval", std::int64_t(1000)}});
        const QString graph = writeGraph(name + ".json", g);
        QDir().mkpath(workDir);
        auto run = cli({"run", graph, "--store", name + ".sqlite"}, 300000, {}, workDir);
        if (run.code != 0)
            qFatal("%s", qPrintable(describe(run)));
        const QString store = QDir(workDir).absoluteFilePath(name + ".sqlite");
        reference = losses(store, 1);
        const QString last = QString::number(keep);
        if (!sql(store, "UPDATE runs SET status = 'cancelled', error = 'cancelled by the user', "
                        "last_step = " + last + " WHERE id = 1;"
                        "DELETE FROM checkpoints WHERE kind = 'student' AND step > " + last + ";"
                        "DELETE FROM scalars WHERE step > " + last + " AND key NOT IN "
                        "(SELECT id FROM keys WHERE name LIKE 'teacher/%');"))
            qFatal("cannot rewrite %s", qPrintable(store));
        return store;
    }

private Q_SLOTS:
    // Two resumes of one run started together: exactly one trains it, the other is refused
    // (exit 2) naming the owner, and the run ends as an uninterrupted one would.
    void twoResumesOneWriter()
    {
        std::vector<double> reference;
        const QString store = cancelledRun("twice", path("twice"), 400, 100, reference);
        // The race is won by chance: three rounds, each from the same cancelled state.
        for (int round = 0; round < 3; ++round) {
            if (round > 0)
                QVERIFY(sql(store, "UPDATE runs SET status = 'cancelled', last_step = 99;"
                                   "DELETE FROM checkpoints WHERE kind = 'student' AND step > 99;"));
            QProcess a, b;
            a.start(DISTILLERY_CLI, {"resume", "1", "--store", store});
            b.start(DISTILLERY_CLI, {"resume", "1", "--store", store});
            QVERIFY(a.waitForFinished(300000) && b.waitForFinished(300000));
            const QList<int> codes{a.exitCode(), b.exitCode()};
            QVERIFY2(codes.count(0) == 1 && codes.count(2) == 1,
                     qPrintable(QString("round %1: exit codes %2 and %3").arg(round).arg(codes[0]).arg(codes[1])));
            const QString refused = QString::fromUtf8((a.exitCode() == 2 ? a : b).readAllStandardError());
            QVERIFY2(refused.contains("being written by pid") || refused.contains("already finished"),
                     qPrintable(refused));
            const RunInfo info = lastRunOf(store);
            QCOMPARE(info.status, RunStatus::Finished);
            QVERIFY(sameLosses(losses(store, 1), reference));
            QCOMPARE(temporaryFiles(store + ".artifacts"), QStringList{});
        }
    }

    // The store was given relative to one folder; resume runs from another. Checkpoints are
    // found beside the store, and the run continues to the uninterrupted numbers.
    void resumeFromAnotherFolder()
    {
        std::vector<double> reference;
        const QString store = cancelledRun("moved", path("first"), 120, 60, reference);
        QDir().mkpath(path("second"));
        auto resumed = cli({"resume", "last", "--store", "../first/moved.sqlite"}, 300000, {},
                           path("second"));
        QVERIFY2(resumed.code == 0, qPrintable(describe(resumed)));
        QCOMPARE(lastRunOf(store).status, RunStatus::Finished);
        QVERIFY(sameLosses(losses(store, 1), reference));
    }

    // A store on a read-only file system: listed and shown without creating anything beside
    // it; a run into it is refused (exit 2) before a run exists. Needs a read-only bind mount
    // (root); skipped where mounting is not allowed.
    void readOnlyStore()
    {
        std::vector<double> reference;
        const QString source = path("ro-source");
        const QString store = cancelledRun("ro", source, 12, 8, reference);
        QVERIFY(sql(store, "PRAGMA wal_checkpoint(TRUNCATE)"));
        QFile::remove(store + "-wal");
        QFile::remove(store + "-shm");
        const QString mount = path("ro-mount");
        QDir().mkpath(mount);
        if (QProcess::execute("mount", {"--bind", source, mount}) != 0)
            QSKIP("cannot bind-mount here (not root)");
        const bool readOnly = QProcess::execute("mount", {"-o", "remount,bind,ro", mount}) == 0;
        const QString mounted = mount + "/ro.sqlite";
        const QStringList before = QDir(mount).entryList(QDir::Files);
        auto runs = cli({"runs", "--store", mounted});
        auto show = cli({"show", "1", "--store", mounted});
        auto run = cli({"run", "classic-kd", "--store", mounted, "--steps", "2"});
        const QStringList after = QDir(mount).entryList(QDir::Files);
        QProcess::execute("umount", {mount});
        if (!readOnly)
            QSKIP("cannot remount read-only here");
        QVERIFY2(runs.code == 0 && runs.out.contains("cancelled"), qPrintable(describe(runs)));
        QVERIFY2(show.code == 0, qPrintable(describe(show)));
        QCOMPARE(after, before); // no -shm, no -wal
        QVERIFY2(run.code == 2 && run.err.contains("read-only"), qPrintable(describe(run)));
        auto reader = StoreReader::open(store.toStdString()).value();
        QCOMPARE(reader->runs().value().size(), std::size_t(1));
    }

    // SIGKILL at random moments (during steps, flushes and checkpoint writes: checkpoints are
    // written every 10 steps), three times in a row with a resume after each: the store stays
    // consistent, every killed attempt reads as interrupted, no temporary file is left once a
    // resume started, and the finished run has the numbers of an uninterrupted one.
    void killedAtRandomMoments()
    {
        Graph g = tiny("classic-kd", 3000);
        distillery::core::testing::setAll(g, "Settings", {{"checkpoint_interval", std::int64_t(10)},
                                                          {"eval_interval", std::int64_t(1000)}});
        const QString graph = writeGraph("random-kill.json", g);
        const QString store = path("random-kill.sqlite");
        std::srand(unsigned(QDateTime::currentMSecsSinceEpoch()));
        auto runExists = [&] {
            auto reader = StoreReader::open(store.toStdString());
            return reader.ok() && !reader.value()->runs().value().empty();
        };
        int kills = 0;
        for (int tries = 0; kills < 3 && tries < 10; ++tries) {
            // Until the first attempt created its run, a kill leaves nothing to resume.
            const bool exists = runExists();
            QProcess p;
            p.start(DISTILLERY_CLI, !exists ? QStringList{"run", graph, "--store", store}
                                            : QStringList{"resume", "1", "--store", store});
            QVERIFY(p.waitForStarted());
            const int delay = 400 + std::rand() % 1600;
            QTest::qWait(delay);
            if (p.state() != QProcess::Running)
                break; // finished before the kill: nothing left to test
            ::kill(pid_t(p.processId()), SIGKILL);
            QVERIFY(p.waitForFinished(30000));
            if (!runExists())
                continue; // killed before the run existed
            ++kills;
            const RunInfo info = lastRunOf(store);
            QVERIFY2(info.status == RunStatus::Interrupted,
                     qPrintable(QString("kill %1, after %2 ms: %3")
                                    .arg(kills).arg(delay).arg(QString::fromStdString(runStatusName(info.status)))));
        }
        QVERIFY(runExists());
        auto finished = cli({"resume", "1", "--store", store}, 300000);
        QVERIFY2(finished.code == 0 || finished.err.contains("already finished"), qPrintable(describe(finished)));
        QCOMPARE(lastRunOf(store).status, RunStatus::Finished);
        QCOMPARE(temporaryFiles(store + ".artifacts"), QStringList{});
        auto reference = cli({"run", graph, "--store", path("random-reference.sqlite")}, 300000);
        QVERIFY2(reference.code == 0, qPrintable(describe(reference)));
        QVERIFY(sameLosses(losses(store, 1), losses(path("random-reference.sqlite"), 1)));
    }

    // A truncated checkpoint: resume refuses it naming the file and changes nothing.
    void resumeFromTruncatedCheckpoint()
    {
        std::vector<double> reference;
        const QString store = cancelledRun("truncated", path("truncated"), 80, 60, reference);
        const QString newest = store + ".artifacts/run-1/step-60.pt";
        QVERIFY(QFileInfo::exists(newest));
        QVERIFY(QFile::resize(newest, QFileInfo(newest).size() / 2));
        const std::vector<double> before = losses(store, 1);
        auto resumed = cli({"resume", "1", "--store", store}, 300000);
        QVERIFY2(resumed.code == 2, qPrintable(describe(resumed)));
        QVERIFY2(resumed.err.contains(newest) && resumed.err.contains("left as it was"),
                 qPrintable(describe(resumed)));
        QVERIFY2(resumed.err.count('\n') <= 2, qPrintable(describe(resumed))); // no backtrace
        const RunInfo info = lastRunOf(store);
        QCOMPARE(info.status, RunStatus::Cancelled);
        QCOMPARE(info.error, std::string("cancelled by the user"));
        QCOMPARE(info.lastStep, std::int64_t(60));
        QVERIFY(sameLosses(losses(store, 1), before));
    }

    // The disk fills while a student checkpoint is written: the run fails, saying which file
    // and why; its metrics so far are kept; no temporary file is left.
    void fullDiskWhileCheckpointing_data()
    {
        QTest::addColumn<QString>("graph");
        QTest::addColumn<qint64>("bytes");
        QTest::addColumn<QString>("file");
        // classic-kd trains its teacher first: with no room at all, the teacher's save fails.
        QTest::newRow("teacher save") << "classic-kd" << qint64(0) << "teacher-";
        // Room for the teacher (measured by a first run), not for the first student checkpoint.
        QTest::newRow("student checkpoint") << "classic-kd" << qint64(-1) << "step-";
    }
    void fullDiskWhileCheckpointing()
    {
        QFETCH(QString, graph);
        QFETCH(qint64, bytes);
        QFETCH(QString, file);
        Graph g = tiny(graph.toStdString(), 12);
        // Fewer teacher steps than checkpoint_interval: no training state of the teacher is
        // saved, so the first file after the teacher is the student's checkpoint.
        distillery::core::testing::setAll(g, "Teacher", {{"train_steps", std::int64_t(3)}});
        const QString graphFile = writeGraph(graph + ".json", g);
        if (bytes < 0) {
            const QString scratch = path(QString("sizes-%1.sqlite").arg(file));
            QCOMPARE(cli({"run", graphFile, "--store", scratch}).code, 0);
            bytes = QFileInfo(scratch + ".artifacts/run-1/teacher-2.pt").size() + 200;
            QVERIFY(bytes > 1000);
        }
        const QString store = path(QString("full-%1.sqlite").arg(file));
        const QString artifacts = store + ".artifacts";
        auto run = cli({"run", graphFile, "--store", store}, 120000, fullDisk(artifacts, bytes));
        QVERIFY2(run.code == 1, qPrintable(describe(run)));
        const QString said = run.out + run.err;
        QVERIFY2(said.contains(file) && said.contains("no space left on the device"),
                 qPrintable(describe(run)));
        const RunInfo info = lastRunOf(store);
        QCOMPARE(info.status, RunStatus::Failed);
        QVERIFY2(QString::fromStdString(info.error).contains(file), info.error.c_str());
        QVERIFY2(QString::fromStdString(info.error).contains("no space left"), info.error.c_str());
        QCOMPARE(temporaryFiles(artifacts), QStringList{});
        auto reader = StoreReader::open(store.toStdString()).value();
        if (file == "step-") // the steps trained before the failed checkpoint are kept
            QVERIFY(reader->scalars(info.id, "train/loss").value().size() >= 4);
    }

    // The disk under the store itself fills mid-run: the run ends (exit 1) saying the store is
    // full; the store stays sound with the run not left `running` or `finished`; once there is
    // room, a resume finishes it with the numbers of an uninterrupted run.
    void fullDiskUnderTheStore()
    {
        Graph g = tiny("classic-kd", 24);
        distillery::core::testing::setAll(g, "Teacher", {{"train_steps", std::int64_t(40)}});
        distillery::core::testing::setAll(g, "Settings", {{"checkpoint_interval", std::int64_t(8)}});
        const QString graph = writeGraph("full-store.json", g);
        const QString reference = path("full-store-reference.sqlite");
        QCOMPARE(cli({"run", graph, "--store", reference}, 120000).code, 0);
        const qint64 storeBytes = QFileInfo(reference).size();
        QVERIFY(storeBytes > 30000);

        const QString folder = path("full-store-db");
        QVERIFY(QDir().mkpath(folder));
        const QString store = folder + "/runs.sqlite";
        const QString artifacts = path("full-store-artifacts");
        // Every commit writes its pages to the WAL first: the run writes several times the
        // final file's size there, so a budget of that size fills part of the way through.
        auto run = cli({"run", graph, "--store", store, "--artifacts", artifacts}, 120000,
                       fullDisk(folder, storeBytes));
        QVERIFY2(run.code == 1, qPrintable(describe(run)));
        QVERIFY2((run.out + run.err).contains("database or disk is full")
                     && (run.out + run.err).contains(store),
                 qPrintable(describe(run)));
        {
            auto reader = StoreReader::open(store.toStdString()).value();
            QCOMPARE(reader->integrityCheck().value(), std::string("ok"));
            const auto runs = reader->runs().value();
            QCOMPARE(int(runs.size()), 1); // it filled after the run was created
            const RunInfo &info = runs.front();
            QVERIFY2(info.status == RunStatus::Interrupted || info.status == RunStatus::Failed,
                     runStatusName(info.status).c_str());
        }
        auto resumed = cli({"resume", "1", "--store", store, "--artifacts", artifacts}, 120000);
        QVERIFY2(resumed.code == 0, qPrintable(describe(resumed)));
        QCOMPARE(lastRunOf(store).status, RunStatus::Finished);
        QVERIFY(sameLosses(losses(store, 1), losses(reference, 1)));
        QCOMPARE(temporaryFiles(artifacts), QStringList{});
    }

    // The disk fills while a student is exported: exit 1 naming the file and the cause, and
    // neither the folder nor a temporary one is left.
    void fullDiskWhileExporting()
    {
        const QString graph = writeGraph("export.json", tiny("classic-kd", 4));
        const QString store = path("export.sqlite");
        QCOMPARE(cli({"run", graph, "--store", store}).code, 0);
        const QString folder = path("export-disk");
        QVERIFY(QDir().mkpath(folder));
        const QString out = folder + "/student";
        auto exported = cli({"export", "1", "--store", store, "--out", out}, 120000, fullDisk(folder, 4000));
        QVERIFY2(exported.code == 1, qPrintable(describe(exported)));
        QVERIFY2(exported.err.contains("no space left on the device"), qPrintable(describe(exported)));
        QVERIFY(!QFileInfo::exists(out));
        QCOMPARE(QDir(folder).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden), QStringList{});
        // With room, the same command works.
        QCOMPARE(cli({"export", "1", "--store", store, "--out", out}).code, 0);
    }
};

QTEST_GUILESS_MAIN(tst_Faults)
#include "tst_faults.moc"
