#include "plots/calibrationview.h"

#include "plots/metricplot.h"

#include <qcustomplot.h>

#include <QLabel>
#include <QStackedWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery::widgets {

namespace {

const QString kStudent = QStringLiteral("student");
const QString kTeacher = QStringLiteral("teacher");

// The teacher's shade of a run colour: the same hue, lighter and less saturated.
QColor teacherColor(const QColor &run)
{
    QColor c = run.toHsl();
    c.setHsl(c.hslHue(), std::max(0, c.hslSaturation() - 40),
             std::min(235, c.lightness() + (255 - c.lightness()) / 3));
    return c.toRgb();
}

} // namespace

CalibrationView::CalibrationView(QWidget *parent)
    : DiagnosticView(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(4);
    m_steps = new StepSelector(this);
    layout->addWidget(m_steps);

    m_stack = new QStackedWidget(this);
    layout->addWidget(m_stack, 1);
    m_empty = new QLabel(m_stack);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setMargin(24);
    m_stack->addWidget(m_empty);

    m_plot = new QCustomPlot(m_stack);
    m_plot->setMinimumSize(240, 200);
    m_plot->setToolTip(
        tr("Accuracy against confidence per confidence bin. Below the diagonal the model is "
           "over-confident, above it under-confident; the thin lines mark that gap for the "
           "first run's student. Bars: share of the evaluation's tokens in each bin."));
    m_stack->addWidget(m_plot);

    m_plot->plotLayout()->insertRow(0);
    QFont titleFont = font();
    titleFont.setBold(true);
    auto *title = new QCPTextElement(m_plot, QString(), titleFont);
    title->setObjectName(QStringLiteral("title"));
    title->setMargins(QMargins(0, 4, 0, 0));
    m_plot->plotLayout()->addElement(0, 0, title);

    m_plot->xAxis->setLabel(tr("confidence (mean max-probability in the bin)"));
    m_plot->yAxis->setLabel(tr("accuracy"));
    m_plot->yAxis2->setVisible(true);
    m_plot->yAxis2->setLabel(tr("share of tokens"));
    for (QCPAxis *axis : {m_plot->xAxis, m_plot->yAxis, m_plot->yAxis2}) {
        axis->setRange(0.0, 1.0);
        axis->ticker()->setTickCount(5);
        axis->setNumberFormat(QStringLiteral("f"));
        axis->setNumberPrecision(1);
    }
    m_plot->yAxis2->grid()->setVisible(false);

    m_plot->legend->setVisible(true);
    m_plot->legend->setRowSpacing(0);
    m_plot->legend->setIconSize(26, 12);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);

    connect(m_steps, &StepSelector::stepChanged, this, [this] {
        if (store() && loadCurves())
            rebuildChart();
    });

    applyTheme(); // shows the empty state
}

CalibrationView::~CalibrationView() = default;

QString CalibrationView::runName(core::RunId run) const
{
    const QString name = m_names.value(run);
    return name.isEmpty() ? tr("run %1").arg(run) : name;
}

void CalibrationView::refresh(const QList<core::RunId> &runs, const QHash<core::RunId, QString> &names)
{
    const core::StoreReader *reader = store();
    if (!reader) {
        // The store could not be opened: keep what is shown.
        if (!hasData()) {
            m_empty->setText(emptyMessage());
            m_stack->setCurrentWidget(m_empty);
            m_steps->setVisible(false);
        }
        return;
    }
    bool changed = false;
    if (runs != m_runs) {
        for (auto it = m_state.begin(); it != m_state.end();)
            it = runs.contains(it->first) ? std::next(it) : m_state.erase(it);
        m_runs = runs;
        changed = true;
    }
    if (names != m_names) {
        m_names = names;
        changed = true;
    }
    // The only queries of an unchanged store: one step list per run.
    core::RunId reference = 0;
    for (core::RunId run : m_runs) {
        RunState &state = m_state[run];
        auto steps = calibrationSteps(*reader, run);
        if (steps != state.steps) {
            state.steps = std::move(steps);
            changed = true;
        }
        if (!reference && !state.steps.empty())
            reference = run;
    }
    if (reference != m_reference) {
        m_reference = reference;
        changed = true;
    }
    const auto it = m_state.find(m_reference);
    m_steps->setSteps(it != m_state.end() ? it->second.steps : std::vector<std::int64_t>{});
    changed |= loadCurves();
    if (changed)
        rebuildChart();
}

void CalibrationView::clear()
{
    m_runs.clear();
    m_names.clear();
    m_state.clear();
    m_reference = 0;
    m_steps->setSteps({});
    rebuildChart();
}

bool CalibrationView::loadCurves()
{
    const std::int64_t selected = m_steps->currentStep();
    bool changed = false;
    for (core::RunId run : m_runs) {
        RunState &state = m_state[run];
        // The run's latest evaluation at or before the selected step.
        std::int64_t step = -1;
        if (selected >= 0) {
            const auto it = std::upper_bound(state.steps.begin(), state.steps.end(), selected);
            if (it != state.steps.begin())
                step = *(it - 1);
        }
        changed |= loadCurve(run, kStudent, step, state.student);
        changed |= loadCurve(run, kTeacher, step, state.teacher);
    }
    return changed;
}

bool CalibrationView::loadCurve(core::RunId run, const QString &who, std::int64_t step,
                                Curve &curve)
{
    if (curve.step == step)
        return false;
    curve = Curve{};
    curve.step = step;
    if (const core::StoreReader *reader = store(); reader && step >= 0)
        static_cast<ReliabilityBins &>(curve) = loadReliabilityBins(*reader, run, who.toStdString(), step);
    return true;
}

const CalibrationView::Curve *CalibrationView::curve(core::RunId run, const QString &who) const
{
    const auto it = m_state.find(run);
    if (it == m_state.end() || !m_runs.contains(run))
        return nullptr;
    const Curve *c = who == kStudent   ? &it->second.student
                     : who == kTeacher ? &it->second.teacher
                                       : nullptr;
    return c && c->valid() ? c : nullptr;
}

QString CalibrationView::emptyMessage() const
{
    if (!store() && m_runs.isEmpty())
        return tr("The run store is not open.");
    if (m_runs.isEmpty())
        return tr("Select a run to see the calibration of its student and teacher.");
    const QString which = m_runs.size() == 1 ? runName(m_runs.front()) : tr("the selected runs");
    return tr("No calibration bins in %1 yet.\nThey are stored at every evaluation when the "
              "Diagnostics node has calibration on.")
        .arg(which);
}

void CalibrationView::rebuildChart()
{
    m_plot->clearPlottables();
    m_plot->clearItems();
    m_steps->setVisible(hasData());
    if (!hasData()) {
        m_empty->setText(emptyMessage());
        m_stack->setCurrentWidget(m_empty);
        m_plot->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    m_stack->setCurrentWidget(m_plot);
    const QPalette pal = palette();
    const QColor fg = pal.color(QPalette::Text);
    const std::int64_t selected = m_steps->currentStep();

    if (auto *title = qobject_cast<QCPTextElement *>(m_plot->plotLayout()->element(0, 0)))
        title->setText(tr("Reliability at step %1").arg(selected));

    QColor diagonalColor = fg;
    diagonalColor.setAlpha(120);
    QCPGraph *diagonal = m_plot->addGraph();
    diagonal->setData({0.0, 1.0}, {0.0, 1.0});
    diagonal->setPen(QPen(diagonalColor, 1.2, Qt::DashLine));
    diagonal->setName(tr("perfectly calibrated"));
    diagonal->setSelectable(QCP::stNone);

    // The reference run's token share per bin, on the right axis.
    if (const Curve *ref = curve(m_reference, kStudent)) {
        double total = 0.0;
        for (float n : ref->count)
            total += n;
        auto *bars = new QCPBars(m_plot->xAxis, m_plot->yAxis2);
        bars->setWidth(1.0 / kBins * 0.92);
        QVector<double> keys, shares;
        for (int b = 0; b < kBins; ++b) {
            keys << (b + 0.5) / kBins;
            shares << (total > 0 ? ref->count[std::size_t(b)] / total : 0.0);
        }
        bars->setData(keys, shares, true);
        QColor fill = MetricPlot::runColor(m_reference);
        fill.setAlpha(pal.color(QPalette::Base).lightness() < 128 ? 70 : 38);
        bars->setBrush(fill);
        bars->setPen(Qt::NoPen);
        bars->setName(tr("%1: share of tokens").arg(runName(m_reference)));
        bars->setSelectable(QCP::stNone);
    }

    for (core::RunId run : m_runs) {
        for (const QString &who : {kStudent, kTeacher}) {
            const Curve *c = curve(run, who);
            if (!c)
                continue;
            const bool student = who == kStudent;
            const QColor color =
                student ? MetricPlot::runColor(run) : teacherColor(MetricPlot::runColor(run));
            QVector<double> x, y;
            for (int b = 0; b < kBins; ++b) {
                if (c->count[std::size_t(b)] <= 0)
                    continue;
                x << c->confidence[std::size_t(b)];
                y << c->accuracy[std::size_t(b)];
            }
            // The gap to the diagonal of the reference run's student, bin by bin.
            if (run == m_reference && student) {
                QColor gapColor = color;
                gapColor.setAlpha(150);
                for (int i = 0; i < x.size(); ++i) {
                    auto *gap = new QCPItemLine(m_plot);
                    gap->start->setCoords(x[i], y[i]);
                    gap->end->setCoords(x[i], x[i]);
                    gap->setPen(QPen(gapColor, 1.0));
                    gap->setSelectable(false);
                }
            }
            QCPGraph *graph = m_plot->addGraph();
            graph->setData(x, y, true);
            QPen pen(color, student ? 2.0 : 1.6, student ? Qt::SolidLine : Qt::DashLine);
            graph->setPen(pen);
            graph->setScatterStyle(
                QCPScatterStyle(student ? QCPScatterStyle::ssDisc : QCPScatterStyle::ssCircle,
                                color, student ? color : pal.color(QPalette::Base), 6));
            graph->setSelectable(QCP::stNone);
            QString legend = QStringLiteral("%1 %2 — ECE %3")
                                 .arg(runName(run), who, QString::number(c->ece, 'f', 3));
            if (c->step != selected)
                legend += tr(" (step %1)").arg(c->step);
            graph->setName(legend);
            RunState &state = m_state[run];
            (student ? state.student : state.teacher).legend = legend;
        }
    }

    for (int i = 0; i < m_plot->legend->itemCount(); ++i)
        if (auto *item = m_plot->legend->item(i))
            item->setMargins(QMargins(6, 1, 8, 3));
    m_plot->xAxis->setRange(-0.01, 1.01);
    m_plot->yAxis->setRange(-0.01, 1.01);
    m_plot->yAxis2->setRange(-0.01, 1.01);
    styleChart(m_plot, this);
    QColor faint = fg;
    faint.setAlpha(110);
    m_plot->yAxis2->setLabelColor(faint);
    m_plot->yAxis2->setTickLabelColor(faint);
    placeLegend();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void CalibrationView::placeLegend()
{
    // Top left (above the diagonal) unless the curves are under-confident and put more points
    // there than in the bottom right.
    int upper = 0, lower = 0;
    for (int g = 0; g < m_plot->graphCount(); ++g) {
        QCPGraph *graph = m_plot->graph(g);
        if (graph->name() == tr("perfectly calibrated"))
            continue;
        for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it) {
            if (it->key < 0.55 && it->value > 0.55)
                ++upper;
            else if (it->key > 0.45 && it->value < 0.45)
                ++lower;
        }
    }
    m_plot->axisRect()->insetLayout()->setInsetAlignment(
        0, upper > lower ? Qt::AlignBottom | Qt::AlignRight : Qt::AlignTop | Qt::AlignLeft);
}

void CalibrationView::applyTheme()
{
    if (!m_plot)
        return;
    m_empty->setForegroundRole(QPalette::PlaceholderText);
    rebuildChart();
}

bool CalibrationView::hasData() const
{
    return curve(m_reference, kStudent) != nullptr;
}

int CalibrationView::curveCount() const
{
    int n = 0;
    for (core::RunId run : m_runs)
        n += int(curve(run, kStudent) != nullptr) + int(curve(run, kTeacher) != nullptr);
    return n;
}

bool CalibrationView::hasCurve(core::RunId run, const QString &who) const
{
    return curve(run, who) != nullptr;
}

std::int64_t CalibrationView::curveStep(core::RunId run, const QString &who) const
{
    const Curve *c = curve(run, who);
    return c ? c->step : -1;
}

double CalibrationView::curveEce(core::RunId run, const QString &who) const
{
    const Curve *c = curve(run, who);
    return c ? c->ece : std::numeric_limits<double>::quiet_NaN();
}

QString CalibrationView::curveLegendText(core::RunId run, const QString &who) const
{
    const Curve *c = curve(run, who);
    return c ? c->legend : QString();
}

QString CalibrationView::emptyText() const
{
    return m_stack->currentWidget() == m_empty ? m_empty->text() : QString();
}

QString CalibrationView::csv() const
{
    QString out = QStringLiteral("run,who,step,bin,lower,upper,count,confidence,accuracy\n");
    for (core::RunId run : m_runs) {
        for (const QString &who : {kStudent, kTeacher}) {
            const Curve *c = curve(run, who);
            if (!c)
                continue;
            for (int b = 0; b < kBins; ++b) {
                const std::size_t i = std::size_t(b);
                out += QStringLiteral("%1,%2,%3,%4,%5,%6,%7,%8,%9\n")
                           .arg(run)
                           .arg(who)
                           .arg(c->step)
                           .arg(b)
                           .arg(QString::number(double(b) / kBins, 'g', 6))
                           .arg(QString::number(double(b + 1) / kBins, 'g', 6))
                           .arg(QString::number(double(c->count[i]), 'g', 10))
                           .arg(QString::number(double(c->confidence[i]), 'g', 7))
                           .arg(QString::number(double(c->accuracy[i]), 'g', 7));
            }
        }
    }
    return out;
}

bool CalibrationView::savePng(const QString &path)
{
    // A view never laid out has no size of its own yet.
    const bool sized = m_plot->width() >= 100 && m_plot->height() >= 100;
    return m_plot->savePng(path, sized ? 0 : 900, sized ? 0 : 500, 2.0);
}

bool CalibrationView::savePdf(const QString &path)
{
    const bool sized = m_plot->width() >= 100 && m_plot->height() >= 100;
    return m_plot->savePdf(path, sized ? 0 : 900, sized ? 0 : 500);
}

} // namespace distillery::widgets
