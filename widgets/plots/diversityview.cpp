#include "plots/diversityview.h"

#include "plots/metricplot.h"

#include <qcustomplot.h>

#include <QFontDatabase>
#include <QLabel>
#include <QSplitter>
#include <QStackedWidget>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextEdit>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery::widgets {

namespace {

const std::string kOracleKey = "eval/kl_oracle_student";
const std::string kTeacherKey = "eval/kl_teacher_student";
const std::string kStepsKey = "diag/diversity/distinct1";

struct Measure
{
    const char *key;
    const char *label;
    int decimals;
    const char *unit;
};
// The diversity scalars of one evaluation, in display order.
const Measure kMeasures[] = {
    {"diag/diversity/distinct1", "distinct-1", 3, ""},
    {"diag/diversity/distinct2", "distinct-2", 3, ""},
    {"diag/diversity/distinct3", "distinct-3", 3, ""},
    {"diag/diversity/self_bleu4", "self-BLEU-4", 3, ""},
    {"diag/diversity/unique_fraction", "unique", 2, ""},
    {"diag/diversity/token_entropy", "entropy", 2, " nats"},
    {"diag/diversity/mean_length", "mean length", 1, " tokens"},
};

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

// Caret notation of a C0 control or DEL: ^@, ^A, ..., ^M, ..., ^?.
QString caretNotation(ushort u)
{
    return QStringLiteral("^") + QChar(u == 0x7f ? '?' : char(0x40 + u));
}

// Appends the rows after the last step held; true when there were any.
bool appendTail(const core::StoreReader *reader, core::RunId run, const std::string &key,
                std::vector<core::ScalarPoint> &points)
{
    auto tail = reader->scalars(run, key, points.empty() ? -1 : points.back().step);
    if (!tail.ok() || tail.value().empty())
        return false;
    points.insert(points.end(), tail.value().begin(), tail.value().end());
    return true;
}

const core::ScalarPoint *pointAt(const std::vector<core::ScalarPoint> &points, std::int64_t step)
{
    const auto it =
        std::lower_bound(points.begin(), points.end(), step,
                         [](const core::ScalarPoint &p, std::int64_t s) { return p.step < s; });
    return it != points.end() && it->step == step ? &*it : nullptr;
}

// x = steps done (stored step + 1) and y = KL, over the points a log–log plot can show.
void logLogPoints(const std::vector<core::ScalarPoint> &points, std::vector<double> &x,
                  std::vector<double> &y)
{
    x.clear();
    y.clear();
    for (const auto &p : points) {
        if (std::isfinite(p.value) && p.value > 0) {
            x.push_back(double(p.step + 1));
            y.push_back(p.value);
        }
    }
}

QString signedNumber(double v, int decimals)
{
    QString text = QString::number(v, 'f', decimals);
    if (text.startsWith(QLatin1Char('-')))
        text.replace(0, 1, QChar(0x2212)); // the minus sign, not a hyphen
    return text;
}

// csvField() also for a carriage return, which would end the row in most readers.
QString textField(const QString &text)
{
    if (!text.contains(QLatin1Char('\r')))
        return csvField(text);
    QString quoted = text;
    quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

int seriesIndex(const QString &series)
{
    if (series == QLatin1String("oracle"))
        return 0;
    if (series == QLatin1String("teacher"))
        return 1;
    return -1;
}

} // namespace

QString DiversityView::visibleControls(const QString &text)
{
    QString out;
    out.reserve(text.size());
    for (const QChar c : text) {
        const ushort u = c.unicode();
        if (u == '\n')
            out += QChar(0x21B5); // ↵
        else if (u == '\t')
            out += QChar(0x21E5); // ⇥
        else if (u < 0x20)
            out += QChar(0x2400 + u); // ␀ … ␟ (␍ for \r)
        else if (u == 0x7f)
            out += QChar(0x2421); // ␡
        else
            out += c;
    }
    return out;
}

DiversityView::DiversityView(QWidget *parent)
    : DiagnosticView(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    m_stack = new QStackedWidget(this);
    layout->addWidget(m_stack);
    m_empty = new QLabel(m_stack);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setMargin(24);
    m_stack->addWidget(m_empty);

    m_splitter = new QSplitter(Qt::Horizontal, m_stack);
    m_splitter->setChildrenCollapsible(false);
    m_stack->addWidget(m_splitter);

    // The sample browser.
    auto *browser = new QWidget(m_splitter);
    auto *browserLayout = new QVBoxLayout(browser);
    browserLayout->setContentsMargins(0, 0, 4, 0);
    browserLayout->setSpacing(4);
    m_header = new QLabel(browser);
    QFont headerFont = font();
    headerFont.setBold(true);
    m_header->setFont(headerFont);
    m_header->setTextFormat(Qt::PlainText);
    browserLayout->addWidget(m_header);
    m_steps = new StepSelector(browser);
    browserLayout->addWidget(m_steps);
    m_stats = new QLabel(browser);
    m_stats->setTextFormat(Qt::RichText);
    m_stats->setWordWrap(true);
    m_stats->setToolTip(
        tr("distinct-n: distinct n-grams / all n-grams over the samples (higher: more "
           "diverse); self-BLEU-4: mean BLEU-4 of each sample against the others (higher: "
           "less diverse); unique: share of distinct samples; entropy: mean next-token "
           "entropy while sampling; mean length in tokens."));
    browserLayout->addWidget(m_stats);
    m_samplesStack = new QStackedWidget(browser);
    m_samplesEmpty = new QLabel(m_samplesStack);
    m_samplesEmpty->setAlignment(Qt::AlignCenter);
    m_samplesEmpty->setWordWrap(true);
    m_samplesEmpty->setText(tr("No samples stored. They are written at every evaluation when "
                               "the Diagnostics node has diversity_prompts > 0."));
    m_samplesStack->addWidget(m_samplesEmpty);
    m_text = new QTextEdit(m_samplesStack);
    m_text->setReadOnly(true);
    m_text->setLineWrapMode(QTextEdit::WidgetWidth);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_text->setToolTip(tr("The prompts as continued by the student at temperature 1; ↵ is a "
                          "newline, ⇥ a tab, other control characters show as ␍ or ^M."));
    m_samplesStack->addWidget(m_text);
    browserLayout->addWidget(m_samplesStack, 1);

    // The teacher-hacking plot.
    m_plot = new QCustomPlot(m_splitter);
    m_plot->setMinimumSize(240, 200);
    m_plot->plotLayout()->insertRow(0);
    QFont titleFont = font();
    titleFont.setBold(true);
    auto *title =
        new QCPTextElement(m_plot, tr("Teacher hacking: KL to oracle and teacher"), titleFont);
    title->setMargins(QMargins(0, 4, 0, 0));
    m_plot->plotLayout()->addElement(0, 0, title);
    for (QCPAxis *axis : {m_plot->xAxis, m_plot->yAxis}) {
        axis->setScaleType(QCPAxis::stLogarithmic);
        auto ticker = QSharedPointer<QCPAxisTickerLog>(new LogTicker);
        ticker->setSubTickCount(8);
        axis->setTicker(ticker);
        axis->setNumberFormat(QStringLiteral("g"));
        axis->setNumberPrecision(3);
    }
    m_plot->xAxis->setNumberPrecision(6);
    m_plot->xAxis->setLabel(tr("optimizer steps done (step + 1)"));
    m_plot->yAxis->setLabel(tr("KL divergence (nats)"));
    m_plot->xAxis->setRange(1, 1000);
    m_plot->yAxis->setRange(0.01, 10);
    // The legend under the axes, one row per series: the data, then its fit.
    m_plot->setAutoAddPlottableToLegend(false);
    m_plot->plotLayout()->addElement(2, 0, m_plot->legend);
    m_plot->plotLayout()->setRowStretchFactor(2, 0.001);
    m_plot->legend->setVisible(true);
    m_plot->legend->setRowSpacing(0);
    m_plot->legend->setColumnSpacing(4);
    m_plot->legend->setIconSize(26, 12);
    m_plot->legend->setMargins(QMargins(4, 0, 4, 4));
    m_plot->setToolTip(
        tr("Teacher hacking: the student keeps approaching the teacher (dashed, falling) "
           "while it moves away from the true distribution (solid, rising). Thin lines: "
           "power-law fits y = a·x^b."));

    m_splitter->addWidget(browser);
    m_splitter->addWidget(m_plot);
    m_splitter->setStretchFactor(0, 4);
    m_splitter->setStretchFactor(1, 5);
    m_splitter->setSizes({4000, 5000}); // proportions until the user drags the handle

    connect(m_steps, &StepSelector::stepChanged, this, [this] {
        if (!m_reader)
            return; // the next refresh() with a store reads the step
        loadSamples();
        updateStats();
    });

    m_steps->setVisible(false);
    m_stats->setVisible(false);
    applyTheme();
    updateEmptyState();
}

DiversityView::~DiversityView() = default;

QString DiversityView::runName(core::RunId run) const
{
    const QString name = m_names.value(run);
    return name.isEmpty() ? tr("run %1").arg(run) : name;
}

const DiversityView::RunState *DiversityView::state(core::RunId run) const
{
    const auto it = m_state.find(run);
    return it != m_state.end() && m_runs.contains(run) ? &it->second : nullptr;
}

void DiversityView::refresh(const core::StoreReader *reader, const QList<core::RunId> &runs,
                            const QHash<core::RunId, QString> &names)
{
    m_reader = reader;
    if (!reader) {
        // The store could not be opened: keep what is shown.
        updateEmptyState();
        return;
    }
    bool plotDirty = false;
    if (runs != m_runs) {
        for (auto it = m_state.begin(); it != m_state.end();)
            it = runs.contains(it->first) ? std::next(it) : m_state.erase(it);
        m_runs = runs;
        plotDirty = true;
    }
    bool namesChanged = false;
    if (names != m_names) {
        m_names = names;
        plotDirty = namesChanged = true;
    }

    bool statsDirty = false;
    core::RunId sampleRun = 0;
    for (core::RunId run : m_runs) {
        RunState &s = m_state[run];
        // The other measures are written with distinct-1, in the same transaction.
        if (appendTail(reader, run, kStepsKey, s.diversity[kStepsKey])) {
            for (const Measure &m : kMeasures)
                if (m.key != kStepsKey)
                    appendTail(reader, run, m.key, s.diversity[m.key]);
            statsDirty = true;
        }
        if (!sampleRun && !s.diversity[kStepsKey].empty())
            sampleRun = run;
        const bool oracleGrew = appendTail(reader, run, kOracleKey, s.oracle);
        const bool teacherGrew = appendTail(reader, run, kTeacherKey, s.teacher);
        if (oracleGrew || teacherGrew || !s.metaRead) {
            std::vector<double> x, y;
            logLogPoints(s.oracle, x, y);
            auto fit = core::fitPowerLaw(x, y);
            s.oracleFit = fit.ok() ? fit.value() : core::PowerLawFit{};
            logLogPoints(s.teacher, x, y);
            fit = core::fitPowerLaw(x, y);
            s.teacherFit = fit.ok() ? fit.value() : core::PowerLawFit{};
            // The trainer sets the flag in the flush that writes the evaluation.
            s.hackingStep = -1;
            auto meta = reader->runMeta(run);
            if (meta.ok()) {
                const auto it = meta.value().find("teacher_hacking_step");
                bool ok = false;
                const qlonglong step = it != meta.value().end()
                                           ? QString::fromStdString(it->second).toLongLong(&ok)
                                           : -1;
                if (ok && step >= 0)
                    s.hackingStep = step;
            }
            s.metaRead = true;
            plotDirty = true;
        }
    }

    if (sampleRun != m_sampleRun) {
        m_sampleRun = sampleRun;
        m_samplesStep = -1;
        m_samples.clear();
        statsDirty = true;
    }
    std::vector<std::int64_t> steps;
    if (const RunState *s = state(m_sampleRun))
        for (const auto &p : s->diversity.at(kStepsKey))
            steps.push_back(p.step);
    m_steps->setSteps(steps);
    m_steps->setVisible(!steps.empty());
    m_stats->setVisible(!steps.empty());
    if (loadSamples() || statsDirty || namesChanged)
        updateStats();
    if (plotDirty)
        rebuildPlot();
    updateEmptyState();
}

void DiversityView::clear()
{
    m_reader = nullptr;
    m_runs.clear();
    m_names.clear();
    m_state.clear();
    m_sampleRun = 0;
    m_samplesStep = -1;
    m_samples.clear();
    m_steps->setSteps({});
    m_steps->setVisible(false);
    m_stats->setVisible(false);
    renderSamples();
    updateStats();
    rebuildPlot();
    updateEmptyState();
}

bool DiversityView::loadSamples()
{
    const std::int64_t step = m_steps->currentStep();
    if (step == m_samplesStep)
        return false;
    m_samplesStep = step;
    m_samples.clear();
    if (m_reader && m_sampleRun && step >= 0) {
        auto samples = m_reader->samples(m_sampleRun, step);
        if (samples.ok())
            m_samples = std::move(samples).value();
    }
    renderSamples();
    return true;
}

void DiversityView::renderSamples()
{
    m_text->clear();
    if (m_samples.empty()) {
        m_samplesStack->setCurrentWidget(m_samplesEmpty);
        return;
    }
    m_samplesStack->setCurrentWidget(m_text);
    const QPalette pal = palette();
    const QFontMetrics metrics(m_text->font());
    const int digits = int(QString::number(m_samples.size()).size());
    // A hanging indent: wrapped lines continue under the text, not under the number.
    const qreal indent = metrics.horizontalAdvance(QString(digits + 2, QLatin1Char('0')));
    QTextCharFormat numberFormat;
    numberFormat.setForeground(pal.color(QPalette::PlaceholderText));
    QTextCharFormat textFormat;
    textFormat.setForeground(pal.color(QPalette::Text));
    // Control characters stand out from the text; caret notation where no font has the symbol.
    QTextCharFormat controlFormat;
    controlFormat.setForeground(pal.color(QPalette::Link));
    QTextCursor cursor(m_text->document());
    cursor.beginEditBlock();
    for (std::size_t i = 0; i < m_samples.size(); ++i) {
        QTextBlockFormat block;
        block.setLeftMargin(indent);
        block.setTextIndent(-indent);
        block.setBottomMargin(5);
        if (i == 0)
            cursor.setBlockFormat(block);
        else
            cursor.insertBlock(block);
        cursor.insertText(QStringLiteral("%1  ").arg(i + 1, digits), numberFormat);
        const QString text = QString::fromStdString(m_samples[i]);
        qsizetype plainFrom = 0;
        for (qsizetype c = 0; c < text.size(); ++c) {
            const ushort u = text[c].unicode();
            if (u >= 0x20 && u != 0x7f)
                continue;
            if (c > plainFrom)
                cursor.insertText(text.mid(plainFrom, c - plainFrom), textFormat);
            plainFrom = c + 1;
            const QString symbol = visibleControls(QString(text[c]));
            cursor.insertText(metrics.inFontUcs4(symbol[0].unicode()) ? symbol : caretNotation(u),
                              controlFormat);
        }
        if (plainFrom < text.size())
            cursor.insertText(text.mid(plainFrom), textFormat);
    }
    cursor.endEditBlock();
    m_text->moveCursor(QTextCursor::Start);
}

QString DiversityView::samplesText() const
{
    return m_samples.empty() ? QString() : m_text->toPlainText();
}

void DiversityView::updateStats()
{
    const RunState *s = state(m_sampleRun);
    const std::int64_t step = m_steps->currentStep();
    m_header->setText(s ? tr("Samples of %1").arg(runName(m_sampleRun)) : tr("Samples"));
    m_statsPlain.clear();
    if (!s || step < 0) {
        m_stats->clear();
        return;
    }
    const QString dim = palette().color(QPalette::PlaceholderText).name();
    // Pairs "name value" that never break inside, wrapping between pairs.
    QStringList plain, pairs;
    for (const Measure &m : kMeasures) {
        const auto it = s->diversity.find(m.key);
        const core::ScalarPoint *p = it != s->diversity.end() ? pointAt(it->second, step) : nullptr;
        const QString value =
            p && std::isfinite(p->value)
                ? QString::number(p->value, 'f', m.decimals) + QString::fromUtf8(m.unit)
                : QStringLiteral("–");
        const QString label = QString::fromUtf8(m.label);
        plain << label + QLatin1Char(' ') + value;
        const auto noBreak = [](QString text) {
            return text.toHtmlEscaped()
                .replace(QLatin1Char(' '), QStringLiteral("&nbsp;"))
                .replace(QLatin1Char('-'), QStringLiteral("&#8209;")); // non-breaking hyphen
        };
        pairs << QStringLiteral("<span style='color:%1'>%2</span>&nbsp;<b>%3</b>")
                     .arg(dim, noBreak(label), noBreak(value));
    }
    m_statsPlain = plain.join(QStringLiteral(" · "));
    m_stats->setText(pairs.join(QStringLiteral(" &nbsp; ")));
}

void DiversityView::rebuildPlot()
{
    m_plot->legend->clearItems();
    m_plot->clearPlottables();
    m_plot->clearItems();
    m_fitLegends.clear();
    int legendRow = 0;
    auto addToLegend = [this](QCPAbstractPlottable *plottable, int row, int column) {
        auto *item = new QCPPlottableLegendItem(m_plot->legend, plottable);
        item->setMargins(QMargins(4, 1, 10, 3));
        m_plot->legend->addElement(row, column, item);
    };
    const QColor fg = palette().color(QPalette::Text);
    double xMin = std::numeric_limits<double>::infinity(), xMax = -xMin;
    double yMin = xMin, yMax = -xMin;
    bool anyOracle = false, anyKl = false;
    for (core::RunId run : m_runs) {
        const RunState *s = state(run);
        if (!s)
            continue;
        const QColor color = MetricPlot::runColor(run);
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
            QCPGraph *graph = m_plot->addGraph();
            graph->setData(QVector<double>(x.begin(), x.end()), QVector<double>(y.begin(), y.end()),
                           true);
            graph->setPen(QPen(color, 1.8, style));
            graph->setScatterStyle(
                QCPScatterStyle(k == 0 ? QCPScatterStyle::ssDisc : QCPScatterStyle::ssCircle, color,
                                k == 0 ? color : palette().color(QPalette::Base), 5));
            graph->setName(QStringLiteral("%1 %2").arg(
                runName(run), k == 0 ? tr("KL(oracle‖student)") : tr("KL(teacher‖student)")));
            graph->setSelectable(QCP::stNone);
            addToLegend(graph, legendRow, 0);
            ++legendRow;

            const core::PowerLawFit &fit = k == 0 ? s->oracleFit : s->teacherFit;
            if (!fit.valid)
                continue;
            // A power law is a straight line on log–log axes: its two ends suffice.
            const double x0 = x.front(), x1 = x.back();
            QCPGraph *line = m_plot->addGraph();
            line->setData({x0, x1}, {fit.a * std::pow(x0, fit.b), fit.a * std::pow(x1, fit.b)});
            QColor thin = color;
            thin.setAlpha(170);
            line->setPen(QPen(thin, 1.0, k == 0 ? Qt::SolidLine : Qt::DashDotLine));
            const QString text = tr("fit ∝ x^%1 (R² %2)")
                                     .arg(signedNumber(fit.b, 2), QString::number(fit.r2, 'f', 2));
            line->setName(text);
            line->setSelectable(QCP::stNone);
            addToLegend(line, legendRow - 1, 1);
            m_fitLegends[{run, k}] = text;
        }
    }
    // Ranges with a little room on both log axes.
    if (anyKl) {
        for (core::RunId run : m_runs)
            if (const RunState *s = state(run); s && s->hackingStep > 0) {
                xMin = std::min(xMin, double(s->hackingStep));
                xMax = std::max(xMax, double(s->hackingStep));
            }
        const double xPad = xMax > xMin ? std::pow(xMax / xMin, 0.04) : 2.0;
        const double yPad = yMax > yMin ? std::pow(yMax / yMin, 0.08) : 2.0;
        m_plot->xAxis->setRange(xMin / xPad, xMax * xPad);
        m_plot->yAxis->setRange(yMin / yPad, yMax * yPad);
    } else {
        m_plot->xAxis->setRange(1, 1000);
        m_plot->yAxis->setRange(0.01, 10);
    }

    for (core::RunId run : m_runs) {
        const RunState *s = state(run);
        if (!s || s->hackingStep <= 0 || !anyKl)
            continue;
        const QColor color = MetricPlot::runColor(run);
        const double x = double(s->hackingStep);
        auto *marker = new QCPItemStraightLine(m_plot);
        marker->point1->setCoords(x, m_plot->yAxis->range().lower);
        marker->point2->setCoords(x, m_plot->yAxis->range().upper);
        marker->setPen(QPen(color, 1.2, Qt::DotLine));
        marker->setSelectable(false);
        // Along the line, reading upwards, from the top of the axes down.
        auto *label = new QCPItemText(m_plot);
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
        auto *note = new QCPItemText(m_plot);
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
    m_plot->legend->setVisible(anyKl);
    styleChart(m_plot, this);
    m_plot->legend->setBorderPen(Qt::NoPen); // under the axes, not over the data
}

void DiversityView::updateEmptyState()
{
    if (hasData()) {
        m_stack->setCurrentWidget(m_splitter);
        return;
    }
    if (!m_reader && m_runs.isEmpty())
        m_empty->setText(tr("The run store is not open."));
    else if (m_runs.isEmpty())
        m_empty->setText(tr("Select a run to see its samples and the teacher-hacking plot."));
    else
        m_empty->setText(
            tr("No samples or KL series in %1 yet.\nSamples are stored at every evaluation when "
               "the Diagnostics node has diversity_prompts > 0; the teacher-hacking plot needs "
               "a dataset with an oracle (HMM) and a teacher.")
                .arg(m_runs.size() == 1 ? runName(m_runs.front()) : tr("the selected runs")));
    m_stack->setCurrentWidget(m_empty);
}

QString DiversityView::emptyText() const
{
    return m_stack->currentWidget() == m_empty ? m_empty->text() : QString();
}

void DiversityView::applyTheme()
{
    if (!m_plot)
        return;
    m_empty->setForegroundRole(QPalette::PlaceholderText);
    m_samplesEmpty->setForegroundRole(QPalette::PlaceholderText);
    renderSamples();
    updateStats();
    rebuildPlot();
}

bool DiversityView::hasData() const
{
    if (!m_samples.empty())
        return true;
    for (core::RunId run : m_runs)
        if (const RunState *s = state(run); s && (!s->oracle.empty() || !s->teacher.empty()))
            return true;
    return false;
}

core::PowerLawFit DiversityView::powerLawFit(core::RunId run, const QString &series) const
{
    const RunState *s = state(run);
    const int k = seriesIndex(series);
    if (!s || k < 0)
        return {};
    return k == 0 ? s->oracleFit : s->teacherFit;
}

double DiversityView::fitExponent(core::RunId run, const QString &series) const
{
    const core::PowerLawFit fit = powerLawFit(run, series);
    return fit.valid ? fit.b : std::numeric_limits<double>::quiet_NaN();
}

QString DiversityView::fitLegendText(core::RunId run, const QString &series) const
{
    const auto it = m_fitLegends.find({run, seriesIndex(series)});
    return it != m_fitLegends.end() ? it->second : QString();
}

int DiversityView::klPointCount(core::RunId run, const QString &series) const
{
    const RunState *s = state(run);
    const int k = seriesIndex(series);
    if (!s || k < 0)
        return 0;
    return int((k == 0 ? s->oracle : s->teacher).size());
}

std::int64_t DiversityView::hackingMarkerStep(core::RunId run) const
{
    const RunState *s = state(run);
    return s && s->hackingStep > 0 && (!s->oracle.empty() || !s->teacher.empty()) ? s->hackingStep
                                                                                  : -1;
}

QString DiversityView::csv() const
{
    QString out = QStringLiteral("run,series,step,index,value,text\n");
    if (m_sampleRun && m_samplesStep >= 0)
        for (std::size_t i = 0; i < m_samples.size(); ++i)
            out += QStringLiteral("%1,sample,%2,%3,,%4\n")
                       .arg(m_sampleRun)
                       .arg(m_samplesStep)
                       .arg(i)
                       .arg(textField(QString::fromStdString(m_samples[i])));
    for (core::RunId run : m_runs) {
        const RunState *s = state(run);
        if (!s)
            continue;
        for (int k = 0; k < 2; ++k)
            for (const auto &p : k == 0 ? s->oracle : s->teacher)
                out += QStringLiteral("%1,%2,%3,,%4,\n")
                           .arg(run)
                           .arg(k == 0 ? QStringLiteral("kl_oracle_student")
                                       : QStringLiteral("kl_teacher_student"))
                           .arg(p.step)
                           .arg(QString::number(p.value, 'g', 10));
    }
    return out;
}

bool DiversityView::savePng(const QString &path)
{
    if (m_plot->plottableCount() == 0)
        return DiagnosticView::savePng(path);
    const bool sized = m_plot->width() >= 100 && m_plot->height() >= 100;
    return m_plot->savePng(path, sized ? 0 : 700, sized ? 0 : 500, 2.0);
}

bool DiversityView::savePdf(const QString &path)
{
    if (m_plot->plottableCount() == 0)
        return DiagnosticView::savePdf(path);
    const bool sized = m_plot->width() >= 100 && m_plot->height() >= 100;
    return m_plot->savePdf(path, sized ? 0 : 700, sized ? 0 : 500);
}

} // namespace distillery::widgets
