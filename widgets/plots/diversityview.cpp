#include "plots/diversityview.h"

#include "plots/hackingplot.h"
#include "plots/samplebrowser.h"

#include <QLabel>
#include <QSplitter>
#include <QStackedWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery::widgets {

namespace {

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
    return SampleBrowser::visibleControls(text);
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
    m_browser = new SampleBrowser(m_splitter);
    m_plot = new HackingPlot(m_splitter);
    m_splitter->addWidget(m_browser);
    m_splitter->addWidget(m_plot);
    m_splitter->setStretchFactor(0, 4);
    m_splitter->setStretchFactor(1, 5);
    m_splitter->setSizes({4000, 5000}); // proportions until the user drags the handle

    connect(m_browser->stepSelector(), &StepSelector::stepChanged, this, [this] {
        if (!store())
            return; // the next refresh() with a store reads the step
        loadSamples();
        updateStats();
    });
    applyTheme();
    updateEmptyState();
}

DiversityView::~DiversityView() = default;

StepSelector *DiversityView::stepSelector() const
{
    return m_browser->stepSelector();
}

QCustomPlot *DiversityView::hackingPlot() const
{
    return m_plot;
}

int DiversityView::sampleCount() const
{
    return int(m_browser->samples().size());
}

QString DiversityView::samplesText() const
{
    return m_browser->samplesText();
}

QString DiversityView::statsText() const
{
    return m_browser->statsText();
}

QString DiversityView::hackingEmptyText() const
{
    return m_plot->note();
}

QString DiversityView::runName(core::RunId run) const
{
    const QString name = m_names.value(run);
    return name.isEmpty() ? tr("run %1").arg(run) : name;
}

const DiversityRunData *DiversityView::state(core::RunId run) const
{
    const auto it = m_state.find(run);
    return it != m_state.end() && m_runs.contains(run) ? &it->second : nullptr;
}

void DiversityView::refresh(const QList<core::RunId> &runs, const QHash<core::RunId, QString> &names)
{
    const core::StoreReader *reader = store();
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
        DiversityRunData &s = m_state[run];
        const DiversityUpdate update = updateDiversityRun(*reader, run, s);
        statsDirty |= update.measures;
        plotDirty |= update.kl;
        if (!sampleRun && !s.steps().empty())
            sampleRun = run;
    }
    if (sampleRun != m_sampleRun) {
        m_sampleRun = sampleRun;
        m_samplesStep = -1;
        m_browser->setSamples({});
        statsDirty = true;
    }
    const DiversityRunData *shown = state(m_sampleRun);
    const std::vector<std::int64_t> steps = shown ? shown->steps() : std::vector<std::int64_t>{};
    m_browser->stepSelector()->setSteps(steps);
    m_browser->setHasSteps(!steps.empty());
    if (loadSamples() || statsDirty || namesChanged)
        updateStats();
    if (plotDirty)
        rebuildPlot();
    updateEmptyState();
}

void DiversityView::clear()
{
    m_runs.clear();
    m_names.clear();
    m_state.clear();
    m_sampleRun = 0;
    m_samplesStep = -1;
    m_browser->setSamples({});
    m_browser->stepSelector()->setSteps({});
    m_browser->setHasSteps(false);
    updateStats();
    rebuildPlot();
    updateEmptyState();
}

bool DiversityView::loadSamples()
{
    const std::int64_t step = m_browser->stepSelector()->currentStep();
    if (step == m_samplesStep)
        return false;
    m_samplesStep = step;
    const core::StoreReader *reader = store();
    m_browser->setSamples(reader ? widgets::loadSamples(*reader, m_sampleRun, step)
                                 : std::vector<std::string>{});
    return true;
}

void DiversityView::updateStats()
{
    m_browser->setStats(runName(m_sampleRun), state(m_sampleRun),
                        m_browser->stepSelector()->currentStep());
}

void DiversityView::rebuildPlot()
{
    std::map<core::RunId, DiversityRunData> shown;
    for (core::RunId run : m_runs)
        if (const DiversityRunData *s = state(run))
            shown.emplace(run, *s);
    m_plot->setRuns(m_runs, m_names, shown);
}

void DiversityView::updateEmptyState()
{
    if (hasData()) {
        m_stack->setCurrentWidget(m_splitter);
        return;
    }
    if (!store() && m_runs.isEmpty())
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
    m_empty->setForegroundRole(QPalette::PlaceholderText); // the parts follow on their own
}

bool DiversityView::hasData() const
{
    if (sampleCount() > 0)
        return true;
    for (core::RunId run : m_runs)
        if (const DiversityRunData *s = state(run); s && (!s->oracle.empty() || !s->teacher.empty()))
            return true;
    return false;
}

core::PowerLawFit DiversityView::powerLawFit(core::RunId run, const QString &series) const
{
    const DiversityRunData *s = state(run);
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
    return m_plot->fitLegendText(run, seriesIndex(series));
}

int DiversityView::klPointCount(core::RunId run, const QString &series) const
{
    const DiversityRunData *s = state(run);
    const int k = seriesIndex(series);
    if (!s || k < 0)
        return 0;
    return int((k == 0 ? s->oracle : s->teacher).size());
}

std::int64_t DiversityView::hackingMarkerStep(core::RunId run) const
{
    const DiversityRunData *s = state(run);
    return s && s->hackingStep > 0 && (!s->oracle.empty() || !s->teacher.empty()) ? s->hackingStep
                                                                                  : -1;
}

QString DiversityView::csv() const
{
    QString out = QStringLiteral("run,series,step,index,value,text\n");
    const auto &samples = m_browser->samples();
    if (m_sampleRun && m_samplesStep >= 0)
        for (std::size_t i = 0; i < samples.size(); ++i)
            out += QStringLiteral("%1,sample,%2,%3,,%4\n")
                       .arg(m_sampleRun)
                       .arg(m_samplesStep)
                       .arg(i)
                       .arg(textField(QString::fromStdString(samples[i])));
    for (core::RunId run : m_runs) {
        const DiversityRunData *s = state(run);
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
