#include "plots/hackingplot.h"

#include "plots/charttheme.h"
#include "plots/metricplot.h"

#include <cmath>
#include <limits>

namespace distillery::widgets {

namespace {

// Log-axis ticks that stay readable over short ranges, where QCPAxisTickerLog falls back to
// linear ticks: every mantissa 1..9 × 10^k within half a decade, 1, 2, 3, 5 × 10^k within one
// and a half, 1, 2, 5 × 10^k within a few, powers of ten (with their 2..9 sub-ticks) beyond.
class LogTicker : public QCPAxisTickerLog
{
protected:
    QVector<double> createTickVector(double tickStep, const QCPRange &range) override
    {
        m_subTicks = 0;
        if (!(range.lower > 0) || !(range.upper > range.lower))
            return QCPAxisTickerLog::createTickVector(tickStep, range);
        const double decades = std::log10(range.upper / range.lower);
        if (decades > 5.0) {
            m_subTicks = subTickCount();
            return QCPAxisTickerLog::createTickVector(tickStep, range);
        }
        static const std::vector<double> powers{1}, few{1, 2, 5}, some{1, 2, 3, 5},
            all{1, 2, 3, 4, 5, 6, 7, 8, 9};
        const std::vector<double> &mantissas = decades > 2.5   ? powers
                                               : decades > 1.5 ? few
                                               : decades > 0.5 ? some
                                                               : all;
        if (&mantissas == &powers)
            m_subTicks = 8;
        QVector<double> ticks;
        int inside = 0;
        const int first = int(std::floor(std::log10(range.lower)));
        const int last = int(std::ceil(std::log10(range.upper)));
        for (int k = first - 1; k <= last; ++k) {
            for (double m : mantissas) {
                ticks << m * std::pow(10.0, k);
                inside += range.contains(ticks.back());
            }
        }
        // A small part of a decade: evenly spaced ticks read better than one or two.
        if (inside < 3) {
            m_subTicks = 4;
            return QCPAxisTicker::createTickVector(tickStep, range);
        }
        return ticks; // the caller trims to the range, keeping one tick beyond each end
    }
    int getSubTickCount(double) override { return m_subTicks; }

private:
    int m_subTicks = 0;
};

QString signedNumber(double v, int decimals)
{
    QString text = QString::number(v, 'f', decimals);
    if (text.startsWith(QLatin1Char('-')))
        text.replace(0, 1, QChar(0x2212)); // the minus sign, not a hyphen
    return text;
}

} // namespace

HackingPlot::HackingPlot(QWidget *parent)
    : QCustomPlot(parent)
{
    setMinimumSize(240, 200);
    plotLayout()->insertRow(0);
    QFont titleFont = font();
    titleFont.setBold(true);
    auto *title =
        new QCPTextElement(this, tr("Teacher hacking: KL to oracle and teacher"), titleFont);
    title->setMargins(QMargins(0, 4, 0, 0));
    plotLayout()->addElement(0, 0, title);
    for (QCPAxis *axis : {xAxis, yAxis}) {
        axis->setScaleType(QCPAxis::stLogarithmic);
        auto ticker = QSharedPointer<QCPAxisTickerLog>(new LogTicker);
        ticker->setSubTickCount(8);
        axis->setTicker(ticker);
        axis->setNumberFormat(QStringLiteral("g"));
        axis->setNumberPrecision(3);
    }
    xAxis->setNumberPrecision(6);
    xAxis->setLabel(tr("optimizer steps done"));
    yAxis->setLabel(tr("KL divergence (nats)"));
    xAxis->setRange(1, 1000);
    yAxis->setRange(0.01, 10);
    // The legend under the axes: per run a block of two rows (oracle, teacher), each the data
    // and then its fit; with several runs the blocks sit side by side, two per row of blocks,
    // so the legend stays short and every fit stands beside the run it belongs to.
    setAutoAddPlottableToLegend(false);
    plotLayout()->addElement(2, 0, legend);
    plotLayout()->setRowStretchFactor(2, 0.001);
    legend->setVisible(true);
    legend->setRowSpacing(0);
    legend->setColumnSpacing(4);
    legend->setIconSize(26, 12);
    legend->setMargins(QMargins(4, 0, 4, 4));
    setToolTip(
        tr("Teacher hacking: the student keeps approaching the teacher (dashed, falling) "
           "while it moves away from the true distribution (solid, rising). Thin lines: "
           "power-law fits y = a·x^b."));

}

QString HackingPlot::runName(core::RunId run) const
{
    const QString name = m_names.value(run);
    return name.isEmpty() ? tr("run %1").arg(run) : name;
}

QString HackingPlot::fitLegendText(core::RunId run, int series) const
{
    const auto it = m_fitLegends.find({run, series});
    return it != m_fitLegends.end() ? it->second : QString();
}

void HackingPlot::setRuns(const QList<core::RunId> &runs, const QHash<core::RunId, QString> &names,
                          const std::map<core::RunId, DiversityRunData> &data)
{
    m_runs = runs;
    m_names = names;
    m_data = data;
    rebuild();
}

void HackingPlot::changeEvent(QEvent *event)
{
    QCustomPlot::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange)
        rebuild();
}

void HackingPlot::rebuild()
{
    auto state = [this](core::RunId run) -> const DiversityRunData * {
        const auto it = m_data.find(run);
        return it != m_data.end() ? &it->second : nullptr;
    };
    legend->clearItems();
    clearPlottables();
    clearItems();
    m_fitLegends.clear();
    int runIndex = -1;
    auto addToLegend = [this](QCPAbstractPlottable *plottable, int row, int column) {
        auto *item = new QCPPlottableLegendItem(legend, plottable);
        item->setMargins(QMargins(4, 1, 10, 3));
        legend->addElement(row, column, item);
    };
    const QColor fg = palette().color(QPalette::Text);
    double xMin = std::numeric_limits<double>::infinity(), xMax = -xMin;
    double yMin = xMin, yMax = -xMin;
    bool anyOracle = false, anyKl = false;
    for (core::RunId run : m_runs) {
        const DiversityRunData *s = state(run);
        if (!s)
            continue;
        const QColor color = MetricPlot::runColor(run);
        ++runIndex;
        const int blockRow = (runIndex / 2) * 2, blockColumn = (runIndex % 2) * 2;
        for (int k = 0; k < 2; ++k) {
            std::vector<double> x, y;
            logLogPoints(k == 0 ? s->oracle : s->teacher, x, y);
            if (x.empty())
                continue;
            anyKl = true;
            anyOracle |= k == 0;
            for (std::size_t i = 0; i < x.size(); ++i) {
                xMin = std::min(xMin, x[i]);
                xMax = std::max(xMax, x[i]);
                yMin = std::min(yMin, y[i]);
                yMax = std::max(yMax, y[i]);
            }
            const Qt::PenStyle style = k == 0 ? Qt::SolidLine : Qt::DashLine;
            QCPGraph *graph = addGraph();
            graph->setData(QVector<double>(x.begin(), x.end()), QVector<double>(y.begin(), y.end()),
                           true);
            graph->setPen(QPen(color, 1.8, style));
            graph->setScatterStyle(
                QCPScatterStyle(k == 0 ? QCPScatterStyle::ssDisc : QCPScatterStyle::ssCircle, color,
                                k == 0 ? color : palette().color(QPalette::Base), 5));
            const QString name = m_runs.size() > 1
                                     ? fontMetrics().elidedText(runName(run), Qt::ElideLeft,
                                                                fontMetrics().averageCharWidth() * 22)
                                     : runName(run);
            graph->setName(QStringLiteral("%1 %2").arg(
                name, k == 0 ? tr("KL(oracle‖student)") : tr("KL(teacher‖student)")));
            graph->setSelectable(QCP::stNone);
            addToLegend(graph, blockRow + k, blockColumn);

            const core::PowerLawFit &fit = k == 0 ? s->oracleFit : s->teacherFit;
            if (!fit.valid)
                continue;
            // A power law is a straight line on log–log axes: its two ends suffice.
            const double x0 = x.front(), x1 = x.back();
            QCPGraph *line = addGraph();
            line->setData({x0, x1}, {fit.a * std::pow(x0, fit.b), fit.a * std::pow(x1, fit.b)});
            QColor thin = color;
            thin.setAlpha(170);
            line->setPen(QPen(thin, 1.0, k == 0 ? Qt::SolidLine : Qt::DashDotLine));
            const QString text = tr("fit ∝ x^%1 (R² %2)")
                                     .arg(signedNumber(fit.b, 2), QString::number(fit.r2, 'f', 2));
            line->setName(text);
            line->setSelectable(QCP::stNone);
            addToLegend(line, blockRow + k, blockColumn + 1);
            m_fitLegends[{run, k}] = text;
        }
    }
    // Ranges with a little room on both log axes.
    if (anyKl) {
        for (core::RunId run : m_runs)
            if (const DiversityRunData *s = state(run); s && s->hackingStep > 0) {
                xMin = std::min(xMin, double(s->hackingStep));
                xMax = std::max(xMax, double(s->hackingStep));
            }
        const double xPad = xMax > xMin ? std::pow(xMax / xMin, 0.04) : 2.0;
        const double yPad = yMax > yMin ? std::pow(yMax / yMin, 0.08) : 2.0;
        xAxis->setRange(xMin / xPad, xMax * xPad);
        yAxis->setRange(yMin / yPad, yMax * yPad);
    } else {
        xAxis->setRange(1, 1000);
        yAxis->setRange(0.01, 10);
    }

    for (core::RunId run : m_runs) {
        const DiversityRunData *s = state(run);
        if (!s || s->hackingStep <= 0 || !anyKl)
            continue;
        const QColor color = MetricPlot::runColor(run);
        const double x = double(s->hackingStep);
        auto *marker = new QCPItemStraightLine(this);
        marker->point1->setCoords(x, yAxis->range().lower);
        marker->point2->setCoords(x, yAxis->range().upper);
        marker->setPen(QPen(color, 1.2, Qt::DotLine));
        marker->setSelectable(false);
        // Along the line, reading upwards, from the top of the axes down.
        auto *label = new QCPItemText(this);
        label->position->setTypeX(QCPItemPosition::ptPlotCoords);
        label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        label->position->setCoords(x, 0.01);
        label->setRotation(-90);
        label->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
        label->setPadding(QMargins(3, 1, 3, 1));
        QColor labelBackground = palette().color(QPalette::Base);
        labelBackground.setAlpha(210);
        label->setBrush(labelBackground);
        label->setClipToAxisRect(true);
        label->setText(m_runs.size() > 1 ? tr("teacher hacking (%1)").arg(runName(run))
                                         : tr("teacher hacking"));
        label->setColor(color);
        label->setFont(font());
        label->setSelectable(false);
    }

    m_plotNote.clear();
    if (!anyOracle) {
        // With the teacher's curve drawn, the note goes to the top right, where falling
        // divergences leave room.
        m_plotNote = anyKl ? tr("KL(oracle‖student) needs a dataset with an oracle (HMM)")
                           : tr("needs a dataset with an oracle (HMM) and a teacher");
        auto *note = new QCPItemText(this);
        note->position->setType(QCPItemPosition::ptAxisRectRatio);
        note->position->setCoords(anyKl ? 0.98 : 0.5, anyKl ? 0.03 : 0.5);
        note->setPositionAlignment(anyKl ? Qt::AlignRight | Qt::AlignTop : Qt::AlignCenter);
        note->setText(m_plotNote);
        QColor dim = fg;
        dim.setAlpha(150);
        note->setColor(dim);
        note->setFont(font());
        note->setSelectable(false);
        QColor noteBackground = palette().color(QPalette::Base);
        noteBackground.setAlpha(220);
        note->setBrush(noteBackground);
        note->setPadding(QMargins(4, 2, 4, 2));
    }
    legend->setVisible(anyKl);
    styleChart(this, this);
    legend->setBorderPen(Qt::NoPen); // under the axes, not over the data
}

} // namespace distillery::widgets
