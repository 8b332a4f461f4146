// The comparison view and the run browser's comparison actions, on a store of a 3×3
// temperature × seed sweep written here: what each tab shows is checked value by value against
// numbers computed in the test from what it wrote.

#include "compare/comparisonview.h"
#include "core/testgraphs.h"
#include "document/graphdocument.h"
#include "graph/graphscene.h"
#include "inspector/inspector.h"
#include "mainwindow/mainwindow.h"
#include "runs/sweepdialog.h"
#include "training/trainingcontroller.h"
#include "runs/runbrowser.h"
#include "runs/runtablemodel.h"

#include "distillery/core/graph.h"
#include "distillery/core/store.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QDialog>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTableWidget>
#include <QToolButton>
#include <QTemporaryDir>
#include <QStandardPaths>
#include <QtTest>

#include <cmath>
#include <set>

using namespace distillery;
using namespace distillery::core;
using distillery::core::testing::byTitle;
using widgets::ComparisonView;

namespace {


// KL(oracle‖student) of run (T, seed) at `step` of 10: falls to T/10 + seed/100.
double kl(double t, int seed, int step)
{
    return t / 10.0 + seed / 100.0 + 1.0 / step;
}

} // namespace

class tst_CompareView : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_store;
    QList<qint64> m_ids;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QStandardPaths::setTestModeEnabled(true); // the run browser's saved columns are not the user's
        m_store = m_dir.filePath("sweep.sqlite");
        auto base = loadTemplate("classic-kd");
        QVERIFY(base.ok());
        auto writer = RunWriter::open(m_store.toStdString());
        QVERIFY(writer.ok());
        for (double t : {1.0, 2.0, 4.0})
            for (int seed : {1, 2, 3}) {
                Graph g = base.value();
                QVERIFY(g.setParam(byTitle(g, "kd"), "temperature", t).ok());
                QVERIFY(g.setParam(byTitle(g, "run"), "seed", std::int64_t(seed)).ok());
                NewRun nr;
                nr.name = "T=" + std::to_string(int(t)) + " seed " + std::to_string(seed);
                nr.templateName = "classic-kd";
                nr.graphJson = graphToJson(g);
                nr.seed = seed;
                nr.group = "temperature sweep";
                auto id = writer.value()->createRun(nr);
                QVERIFY(id.ok());
                m_ids << id.value();
                for (int step = 1; step <= 10; ++step)
                    writer.value()->addScalar(id.value(), "eval/kl_oracle_student", step, kl(t, seed, step));
                writer.value()->addScalar(id.value(), "eval/student_nll", 10, 3 + t / 10);
                QVERIFY(writer.value()->finishRun(id.value(), RunStatus::Finished).ok());
            }
    }

    void configAndMetrics()
    {
        ComparisonView view;
        QString error;
        QVERIFY2(view.setRuns(m_store, m_ids, &error), qPrintable(error));
        // Only kd.temperature and the seed differ; the seed row is marked as such.
        QTableWidget *config = view.configTable();
        QCOMPARE(config->rowCount(), 2);
        QCOMPARE(config->item(0, 0)->text(), QString("kd.temperature"));
        QCOMPARE(config->item(1, 0)->text(), QString("run.seed"));
        QVERIFY(config->item(1, 0)->font().italic());
        QCOMPARE(config->columnCount(), 10);
        QCOMPARE(config->item(0, 4)->text(), QString("2"));
        // Changed cells against the reference (run 1) are highlighted, the others are not.
        QVERIFY(config->item(0, 4)->background().style() != Qt::NoBrush);
        QVERIFY(config->item(0, 2)->background().style() == Qt::NoBrush);
        view.onlyDifferences()->setChecked(false);
        QVERIFY(config->rowCount() > 50);
        view.onlyDifferences()->setChecked(true);
        view.setReferenceRun(m_ids[4]);
        QVERIFY(config->item(0, 1)->background().style() != Qt::NoBrush); // run 1 differs from run 5
        QVERIFY(view.structureList()->item(0)->text().contains("Same graph structure"));

        // Groups: auto = kd.temperature, three of three runs each.
        QCOMPARE(int(view.groups().size()), 3);
        QCOMPARE(QString::fromStdString(view.groups()[2].label), QString("kd.temperature=4"));
        const core::MetricTable &table = view.metricTable();
        QCOMPARE(QString::fromStdString(table.columns[0].key), QString("eval/kl_oracle_student"));
        // Last KL of group T: T/10 + (1+2+3)/3/100 + 1/10, std over seeds = 0.01.
        for (int g = 0; g < 3; ++g) {
            const double t = g == 0 ? 1 : g == 1 ? 2 : 4;
            const Summary &s = table.rows[std::size_t(g)].cells[0];
            QCOMPARE(s.n, 3);
            QVERIFY(std::abs(s.mean - (t / 10 + 0.02 + 0.1)) < 1e-12);
            QVERIFY(std::abs(s.std - 0.01) < 1e-12);
        }
        QTableWidget *widget = view.metricTableWidget();
        QCOMPARE(widget->rowCount(), 3);
        QCOMPARE(widget->item(1, 2)->text(), QString("0.3200 ± 0.0100 (n=3)"));
        // Best of a lower-is-better metric is its minimum, here also the last value.
        view.setMetricColumns({"eval/kl_oracle_student:max"});
        QVERIFY(std::abs(view.metricTable().rows[0].cells[0].mean - (0.1 + 0.02 + 1.0)) < 1e-12);
        QVERIFY(view.metricCsv().startsWith("group,runs,n,eval/kl_oracle_student:max mean"));
        // Every run alone: its value and the step it was reached at.
        view.setGroupBy("none");
        QCOMPARE(int(view.groups().size()), 9);
        QVERIFY(view.metricTableWidget()->item(0, 2)->text().endsWith("@1"));
        view.setGroupBy("run.seed");
        QCOMPARE(QString::fromStdString(view.groups()[0].label), QString("run.seed=1"));
        // A bad metric is refused without losing the table.
        QSignalSpy errors(&view, &ComparisonView::errorOccurred);
        view.setMetricColumns({"no_such_metric"});
        QCOMPARE(errors.count(), 1);
    }

    void curvesAndScatter()
    {
        ComparisonView view;
        view.resize(1200, 800);
        view.show();
        QSignalSpy ready(&view, &ComparisonView::curvesReady);
        QVERIFY(view.setRuns(m_store, m_ids));
        QVERIFY(ready.wait(10000));
        QCOMPARE(view.curveMetric(), QString("eval/kl_oracle_student"));
        const auto &curves = view.curves();
        QCOMPARE(int(curves.size()), 3);
        // The mean of group T=2 at step 4 is 0.2 + 0.02 + 0.25 with a std band of 0.01.
        const auto &c = curves[1];
        QCOMPARE(c.label, QString("kd.temperature=2"));
        QCOMPARE(c.runs, 3);
        QCOMPARE(c.x[3], 4.0);
        QVERIFY(std::abs(c.mean[3] - 0.47) < 1e-12);
        QVERIFY(std::abs(c.hi[3] - c.mean[3] - 0.01) < 1e-12);
        QCOMPARE(view.curveLegend()->count(), 3);
        const QStringList csv = view.curvesCsv().split('\n', Qt::SkipEmptyParts);
        QCOMPARE(csv.front(), QString("curve,step,mean,low,high"));
        QCOMPARE(csv.size(), 1 + 3 * 10);
        QVERIFY2(csv[14].startsWith("kd.temperature=2,4,0.47,0.46,0.48"), qPrintable(csv[14]));
        // min–max band; individual runs added as entries of their own.
        view.setBand(BandKind::MinMax);
        QVERIFY(std::abs(view.curves()[1].lo[3] - (0.2 + 0.01 + 0.25)) < 1e-12);
        view.setShowRuns(true);
        QCOMPARE(int(view.curves().size()), 12);
        QCOMPARE(view.curveLegend()->count(), 12);
        // Unticking a legend entry hides that curve, the others stay.
        const int graphs = view.curvePlot()->graphCount();
        view.curveLegend()->item(0)->setCheckState(Qt::Unchecked);
        QVERIFY(view.curvePlot()->graphCount() < graphs);
        QCOMPARE(view.curveLegend()->count(), 12);
        // Another metric is read on the worker again.
        view.setCurveMetric("eval/student_nll");
        QVERIFY(view.curvesLoading());
        QVERIFY(ready.wait(10000));
        QCOMPARE(int(view.curves().size()), 12);

        // Trade-off: temperature (no better side: no front) and KL against NLL (front).
        view.setScatter("kd.temperature", "eval/kl_oracle_student");
        QCOMPARE(int(view.scatterPoints().size()), 9);
        QCOMPARE(view.scatterPoints()[4].x, 2.0);
        QVERIFY(std::abs(view.scatterPoints()[4].y - kl(2, 2, 10)) < 1e-12);
        for (const auto &p : view.scatterPoints())
            QVERIFY(!p.pareto);
        QVERIFY(view.scatterNote().contains("No Pareto front"));
        view.setScatter("eval/student_nll", "eval/kl_oracle_student");
        // NLL = 3 + T/10 is the same for the seeds of one T, KL grows with the seed: the front is
        // the seed-1 run of T=1 alone.
        int front = 0;
        for (const auto &p : view.scatterPoints())
            front += p.pareto;
        QCOMPARE(front, 1);
        QVERIFY(view.scatterPoints()[0].pareto);
        view.scatterPlot()->replot();
        const QPoint at(int(view.scatterPlot()->xAxis->coordToPixel(view.scatterPoints()[0].x)),
                        int(view.scatterPlot()->yAxis->coordToPixel(view.scatterPoints()[0].y)));
        const QString hover = view.scatterHoverText(at);
        QVERIFY2(hover.contains(QString("run %1").arg(m_ids[0])) && hover.contains("Pareto"), qPrintable(hover));
        QVERIFY(view.scatterHoverText(QPoint(-100, -100)).isEmpty());

        // Parallel coordinates: the temperature axis and the metric's, one line per run.
        view.setParallelMetric("eval/kl_oracle_student");
        QCOMPARE(int(view.parallelAxes().size()), 2);
        QCOMPARE(view.parallelAxes()[0].name, QString("kd.temperature"));
        QCOMPARE(view.parallelAxes()[0].lo, 1.0);
        QCOMPARE(view.parallelAxes()[0].hi, 4.0);
        QVERIFY(std::abs(view.parallelAxes()[1].lo - kl(1, 1, 10)) < 1e-12);
        QVERIFY(std::abs(view.parallelAxes()[1].hi - kl(4, 3, 10)) < 1e-12);
        QCOMPARE(view.parallelPlot()->graphCount(), 9);
        QVERIFY(view.showTab("parallel"));

        // The report: one file with the table, the config diff and both plots as PNG.
        const QString html = m_dir.filePath("report.html");
        QString error;
        QVERIFY2(view.exportReport(html, &error), qPrintable(error));
        QFile f(html);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString page = QString::fromUtf8(f.readAll());
        QCOMPARE(page.count("data:image/png;base64,"), 2);
        QVERIFY(page.contains("<td>kd.temperature</td>"));
        QVERIFY(page.contains("temperature sweep"));
        QVERIFY(!view.exportReport(m_dir.filePath("no/such/folder/report.html"), &error));
        QVERIFY(error.contains("no/such/folder"));
    }

    // What a person does from the window alone: a 3×3 sweep of temperature × seed from the
    // inspector's "Sweep this", trained in the background, then compared and reported.
    void sweepFromTheWindow()
    {
        widgets::MainWindow w;
        const QString graph = m_dir.filePath("tiny-kd.json");
        QVERIFY(saveGraphFile(testing::tiny("classic-kd", 8), graph.toStdString()).ok());
        QString error;
        QVERIFY2(w.openGraph(graph, &error), qPrintable(error));
        w.setStorePath(m_dir.filePath("gui-sweep.sqlite"));
        // The inspector's "⋯" beside kd's temperature opens the sweep dialog on it.
        QSignalSpy sweepAsked(w.inspector(), &widgets::Inspector::sweepRequested);
        NodeId kd = kInvalidNode;
        for (const Node &n : w.document()->graph().nodes())
            if (n.title == "kd")
                kd = n.id;
        w.scene()->selectNode(kd);
        QWidget *editor = w.inspector()->editor("temperature");
        QVERIFY(editor);
        QToolButton *sweepButton = nullptr;
        for (QToolButton *b : editor->parentWidget()->findChildren<QToolButton *>())
            if (b->text() == QString::fromUtf8("⋯"))
                sweepButton = b;
        QVERIFY(sweepButton);
        sweepButton->click();
        QCOMPARE(sweepAsked.count(), 1);
        QCOMPARE(sweepAsked.front().at(0).toString(), QString("kd.temperature"));
        const auto dialogs = w.findChildren<widgets::SweepDialog *>();
        QCOMPARE(dialogs.size(), 1);
        widgets::SweepDialog *dialog = dialogs.front();
        QCOMPARE(dialog->axisCount(), 1);
        QCOMPARE(dialog->plan().size(), std::size_t(1)); // starts from the current value
        dialog->setAxisValues(0, "1, 2, 4");
        dialog->setSeeds("1,2,3");
        dialog->setName("T sweep");
        QCOMPARE(dialog->plan().size(), std::size_t(9));
        QVERIFY(dialog->queueButton()->isEnabled());
        QCOMPARE(dialog->queueButton()->text(), QString("Queue 9 runs"));
        QCOMPARE(dialog->planList()->count(), 9);
        // A bad value is refused with the reason before anything is queued.
        dialog->setAxisValues(0, "1, 2, 500");
        QVERIFY(dialog->problem().contains("out of range"));
        QVERIFY(!dialog->queueButton()->isEnabled());
        dialog->setAxisValues(0, "1, 2, 4");
        QSignalSpy finished(w.controller(), &widgets::TrainingController::runFinished);
        dialog->accept();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 9, 300000);
        for (const auto &f : finished)
            QCOMPARE(f.at(1).toString(), QString("finished"));

        auto reader = StoreReader::open(w.storePath().toStdString());
        QVERIFY(reader.ok());
        auto ids = parseRunList(*reader.value(), {"group:T sweep"});
        QVERIFY(ids.ok());
        QCOMPARE(int(ids.value().size()), 9);
        QList<qint64> list;
        for (auto id : ids.value())
            list << id;
        reader.value().reset();
        ComparisonView *view = w.openComparison(list, &error);
        QVERIFY2(view, qPrintable(error));
        QSignalSpy ready(view, &ComparisonView::curvesReady);
        // Only the temperature and the seed differ; three temperature groups of three seeds.
        QCOMPARE(view->configTable()->rowCount(), 2);
        QCOMPARE(view->configTable()->item(0, 0)->text(), QString("kd.temperature"));
        QCOMPARE(view->configTable()->item(1, 0)->text(), QString("run.seed"));
        QCOMPARE(int(view->groups().size()), 3);
        QCOMPARE(QString::fromStdString(view->groups()[1].label), QString("kd.temperature=2"));
        // The table's mean ± std is the one of the store's last values.
        const core::MetricTable &table = view->metricTable();
        QCOMPARE(QString::fromStdString(table.columns[0].key), QString("eval/kl_oracle_student"));
        for (std::size_t g = 0; g < 3; ++g) {
            std::vector<double> values;
            for (std::size_t i : view->groups()[g].runs)
                values.push_back(view->comparedRuns()[i].series.at("eval/kl_oracle_student").last.value);
            const double mean = (values[0] + values[1] + values[2]) / 3;
            double squares = 0;
            for (double v : values)
                squares += (v - mean) * (v - mean);
            QCOMPARE(table.rows[g].cells[0].n, 3);
            QVERIFY(std::abs(table.rows[g].cells[0].mean - mean) < 1e-12);
            QVERIFY(std::abs(table.rows[g].cells[0].std - std::sqrt(squares / 2)) < 1e-12);
        }
        QVERIFY(ready.wait(20000));
        QCOMPARE(int(view->curves().size()), 3);
        QVERIFY(!view->curves()[0].lo.empty()); // a band over the seeds
        view->setScatter("kd.temperature", "eval/kl_oracle_student");
        QCOMPARE(int(view->scatterPoints().size()), 9);
        std::set<double> temperatures;
        for (const auto &p : view->scatterPoints())
            temperatures.insert(p.x);
        QCOMPARE(temperatures, (std::set<double>{1, 2, 4}));
        const QString html = m_dir.filePath("gui-report.html");
        QVERIFY2(view->exportReport(html, &error), qPrintable(error));
        QVERIFY(QFileInfo(html).size() > 10000);
        view->close();
    }

    void badRuns()
    {
        ComparisonView view;
        QString error;
        QVERIFY(!view.setRuns(m_store, {9999}, &error));
        QVERIFY2(error.contains("9999"), qPrintable(error));
        QVERIFY(!view.setRuns(m_dir.filePath("missing.sqlite"), m_ids, &error));
        QVERIFY(error.contains("missing.sqlite"));
        QVERIFY(!view.setRuns(m_store, {}, &error));
    }

    void browserComparesAndTags()
    {
        widgets::RunBrowser browser;
        browser.setStorePath(m_store);
        browser.refresh();
        QSignalSpy compare(&browser, &widgets::RunBrowser::compareRequested);
        browser.selectRuns({m_ids[2], m_ids[0]});
        browser.compareSelected();
        QCOMPARE(compare.count(), 1);
        QCOMPARE(compare.at(0).at(0).value<QList<qint64>>(), (QList<qint64>{m_ids[0], m_ids[2]}));
        browser.selectRuns({m_ids[0]});
        browser.compareSelected(); // one run: nothing to compare
        QCOMPARE(compare.count(), 1);

        QVERIFY(browser.setTags({m_ids[0], m_ids[1]}, {"baseline", " paper "}));
        widgets::RunTableModel *model = browser.model();
        const int row = model->rowForRun(m_ids[1]);
        QCOMPARE(model->index(row, widgets::RunTableModel::TagsColumn).data().toString(), QString("baseline, paper"));
        QCOMPARE(model->index(row, widgets::RunTableModel::GroupColumn).data().toString(), QString("temperature sweep"));
        QCOMPARE(model->index(row, widgets::RunTableModel::SeedColumn).data().toLongLong(), 2LL);
        browser.setFilterText("paper");
        QCOMPARE(browser.proxy()->rowCount(), 2);
        browser.setFilterText({});
        QString error;
        QVERIFY(!browser.setTags({m_ids[0]}, {"a,b"}, &error));
        QVERIFY(error.contains("comma"));
        QVERIFY(!browser.setTags({m_ids[0]}, {QString(70, 'x')}, &error));
        QVERIFY(error.contains("64 characters"));
        QVERIFY(browser.setTags({m_ids[0], m_ids[1]}, {}));

        // Columns from any parameter or metric, at last or best.
        const QStringList available = model->availableColumns();
        QVERIFY(available.contains("kd.temperature"));
        QVERIFY(available.contains("eval/kl_oracle_student:best"));
        browser.setExtraColumns({"kd.temperature", "eval/kl_oracle_student:max", "eval/nothing"});
        const int base = widgets::RunTableModel::ColumnCount;
        QCOMPARE(model->columnCount(), base + 3);
        const int r8 = model->rowForRun(m_ids[8]); // T = 4, seed 3
        QCOMPARE(model->index(r8, base).data().toString(), QString("4"));
        QCOMPARE(model->index(r8, base).data(widgets::RunTableModel::SortRole).toDouble(), 4.0);
        QCOMPARE(model->index(r8, base + 1).data().toString(), QString("1.4300 @1")); // KL at step 1
        QCOMPARE(model->index(r8, base + 2).data().toString(), QString("—"));
        QCOMPARE(model->headerData(base + 1, Qt::Horizontal).toString(), QString("KL(oracle‖student) (max)"));
        browser.setExtraColumns({});
        QCOMPARE(model->columnCount(), base);
    }
};

QTEST_MAIN(tst_CompareView)
#include "tst_compareview.moc"
