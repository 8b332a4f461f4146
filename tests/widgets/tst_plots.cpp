// Tests of the live plots: smoothing and down-sampling against closed forms, the incremental
// series cache over a real store file, and MetricPlot / PlotPanel through their public API.

#include "plots/metricplot.h"
#include "plots/plotpanel.h"
#include "plots/seriescache.h"
#include "plots/smoothing.h"

#include "distillery/core/graph.h"
#include "distillery/core/store.h"
#include "widgets/teststore.h"

#include <qcustomplot.h>

#include <QClipboard>
#include <QGuiApplication>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <random>

using namespace distillery;
using namespace distillery::widgets;

using distillery::widgets::testing::createRun;
using distillery::widgets::testing::openWriter;

namespace {

SeriesData makeSeries(int n, const std::function<double(int)> &f)
{
    SeriesData d;
    for (int i = 0; i < n; ++i) {
        d.steps.push_back(i);
        d.wallTimes.push_back(1000.0 + 0.01 * i);
        d.values.push_back(f(i));
    }
    return d;
}

} // namespace

class TestPlots : public QObject
{
    Q_OBJECT

private slots:
    void emaOfConstantIsConstant_data();
    void emaOfConstantIsConstant();
    void emaOfStepMatchesClosedForm_data();
    void emaOfStepMatchesClosedForm();
    void emaSkipsNaN();
    void movingAverageKnownInput();
    void downsampleKeepsExtremesAndEnds();
    void downsampleVisibleRange();
    void downsampleSmallInputUnchanged();
    void cacheReadsOnlyNewRows();
    void cacheWaitsForMissingFile();
    void cacheXModes();
    void panelReceivesLivePoints();
    void csvContainsRawValues();
    void bigSeriesDrawsBoundedPoints();
    void legendAndVisibility();
    void manyEntriesLegendBesideThePlot();
    void hoverShowsNearestPoint();
    void logScaleDropsNonPositive();
    void renderPanel();
};

void TestPlots::emaOfConstantIsConstant_data()
{
    QTest::addColumn<double>("weight");
    QTest::newRow("w=0") << 0.0;
    QTest::newRow("w=0.5") << 0.5;
    QTest::newRow("w=0.9") << 0.9;
    QTest::newRow("w=0.99") << 0.99;
}

void TestPlots::emaOfConstantIsConstant()
{
    // Debiasing makes the EMA of a constant c exactly c from the first point on:
    // m_t = c (1 - w^t), s_t = m_t / (1 - w^t) = c.
    QFETCH(double, weight);
    const std::vector<double> x(50, 3.25);
    const auto s = emaSmooth(x, weight);
    QCOMPARE(s.size(), x.size());
    for (double v : s)
        QVERIFY2(std::abs(v - 3.25) < 1e-12, qPrintable(QString::number(v, 'g', 17)));
}

void TestPlots::emaOfStepMatchesClosedForm_data()
{
    QTest::addColumn<double>("weight");
    QTest::newRow("w=0.3") << 0.3;
    QTest::newRow("w=0.6") << 0.6;
    QTest::newRow("w=0.95") << 0.95;
}

void TestPlots::emaOfStepMatchesClosedForm()
{
    // x_t = a for t <= k, b after (t counted from 1). Then
    //   m_t = a (1 - w^t)                                  for t <= k
    //   m_t = b (1 - w^(t-k)) + a (1 - w^k) w^(t-k)        for t > k
    // and the drawn value is s_t = m_t / (1 - w^t).
    QFETCH(double, weight);
    const double a = 2.0, b = 5.0, w = weight;
    const int k = 10, n = 40;
    std::vector<double> x;
    for (int t = 1; t <= n; ++t)
        x.push_back(t <= k ? a : b);
    const auto s = emaSmooth(x, w);
    for (int t = 1; t <= n; ++t) {
        const double m =
            t <= k ? a * (1 - std::pow(w, t))
                   : b * (1 - std::pow(w, t - k)) + a * (1 - std::pow(w, k)) * std::pow(w, t - k);
        const double expected = m / (1 - std::pow(w, t));
        QVERIFY2(std::abs(s[t - 1] - expected) < 1e-12,
                 qPrintable(QStringLiteral("t=%1: %2 vs %3").arg(t).arg(s[t - 1]).arg(expected)));
    }
    // Weight 0 returns the input.
    QCOMPARE(emaSmooth(x, 0.0), x);
}

void TestPlots::emaSkipsNaN()
{
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const auto s = emaSmooth({1.0, nan, 3.0}, 0.5);
    QCOMPARE(s[0], 1.0);
    QVERIFY(std::isnan(s[1]));
    // t = 2 at the third point: m = 0.5 * 0.5 + 0.5 * 3 = 1.75, s = 1.75 / 0.75.
    QVERIFY(std::abs(s[2] - 1.75 / 0.75) < 1e-12);
}

void TestPlots::movingAverageKnownInput()
{
    const std::vector<double> x{1, 2, 3, 4, 5};
    QCOMPARE(movingAverage(x, 3), (std::vector<double>{1.5, 2, 3, 4, 4.5}));
    QCOMPARE(movingAverage(x, 5), (std::vector<double>{2, 2.5, 3, 3.5, 4}));
    QCOMPARE(movingAverage(x, 4), movingAverage(x, 5)); // even window -> window + 1
    QCOMPARE(movingAverage(x, 1), x);
    QCOMPARE(movingAverage({7, 7, 7, 7}, 101), (std::vector<double>{7, 7, 7, 7}));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const auto withGap = movingAverage({1, nan, 3, 5}, 3);
    QCOMPARE(withGap[0], 1.0);
    QVERIFY(std::isnan(withGap[1]));
    QCOMPARE(withGap[2], 4.0); // mean of the finite neighbours 3 and 5
    QCOMPARE(withGap[3], 4.0);
    QCOMPARE(movingAverageWindowForStrength(0.0), 1);
    QCOMPARE(movingAverageWindowForStrength(0.3), 61);
}

void TestPlots::downsampleKeepsExtremesAndEnds()
{
    const int n = 100000, buckets = 500;
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(0.0, 1.0);
    std::vector<double> x(n), y(n);
    for (int i = 0; i < n; ++i) {
        x[i] = i;
        y[i] = std::exp(-i / 30000.0) + 0.1 * noise(rng);
    }
    y[53210] = 1000.0;  // a spike
    y[77777] = -1000.0; // a dip
    const auto ds = downsampleMinMax(x, y, buckets);
    QVERIFY(ds.x.size() <= std::size_t(2 * buckets + 2));
    QVERIFY(ds.x.size() >= std::size_t(buckets));
    QCOMPARE(ds.x.size(), ds.y.size());
    QCOMPARE(ds.x.front(), 0.0);
    QCOMPARE(ds.y.front(), y.front());
    QCOMPARE(ds.x.back(), double(n - 1));
    QCOMPARE(ds.y.back(), y.back());
    QCOMPARE(*std::max_element(ds.y.begin(), ds.y.end()), 1000.0);
    QCOMPARE(*std::min_element(ds.y.begin(), ds.y.end()), -1000.0);
    QVERIFY(std::is_sorted(ds.x.begin(), ds.x.end()));
    // Every kept point is a real point of the series.
    for (std::size_t i = 0; i < ds.x.size(); ++i)
        QCOMPARE(ds.y[i], y[std::size_t(ds.x[i])]);
}

void TestPlots::downsampleVisibleRange()
{
    std::vector<double> x(10000), y(10000);
    for (int i = 0; i < 10000; ++i) {
        x[i] = i;
        y[i] = std::sin(i * 0.01);
    }
    const auto ds = downsampleMinMax(x, y, 100, 2000.0, 3000.0);
    QVERIFY(ds.x.size() <= 202);
    QCOMPARE(ds.x.front(), 1999.0); // one neighbour outside the view on each side
    QCOMPARE(ds.x.back(), 3001.0);
}

void TestPlots::downsampleSmallInputUnchanged()
{
    const std::vector<double> x{0, 1, 2, 3}, y{4, 3, 2, 1};
    const auto ds = downsampleMinMax(x, y, 100);
    QCOMPARE(ds.x, x);
    QCOMPARE(ds.y, y);
    QVERIFY(downsampleMinMax({}, {}, 100).x.empty());
}

void TestPlots::cacheReadsOnlyNewRows()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    auto writer = openWriter(path);
    const core::RunId run = createRun(*writer, "cache");
    for (int step = 0; step < 10; ++step)
        writer->addScalar(run, "train/loss", step, 10.0 - step);
    QVERIFY(writer->flush().ok());

    SeriesCache cache;
    cache.setStorePath(path);
    cache.track(run, "train/loss");
    std::vector<SeriesCache::SeriesKey> changed;
    QCOMPARE(cache.refresh(&changed), 10);
    QCOMPARE(cache.lastFetchCount(), 10);
    QCOMPARE(changed.size(), std::size_t(1));

    for (int step = 10; step < 15; ++step)
        writer->addScalar(run, "train/loss", step, 10.0 - step);
    QVERIFY(writer->flush().ok());
    QCOMPARE(cache.refresh(), 5);
    QCOMPARE(cache.lastFetchCount(), 5); // only the new rows were fetched
    const SeriesData *data = cache.series(run, "train/loss");
    QVERIFY(data);
    QCOMPARE(int(data->size()), 15);
    for (int i = 0; i < 15; ++i) {
        QCOMPARE(data->steps[i], std::int64_t(i));
        QCOMPARE(data->values[i], 10.0 - i);
    }
    changed.clear();
    QCOMPARE(cache.refresh(&changed), 0);
    QVERIFY(changed.empty());
    const auto keys = cache.keys(run);
    QCOMPARE(keys, std::vector<std::string>{"train/loss"});
}

void TestPlots::cacheWaitsForMissingFile()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("later.sqlite"));
    SeriesCache cache;
    cache.setStorePath(path);
    cache.track(1, "train/loss");
    QCOMPARE(cache.refresh(), 0);
    QVERIFY(!cache.isOpen());
    QVERIFY(!cache.lastError().isEmpty());
    QVERIFY(!QFileInfo::exists(path)); // a reader never creates the file

    auto writer = openWriter(path);
    const core::RunId run = createRun(*writer, "late");
    QCOMPARE(run, core::RunId(1));
    writer->addScalar(run, "train/loss", 1, 0.5);
    QVERIFY(writer->flush().ok());
    QCOMPARE(cache.refresh(), 1);
    QVERIFY(cache.isOpen());
}

void TestPlots::cacheXModes()
{
    core::Graph graph;
    const core::NodeId settings = graph.addNode("Settings");
    QVERIFY(graph.setParam(settings, "batch_size", std::int64_t(8)).ok());
    QVERIFY(graph.setParam(settings, "seq_len", std::int64_t(32)).ok());
    QCOMPARE(tokensPerStepFromGraphJson(core::graphToJson(graph)), 256.0);
    QCOMPARE(tokensPerStepFromGraphJson("not json"), 0.0);

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    auto writer = openWriter(path);
    const core::RunId run = createRun(*writer, "x", core::graphToJson(graph));
    writer->addScalar(run, "train/loss", 1, 1.0);
    writer->addScalar(run, "train/loss", 2, 0.9);
    QVERIFY(writer->flush().ok());
    SeriesCache cache;
    cache.setStorePath(path);
    cache.track(run, "train/loss");
    QCOMPARE(cache.refresh(), 2);
    QCOMPARE(cache.tokensPerStep(run), 256.0);
    QCOMPARE(cache.xValues(run, "train/loss", XAxisMode::Step), (std::vector<double>{1, 2}));
    QCOMPARE(cache.xValues(run, "train/loss", XAxisMode::Tokens), (std::vector<double>{256, 512}));
    const auto wall = cache.xValues(run, "train/loss", XAxisMode::WallTime);
    QCOMPARE(wall.size(), std::size_t(2));
    QCOMPARE(wall[0], 0.0);
    QVERIFY(wall[1] >= 0.0);
}

void TestPlots::panelReceivesLivePoints()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("live.sqlite"));
    auto writer = openWriter(path);
    const core::RunId run = createRun(*writer, "live");

    PlotPanel panel;
    QSignalSpy spy(&panel, &PlotPanel::pointsAdded);
    panel.setStorePath(path);
    panel.setRuns({run});
    panel.setRefreshInterval(20);
    panel.setLive(true);
    panel.resize(900, 600);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));

    int total = 0;
    for (int step = 0; step < 30; ++step) {
        writer->addScalar(run, "train/loss", step, 3.0 - 0.05 * step);
        if (step % 10 == 9) {
            QVERIFY(writer->flush().ok());
            const int before = spy.count();
            QTRY_VERIFY_WITH_TIMEOUT(spy.count() > before, 3000);
        }
    }
    for (const auto &args : spy)
        total += args.at(0).toInt();
    QCOMPARE(total, 30);
    MetricPlot *loss = panel.plot(QStringLiteral("loss"));
    QVERIFY(loss->hasSeries(run, QStringLiteral("train/loss")));
    QCOMPARE(loss->drawnPointCount(run, QStringLiteral("train/loss")), 30);

    // A key that appears during the run shows up live, in its plot.
    writer->addScalar(run, "train/term/kd", 30, 1.5);
    writer->addScalar(run, "eval/student_acc", 30, 0.25);
    QVERIFY(writer->flush().ok());
    QTRY_VERIFY_WITH_TIMEOUT(loss->hasSeries(run, QStringLiteral("train/term/kd")), 3000);
    QTRY_VERIFY_WITH_TIMEOUT(
        panel.plot(QStringLiteral("accuracy"))->hasSeries(run, QStringLiteral("eval/student_acc")),
        3000);

    // Not live: nothing is read until refresh() is called.
    panel.setLive(false);
    const int before = spy.count();
    writer->addScalar(run, "train/loss", 31, 1.0);
    QVERIFY(writer->flush().ok());
    QTest::qWait(100);
    QCOMPARE(spy.count(), before);
    QCOMPARE(panel.refresh(), 1);
    QCOMPARE(spy.count(), before + 1);
}

void TestPlots::csvContainsRawValues()
{
    MetricPlot plot(QStringLiteral("csv"));
    plot.setSmoothing(SmoothingMode::Ema, 0.9); // CSV is raw, not smoothed
    SeriesData d;
    d.steps = {0, 5, 10};
    d.wallTimes = {100.0, 101.5, 103.25};
    d.values = {0.1234567890123, 2.5, -7.0};
    plot.setSeriesData(7, QStringLiteral("train/loss"), d, 100.0, 0.0);
    const QString csv = plot.valuesCsv();
    const QStringList lines = csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 4);
    QCOMPARE(lines[0], QStringLiteral("run,key,step,wall_time,value"));
    for (int i = 0; i < 3; ++i) {
        const QStringList cols = lines[i + 1].split(QLatin1Char(','));
        QCOMPARE(cols.size(), 5);
        QCOMPARE(cols[0], QStringLiteral("7"));
        QCOMPARE(cols[1], QStringLiteral("train/loss"));
        QCOMPARE(cols[2].toLongLong(), d.steps[i]);
        QCOMPARE(cols[3].toDouble(), d.wallTimes[i]);
        QCOMPARE(cols[4].toDouble(), d.values[i]); // exact round trip
    }
    plot.copyValuesCsv();
    QCOMPARE(QGuiApplication::clipboard()->text(), csv);
}

void TestPlots::bigSeriesDrawsBoundedPoints()
{
    MetricPlot plot(QStringLiteral("big"));
    plot.resize(800, 400);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    const int n = 100000;
    std::mt19937 rng(1);
    std::normal_distribution<double> noise(0.0, 0.05);
    const SeriesData d = makeSeries(n, [&](int i) { return std::exp(-i / 20000.0) + noise(rng); });
    plot.setSeriesData(1, QStringLiteral("train/loss"), d);
    plot.setSeriesData(2, QStringLiteral("train/loss"), d);
    const int width = plot.customPlot()->axisRect()->width();
    const int bound = 2 * std::max(200, width) + 2;
    for (core::RunId run : {1, 2}) {
        const int drawn = plot.drawnPointCount(run, QStringLiteral("train/loss"));
        QVERIFY2(drawn > 100 && drawn <= bound, qPrintable(QString::number(drawn)));
    }
    // Every graph QCustomPlot holds (smoothed lines and faint raw lines) is bounded.
    QCOMPARE(plot.customPlot()->graphCount(), 4);
    for (int i = 0; i < plot.customPlot()->graphCount(); ++i)
        QVERIFY(plot.customPlot()->graph(i)->dataCount() <= bound);

    // Zooming in re-downsamples the visible range: still bounded, now dense in that range.
    plot.customPlot()->xAxis->setRange(1000, 1500);
    const int zoomed = plot.drawnPointCount(1, QStringLiteral("train/loss"));
    QCOMPARE(zoomed, 503); // 501 points in [1000, 1500] + one neighbour each side
    plot.resetZoom();
    QVERIFY(plot.drawnPointCount(1, QStringLiteral("train/loss")) <= bound);
    QCOMPARE(plot.customPlot()->xAxis->range().lower, 0.0);
    QCOMPARE(plot.customPlot()->xAxis->range().upper, double(n - 1));
}

void TestPlots::legendAndVisibility()
{
    MetricPlot plot(QStringLiteral("legend"));
    plot.resize(600, 400);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.setSeriesData(1, QStringLiteral("train/loss"),
                       makeSeries(100, [](int i) { return 1.0 / (i + 1); }));
    plot.customPlot()->replot();
    QCPLegend *legend = plot.customPlot()->legend;
    QCOMPARE(legend->itemCount(), 1);
    QVERIFY(plot.isSeriesVisible(1, QStringLiteral("train/loss")));
    const QPoint center = legend->item(0)->outerRect().center();
    QTest::mouseClick(plot.customPlot(), Qt::LeftButton, Qt::NoModifier, center);
    QVERIFY(!plot.isSeriesVisible(1, QStringLiteral("train/loss")));
    QTest::mouseClick(plot.customPlot(), Qt::LeftButton, Qt::NoModifier, center);
    QVERIFY(plot.isSeriesVisible(1, QStringLiteral("train/loss")));

    // Colours are stable per run id.
    QCOMPARE(MetricPlot::runColor(3), MetricPlot::runColor(3));
    QVERIFY(MetricPlot::runColor(1) != MetricPlot::runColor(2));
}

// Three runs of three series each (a comparison of seeds): the legend moves beside the axes and
// covers no data; back to one series, it returns inside.
void TestPlots::manyEntriesLegendBesideThePlot()
{
    MetricPlot plot(QStringLiteral("legend"));
    plot.resize(900, 400);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    for (core::RunId run : {1, 2, 3}) {
        plot.setRunName(run, QStringLiteral("temperature sweep 2026-12-01 10:00: kd.temperature=1 run.seed=%1").arg(run));
        for (const char *key : {"train/loss", "train/term/ce", "train/term/kd"})
            plot.setSeriesData(run, QString::fromLatin1(key), makeSeries(50, [](int i) { return 1.0 / (i + 1); }));
    }
    plot.customPlot()->replot();
    QCPLegend *legend = plot.customPlot()->legend;
    QCOMPARE(legend->itemCount(), 9);
    const QRect axes = plot.customPlot()->axisRect()->outerRect();
    QVERIFY2(!legend->outerRect().intersects(axes.adjusted(1, 1, -1, -1)), "the legend covers the axes");
    // Entries keep the end of long run names, where a sweep's runs differ.
    bool named = false;
    for (int i = 0; i < legend->itemCount(); ++i)
        if (auto *item = qobject_cast<QCPPlottableLegendItem *>(legend->item(i)))
            named = named || item->plottable()->name().contains(QStringLiteral("run.seed=3 · train/term/kd"));
    QVERIFY(named);
    plot.clearSeries();
    plot.setSeriesData(1, QStringLiteral("train/loss"), makeSeries(50, [](int i) { return 1.0 / (i + 1); }));
    plot.customPlot()->replot();
    QVERIFY(plot.customPlot()->axisRect()->rect().contains(legend->outerRect()));
}

void TestPlots::hoverShowsNearestPoint()
{
    MetricPlot plot(QStringLiteral("hover"));
    plot.resize(600, 400);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.setRunName(4, QStringLiteral("baseline"));
    plot.setSmoothing(SmoothingMode::None, 0.0);
    plot.setSeriesData(4, QStringLiteral("eval/student_nll"),
                       makeSeries(11, [](int i) { return 5.0 - 0.25 * i; }));
    plot.customPlot()->replot();
    QCPAxis *xAxis = plot.customPlot()->xAxis, *yAxis = plot.customPlot()->yAxis;
    const QPoint at(int(xAxis->coordToPixel(6)), int(yAxis->coordToPixel(3.5)));
    const QString text = plot.hoverText(at);
    QVERIFY2(text.contains(QStringLiteral("step 6")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("value: 3.5")), qPrintable(text));
    QVERIFY(text.contains(QStringLiteral("baseline")));
    QVERIFY(text.contains(QStringLiteral("eval/student_nll")));
    plot.setSmoothing(SmoothingMode::Ema, 0.5);
    QVERIFY(plot.hoverText(at).contains(QStringLiteral("smoothed")));
    QVERIFY(plot.hoverText(QPoint(at.x(), at.y() - 200)).isEmpty()); // too far from any point
}

void TestPlots::logScaleDropsNonPositive()
{
    MetricPlot plot(QStringLiteral("log"));
    plot.resize(600, 400);
    plot.setSmoothing(SmoothingMode::None, 0.0);
    plot.setSeriesData(1, QStringLiteral("train/grad_norm"),
                       makeSeries(50, [](int i) { return i % 10 == 0 ? 0.0 : 0.1 * i; }));
    plot.setLogScale(true);
    const QCPRange y = plot.customPlot()->yAxis->range();
    QVERIFY(y.lower > 0);
    QVERIFY(y.lower <= 0.1 && y.upper >= 4.9);
    auto data = plot.customPlot()->graph(1)->data();
    for (auto it = data->constBegin(); it != data->constEnd(); ++it)
        QVERIFY(std::isnan(it->value) || it->value > 0);
    plot.grab(); // paints without trouble
    plot.setLogScale(false);
    QVERIFY(plot.customPlot()->yAxis->range().lower < 0.0 + 1e-9);
}

void TestPlots::renderPanel()
{
    // Two runs overlaid: a decaying noisy loss with two terms over 2000 steps, evaluations
    // every 100 steps. Set DISTILLERY_PLOTS_SCREENSHOT=/tmp/plots.png to keep the picture.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("render.sqlite"));
    auto writer = openWriter(path);
    core::Graph graph;
    const core::NodeId settings = graph.addNode("Settings");
    QVERIFY(graph.setParam(settings, "batch_size", std::int64_t(16)).ok());
    const core::RunId a = createRun(*writer, "classic-kd", core::graphToJson(graph));
    const core::RunId b = createRun(*writer, "reverse-kl", core::graphToJson(graph));
    std::mt19937 rng(3);
    std::normal_distribution<double> noise(0.0, 1.0);
    for (core::RunId run : {a, b}) {
        const double floor = run == a ? 1.2 : 1.0;
        for (int step = 1; step <= 2000; ++step) {
            const double decay = std::exp(-step / (run == a ? 400.0 : 300.0));
            writer->addScalar(run, "train/loss", step, floor + 3.0 * decay + 0.08 * noise(rng));
            writer->addScalar(run, "train/term/kd", step,
                              0.6 * floor + 2.0 * decay + 0.06 * noise(rng));
            writer->addScalar(run, "train/term/ce", step,
                              0.8 * floor + 1.5 * decay + 0.05 * noise(rng));
            writer->addScalar(run, "train/lr", step,
                              3e-4 * std::min(1.0, step / 100.0) *
                                  (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * step / 2000.0))));
            writer->addScalar(run, "train/grad_norm", step,
                              0.5 + 2.0 * decay + 0.1 * std::abs(noise(rng)));
            writer->addScalar(run, "train/tokens_per_s", step, 12000 + 400 * noise(rng));
            if (step % 100 == 0) {
                writer->addScalar(run, "eval/student_nll", step, floor + 0.2 + 2.8 * decay);
                writer->addScalar(run, "eval/teacher_nll", step, 1.05);
                writer->addScalar(run, "eval/kl_teacher_student", step, 0.1 + 2.0 * decay);
                writer->addScalar(run, "eval/student_acc", step, 0.55 - 0.4 * decay);
                writer->addScalar(run, "eval/teacher_acc", step, 0.6);
            }
        }
    }
    QVERIFY(writer->flush().ok());

    PlotPanel panel;
    panel.resize(1100, 700);
    panel.setStorePath(path);
    QSignalSpy spy(&panel, &PlotPanel::pointsAdded);
    panel.setRuns({a, b});
    QCOMPARE(spy.count(), 1);
    QVERIFY(spy.at(0).at(0).toInt() > 2 * 6 * 2000);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QTest::qWait(50);
    const QString shot = qEnvironmentVariable("DISTILLERY_PLOTS_SCREENSHOT");
    for (int tab = 0; tab < panel.tabs()->count(); ++tab) {
        panel.tabs()->setCurrentIndex(tab);
        QTest::qWait(50);
        const QImage image = panel.grab().toImage();
        QVERIFY(!image.isNull());
        if (!shot.isEmpty()) {
            QString file = shot;
            if (tab > 0)
                file.replace(QStringLiteral(".png"), QStringLiteral("-%1.png").arg(tab));
            QVERIFY(image.save(file));
        }
    }
    // A dark palette: the plots follow it (background from Base, text from Text).
    QPalette dark;
    dark.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
    dark.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
    dark.setColor(QPalette::Button, QColor(0x35, 0x35, 0x35));
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        dark.setColor(role, QColor(0xe0, 0xe0, 0xe0));
    panel.setPalette(dark);
    panel.tabs()->setCurrentIndex(0);
    QTest::qWait(50);
    const QImage darkImage = panel.grab().toImage();
    QVERIFY(qGray(panel.plot(QStringLiteral("loss"))->customPlot()->grab().toImage().pixel(5, 5)) <
            80);
    if (!shot.isEmpty())
        QVERIFY(darkImage.save(
            QString(shot).replace(QStringLiteral(".png"), QStringLiteral("-dark.png"))));
    // Tokens on x (batch_size 16 x default seq_len 64 per step) and a log y axis.
    panel.setXAxisMode(XAxisMode::Tokens);
    panel.setLogScale(true);
    QTest::qWait(50);
    QCOMPARE(panel.plot(QStringLiteral("loss"))->customPlot()->xAxis->range().upper,
             2000.0 * 16 * 64);
    QVERIFY(panel.plot(QStringLiteral("loss"))->logScale());
    const QImage tokensImage = panel.grab().toImage();
    if (!shot.isEmpty())
        QVERIFY(tokensImage.save(
            QString(shot).replace(QStringLiteral(".png"), QStringLiteral("-tokens-log.png"))));
    QVERIFY(panel.plot(QStringLiteral("loss"))->hasSeries(b, QStringLiteral("train/term/ce")));
    QVERIFY(panel.plot(QStringLiteral("teacher"))->isHidden()); // no teacher/* keys
}

QTEST_MAIN(TestPlots)
#include "tst_plots.moc"
