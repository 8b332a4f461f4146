#include "plots/metricplot.h"

#include "plots/charttheme.h"
#include "plots/siticker.h"

#include <qcustomplot.h>

#include <QEvent>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery::widgets {

namespace {

constexpr double kHoverReachPx = 40.0;

QVector<QCPGraphData> toGraphData(const DownsampledSeries &ds)
{
    QVector<QCPGraphData> data(static_cast<int>(ds.x.size()));
    for (std::size_t i = 0; i < ds.x.size(); ++i)
        data[static_cast<int>(i)] = QCPGraphData(ds.x[i], ds.y[i]);
    return data;
}

QString formatValue(double v)
{
    if (std::isnan(v))
        return QStringLiteral("NaN");
    return QString::number(v, 'g', 7);
}

QString xAxisLabel(XAxisMode mode)
{
    switch (mode) {
    case XAxisMode::WallTime:
        return QObject::tr("wall time since first point (h:mm:ss)");
    case XAxisMode::Tokens:
        return QObject::tr("tokens seen");
    case XAxisMode::Step:
        break;
    }
    return QObject::tr("step");
}

} // namespace

QColor MetricPlot::runColor(core::RunId run)
{
    // Distinct hues that read on light and dark backgrounds.
    static const QColor palette[] = {
        QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
        QColor(0xd6, 0x27, 0x28), QColor(0x94, 0x67, 0xbd), QColor(0x17, 0xbe, 0xcf),
        QColor(0xe3, 0x77, 0xc2), QColor(0xbc, 0xbd, 0x22), QColor(0x8c, 0x56, 0x4b),
        QColor(0x7f, 0x7f, 0x7f),
    };
    constexpr core::RunId n = sizeof(palette) / sizeof(palette[0]);
    const core::RunId index = ((run - 1) % n + n) % n; // run ids start at 1
    return palette[index];
}

MetricPlot::MetricPlot(const QString &title, QWidget *parent)
    : QWidget(parent)
    , m_title(title)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_plot = new QCustomPlot(this);
    m_plot->setMinimumSize(240, 160);
    layout->addWidget(m_plot);

    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->setNoAntialiasingOnDrag(true);
    m_plot->setPlottingHint(QCP::phCacheLabels, true);
    m_plot->setContextMenuPolicy(Qt::CustomContextMenu);
    m_plot->setMouseTracking(true);
    m_plot->installEventFilter(this);

    m_plot->plotLayout()->insertRow(0);
    QFont titleFont = font();
    titleFont.setBold(true);
    m_titleElement = new QCPTextElement(m_plot, m_title, titleFont);
    m_titleElement->setMargins(QMargins(0, 6, 0, 0));
    m_plot->plotLayout()->addElement(0, 0, m_titleElement);

    m_plot->legend->setVisible(true);
    m_plot->legend->setFont(font());
    m_plot->legend->setRowSpacing(0);
    m_plot->legend->setIconSize(26, 14);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);

    m_plot->xAxis->setLabel(xAxisLabel(m_xMode));
    m_plot->xAxis->setNumberFormat(QStringLiteral("gb"));
    m_plot->yAxis->setNumberFormat(QStringLiteral("gb"));
    m_plot->xAxis->setRange(0, 1);
    m_plot->yAxis->setRange(0, 1);

    if (QCPLayer *overlay = m_plot->layer(QStringLiteral("overlay")))
        overlay->setMode(QCPLayer::lmBuffered);
    m_tracer = new QCPItemTracer(m_plot);
    m_tracer->setLayer(QStringLiteral("overlay"));
    m_tracer->setStyle(QCPItemTracer::tsCircle);
    m_tracer->setSize(9);
    m_tracer->position->setType(QCPItemPosition::ptPlotCoords);
    m_tracer->setVisible(false);

    connect(m_plot, &QCustomPlot::mouseMove, this, &MetricPlot::onMouseMove);
    connect(m_plot, &QCustomPlot::legendClick, this, &MetricPlot::onLegendClick);
    connect(m_plot, &QWidget::customContextMenuRequested, this, &MetricPlot::onContextMenu);
    connect(m_plot->xAxis, qOverload<const QCPRange &>(&QCPAxis::rangeChanged), this,
            [this](const QCPRange &) { onXRangeChanged(); });
    connect(m_plot->yAxis, qOverload<const QCPRange &>(&QCPAxis::rangeChanged), this,
            [this](const QCPRange &) {
                if (!m_settingRange)
                    m_followData = false;
            });

    applyTheme();
}

MetricPlot::~MetricPlot() = default;

void MetricPlot::setTitle(const QString &title)
{
    m_title = title;
    m_titleElement->setText(title);
    scheduleReplot();
}

void MetricPlot::setRunName(core::RunId run, const QString &name)
{
    if (m_runNames.value(run) == name)
        return;
    m_runNames.insert(run, name);
    updateLegendNames();
    scheduleReplot();
}

QString MetricPlot::runName(core::RunId run) const
{
    const QString name = m_runNames.value(run);
    return name.isEmpty() ? tr("run %1").arg(run) : name;
}

MetricPlot::Series *MetricPlot::find(core::RunId run, const QString &key)
{
    for (auto &s : m_series)
        if (s->run == run && s->key == key)
            return s.get();
    return nullptr;
}

const MetricPlot::Series *MetricPlot::find(core::RunId run, const QString &key) const
{
    for (const auto &s : m_series)
        if (s->run == run && s->key == key)
            return s.get();
    return nullptr;
}

bool MetricPlot::hasSeries(core::RunId run, const QString &key) const
{
    return find(run, key) != nullptr;
}

void MetricPlot::setSeriesData(core::RunId run, const QString &key, const SeriesData &data,
                               double startTime, double tokensPerStep)
{
    Series *s = find(run, key);
    if (!s) {
        auto created = std::make_unique<Series>();
        created->run = run;
        created->key = key;
        created->raw = m_plot->addGraph();
        created->raw->removeFromLegend();
        created->raw->setSelectable(QCP::stNone);
        created->line = m_plot->addGraph();
        created->line->setSelectable(QCP::stNone);
        if (!m_keyOrder.contains(key))
            m_keyOrder.append(key);
        s = created.get();
        m_series.push_back(std::move(created));
        applyStyle(*s);
        updateLegendNames();
    }
    s->data = data;
    s->startTime = startTime;
    s->tokensPerStep = tokensPerStep;
    s->hasFinite = false;
    s->yMinPositive = 0.0;
    for (double v : s->data.values) {
        if (!std::isfinite(v))
            continue;
        if (!s->hasFinite) {
            s->yMin = s->yMax = v;
            s->hasFinite = true;
        }
        s->yMin = std::min(s->yMin, v);
        s->yMax = std::max(s->yMax, v);
        if (v > 0 && (s->yMinPositive == 0.0 || v < s->yMinPositive))
            s->yMinPositive = v;
    }
    recomputeX(*s);
    recomputeSmoothing(*s);
    applyStyle(*s); // markers depend on the number of points
    if (m_followData)
        fitRanges();
    updateDrawnData();
    scheduleReplot();
}

void MetricPlot::removeRun(core::RunId run)
{
    for (auto it = m_series.begin(); it != m_series.end();) {
        if ((*it)->run == run) {
            m_plot->removeGraph((*it)->raw);
            m_plot->removeGraph((*it)->line);
            it = m_series.erase(it);
        } else {
            ++it;
        }
    }
    m_tracer->setVisible(false);
    updateLegendNames();
    if (m_followData)
        fitRanges();
    updateDrawnData();
    scheduleReplot();
}

void MetricPlot::clearSeries()
{
    m_plot->clearGraphs();
    m_series.clear();
    m_keyOrder.clear();
    m_tracer->setVisible(false);
    m_followData = true;
    scheduleReplot();
}

void MetricPlot::setSeriesVisible(core::RunId run, const QString &key, bool visible)
{
    Series *s = find(run, key);
    if (!s || s->visible == visible)
        return;
    s->visible = visible;
    s->line->setVisible(visible);
    s->raw->setVisible(visible && m_smoothing != SmoothingMode::None);
    if (auto *item = m_plot->legend->itemWithPlottable(s->line)) {
        QColor text = palette().color(QPalette::Text);
        if (!visible)
            text.setAlpha(90);
        item->setTextColor(text);
    }
    m_tracer->setVisible(false);
    scheduleReplot();
}

bool MetricPlot::isSeriesVisible(core::RunId run, const QString &key) const
{
    const Series *s = find(run, key);
    return s && s->visible;
}

void MetricPlot::setSmoothing(SmoothingMode mode, double strength)
{
    if (mode == m_smoothing && strength == m_strength)
        return;
    m_smoothing = mode;
    m_strength = strength;
    for (auto &s : m_series) {
        recomputeSmoothing(*s);
        applyStyle(*s);
    }
    updateDrawnData();
    scheduleReplot();
}

void MetricPlot::setLogScale(bool on)
{
    if (on == m_logScale)
        return;
    m_logScale = on;
    m_settingRange = true;
    if (on) {
        m_plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
        m_plot->yAxis->setNumberFormat(QStringLiteral("g"));
        m_plot->yAxis->setNumberPrecision(3);
    } else {
        m_plot->yAxis->setScaleType(QCPAxis::stLinear);
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        m_plot->yAxis->setNumberFormat(QStringLiteral("gb"));
        m_plot->yAxis->setNumberPrecision(6);
    }
    m_settingRange = false;
    fitRanges(); // a linear range does not carry over to log and back
    updateDrawnData();
    scheduleReplot();
}

void MetricPlot::setXAxisMode(XAxisMode mode)
{
    if (mode == m_xMode)
        return;
    m_xMode = mode;
    applyXAxis();
    for (auto &s : m_series)
        recomputeX(*s);
    m_followData = true;
    fitRanges();
    updateDrawnData();
    scheduleReplot();
}

void MetricPlot::applyXAxis()
{
    m_plot->xAxis->setLabel(xAxisLabel(m_xMode));
    if (m_xMode == XAxisMode::WallTime) {
        auto ticker = QSharedPointer<QCPAxisTickerTime>(new QCPAxisTickerTime);
        ticker->setTimeFormat(QStringLiteral("%h:%m:%s"));
        m_plot->xAxis->setTicker(ticker);
    } else if (m_xMode == XAxisMode::Tokens) {
        m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new SiTicker));
    } else {
        m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    }
}

void MetricPlot::recomputeX(Series &s)
{
    s.x = widgets::xValues(m_xMode, s.data, s.startTime, s.tokensPerStep);
}

void MetricPlot::recomputeSmoothing(Series &s)
{
    if (m_smoothing == SmoothingMode::None)
        s.smoothed.clear(); // the line shows the raw values
    else
        s.smoothed = smoothSeries(s.data.values, m_smoothing, m_strength);
}

void MetricPlot::applyStyle(Series &s)
{
    static const Qt::PenStyle styles[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine, Qt::DashDotLine,
                                          Qt::DashDotDotLine};
    const int keyIndex = std::max(0, static_cast<int>(m_keyOrder.indexOf(s.key)));
    QColor color = runColor(s.run);
    // Same hue for every key of a run; later keys a little lighter or darker, and dashed.
    if (keyIndex > 0)
        color = (keyIndex % 2) ? color.lighter(100 + 12 * ((keyIndex + 1) / 2))
                               : color.darker(100 + 15 * (keyIndex / 2));
    QPen linePen(color, 1.8, styles[keyIndex % 5]);
    linePen.setCapStyle(Qt::FlatCap);
    s.line->setPen(linePen);
    QColor faint = color;
    faint.setAlpha(55);
    s.raw->setPen(QPen(faint, 1.0));
    // Sparse series (evaluations) get markers so single points stay visible.
    const bool sparse = s.data.size() <= 120;
    s.line->setScatterStyle(sparse ? QCPScatterStyle(QCPScatterStyle::ssDisc, 4.5)
                                   : QCPScatterStyle(QCPScatterStyle::ssNone));
    s.line->setVisible(s.visible);
    s.raw->setVisible(s.visible && m_smoothing != SmoothingMode::None);
}

void MetricPlot::updateLegendNames()
{
    QSet<core::RunId> runs;
    for (const auto &s : m_series)
        runs.insert(s->run);
    const QColor text = palette().color(QPalette::Text);
    for (const auto &s : m_series) {
        // Long run names are cut at the front (a sweep's runs differ at the end): the legend stays narrow.
        const QString run = fontMetrics().elidedText(runName(s->run), Qt::ElideLeft,
                                                     fontMetrics().averageCharWidth() * 30);
        s->line->setName(runs.size() > 1 ? QStringLiteral("%1 · %2").arg(run, s->key) : s->key);
        if (auto *item = m_plot->legend->itemWithPlottable(s->line)) {
            QColor c = text;
            if (!s->visible)
                c.setAlpha(90);
            item->setTextColor(c);
            // Room below the text: the default margins clip underscores ("kl_teacher").
            item->setMargins(QMargins(6, 1, 8, 4));
        }
    }
    m_plot->legend->setVisible(!m_series.empty());
}

void MetricPlot::fitRanges()
{
    double xMin = std::numeric_limits<double>::infinity(), xMax = -xMin;
    double yMin = xMin, yMax = -xMin;
    for (const auto &s : m_series) {
        if (!s->visible || s->x.empty() || !s->hasFinite)
            continue;
        xMin = std::min(xMin, s->x.front());
        xMax = std::max(xMax, s->x.back());
        if (m_logScale) {
            if (s->yMinPositive > 0) {
                yMin = std::min(yMin, s->yMinPositive);
                yMax = std::max(yMax, s->yMax);
            }
        } else {
            yMin = std::min(yMin, s->yMin);
            yMax = std::max(yMax, s->yMax);
        }
    }
    if (!std::isfinite(xMin))
        return;
    if (xMax <= xMin) {
        xMin -= 1.0;
        xMax += 1.0;
    }
    QCPRange y;
    if (!std::isfinite(yMin)) {
        y = m_logScale ? QCPRange(0.1, 10.0) : QCPRange(0.0, 1.0);
    } else if (m_logScale) {
        const double pad = yMax > yMin ? std::pow(yMax / yMin, 0.05) : 2.0;
        y = QCPRange(yMin / pad, yMax * pad);
    } else {
        const double span = yMax - yMin;
        const double pad = span > 0 ? 0.05 * span : std::max(std::abs(yMax) * 0.1, 1e-9);
        y = QCPRange(yMin - pad, yMax + pad);
    }
    m_settingRange = true;
    m_plot->xAxis->setRange(xMin, xMax);
    m_plot->yAxis->setRange(y);
    m_settingRange = false;
}

void MetricPlot::updateDrawnData()
{
    // About two points per pixel: min and max of every pixel column of the visible range.
    const int buckets = std::max(200, m_plot->axisRect()->width());
    const QCPRange range = m_plot->xAxis->range();
    const double lo = m_followData ? -std::numeric_limits<double>::infinity() : range.lower;
    const double hi = m_followData ? std::numeric_limits<double>::infinity() : range.upper;
    auto forDrawing = [this](const std::vector<double> &values) {
        if (!m_logScale)
            return values;
        std::vector<double> positive(values);
        for (double &v : positive)
            if (!(v > 0))
                v = std::numeric_limits<double>::quiet_NaN(); // a gap on a log axis
        return positive;
    };
    for (auto &s : m_series) {
        const bool smoothing = m_smoothing != SmoothingMode::None;
        const std::vector<double> lineY = forDrawing(smoothing ? s->smoothed : s->data.values);
        s->line->data()->set(toGraphData(downsampleMinMax(s->x, lineY, buckets, lo, hi)), true);
        if (smoothing)
            s->raw->data()->set(
                toGraphData(downsampleMinMax(s->x, forDrawing(s->data.values), buckets, lo, hi)),
                true);
        else
            s->raw->data()->clear();
    }
    placeLegend();
}

// The legend goes beside the plot (a column of its own, right of the axes) when it would cover
// much of the data: more than four entries, half the plot's height or a third of its width.
void MetricPlot::setLegendOutside(bool outside)
{
    if (outside == m_legendOutside)
        return;
    QCPLegend *legend = m_plot->legend;
    if (outside) {
        m_plot->axisRect()->insetLayout()->take(legend);
        m_plot->plotLayout()->addElement(1, 1, legend);
        m_plot->plotLayout()->setColumnStretchFactor(1, 0.001);
        legend->setMargins(QMargins(4, 4, 4, 4));
    } else {
        m_plot->plotLayout()->take(legend);
        m_plot->plotLayout()->simplify();
        m_plot->axisRect()->insetLayout()->addElement(legend, Qt::AlignTop | Qt::AlignRight);
    }
    m_legendOutside = outside;
    m_plot->plotLayout()->updateLayout();
}

void MetricPlot::placeLegend()
{
    // Put the legend in the corner of the axis rect that covers the fewest drawn points, or
    // beside the plot when no corner can hold it.
    if (!m_plot->legend->visible() || m_series.empty())
        return;
    const QRect area = m_plot->axisRect()->rect();
    const QSize size = m_plot->legend->minimumOuterSizeHint();
    const int plotWidth = m_plot->viewport().width(), plotHeight = area.height();
    const bool tooBig = m_plot->legend->itemCount() > 4 || size.height() * 2 > plotHeight ||
                        size.width() * 3 > plotWidth;
    setLegendOutside(tooBig);
    if (m_legendOutside) {
        // More entries than fit in one column: more columns, filled top to bottom.
        const int items = std::max(1, m_plot->legend->itemCount());
        const int rowHeight = std::max(1, size.height() / items);
        const int rows = std::max(1, (m_plot->viewport().height() - 40) / rowHeight);
        if (m_plot->legend->wrap() != rows || m_plot->legend->fillOrder() != QCPLayoutGrid::foRowsFirst) {
            m_plot->legend->setFillOrder(QCPLayoutGrid::foRowsFirst, false);
            m_plot->legend->setWrap(rows);
            m_plot->legend->setFillOrder(QCPLayoutGrid::foRowsFirst, true);
        }
        return;
    }
    if (area.width() <= size.width() || area.height() <= size.height())
        return;
    const Qt::Alignment corners[] = {Qt::AlignTop | Qt::AlignRight,
                                     Qt::AlignBottom | Qt::AlignRight, Qt::AlignTop | Qt::AlignLeft,
                                     Qt::AlignBottom | Qt::AlignLeft};
    const int margin = 12;
    int best = 0;
    long bestCount = std::numeric_limits<long>::max();
    for (int c = 0; c < 4; ++c) {
        const bool right = corners[c] & Qt::AlignRight, top = corners[c] & Qt::AlignTop;
        const QRect r(right ? area.right() - size.width() - margin : area.left(),
                      top ? area.top() : area.bottom() - size.height() - margin,
                      size.width() + margin, size.height() + margin);
        long count = 0;
        for (const auto &s : m_series) {
            if (!s->visible)
                continue;
            for (QCPGraph *g : {s->line, s->raw}) {
                if (!g->visible())
                    continue;
                for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) {
                    const QPointF px = g->coordsToPixels(it->key, it->value);
                    if (r.contains(px.toPoint()))
                        count += (g == s->line) ? 4 : 1; // the main lines matter most
                }
            }
        }
        if (count < bestCount) {
            bestCount = count;
            best = c;
        }
    }
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, corners[best]);
}

void MetricPlot::onXRangeChanged()
{
    if (m_settingRange)
        return;
    m_followData = false; // the user zoomed or panned: stop following new data
    updateDrawnData();
    scheduleReplot();
}

void MetricPlot::resetZoom()
{
    m_followData = true;
    fitRanges();
    updateDrawnData();
    scheduleReplot();
}

int MetricPlot::drawnPointCount(core::RunId run, const QString &key) const
{
    const Series *s = find(run, key);
    return s ? s->line->data()->size() : -1;
}

void MetricPlot::scheduleReplot()
{
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void MetricPlot::applyTheme()
{
    styleChart(m_plot, this);
    const QColor fg = palette().color(QPalette::Text);
    m_titleElement->setTextColor(fg);
    m_tracer->setPen(QPen(fg, 1.5));
    m_tracer->setBrush(Qt::NoBrush);
    updateLegendNames();
    scheduleReplot();
}

void MetricPlot::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange)
        applyTheme();
}

void MetricPlot::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    // The bucket count follows the pixel width; the axis rect gets its size at the next layout.
    QMetaObject::invokeMethod(
        this,
        [this] {
            updateDrawnData();
            scheduleReplot();
        },
        Qt::QueuedConnection);
}

bool MetricPlot::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_plot && event->type() == QEvent::Leave && m_tracer->visible()) {
        m_tracer->setVisible(false);
        m_tracer->layer()->replot();
    }
    return QWidget::eventFilter(watched, event);
}

MetricPlot::Nearest MetricPlot::nearest(const QPoint &pixel) const
{
    Nearest best;
    best.distance = std::numeric_limits<double>::infinity();
    const double key = m_plot->xAxis->pixelToCoord(pixel.x());
    const bool smoothing = m_smoothing != SmoothingMode::None;
    for (const auto &s : m_series) {
        if (!s->visible || s->x.empty())
            continue;
        const auto it = std::lower_bound(s->x.begin(), s->x.end(), key);
        const std::size_t at = static_cast<std::size_t>(it - s->x.begin());
        for (std::size_t c = at > 1 ? at - 2 : 0; c < std::min(s->x.size(), at + 2); ++c) {
            const double y = smoothing ? s->smoothed[c] : s->data.values[c];
            if (!std::isfinite(y) || (m_logScale && y <= 0))
                continue;
            const double dx = m_plot->xAxis->coordToPixel(s->x[c]) - pixel.x();
            const double dy = m_plot->yAxis->coordToPixel(y) - pixel.y();
            const double d = std::hypot(dx, dy);
            if (d < best.distance) {
                best.series = s.get();
                best.index = c;
                best.distance = d;
            }
        }
    }
    return best;
}

QString MetricPlot::hoverText(const QPoint &pixel) const
{
    const Nearest n = nearest(pixel);
    if (!n.series || n.distance > kHoverReachPx)
        return {};
    const Series &s = *n.series;
    QString text = QStringLiteral("<b>%1</b> (run %2)<br>%3<br>step %4")
                       .arg(runName(s.run).toHtmlEscaped())
                       .arg(s.run)
                       .arg(s.key.toHtmlEscaped())
                       .arg(s.data.steps[n.index]);
    if (m_xMode == XAxisMode::WallTime)
        text += tr(" · %1 s").arg(QString::number(s.x[n.index], 'f', 1));
    else if (m_xMode == XAxisMode::Tokens)
        text += tr(" · %1 tokens").arg(QString::number(s.x[n.index], 'g', 6));
    text += tr("<br>value: %1").arg(formatValue(s.data.values[n.index]));
    if (m_smoothing != SmoothingMode::None)
        text += tr("<br>smoothed: %1").arg(formatValue(s.smoothed[n.index]));
    return text;
}

void MetricPlot::onMouseMove(QMouseEvent *event)
{
    if (event->buttons() != Qt::NoButton)
        return; // dragging
    const QPoint pos = event->pos();
    const Nearest n = nearest(pos);
    if (!n.series || n.distance > kHoverReachPx) {
        if (m_tracer->visible()) {
            m_tracer->setVisible(false);
            m_tracer->layer()->replot();
        }
        QToolTip::hideText();
        return;
    }
    const Series &s = *n.series;
    const double y =
        m_smoothing != SmoothingMode::None ? s.smoothed[n.index] : s.data.values[n.index];
    m_tracer->position->setCoords(s.x[n.index], y);
    m_tracer->setPen(QPen(s.line->pen().color(), 2));
    m_tracer->setVisible(true);
    m_tracer->layer()->replot();
    QToolTip::showText(m_plot->mapToGlobal(pos), hoverText(pos), m_plot);
}

void MetricPlot::onLegendClick(QCPLegend *, QCPAbstractLegendItem *item, QMouseEvent *event)
{
    auto *plottableItem = qobject_cast<QCPPlottableLegendItem *>(item);
    if (!plottableItem || (event && event->button() != Qt::LeftButton))
        return;
    for (const auto &s : m_series) {
        if (s->line == plottableItem->plottable()) {
            setSeriesVisible(s->run, s->key, !s->visible);
            return;
        }
    }
}

} // namespace distillery::widgets
