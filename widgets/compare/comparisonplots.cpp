// The comparison view's Trade-off (scatter with the Pareto front) and Parallel tabs.
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

// ---- Trade-off -----------------------------------------------------------------------------

void ComparisonView::buildScatterTab()
{
    auto *page = new QWidget(this);
    auto *layout = new QVBoxLayout(page);
    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("x:"), page));
    m_scatterX = new QComboBox(page);
    m_scatterX->setMinimumContentsLength(24);
    bar->addWidget(m_scatterX);
    bar->addWidget(new QLabel(tr("y:"), page));
    m_scatterY = new QComboBox(page);
    m_scatterY->setMinimumContentsLength(24);
    bar->addWidget(m_scatterY);
    bar->addStretch(1);
    auto *png = new QPushButton(tr("Save image…"), page);
    bar->addWidget(png);
    layout->addLayout(bar);
    m_scatterPlot = new QCustomPlot(page);
    m_scatterPlot->legend->setVisible(false);
    m_scatterPlot->setMouseTracking(true);
    m_scatterPlot->installEventFilter(this);
    styleChart(m_scatterPlot, this);
    layout->addWidget(m_scatterPlot, 1);
    m_scatterStatus = new QLabel(page);
    m_scatterStatus->setWordWrap(true);
    layout->addWidget(m_scatterStatus);
    m_tabs->addTab(page, tr("Trade-off"));
    for (QComboBox *box : {m_scatterX, m_scatterY})
        connect(box, QOverload<int>::of(&QComboBox::activated), this, [this] { drawScatter(); });
    connect(png, &QPushButton::clicked, this, [this] { savePlot(m_scatterPlot, tr("trade-off")); });
}

void ComparisonView::fillQuantities()
{
    const QString x = m_scatterX->currentData().toString(), y = m_scatterY->currentData().toString();
    QStringList names;
    for (const ConfigRow &row : m_config.rows)
        if (row.differs)
            names << qs(row.name);
    names << QStringLiteral("student.params") << QStringLiteral("student.flops");
    for (const MetricColumn &c : m_columns)
        for (const char *reduce : {"", ":best"})
            names << qs(c.key) + QString::fromLatin1(reduce);
    for (QComboBox *box : {m_scatterX, m_scatterY}) {
        box->clear();
        for (const QString &n : names)
            box->addItem(quantityLabel(n) + (n.contains(QLatin1Char('/')) || n.startsWith(QLatin1String("student.")) ? QString() : QString()), n);
    }
    const QString parallel = m_parallelMetric->currentData().toString();
    m_parallelMetric->clear();
    for (const MetricColumn &c : m_columns)
        for (const char *reduce : {"", ":best"})
            m_parallelMetric->addItem(quantityLabel(qs(c.key) + QString::fromLatin1(reduce)),
                                      qs(c.key) + QString::fromLatin1(reduce));
    m_parallelMetric->setCurrentIndex(std::max(0, m_parallelMetric->findData(parallel)));
    // Default: the first differing parameter (else the student size) against the first metric.
    const QString defaultX = names.isEmpty() ? QString() : names.front();
    const QString defaultY = m_columns.empty() ? QString() : qs(m_columns.front().key);
    m_scatterX->setCurrentIndex(std::max(0, m_scatterX->findData(x.isEmpty() ? defaultX : x)));
    m_scatterY->setCurrentIndex(std::max(0, m_scatterY->findData(y.isEmpty() ? defaultY : y)));
}

void ComparisonView::setScatter(const QString &x, const QString &y)
{
    for (auto [box, name] : {std::pair{m_scatterX, x}, std::pair{m_scatterY, y}}) {
        int index = box->findData(name);
        if (index < 0) {
            box->addItem(quantityLabel(name), name);
            index = box->count() - 1;
        }
        box->setCurrentIndex(index);
    }
    drawScatter();
}

QString ComparisonView::scatterNote() const
{
    return m_scatterNote;
}

void ComparisonView::drawScatter()
{
    m_scatterPlot->clearGraphs();
    m_scatterPlot->clearItems();
    m_points.clear();
    const QString xName = m_scatterX->currentData().toString(), yName = m_scatterY->currentData().toString();
    if (xName.isEmpty() || yName.isEmpty() || m_runs.empty()) {
        replotIfShown(m_scatterPlot);
        return;
    }
    auto x = runQuantity(m_runs, xName.toStdString());
    auto y = runQuantity(m_runs, yName.toStdString());
    if (!x.ok() || !y.ok()) {
        m_scatterNote = qs(!x.ok() ? x.error().message : y.error().message);
        m_scatterStatus->setText(m_scatterNote);
        replotIfShown(m_scatterPlot);
        return;
    }
    auto goalOf = [this](const QString &name) {
        if (name.startsWith(QLatin1String("student.")))
            return MetricGoal::Lower;
        if (!name.contains(QLatin1Char('/')))
            return MetricGoal::None; // a parameter has no better side
        return metricGoal(name.section(QLatin1Char(':'), 0, 0).toStdString());
    };
    const MetricGoal gx = goalOf(xName), gy = goalOf(yName);
    const bool withFront = gx != MetricGoal::None && gy != MetricGoal::None;
    const std::vector<bool> front = paretoFront(x.value(), y.value(), gx == MetricGoal::Lower, gy == MetricGoal::Lower);
    // Points coloured by their group.
    std::vector<int> groupOf(m_runs.size(), 0);
    for (std::size_t g = 0; g < m_groups.size(); ++g)
        for (std::size_t i : m_groups[g].runs)
            groupOf[i] = int(g);
    int shown = 0;
    QVector<double> fx, fy;
    for (std::size_t i = 0; i < m_runs.size(); ++i) {
        const double px = x.value()[i], py = y.value()[i];
        m_points.push_back({m_runs[i].info.id, px, py, withFront && front[i]});
        if (!std::isfinite(px) || !std::isfinite(py))
            continue;
        ++shown;
        QCPGraph *g = m_scatterPlot->addGraph();
        g->setLineStyle(QCPGraph::lsNone);
        const QColor colour = groupColor(groupOf[i]);
        const bool onFront = withFront && front[i];
        g->setScatterStyle(QCPScatterStyle(onFront ? QCPScatterStyle::ssDiamond : QCPScatterStyle::ssCircle,
                                           onFront ? QColor(200, 30, 30) : colour, colour, onFront ? 11 : 8));
        g->setData(QVector<double>{px}, QVector<double>{py});
        if (onFront) {
            fx << px;
            fy << py;
        }
        if (m_runs.size() <= 40) {
            auto *label = new QCPItemText(m_scatterPlot);
            label->position->setCoords(px, py);
            label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
            label->setPadding(QMargins(6, 0, 0, 4));
            label->setText(QString::number(m_runs[i].info.id));
            label->setColor(palette().color(QPalette::Text));
            label->setClipToAxisRect(false);
        }
    }
    if (fx.size() > 1) {
        std::vector<std::pair<double, double>> sorted;
        for (int i = 0; i < fx.size(); ++i)
            sorted.push_back({fx[i], fy[i]});
        std::sort(sorted.begin(), sorted.end());
        QVector<double> sx, sy;
        for (const auto &[a, b] : sorted)
            sx << a, sy << b;
        QCPGraph *line = m_scatterPlot->addGraph();
        line->setData(sx, sy, true);
        line->setPen(QPen(QColor(200, 30, 30), 1.4, Qt::DashLine));
    }
    m_scatterPlot->xAxis->setLabel(quantityLabel(xName));
    m_scatterPlot->yAxis->setLabel(quantityLabel(yName));
    m_scatterPlot->rescaleAxes();
    for (QCPAxis *axis : {m_scatterPlot->xAxis, m_scatterPlot->yAxis}) {
        const QCPRange r = axis->range();
        const double pad = r.size() > 0 ? r.size() * 0.08 : std::max(1e-3, std::abs(r.center()) * 0.05);
        axis->setRange(r.lower - pad, r.upper + pad);
    }
    replotIfShown(m_scatterPlot);
    m_scatterNote = tr("%1 of %2 runs have both values.").arg(shown).arg(m_runs.size());
    if (withFront)
        m_scatterNote += tr(" Red diamonds: the Pareto front (%1 %2 and %3 %4 are better); the dashed line joins them.")
                             .arg(gx == MetricGoal::Lower ? tr("lower") : tr("higher"), quantityLabel(xName),
                                  gy == MetricGoal::Lower ? tr("lower") : tr("higher"), quantityLabel(yName));
    else
        m_scatterNote += tr(" No Pareto front: %1 has no better side.")
                             .arg(gx == MetricGoal::None ? quantityLabel(xName) : quantityLabel(yName));
    m_scatterNote += tr(" Hover a point for its run.");
    m_scatterStatus->setText(m_scatterNote);
}

QString ComparisonView::scatterHoverText(const QPoint &pixel) const
{
    double best = 14.0;
    QString text;
    for (std::size_t i = 0; i < m_points.size(); ++i) {
        const ScatterPoint &p = m_points[i];
        if (!std::isfinite(p.x) || !std::isfinite(p.y))
            continue;
        const double dx = m_scatterPlot->xAxis->coordToPixel(p.x) - pixel.x();
        const double dy = m_scatterPlot->yAxis->coordToPixel(p.y) - pixel.y();
        const double d = std::hypot(dx, dy);
        if (d < best) {
            best = d;
            const RunInfo &info = m_runs[i].info;
            text = tr("run %1 %2\n%3 = %4\n%5 = %6%7")
                       .arg(info.id)
                       .arg(qs(info.name))
                       .arg(quantityLabel(m_scatterX->currentData().toString()))
                       .arg(p.x, 0, 'g', 6)
                       .arg(quantityLabel(m_scatterY->currentData().toString()))
                       .arg(p.y, 0, 'g', 6)
                       .arg(p.pareto ? tr("\non the Pareto front") : QString());
        }
    }
    return text;
}

bool ComparisonView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_scatterPlot && event->type() == QEvent::MouseMove) {
        auto *move = static_cast<QMouseEvent *>(event);
        const QString text = scatterHoverText(move->pos());
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(move->globalPosition().toPoint(), text, m_scatterPlot);
    }
    return QWidget::eventFilter(watched, event);
}

// ---- Parallel coordinates ------------------------------------------------------------------

void ComparisonView::buildParallelTab()
{
    auto *page = new QWidget(this);
    auto *layout = new QVBoxLayout(page);
    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Metric:"), page));
    m_parallelMetric = new QComboBox(page);
    m_parallelMetric->setMinimumContentsLength(24);
    bar->addWidget(m_parallelMetric);
    bar->addStretch(1);
    auto *png = new QPushButton(tr("Save image…"), page);
    bar->addWidget(png);
    layout->addLayout(bar);
    m_parallelPlot = new QCustomPlot(page);
    m_parallelPlot->legend->setVisible(false);
    m_parallelPlot->setPlottingHint(QCP::phFastPolylines, true);
    styleChart(m_parallelPlot, this);
    m_parallelPlot->yAxis->setVisible(false);
    m_parallelPlot->xAxis->setTicks(false);
    m_parallelPlot->xAxis->setTickLabels(false);
    m_parallelPlot->xAxis->setBasePen(Qt::NoPen);
    m_parallelPlot->xAxis->grid()->setVisible(false);
    m_parallelPlot->yAxis->grid()->setVisible(false);
    layout->addWidget(m_parallelPlot, 1);
    m_parallelStatus = new QLabel(page);
    m_parallelStatus->setWordWrap(true);
    layout->addWidget(m_parallelStatus);
    m_tabs->addTab(page, tr("Parallel"));
    connect(m_parallelMetric, QOverload<int>::of(&QComboBox::activated), this, [this] { drawParallel(); });
    connect(png, &QPushButton::clicked, this, [this] { savePlot(m_parallelPlot, tr("parallel coordinates")); });
}

void ComparisonView::setParallelMetric(const QString &quantity)
{
    int index = m_parallelMetric->findData(quantity);
    if (index < 0) {
        m_parallelMetric->addItem(quantityLabel(quantity), quantity);
        index = m_parallelMetric->count() - 1;
    }
    m_parallelMetric->setCurrentIndex(index);
    drawParallel();
}

void ComparisonView::drawParallel()
{
    m_parallelPlot->clearGraphs();
    m_parallelPlot->clearItems();
    m_parallel.clear();
    QStringList names;
    for (const ConfigRow &row : m_config.rows)
        if (row.differs && !row.isSeed)
            names << qs(row.name);
    const QString metric = m_parallelMetric->currentData().toString();
    if (!metric.isEmpty())
        names << metric;
    for (const QString &name : names) {
        auto values = runQuantity(m_runs, name.toStdString());
        if (!values.ok())
            continue;
        ParallelAxis axis;
        axis.name = name;
        axis.values = values.value();
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        for (double v : axis.values)
            if (std::isfinite(v))
                lo = std::min(lo, v), hi = std::max(hi, v);
        if (!std::isfinite(lo))
            continue; // not numeric in any run (a loss kind, say)
        axis.lo = lo;
        axis.hi = hi;
        m_parallel.push_back(std::move(axis));
    }
    const int axes = int(m_parallel.size());
    if (axes < 2 || metric.isEmpty()) {
        m_parallelStatus->setText(tr("Parallel coordinates need a numeric parameter that differs between the runs and "
                                     "a metric."));
        replotIfShown(m_parallelPlot);
        return;
    }
    // Each axis spans [0, 1]; a run's line joins its normalised values, coloured by the metric
    // (the last axis): blue the best end, red the worst.
    const ParallelAxis &target = m_parallel.back();
    const MetricGoal goal = metricGoal(metric.section(QLatin1Char(':'), 0, 0).toStdString());
    auto norm = [](const ParallelAxis &a, double v) { return a.hi > a.lo ? (v - a.lo) / (a.hi - a.lo) : 0.5; };
    const QColor text = palette().color(QPalette::Text);
    for (std::size_t r = 0; r < m_runs.size(); ++r) {
        QVector<double> x, y;
        for (int k = 0; k < axes; ++k) {
            const double v = m_parallel[std::size_t(k)].values[r];
            if (std::isfinite(v))
                x << k, y << norm(m_parallel[std::size_t(k)], v);
        }
        if (x.size() < 2)
            continue;
        double t = std::isfinite(target.values[r]) ? norm(target, target.values[r]) : 0.5;
        if (goal == MetricGoal::Higher)
            t = 1 - t;
        QColor colour = QColor::fromHsvF(0.66 * (1 - t), 0.85, 0.85);
        QCPGraph *line = m_parallelPlot->addGraph();
        line->setData(x, y, true);
        line->setPen(QPen(colour, 1.6));
        line->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, colour, colour, 5));
        line->setName(tr("run %1").arg(m_runs[r].info.id));
    }
    for (int k = 0; k < axes; ++k) {
        const ParallelAxis &a = m_parallel[std::size_t(k)];
        auto *axisLine = new QCPItemLine(m_parallelPlot);
        axisLine->start->setCoords(k, 0);
        axisLine->end->setCoords(k, 1);
        axisLine->setPen(QPen(text, 1.2));
        auto label = [&](double y, const QString &content, Qt::Alignment align, bool bold) {
            auto *item = new QCPItemText(m_parallelPlot);
            item->position->setCoords(k, y);
            item->setPositionAlignment(align | Qt::AlignHCenter);
            item->setText(content);
            item->setColor(text);
            item->setClipToAxisRect(false);
            QFont f = font();
            f.setBold(bold);
            item->setFont(f);
        };
        label(1.03, QString::number(a.hi, 'g', 4), Qt::AlignBottom, false);
        label(-0.03, QString::number(a.lo, 'g', 4), Qt::AlignTop, false);
        label(-0.11, quantityLabel(a.name), Qt::AlignTop, true);
    }
    m_parallelPlot->xAxis->setRange(-0.4, axes - 0.6);
    m_parallelPlot->yAxis->setRange(-0.22, 1.1);
    replotIfShown(m_parallelPlot);
    m_parallelStatus->setText(tr("One line per run through %1 axes; colour: %2 (blue the better end, red the worse).")
                                  .arg(axes)
                                  .arg(quantityLabel(metric)));
}

} // namespace distillery::widgets
