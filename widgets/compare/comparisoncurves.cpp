// The comparison view's Curves tab: series read on a worker thread, group bands, the side legend.
#include "compare/comparisonview.h"
#include "compare/comparisonparts.h"

#include "plots/charttheme.h"
#include "plots/metricplot.h"
#include "plots/smoothing.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QBuffer>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDateTime>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSaveFile>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QThread>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <thread>


namespace distillery::widgets {

using namespace distillery::core;
using namespace distillery::widgets::compareparts;



namespace {

ComparisonView::CurveData readCurves(const std::string &storePath, const std::string &key, const std::vector<ComparedRun> &runs,
                     const std::vector<RunGroup> &groups)
{
    ComparisonView::CurveData data;
    data.runs.resize(runs.size());
    // Two connections, each reading every other run: the reads overlap on two cores.
    constexpr int kReaders = 2;
    std::vector<QString> errors(kReaders);
    auto readShare = [&](int share) {
        auto reader = StoreReader::open(storePath);
        if (!reader.ok()) {
            errors[std::size_t(share)] = qs(reader.error().message);
            return;
        }
        for (std::size_t i = std::size_t(share); i < runs.size(); i += kReaders) {
            auto points = reader.value()->scalars(runs[i].info.id, key);
            if (!points.ok()) {
                errors[std::size_t(share)] = qs(points.error().message);
                return;
            }
            data.runs[i] = std::move(points).value();
        }
    };
    std::thread second(readShare, 1);
    readShare(0);
    second.join();
    for (const QString &e : errors)
        if (!e.isEmpty()) {
            data.error = e;
            return data;
        }
    for (const RunGroup &g : groups) {
        std::vector<std::vector<ScalarPoint>> rows;
        std::vector<double> starts;
        for (std::size_t i : g.runs) {
            rows.push_back(data.runs[i]);
            starts.push_back(runs[i].info.createdAt);
        }
        data.groups.push_back(aggregateCurves(rows, starts));
    }
    return data;
}

// At most about 2 × kDrawBuckets points per curve are handed to QCustomPlot: a comparison of 50
// runs of 20k steps draws 50 lines of ~3k points, not 1M points.
constexpr int kDrawBuckets = 1500;

// A band cut into buckets along x: the mean x, the lowest lo and the highest hi of each, so the
// drawn band still covers every point it stands for.
// Bands are drawn coarser than lines: QPainter fills a translucent polygon of thousands of
// vertices slowly (about 90 ms for 4,000), and a band needs no more than a few hundred.
constexpr int kBandBuckets = 250;

void downsampleBand(std::vector<double> &x, std::vector<double> &lo, std::vector<double> &hi)
{
    const std::size_t n = std::min({x.size(), lo.size(), hi.size()});
    if (n <= std::size_t(kBandBuckets) || !(x[n - 1] > x[0]))
        return;
    std::vector<double> bx, blo, bhi;
    const double width = (x[n - 1] - x[0]) / kBandBuckets;
    std::size_t i = 0;
    while (i < n) {
        const double end = x[0] + width * (std::floor((x[i] - x[0]) / width) + 1);
        double sx = 0, mn = std::numeric_limits<double>::infinity(), mx = -mn;
        int count = 0;
        for (; i < n && (x[i] < end || count == 0); ++i, ++count) {
            sx += x[i];
            mn = std::min(mn, lo[i]);
            mx = std::max(mx, hi[i]);
        }
        bx.push_back(sx / count);
        blo.push_back(mn);
        bhi.push_back(mx);
    }
    x = std::move(bx);
    lo = std::move(blo);
    hi = std::move(bhi);
}

} // namespace

// ---- Curves --------------------------------------------------------------------------------

void ComparisonView::buildCurvesTab()
{
    auto *page = new QWidget(this);
    auto *layout = new QVBoxLayout(page);
    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Metric:"), page));
    m_curveMetric = new QComboBox(page);
    m_curveMetric->setMinimumContentsLength(28);
    bar->addWidget(m_curveMetric);
    bar->addWidget(new QLabel(tr("Band:"), page));
    m_band = new QComboBox(page);
    m_band->addItem(tr("± std"), int(BandKind::Std));
    m_band->addItem(tr("± standard error"), int(BandKind::StdErr));
    m_band->addItem(tr("min – max"), int(BandKind::MinMax));
    m_band->addItem(tr("none"), int(BandKind::None));
    bar->addWidget(m_band);
    bar->addWidget(new QLabel(tr("x:"), page));
    m_xAxis = new QComboBox(page);
    m_xAxis->addItem(tr("step"), int(XAxis::Step));
    m_xAxis->addItem(tr("time (s)"), int(XAxis::Time));
    m_xAxis->addItem(tr("tokens"), int(XAxis::Tokens));
    bar->addWidget(m_xAxis);
    m_showRuns = new QCheckBox(tr("Individual runs"), page);
    m_showRuns->setToolTip(tr("Every run of each group as a thin line in its group's colour"));
    bar->addWidget(m_showRuns);
    m_smooth = new QCheckBox(tr("Smooth"), page);
    m_smooth->setToolTip(tr("Exponential moving average of the mean and the band"));
    bar->addWidget(m_smooth);
    bar->addStretch(1);
    auto *csv = new QPushButton(tr("Copy CSV"), page);
    csv->setToolTip(tr("The curves as drawn (before down-sampling): curve, x, mean, band low, band high"));
    bar->addWidget(csv);
    auto *png = new QPushButton(tr("Save image…"), page);
    bar->addWidget(png);
    layout->addLayout(bar);
    connect(csv, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(curvesCsv()); });
    auto *split = new QSplitter(Qt::Horizontal, page);
    m_curvePlot = new QCustomPlot(split);
    m_curvePlot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_curvePlot->legend->setVisible(false);
    // Fast polylines: QPainter's stroker took 25 ms per line of 2,000 points (400 ms for 15).
    m_curvePlot->setPlottingHint(QCP::phFastPolylines, true);
    m_curvePlot->setPlottingHint(QCP::phCacheLabels, true);
    styleChart(m_curvePlot, this);
    m_legend = new QListWidget(split);
    m_legend->setToolTip(tr("Untick an entry to hide it"));
    split->addWidget(m_curvePlot);
    split->addWidget(m_legend);
    split->setStretchFactor(0, 5);
    split->setStretchFactor(1, 1);
    split->setSizes({1000, 260});
    m_legend->setMaximumWidth(420);
    layout->addWidget(split, 1);
    m_curveStatus = new QLabel(page);
    layout->addWidget(m_curveStatus);
    m_tabs->addTab(page, tr("Curves"));
    connect(m_curveMetric, QOverload<int>::of(&QComboBox::activated), this, [this] { loadCurves(); });
    for (QComboBox *box : {m_band, m_xAxis})
        connect(box, QOverload<int>::of(&QComboBox::activated), this, [this] { drawCurves(); });
    for (QCheckBox *box : {m_showRuns, m_smooth})
        connect(box, &QCheckBox::toggled, this, [this] { drawCurves(); });
    connect(m_legend, &QListWidget::itemChanged, this, &ComparisonView::onLegendChanged);
    connect(png, &QPushButton::clicked, this, [this] { savePlot(m_curvePlot, tr("curves")); });
}

void ComparisonView::setCurveMetric(const QString &key)
{
    const int index = m_curveMetric->findData(key);
    if (index < 0) {
        Q_EMIT errorOccurred(tr("no run has a series '%1'").arg(key));
        return;
    }
    m_curveMetric->setCurrentIndex(index);
    loadCurves();
}

QString ComparisonView::curveMetric() const
{
    return m_curveMetric->currentData().toString();
}

void ComparisonView::setBand(BandKind band)
{
    m_band->setCurrentIndex(std::max(0, m_band->findData(int(band))));
    drawCurves();
}

void ComparisonView::setShowRuns(bool show)
{
    m_showRuns->setChecked(show);
    drawCurves();
}

void ComparisonView::setXAxis(XAxis axis)
{
    m_xAxis->setCurrentIndex(std::max(0, m_xAxis->findData(int(axis))));
    drawCurves();
}

void ComparisonView::loadCurves()
{
    const std::string key = curveMetric().toStdString();
    if (key.empty() || m_runs.empty())
        return;
    const int generation = m_generation->fetch_add(1) + 1;
    m_loading = true;
    m_curveStatus->setText(tr("Reading %1 of %2 runs…").arg(qs(key)).arg(m_runs.size()));
    QPointer<ComparisonView> self(this);
    auto shared = m_generation;
    const std::string store = m_storePath.toStdString();
    std::vector<ComparedRun> runs = m_runs;
    std::vector<RunGroup> groups = m_groups;
    QThread *worker = QThread::create([self, shared, generation, store, key, runs, groups] {
        CurveData data = readCurves(store, key, runs, groups);
        if (shared->load() != generation)
            return;
        QMetaObject::invokeMethod(
            qApp,
            [self, shared, generation, key, data = std::move(data)]() mutable {
                if (!self || shared->load() != generation)
                    return;
                self->m_curveKey = key;
                self->m_curveData = std::make_unique<CurveData>(std::move(data));
                self->m_loading = false;
                self->drawCurves();
                Q_EMIT self->curvesReady();
            },
            Qt::QueuedConnection);
    });
    connect(worker, &QThread::finished, worker, &QObject::deleteLater);
    worker->start();
}

void ComparisonView::drawCurves()
{
    m_curvePlot->clearGraphs();
    m_curves.clear();
    if (!m_curveData || m_curveKey != curveMetric().toStdString()) {
        replotIfShown(m_curvePlot);
        return;
    }
    const CurveData &data = *m_curveData;
    if (!data.error.isEmpty()) {
        m_curveStatus->setText(data.error);
        return;
    }
    const BandKind band = BandKind(m_band->currentData().toInt());
    const XAxis xMode = XAxis(m_xAxis->currentData().toInt());
    const bool smooth = m_smooth->isChecked();
    auto smoothed = [&](std::vector<double> v) {
        return smooth ? smoothSeries(v, SmoothingMode::Ema, 0.6) : v;
    };
    for (std::size_t g = 0; g < m_groups.size() && g < data.groups.size(); ++g) {
        const RunGroup &group = m_groups[g];
        const double perStep = double(tokensPerStep(m_runs[group.runs.front()].graph));
        Curve c;
        c.label = qs(group.label);
        c.runs = int(group.runs.size());
        for (const BandPoint &b : data.groups[g]) {
            if (b.value.n == 0)
                continue;
            c.x.push_back(xMode == XAxis::Step ? double(b.step) : xMode == XAxis::Time ? b.seconds : double(b.step) * perStep);
            c.mean.push_back(b.value.mean);
            if (band != BandKind::None && group.runs.size() > 1) {
                const double spread = band == BandKind::Std ? b.value.std : band == BandKind::StdErr ? b.value.sem() : 0.0;
                c.lo.push_back(band == BandKind::MinMax ? b.value.min : b.value.mean - spread);
                c.hi.push_back(band == BandKind::MinMax ? b.value.max : b.value.mean + spread);
            }
        }
        c.mean = smoothed(c.mean);
        c.lo = smoothed(c.lo);
        c.hi = smoothed(c.hi);
        m_curves.push_back(std::move(c));
        if (m_showRuns->isChecked())
            for (std::size_t i : group.runs) {
                Curve r;
                r.label = tr("run %1").arg(m_runs[i].info.id);
                r.isRun = true;
                r.runs = 1;
                const double start = m_runs[i].info.createdAt;
                for (const ScalarPoint &p : data.runs[i])
                    if (std::isfinite(p.value)) {
                        r.x.push_back(xMode == XAxis::Step ? double(p.step) : xMode == XAxis::Time ? p.wallTime - start : double(p.step) * perStep);
                        r.mean.push_back(p.value);
                    }
                r.mean = smoothed(r.mean);
                m_curves.push_back(std::move(r));
            }
    }
    // Draw: bands first (under the lines), then runs, then group means.
    m_legend->blockSignals(true);
    m_legend->clear();
    int groupIndex = -1;
    std::vector<int> colourOf(m_curves.size());
    for (std::size_t k = 0; k < m_curves.size(); ++k) {
        if (!m_curves[k].isRun)
            ++groupIndex;
        colourOf[k] = groupIndex;
    }
    auto toVector = [](const std::vector<double> &v) { return QVector<double>(v.begin(), v.end()); };
    for (std::size_t k = 0; k < m_curves.size(); ++k) {
        const Curve &c = m_curves[k];
        const QColor colour = groupColor(colourOf[k]);
        const QString legendText = c.isRun ? QStringLiteral("    ") + c.label
                                           : c.label + (c.runs > 1 ? tr("  (n=%1)").arg(c.runs) : QString());
        auto *item = new QListWidgetItem(swatch(colour), legendText, m_legend);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        const QString id = (c.isRun ? QStringLiteral("run:") : QStringLiteral("group:")) + c.label;
        item->setData(Qt::UserRole, id);
        const bool visible = !m_hiddenCurves.contains(id);
        item->setCheckState(visible ? Qt::Checked : Qt::Unchecked);
        if (!visible)
            continue;
        if (!c.lo.empty()) {
            std::vector<double> bx = c.x, blo = c.lo, bhi = c.hi;
            downsampleBand(bx, blo, bhi);
            QCPGraph *lo = m_curvePlot->addGraph();
            QCPGraph *hi = m_curvePlot->addGraph();
            lo->setData(toVector(bx), toVector(blo), true);
            hi->setData(toVector(bx), toVector(bhi), true);
            lo->setPen(Qt::NoPen);
            hi->setPen(Qt::NoPen);
            QColor fill = colour;
            fill.setAlpha(50);
            hi->setBrush(fill);
            hi->setChannelFillGraph(lo);
        }
        QCPGraph *line = m_curvePlot->addGraph();
        // About two points per pixel of the plot's width, as the Plots panel draws.
        // (a run's thin line gets one per pixel: fifty of them are most of a replot's time).
        const int width = m_curvePlot->axisRect()->width();
        const int buckets = std::clamp(c.isRun ? width / 2 : width, 100, kDrawBuckets);
        const DownsampledSeries drawn = downsampleMinMax(c.x, c.mean, buckets);
        line->setAntialiased(!c.isRun); // fifty thin run lines draw in a third of the time
        line->setData(toVector(drawn.x), toVector(drawn.y), true);
        QColor pen = colour;
        if (c.isRun)
            pen.setAlpha(110);
        line->setPen(QPen(pen, c.isRun ? 1.0 : 2.2));
        line->setName(legendText.trimmed());
    }
    m_legend->blockSignals(false);
    m_curvePlot->xAxis->setLabel(xMode == XAxis::Step ? tr("step") : xMode == XAxis::Time ? tr("seconds since start") : tr("tokens"));
    m_curvePlot->yAxis->setLabel(quantityLabel(curveMetric()));
    m_curvePlot->rescaleAxes();
    replotIfShown(m_curvePlot);
    int points = 0;
    for (int g = 0; g < m_curvePlot->graphCount(); ++g)
        points += m_curvePlot->graph(g)->dataCount();
    m_curveStatus->setText(tr("%1: %2 groups, %3 points drawn. Drag to pan, wheel to zoom.")
                               .arg(quantityLabel(curveMetric()))
                               .arg(m_groups.size())
                               .arg(points));
}

QString ComparisonView::curvesCsv() const
{
    QString out = QStringLiteral("curve,%1,mean,low,high\n").arg(m_xAxis->currentText().section(QLatin1Char(' '), 0, 0));
    auto field = [](const QString &text) {
        return text.contains(QLatin1Char(',')) || text.contains(QLatin1Char('"'))
                   ? QLatin1Char('"') + QString(text).replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"')
                   : text;
    };
    for (const Curve &c : m_curves)
        for (std::size_t i = 0; i < c.x.size(); ++i)
            out += field(c.label) + QLatin1Char(',') + QString::number(c.x[i], 'g', 10) + QLatin1Char(',') +
                   QString::number(c.mean[i], 'g', 10) + QLatin1Char(',') +
                   (i < c.lo.size() ? QString::number(c.lo[i], 'g', 10) : QString()) + QLatin1Char(',') +
                   (i < c.hi.size() ? QString::number(c.hi[i], 'g', 10) : QString()) + QLatin1Char('\n');
    return out;
}

void ComparisonView::onLegendChanged(QListWidgetItem *item)
{
    const QString id = item->data(Qt::UserRole).toString();
    m_hiddenCurves.removeAll(id);
    if (item->checkState() != Qt::Checked)
        m_hiddenCurves << id;
    drawCurves();
}

} // namespace distillery::widgets
