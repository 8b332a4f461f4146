// The training controller, the run panel and the run browser through their public APIs:
// signal order and thread, throttling, queueing, stop/pause, rejected input, event-loop latency
// while training, and the run table over a store (columns, numeric sort, rename, delete).

#include "plots/alignmentview.h"
#include "plots/calibrationview.h"
#include "plots/diversityview.h"
#include "plots/plotpanel.h"
#include "plots/tokenview.h"
#include "runs/runbrowser.h"
#include "runs/runtablemodel.h"
#include "training/runpanel.h"
#include "training/trainingcontroller.h"

#include "distillery/core/export.h"
#include "distillery/core/store.h"
#include "distillery/core/trainer.h"

#include "core/testgraphs.h"

#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <QStandardPaths>
#include <QtTest>
#include <QPainter>
#include <QMenu>
#include <QMessageBox>
#include <QVBoxLayout>
#include <QAction>
#include <QSet>

#include <numeric>

using namespace distillery;
using namespace distillery::widgets;
using core::testing::tiny;

namespace {

// Everything a controller says, in order, with the thread it was said on.
struct Recorder
{
    struct Event
    {
        QString kind; // started, progress, finished, rejected
        qint64 runId = 0;
        QString text; // name, status or message
        QString error;
        TrainingProgress progress;
        qint64 atMs = 0;
    };
    QList<Event> events;
    bool offThread = false;
    QElapsedTimer clock;

    explicit Recorder(TrainingController &c)
    {
        clock.start();
        auto check = [this] {
            if (QThread::currentThread() != qApp->thread())
                offThread = true;
        };
        QObject::connect(&c, &TrainingController::runStarted, [=](qint64 id, const QString &name) {
            check();
            events.append({QStringLiteral("started"), id, name, {}, {}, clock.elapsed()});
        });
        QObject::connect(&c, &TrainingController::progress, [=](const TrainingProgress &p) {
            check();
            events.append({QStringLiteral("progress"), 0, p.phase, {}, p, clock.elapsed()});
        });
        QObject::connect(
            &c, &TrainingController::runFinished,
            [=](qint64 id, const QString &status, const QString &error) {
                check();
                events.append({QStringLiteral("finished"), id, status, error, {}, clock.elapsed()});
            });
        QObject::connect(&c, &TrainingController::runRejected, [=](const QString &message) {
            check();
            events.append({QStringLiteral("rejected"), 0, message, {}, {}, clock.elapsed()});
        });
    }
    int count(const QString &kind) const
    {
        return int(std::count_if(events.begin(), events.end(),
                                 [&](const Event &e) { return e.kind == kind; }));
    }
    QList<Event> of(const QString &kind) const
    {
        QList<Event> r;
        for (const Event &e : events)
            if (e.kind == kind)
                r << e;
        return r;
    }
    qint64 maxStudentStep() const
    {
        qint64 s = 0;
        for (const Event &e : events)
            if (e.kind == QLatin1String("progress") && e.progress.phase == QLatin1String("student"))
                s = std::max(s, e.progress.step);
        return s;
    }
    bool sawPaused() const
    {
        return std::any_of(events.begin(), events.end(), [](const Event &e) {
            return e.kind == QLatin1String("progress") && e.progress.paused;
        });
    }
};

core::RunOptions options(const std::string &store, const std::string &name = {})
{
    core::RunOptions o;
    o.storePath = store;
    o.name = name;
    o.threads = 1;
    return o;
}

core::NewRun newRun(const std::string &name, const std::string &templ)
{
    core::NewRun r;
    r.name = name;
    r.templateName = templ;
    r.graphJson = core::graphToJson(tiny("classic-kd"));
    r.device = "cpu";
    r.threads = 1;
    r.seed = 1;
    r.stepsTotal = 100;
    return r;
}

} // namespace

class tst_Training : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::string store(const char *name) const { return m_dir.filePath(name).toStdString(); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QStandardPaths::setTestModeEnabled(true); // the run browser's saved columns are not the user's
    }

    void tinyRunFinishesWithSignalsInOrder()
    {
        TrainingController c;
        Recorder rec(c);
        QSignalSpy queue(&c, &TrainingController::queueChanged);
        QElapsedTimer t;
        t.start();
        c.enqueue(tiny("classic-kd", 8), options(store("runs.sqlite"), "tiny classic"));
        QVERIFY(c.jobCount() == 1);
        QTRY_COMPARE_WITH_TIMEOUT(rec.count("finished"), 1, 120000);
        const double seconds = t.elapsed() / 1000.0;
        QVERIFY(!rec.offThread);
        QCOMPARE(rec.events.first().kind, QStringLiteral("started"));
        QCOMPARE(rec.events.last().kind, QStringLiteral("finished"));
        for (int i = 1; i + 1 < rec.events.size(); ++i)
            QCOMPARE(rec.events[i].kind, QStringLiteral("progress"));
        QVERIFY(rec.count("progress") >= 1);
        const auto started = rec.events.first();
        const auto finished = rec.events.last();
        QCOMPARE(finished.text, QStringLiteral("finished"));
        QVERIFY2(finished.error.isEmpty(), qPrintable(finished.error));
        QVERIFY(finished.runId > 0);
        QCOMPARE(started.runId, finished.runId); // carried by the first progress report
        QCOMPARE(started.text, QStringLiteral("tiny classic"));
        const auto last = rec.of("progress").last().progress;
        QCOMPARE(last.phase, QStringLiteral("student"));
        QCOMPARE(last.step, qint64(8));
        QCOMPARE(last.totalSteps, qint64(8));
        QVERIFY(rec.count("progress") <= 20 * seconds + 3);
        QVERIFY(!queue.isEmpty());
        QTRY_VERIFY(!c.isRunning());
        QCOMPARE(c.jobCount(), 0);
        auto info = core::StoreReader::open(store("runs.sqlite")).value()->run(finished.runId);
        QVERIFY(info.ok());
        QCOMPARE(info.value().status, core::RunStatus::Finished);
    }

    // A short experiment trains while the plots panel watches the store: every diagnostics
    // view and plot receives data, the first ones while the run is still going.
    void diagnosticsPanelsReceiveDataLive()
    {
        const std::string path = store("diagnostics.sqlite");
        PlotPanel panel;
        panel.resize(1200, 800);
        panel.setRefreshInterval(50);
        panel.setStorePath(QString::fromStdString(path));
        panel.setLive(true);
        panel.tabs()->setCurrentWidget(panel.tokenView()); // only views on screen read the store
        panel.show();
        TrainingController c;
        Recorder rec(c);
        core::Graph g = tiny("classic-kd", 60);
        core::testing::setAll(g, "Settings", {{"eval_interval", std::int64_t(6)}});
        c.enqueue(g, options(path, "diagnostics"));
        QTRY_VERIFY_WITH_TIMEOUT(rec.count("started") == 1 && rec.events.first().runId > 0, 120000);
        panel.setRuns({rec.events.first().runId});
        bool live = false;
        QTRY_VERIFY_WITH_TIMEOUT((live = live || (panel.tokenView()->hasData() && c.isRunning()),
                                  rec.count("finished") == 1),
                                 120000);
        QVERIFY2(rec.of("finished").first().error.isEmpty(), qPrintable(rec.of("finished").first().error));
        panel.refresh();
        QVERIFY2(live, "the token view got no data while the run was training");
        // The other views catch up when their tab is shown.
        QVERIFY(!panel.calibrationView()->hasData());
        for (int i = 0; i < panel.tabs()->count(); ++i)
            panel.tabs()->setCurrentIndex(i);
        for (DiagnosticView *view : panel.diagnosticViews())
            QVERIFY2(view->hasData(), qPrintable(view->exportName()));
        for (const char *plot : {"calibration", "brier", "alignment", "agreement", "diversity", "entropy"})
            QVERIFY2(panel.plot(QString::fromLatin1(plot))->seriesCount() > 0, plot);
        // Ten evaluations (steps 6, 12, ..., 60): the views follow the newest.
        QCOMPARE(int(panel.tokenView()->stepSelector()->steps().size()), 10);
        QCOMPARE(panel.tokenView()->stepSelector()->currentStep(), std::int64_t(60));
        QCOMPARE(panel.tokenView()->tokenLabels().size(), 17); // 16 inputs and the last target
        QVERIFY(panel.tokenView()->tokenToolTip(5).contains(QStringLiteral("Teacher top 5")));
        QCOMPARE(std::accumulate(panel.alignmentView()->correctCounts().begin(),
                                 panel.alignmentView()->correctCounts().end(), 0) +
                     std::accumulate(panel.alignmentView()->incorrectCounts().begin(),
                                     panel.alignmentView()->incorrectCounts().end(), 0),
                 4 * 16); // four probe sequences of 16 positions
    }

    // Includes the event-loop latency check: a 10 ms timer in the GUI thread must never be
    // late by more than 100 ms while a run trains for several seconds.
    void progressThrottledAndEventLoopResponsive()
    {
        TrainingController c;
        Recorder rec(c);
        QElapsedTimer gapClock;
        qint64 lastTick = -1;
        qint64 maxGap = 0;
        int ticks = 0;
        QTimer timer;
        timer.setInterval(10);
        timer.setTimerType(Qt::PreciseTimer);
        QObject::connect(&timer, &QTimer::timeout, [&] {
            const qint64 now = gapClock.elapsed();
            if (lastTick >= 0)
                maxGap = std::max(maxGap, now - lastTick);
            lastTick = now;
            ++ticks;
        });
        QElapsedTimer t;
        t.start();
        gapClock.start();
        timer.start();
        c.enqueue(tiny("reverse-kl", 1200), options(store("runs.sqlite"), "latency"));
        QTRY_COMPARE_WITH_TIMEOUT(rec.count("finished"), 1, 300000);
        timer.stop();
        const double seconds = t.elapsed() / 1000.0;
        const int progressCount = rec.count("progress");
        qInfo(
            "run of %.2f s: %d progress signals, %d timer ticks, largest gap between ticks %lld ms",
            seconds, progressCount, ticks, maxGap);
        QCOMPARE(rec.events.last().text, QStringLiteral("finished"));
        QVERIFY2(seconds > 2.0, "the run should last long enough to measure latency");
        QVERIFY2(
            progressCount <= 20 * seconds + 2,
            qPrintable(
                QStringLiteral("%1 progress signals in %2 s").arg(progressCount).arg(seconds)));
        // Consecutive emissions are >= 50 ms apart, except the final one flushed before
        // runFinished.
        const auto ps = rec.of("progress");
        int close = 0;
        for (int i = 1; i < ps.size(); ++i)
            if (ps[i].atMs - ps[i - 1].atMs < 45)
                ++close;
        QVERIFY2(close <= 1,
                 qPrintable(QStringLiteral("%1 emissions closer than 45 ms").arg(close)));
        QVERIFY2(maxGap <= 100, qPrintable(QStringLiteral("event loop stalled %1 ms").arg(maxGap)));
    }

    void twoRunsFinishInOrder()
    {
        TrainingController c;
        Recorder rec(c);
        c.enqueue(tiny("classic-kd", 6), options(store("runs.sqlite"), "first"));
        c.enqueue(tiny("hidden-state", 6), options(store("runs.sqlite"), "second"));
        QVERIFY(c.queuedCount() <= 2);
        QCOMPARE(c.jobCount(), 2);
        QTRY_COMPARE_WITH_TIMEOUT(rec.count("finished"), 2, 240000);
        QStringList order;
        for (const auto &e : rec.events)
            if (e.kind != QLatin1String("progress"))
                order << e.kind + QLatin1Char(':') + e.text;
        QCOMPARE(order, (QStringList{"started:first", "finished:finished", "started:second",
                                     "finished:finished"}));
        const auto done = rec.of("finished");
        QVERIFY(done[0].runId > 0);
        QVERIFY(done[1].runId > done[0].runId);
        QCOMPARE(c.queuedCount(), 0);
    }

    void stopCancelsWithCheckpoint()
    {
        TrainingController c;
        Recorder rec(c);
        c.enqueue(tiny("reverse-kl", 5000), options(store("runs.sqlite"), "stopped"));
        QTRY_VERIFY_WITH_TIMEOUT(rec.maxStudentStep() >= 2, 120000);
        QVERIFY(c.isRunning());
        QElapsedTimer t;
        t.start();
        c.stop();
        QVERIFY2(t.elapsed() < 50, "stop() must not wait for the worker");
        QTRY_COMPARE_WITH_TIMEOUT(rec.count("finished"), 1, 60000);
        const auto finished = rec.of("finished").first();
        QCOMPARE(finished.text, QStringLiteral("cancelled"));
        auto reader = core::StoreReader::open(store("runs.sqlite")).value();
        QCOMPARE(reader->run(finished.runId).value().status, core::RunStatus::Cancelled);
        QVERIFY(!reader->checkpoints(finished.runId).value().empty());
    }

    // A cancelled run is resumed from the workbench: it continues from its checkpoint to the
    // end; resuming a run that is finished is refused with the reason.
    void cancelledRunIsResumed()
    {
        TrainingController c;
        Recorder rec(c);
        const std::string path = store("resume.sqlite");
        c.enqueue(tiny("reverse-kl", 600), options(path, "resumed"));
        QTRY_VERIFY_WITH_TIMEOUT(rec.maxStudentStep() >= 2, 120000);
        c.stop();
        QTRY_COMPARE_WITH_TIMEOUT(rec.count("finished"), 1, 60000);
        const qint64 id = rec.of("finished").first().runId;
        QCOMPARE(rec.of("finished").first().text, QStringLiteral("cancelled"));
        core::RunOptions o;
        o.storePath = path;
        c.enqueueResume(core::RunId(id), o);
        QTRY_COMPARE_WITH_TIMEOUT(rec.count("finished"), 2, 120000);
        QCOMPARE(rec.of("finished").last().runId, id);
        QCOMPARE(rec.of("finished").last().text, QStringLiteral("finished"));
        auto reader = core::StoreReader::open(path).value();
        QCOMPARE(reader->run(core::RunId(id)).value().status, core::RunStatus::Finished);
        QCOMPARE(reader->scalars(core::RunId(id), "train/loss").value().size(), std::size_t(600));

        QSignalSpy rejected(&c, &TrainingController::runRejected);
        c.enqueueResume(core::RunId(id), o);
        QTRY_COMPARE_WITH_TIMEOUT(rejected.count(), 1, 30000);
        QVERIFY2(rejected.first().first().toString().contains("already finished"),
                 qPrintable(rejected.first().first().toString()));
    }

    void pauseHoldsThenResumeContinues()
    {
        TrainingController c;
        Recorder rec(c);
        c.enqueue(tiny("reverse-kl", 5000), options(store("runs.sqlite"), "paused"));
        QTRY_VERIFY_WITH_TIMEOUT(rec.maxStudentStep() >= 2, 120000);
        c.pause();
        QTRY_VERIFY_WITH_TIMEOUT(rec.sawPaused(), 10000);
        QVERIFY(c.isPaused());
        const qint64 held = rec.maxStudentStep();
        QTest::qWait(300);
        QCOMPARE(rec.maxStudentStep(), held);
        c.resume();
        QTRY_VERIFY_WITH_TIMEOUT(rec.maxStudentStep() > held + 1, 30000);
        c.stop();
        QTRY_COMPARE_WITH_TIMEOUT(rec.count("finished"), 1, 60000);
        QCOMPARE(rec.of("finished").first().text, QStringLiteral("cancelled"));
    }

    void missingTeacherIsRejected()
    {
        TrainingController c;
        RunPanel panel(&c, nullptr);
        Recorder rec(c);
        core::Graph g = tiny("classic-kd");
        const auto teacher = g.nodesOfKind("Teacher").front()->id;
        const QString missing = m_dir.filePath("no-such-teacher.pt");
        QVERIFY(g.setParam(teacher, "source", std::string("checkpoint")).ok());
        QVERIFY(g.setParam(teacher, "path", missing.toStdString()).ok());
        c.enqueue(g, options(store("rejected.sqlite")));
        QTRY_COMPARE_WITH_TIMEOUT(rec.count("rejected"), 1, 60000);
        QCOMPARE(rec.events.size(), 1); // no runStarted, no runFinished
        QVERIFY2(rec.events.first().text.contains(QStringLiteral("no-such-teacher.pt")),
                 qPrintable(rec.events.first().text));
        QVERIFY(panel.lastError().contains(QStringLiteral("no-such-teacher.pt")));
        panel.resize(420, 260);
        panel.show();
        QVERIFY(panel.grab().save(QStringLiteral("/tmp/runpanel-rejected.png")));
        QCOMPARE(c.jobCount(), 0);
    }

    // A Hugging Face teacher is loaded before the run exists, and reports its progress without
    // a run id: the run is still announced once, with its id, when it starts.
    void teacherLoadIsReportedBeforeTheRun()
    {
        // A teacher folder: a short run's student exported as Hugging Face files.
        core::RunOptions first = options(store("hf-source.sqlite"));
        auto trained = core::runExperiment(tiny("classic-kd", 4), first);
        QVERIFY(trained.ok() && trained.value().status == core::RunStatus::Finished);
        core::ExportRequest req;
        req.storePath = first.storePath;
        req.run = trained.value().runId;
        req.out = m_dir.filePath("hf-teacher").toStdString();
        QVERIFY(core::exportStudent(req).ok());

        TrainingController c;
        Recorder rec(c);
        core::Graph g = tiny("classic-kd", 4);
        const auto teacher = g.nodesOfKind("Teacher").front()->id;
        QVERIFY(g.setParam(teacher, "source", std::string("hf")).ok());
        QVERIFY(g.setParam(teacher, "path", req.out).ok());
        c.enqueue(g, options(store("hf-teacher.sqlite"), "from hf"));
        QTRY_COMPARE_WITH_TIMEOUT(rec.count("finished"), 1, 120000);
        QCOMPARE(rec.count("started"), 1);
        const auto started = rec.of("started").first();
        QVERIFY(started.runId > 0);
        QCOMPARE(started.runId, rec.of("finished").first().runId);
        QCOMPARE(started.text, QStringLiteral("from hf"));
        // (The load's own reports are coalesced with the next ones at this size; that the
        // trainer sends them is tst_HfModels' check.)
    }

    void clearQueueDropsWaitingRuns()
    {
        TrainingController c;
        Recorder rec(c);
        c.enqueue(tiny("reverse-kl", 5000), options(store("queue.sqlite"), "long"));
        c.enqueue(tiny("classic-kd", 4), options(store("queue.sqlite"), "dropped"));
        QTRY_VERIFY_WITH_TIMEOUT(rec.count("started") == 1, 120000);
        QCOMPARE(c.queuedCount(), 1);
        c.clearQueue();
        QCOMPARE(c.queuedCount(), 0);
        c.stop();
        QTRY_COMPARE_WITH_TIMEOUT(rec.count("finished"), 1, 60000);
        QTest::qWait(300);
        QCOMPARE(rec.count("started"), 1);
        QCOMPARE(c.jobCount(), 0);
    }

    void destructionDuringRunDoesNotHang()
    {
        QElapsedTimer t;
        {
            TrainingController c;
            Recorder rec(c);
            c.enqueue(tiny("reverse-kl", 5000), options(store("queue.sqlite"), "destroyed"));
            QTRY_VERIFY_WITH_TIMEOUT(rec.maxStudentStep() >= 1, 120000);
            t.start();
        }
        QVERIFY2(t.elapsed() < 5000, "the destructor waits for one step only");
    }

    void runPanelOptionsAndScreenshot()
    {
        TrainingController c;
        RunPanel panel(&c, nullptr);
        panel.resize(420, 260);
        QSignalSpy requested(&panel, &RunPanel::runRequested);
        panel.setRunEnabled(false,
                            QStringLiteral("The graph is invalid: Loss 'kd' has no teacher"));
        auto *run = panel.findChild<QPushButton *>(QStringLiteral("runButton"));
        QVERIFY(run);
        QVERIFY(!run->isEnabled());
        QCOMPARE(run->toolTip(), QStringLiteral("The graph is invalid: Loss 'kd' has no teacher"));
        panel.setRunEnabled(true, {});
        QVERIFY(run->isEnabled());
        run->click();
        QCOMPARE(requested.count(), 1);
        QCOMPARE(panel.options().device.value_or(""), std::string("auto"));
        QCOMPARE(panel.options().threads.value_or(-1), 0);
        auto *device = panel.findChild<QComboBox *>();
        QVERIFY(device);
        QCOMPARE(device->count(), 3);
        const auto *items = qobject_cast<QStandardItemModel *>(device->model());
        QVERIFY(items);
        QCOMPARE(items->item(2)->isEnabled(), core::cudaAvailable());
        if (!core::cudaAvailable())
            QVERIFY(
                device->itemData(2, Qt::ToolTipRole).toString().contains(QStringLiteral("CUDA")));

        TrainingProgress p;
        p.phase = QStringLiteral("student");
        p.step = 12;
        p.totalSteps = 200;
        p.loss = 2.3141;
        p.tokensPerSecond = 1234;
        p.etaSeconds = 42;
        QCOMPARE(RunPanel::progressText(p),
                 QStringLiteral("student 12/200 · loss 2.314 · 1.2k tok/s · ETA 0:42"));

        Recorder rec(c);
        panel.show();
        c.enqueue(tiny("reverse-kl", 5000), options(store("runs.sqlite"), "screenshot"));
        c.enqueue(tiny("classic-kd", 8), options(store("runs.sqlite"), "queued"));
        QTRY_VERIFY_WITH_TIMEOUT(rec.maxStudentStep() >= 20, 120000);
        QTest::qWait(100);
        QVERIFY(panel.grab().save(QStringLiteral("/tmp/runpanel.png")));
        c.clearQueue();
        c.stop();
        QTRY_COMPARE_WITH_TIMEOUT(rec.count("finished"), 1, 60000);
    }

    void tableModelColumnsAndNumericSort()
    {
        const std::string path = store("table.sqlite");
        {
            auto writer = core::RunWriter::open(path).value();
            const double nlls[] = {10.0, 9.0, 2.5};
            const char *names[] = {"ten", "nine", "two and a half"};
            for (int i = 0; i < 3; ++i) {
                const auto id = writer->createRun(newRun(names[i], "classic-kd")).value();
                for (int s = 1; s <= 8; ++s)
                    writer->addScalar(id, "train/loss", s, 3.0 - s * 0.1);
                writer->addScalar(id, "eval/student_nll", 8, nlls[i]);
                writer->addScalar(id, "eval/kl_teacher_student", 8, 0.125 * (i + 1));
                QVERIFY(writer->finishRun(id, core::RunStatus::Finished).ok());
            }
            const auto failed = writer->createRun(newRun("broken", "reverse-kl")).value();
            QVERIFY(writer->finishRun(failed, core::RunStatus::Failed, "loss is nan").ok());
        }
        RunTableModel model;
        model.setStorePath(QString::fromStdString(path));
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(model.columnCount(), 12); // id … tags
        QCOMPARE(model.headerData(RunTableModel::NllColumn, Qt::Horizontal).toString(),
                 QStringLiteral("Student NLL"));
        const int row = model.rowForRun(1);
        QVERIFY(row >= 0);
        auto cell = [&](int r, int c, int role = Qt::DisplayRole) {
            return model.index(r, c).data(role);
        };
        QCOMPARE(cell(row, RunTableModel::IdColumn).toLongLong(), 1);
        QCOMPARE(cell(row, RunTableModel::NameColumn).toString(), QStringLiteral("ten"));
        QCOMPARE(cell(row, RunTableModel::StatusColumn).toString(), QStringLiteral("finished"));
        QCOMPARE(cell(row, RunTableModel::TemplateColumn).toString(), QStringLiteral("classic-kd"));
        QCOMPARE(cell(row, RunTableModel::StepsColumn).toString(), QStringLiteral("8 / 100"));
        QCOMPARE(cell(row, RunTableModel::StepsColumn, RunTableModel::SortRole).toLongLong(), 8);
        QCOMPARE(cell(row, RunTableModel::KlColumn).toString(), QStringLiteral("0.1250"));
        QCOMPARE(cell(row, RunTableModel::NllColumn).toString(), QStringLiteral("10.0000"));
        QCOMPARE(cell(row, RunTableModel::NllColumn, RunTableModel::SortRole).toDouble(), 10.0);
        QCOMPARE(cell(row, RunTableModel::StatusColumn, Qt::ForegroundRole).value<QColor>(),
                 RunTableModel::statusColor(core::RunStatus::Finished));
        const int broken = model.rowForRun(4);
        QCOMPARE(cell(broken, RunTableModel::StatusColumn).toString(), QStringLiteral("failed"));
        QCOMPARE(cell(broken, RunTableModel::StatusColumn, Qt::ToolTipRole).toString(),
                 QStringLiteral("loss is nan"));
        QCOMPARE(cell(broken, RunTableModel::NllColumn).toString(), QStringLiteral("—"));

        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(RunTableModel::SortRole);
        proxy.sort(RunTableModel::NllColumn, Qt::AscendingOrder);
        QStringList names;
        for (int r = 0; r < proxy.rowCount(); ++r)
            names << proxy.index(r, RunTableModel::NameColumn).data().toString();
        // Numeric: 2.5 < 9 < 10 (a text sort would put "10.0000" before "2.5000"); missing first.
        QCOMPARE(names, (QStringList{"broken", "two and a half", "nine", "ten"}));
        proxy.sort(RunTableModel::IdColumn, Qt::DescendingOrder);
        QCOMPARE(proxy.index(0, RunTableModel::IdColumn).data().toLongLong(), 4);
    }

    void renameAndDeleteChangeTheStore()
    {
        const std::string path = store("table.sqlite");
        RunTableModel model;
        model.setStorePath(QString::fromStdString(path));
        const int row = model.rowForRun(2);
        QVERIFY(row >= 0);
        QVERIFY(model.flags(model.index(row, RunTableModel::NameColumn)) & Qt::ItemIsEditable);
        QVERIFY(!(model.flags(model.index(row, RunTableModel::NllColumn)) & Qt::ItemIsEditable));
        QVERIFY(
            model.setData(model.index(row, RunTableModel::NameColumn), QStringLiteral("renamed")));
        QCOMPARE(model.index(row, RunTableModel::NameColumn).data().toString(),
                 QStringLiteral("renamed"));
        auto reader = core::StoreReader::open(path).value();
        QCOMPARE(reader->run(2).value().name, std::string("renamed"));

        QVERIFY(core::deleteRun(path, 3).ok());
        QVERIFY(model.refresh());
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.rowForRun(3), -1);
        QVERIFY(!reader->run(3).ok());
    }

    // The context menu offers Resume for a cancelled, interrupted or failed run only, and its
    // action asks for the resume. With DISTILLERY_SCREENSHOT_DIR set, the browser and the open
    // menu are saved as runs-resume-menu.png.
    void contextMenuResume()
    {
        const std::string path = store("menu.sqlite");
        {
            auto writer = core::RunWriter::open(path).value();
            const auto done = writer->createRun(newRun("finished one", "classic-kd")).value();
            writer->addScalar(done, "train/loss", 7, 1.0);
            QVERIFY(writer->finishRun(done, core::RunStatus::Finished).ok());
            const auto stopped = writer->createRun(newRun("cancelled one", "gkd")).value();
            writer->addScalar(stopped, "train/loss", 3, 1.5);
            QVERIFY(writer->finishRun(stopped, core::RunStatus::Cancelled, "cancelled by the user").ok());
        }
        RunBrowser browser;
        browser.resize(760, 220);
        browser.setStorePath(QString::fromStdString(path));
        browser.show();
        QVERIFY(QTest::qWaitForWindowExposed(&browser));
        QSignalSpy resume(&browser, &RunBrowser::resumeRequested);
        auto *view = browser.findChild<QTableView *>();
        QVERIFY(view);
        // Opens the menu on `run`; returns whether it had Resume, and whether Resume was enabled.
        auto menuFor = [&](qint64 run, bool trigger) -> std::pair<bool, bool> {
            browser.selectRuns({run});
            const QModelIndexList rows = view->selectionModel()->selectedRows();
            const QModelIndex index = rows.isEmpty() ? QModelIndex() : rows.first();
            const QPoint at = view->visualRect(index).center();
            bool enabled = false, seen = false;
            QTimer::singleShot(200, [&] {
                auto *menu = qobject_cast<QMenu *>(QApplication::activePopupWidget());
                if (!menu)
                    return;
                for (QAction *a : menu->actions())
                    if (a->text() == QStringLiteral("Resume")) {
                        seen = true;
                        enabled = a->isEnabled();
                        menu->setActiveAction(a);
                    }
                if (const QByteArray dir = qgetenv("DISTILLERY_SCREENSHOT_DIR"); !dir.isEmpty() && trigger) {
                    QPixmap shot(browser.size());
                    shot.fill(Qt::white);
                    QPainter painter(&shot);
                    browser.render(&painter);
                    painter.drawPixmap(view->mapTo(&browser, at) + QPoint(8, 8), menu->grab());
                    painter.end();
                    shot.save(QDir(QString::fromLocal8Bit(dir)).filePath("runs-resume-menu.png"));
                }
                if (trigger && enabled)
                    menu->activeAction()->trigger();
                menu->close();
            });
            Q_EMIT view->customContextMenuRequested(at); // returns once the menu closed
            return {seen, enabled};
        };
        QCOMPARE(menuFor(1, false), std::make_pair(true, false)); // finished: nothing to resume
        QCOMPARE(resume.count(), 0);
        QCOMPARE(menuFor(2, true), std::make_pair(true, true));
        QTRY_COMPARE(resume.count(), 1);
        QCOMPARE(resume.first().first().toLongLong(), 2);
        // The same from the button beside Open graph.
        QPushButton *button = nullptr;
        for (auto *b : browser.findChildren<QPushButton *>())
            if (b->text() == QStringLiteral("Resume"))
                button = b;
        QVERIFY(button);
        QVERIFY(button->isEnabled()); // run 2 is selected
        button->click();
        QCOMPARE(resume.count(), 2);
        browser.selectRuns({1});
        QVERIFY(!button->isEnabled());
    }

    // The table's keys, inside a window whose own Delete shortcut (the canvas's) must not take
    // the key while the table has the focus.
    void browserKeys()
    {
        const std::string path = store("keys.sqlite");
        {
            auto writer = core::RunWriter::open(path).value();
            const auto done = writer->createRun(newRun("finished one", "classic-kd")).value();
            QVERIFY(writer->finishRun(done, core::RunStatus::Finished).ok());
            const auto stopped = writer->createRun(newRun("cancelled one", "gkd")).value();
            QVERIFY(writer->finishRun(stopped, core::RunStatus::Cancelled).ok());
        }
        QWidget window;
        auto *layout = new QVBoxLayout(&window);
        auto *browser = new RunBrowser(&window);
        layout->addWidget(browser);
        int canvasDeletes = 0;
        auto *canvasDelete = new QAction(&window);
        canvasDelete->setShortcut(QKeySequence::Delete);
        window.addAction(canvasDelete);
        connect(canvasDelete, &QAction::triggered, [&] { ++canvasDeletes; });
        browser->setStorePath(QString::fromStdString(path));
        window.resize(760, 240);
        window.show();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QSignalSpy resume(browser, &RunBrowser::resumeRequested);
        QSignalSpy open(browser, &RunBrowser::openGraphRequested);
        QTableView *view = browser->view();
        view->setFocus();
        browser->selectRuns({2});
        QTest::keyClick(view, Qt::Key_R, Qt::ControlModifier | Qt::ShiftModifier);
        QCOMPARE(resume.count(), 1);
        QCOMPARE(resume.first().first().toLongLong(), 2);
        QTest::keyClick(view, Qt::Key_Return);
        QCOMPARE(open.count(), 1);
        browser->selectRuns({1}); // finished: Ctrl+Shift+R does nothing
        QTest::keyClick(view, Qt::Key_R, Qt::ControlModifier | Qt::ShiftModifier);
        QCOMPARE(resume.count(), 1);
        // Delete asks first (declined here); the window's Delete is not triggered.
        bool asked = false;
        QTimer::singleShot(200, [&] {
            if (auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget())) {
                asked = true;
                box->reject();
            }
        });
        QTest::keyClick(view, Qt::Key_Delete);
        QVERIFY(asked);
        QCOMPARE(canvasDeletes, 0);
        QCOMPARE(browser->model()->rowCount(), 2);
        // F2 edits the name.
        QTest::keyClick(view, Qt::Key_F2);
        QCOMPARE(view->currentIndex().column(), int(RunTableModel::NameColumn));
        QLineEdit *editor = nullptr;
        QTRY_VERIFY((editor = view->findChild<QLineEdit *>()) && editor->isVisible());
        QCOMPARE(editor->text(), QStringLiteral("finished one"));
    }

    void browserKeepsSelectionFiltersAndDeletes()
    {
        const std::string path = store("table.sqlite");
        RunBrowser browser;
        browser.setStorePath(QString::fromStdString(path));
        QSignalSpy selection(&browser, &RunBrowser::selectionChanged);
        QSignalSpy open(&browser, &RunBrowser::openGraphRequested);
        browser.selectRuns({1, 2});
        QCOMPARE(browser.selectedRunIds(), (QList<qint64>{1, 2}));
        QVERIFY(selection.count() >= 1);
        QCOMPARE(selection.last().first().value<QList<qint64>>(), (QList<qint64>{1, 2}));

        // A run written meanwhile (as by another process) appears; the selection stays.
        {
            auto writer = core::RunWriter::open(path).value();
            const auto id = writer->createRun(newRun("live", "hidden-state")).value();
            writer->addScalar(id, "train/loss", 3, 1.0);
            QVERIFY(writer->flush().ok());
            browser.refresh();
            QCOMPARE(browser.model()->rowCount(), 4);
            QCOMPARE(browser.model()
                         ->index(browser.model()->rowForRun(id), RunTableModel::StatusColumn)
                         .data()
                         .toString(),
                     QStringLiteral("running"));
            QCOMPARE(browser.selectedRunIds(), (QList<qint64>{1, 2}));
            // A live writer's run cannot be deleted.
            QString error;
            QVERIFY(!browser.deleteRuns({id}, &error));
            QVERIFY2(error.contains(QStringLiteral("still running")), qPrintable(error));
            QVERIFY(writer->finishRun(id, core::RunStatus::Finished).ok());
        }

        browser.setFilterText(QStringLiteral("hidden"));
        QCOMPARE(browser.proxy()->rowCount(), 1);
        browser.setFilterText(QStringLiteral("FAILED"));
        QCOMPARE(browser.proxy()->rowCount(), 1);
        browser.setFilterText({});
        QCOMPARE(browser.proxy()->rowCount(), 4);

        browser.selectRuns({1});
        browser.openCurrentGraph();
        QCOMPARE(open.count(), 1);
        QCOMPARE(open.first().at(1).toLongLong(), 1);
        QVERIFY(core::graphFromJson(open.first().at(0).toString().toStdString()).ok());

        QString error;
        QVERIFY2(browser.deleteRuns({1}, &error), qPrintable(error));
        QCOMPARE(browser.model()->rowForRun(1), -1);
        QCOMPARE(selection.last().first().value<QList<qint64>>(), QList<qint64>{});
    }

    // The run browser over a store of its own: what each row shows, the selection, and a
    // screenshot that is more than an empty frame.
    void runBrowserShowsItsRuns()
    {
        const std::string path = store("browser.sqlite");
        core::RunId finished = 0, failed = 0, cancelled = 0;
        {
            auto writer = core::RunWriter::open(path).value();
            finished = writer->createRun(newRun("baseline", "classic-kd")).value();
            writer->addScalar(finished, "eval/kl_teacher_student", 100, 0.1234);
            writer->addScalar(finished, "eval/student_nll", 100, 3.2101);
            writer->setLastStep(finished, 100);
            QVERIFY(writer->finishRun(finished, core::RunStatus::Finished).ok());
            failed = writer->createRun(newRun("lr sweep 3e-3", "classic-kd")).value();
            QVERIFY(writer->finishRun(failed, core::RunStatus::Failed, "loss is nan at step 12").ok());
            cancelled = writer->createRun(newRun("gkd try", "gkd")).value();
            QVERIFY(writer->finishRun(cancelled, core::RunStatus::Cancelled).ok());
        }
        RunBrowser browser;
        browser.resize(900, 300);
        browser.setStorePath(QString::fromStdString(path));
        browser.show();
        QVERIFY(QTest::qWaitForWindowExposed(&browser));
        browser.refresh();
        const RunTableModel *model = browser.model();
        QCOMPARE(model->rowCount(), 3);
        auto cell = [&](core::RunId run, int column, int role = Qt::DisplayRole) {
            return model->data(model->index(model->rowForRun(run), column), role).toString();
        };
        QCOMPARE(cell(finished, RunTableModel::NameColumn), QStringLiteral("baseline"));
        QCOMPARE(cell(finished, RunTableModel::StatusColumn), QStringLiteral("finished"));
        QCOMPARE(cell(finished, RunTableModel::StepsColumn), QStringLiteral("100 / 100"));
        QVERIFY2(cell(finished, RunTableModel::KlColumn).startsWith(QStringLiteral("0.123")),
                 qPrintable(cell(finished, RunTableModel::KlColumn)));
        QVERIFY2(cell(finished, RunTableModel::NllColumn).startsWith(QStringLiteral("3.21")),
                 qPrintable(cell(finished, RunTableModel::NllColumn)));
        QCOMPARE(cell(failed, RunTableModel::StatusColumn), QStringLiteral("failed"));
        QCOMPARE(cell(failed, RunTableModel::StatusColumn, Qt::ToolTipRole),
                 QStringLiteral("loss is nan at step 12"));
        QCOMPARE(cell(cancelled, RunTableModel::TemplateColumn), QStringLiteral("gkd"));
        // Newest first.
        QCOMPARE(model->runIdAt(0), qint64(cancelled));

        browser.selectRuns({failed});
        const auto selected = browser.view()->selectionModel()->selectedRows();
        QCOMPARE(selected.size(), 1);
        QCOMPARE(selected.front().data(RunTableModel::RunIdRole).toLongLong(), qint64(failed));

        const QImage shot = browser.grab().toImage();
        QVERIFY(shot.save(m_dir.filePath("runbrowser.png")));
        QSet<QRgb> colours;
        for (int y = 0; y < shot.height(); y += 7)
            for (int x = 0; x < shot.width(); x += 7)
                colours.insert(shot.pixel(x, y));
        QVERIFY2(colours.size() > 8, "the screenshot is nearly one colour");
    }
};

QTEST_MAIN(tst_Training)
#include "tst_training.moc"
