#include "plots/plotpanel.h"

#include "plots/alignmentview.h"
#include "plots/calibrationview.h"
#include "plots/diversityview.h"
#include "plots/tokenview.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QSplitter>
#include <QTabWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

namespace distillery::widgets {

namespace {

bool startsWith(const std::string &s, const char *prefix)
{
    return s.rfind(prefix, 0) == 0;
}

bool endsWith(const std::string &s, const std::string &suffix)
{
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

QSplitter *verticalSplitter(QWidget *parent)
{
    auto *splitter = new QSplitter(Qt::Vertical, parent);
    splitter->setChildrenCollapsible(false);
    splitter->setHandleWidth(6);
    return splitter;
}

} // namespace

bool PlotPanel::isSmoothedPlot(const QString &name)
{
    return name == QLatin1String("loss") || name == QLatin1String("teacher") ||
           name == QLatin1String("grad_norm") || name == QLatin1String("throughput");
}

QString PlotPanel::plotForKey(const std::string &key)
{
    if (key == "train/loss" || startsWith(key, "train/term/"))
        return QStringLiteral("loss");
    if (startsWith(key, "teacher/"))
        return QStringLiteral("teacher");
    if (startsWith(key, "eval/calibration/"))
        return endsWith(key, "/brier") ? QStringLiteral("brier") : QStringLiteral("calibration");
    if (startsWith(key, "diag/align/"))
        return endsWith(key, "/kl") || endsWith(key, "/top1_agree") ? QStringLiteral("agreement")
                                                                   : QStringLiteral("alignment");
    if (startsWith(key, "diag/diversity/") || startsWith(key, "diag/diversity_temp/")) {
        if (endsWith(key, "_entropy") || endsWith(key, "/entropy_ratio"))
            return QStringLiteral("entropy");
        if (endsWith(key, "/mean_length"))
            return {};
        return QStringLiteral("diversity");
    }
    if (startsWith(key, "eval/"))
        return endsWith(key, "_acc") ? QStringLiteral("accuracy") : QStringLiteral("eval");
    if (key == "train/lr")
        return QStringLiteral("lr");
    if (key == "train/grad_norm")
        return QStringLiteral("grad_norm");
    if (key == "train/tokens_per_s")
        return QStringLiteral("throughput");
    if (startsWith(key, "train/weight/") || startsWith(key, "train/temperature/") ||
        startsWith(key, "train/taid_t/") || key == "train/on_policy")
        return QStringLiteral("schedules");
    return {};
}

PlotPanel::PlotPanel(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);

    // Toolbar row.
    auto *bar = new QHBoxLayout;
    bar->setSpacing(6);
    bar->addWidget(new QLabel(tr("Smoothing"), this));
    m_smoothingCombo = new QComboBox(this);
    m_smoothingCombo->addItem(tr("None"), static_cast<int>(SmoothingMode::None));
    m_smoothingCombo->addItem(tr("EMA (debiased)"), static_cast<int>(SmoothingMode::Ema));
    m_smoothingCombo->addItem(tr("Moving average"), static_cast<int>(SmoothingMode::MovingAverage));
    m_smoothingCombo->setCurrentIndex(1);
    m_smoothingCombo->setToolTip(tr("How per-step training series (losses, gradient norm, "
                                    "throughput) are smoothed for drawing; the faint line is the "
                                    "raw series. Stored data are never changed."));
    bar->addWidget(m_smoothingCombo);
    m_strengthSlider = new QSlider(Qt::Horizontal, this);
    m_strengthSlider->setRange(0, 99);
    m_strengthSlider->setValue(80);
    m_strengthSlider->setFixedWidth(140);
    m_strengthSlider->setToolTip(tr("Smoothing strength"));
    bar->addWidget(m_strengthSlider);
    m_strengthLabel = new QLabel(this);
    m_strengthLabel->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("window 199")));
    bar->addWidget(m_strengthLabel);
    bar->addSpacing(12);
    m_logCheck = new QCheckBox(tr("Log y"), this);
    bar->addWidget(m_logCheck);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("X axis"), this));
    m_xAxisCombo = new QComboBox(this);
    m_xAxisCombo->addItem(tr("Step"), static_cast<int>(XAxisMode::Step));
    m_xAxisCombo->addItem(tr("Wall time"), static_cast<int>(XAxisMode::WallTime));
    m_xAxisCombo->addItem(tr("Tokens"), static_cast<int>(XAxisMode::Tokens));
    bar->addWidget(m_xAxisCombo);
    bar->addStretch(1);
    m_statusLabel = new QLabel(this);
    m_statusLabel->setEnabled(false); // drawn in the palette's disabled (grey) text colour
    bar->addWidget(m_statusLabel);
    layout->addLayout(bar);

    m_tabs = new QTabWidget(this);
    m_tabs->setDocumentMode(true);
    layout->addWidget(m_tabs, 1);

    {
        auto *splitter = verticalSplitter(m_tabs);
        splitter->addWidget(addPlot(QStringLiteral("loss"), tr("Training loss"), false));
        splitter->addWidget(addPlot(QStringLiteral("teacher"), tr("Teacher training loss"), true));
        splitter->setStretchFactor(0, 3);
        splitter->setStretchFactor(1, 1);
        m_tabs->addTab(splitter, tr("Loss"));
    }
    {
        auto *splitter = verticalSplitter(m_tabs);
        splitter->addWidget(addPlot(QStringLiteral("eval"),
                                    tr("Validation NLL and divergences (nats/token)"), false));
        splitter->addWidget(
            addPlot(QStringLiteral("accuracy"), tr("Validation top-1 accuracy"), false));
        splitter->setStretchFactor(0, 3);
        splitter->setStretchFactor(1, 2);
        m_tabs->addTab(splitter, tr("Evaluation"));
    }
    {
        auto *page = new QWidget(m_tabs);
        auto *rows = new QVBoxLayout(page);
        rows->setContentsMargins(0, 0, 0, 0);
        rows->setSpacing(6);
        auto *top = new QHBoxLayout;
        top->setSpacing(6);
        top->addWidget(addPlot(QStringLiteral("lr"), tr("Learning rate"), false));
        top->addWidget(addPlot(QStringLiteral("grad_norm"), tr("Gradient norm"), false));
        auto *bottom = new QHBoxLayout;
        bottom->setSpacing(6);
        bottom->addWidget(
            addPlot(QStringLiteral("throughput"), tr("Throughput (tokens/s)"), false));
        bottom->addWidget(addPlot(QStringLiteral("schedules"), tr("Scheduled values"), true));
        rows->addLayout(top);
        rows->addLayout(bottom);
        m_tabs->addTab(page, tr("Optimizer"));
    }
    {
        auto *splitter = new QSplitter(Qt::Horizontal, m_tabs);
        splitter->setChildrenCollapsible(false);
        m_calibrationView = new CalibrationView(splitter);
        splitter->addWidget(m_calibrationView);
        auto *right = verticalSplitter(splitter);
        right->addWidget(addPlot(QStringLiteral("calibration"),
                                 tr("ECE, MCE and confidence − accuracy over training"), false));
        right->addWidget(addPlot(QStringLiteral("brier"), tr("Brier score"), false));
        right->setStretchFactor(0, 3);
        right->setStretchFactor(1, 2);
        splitter->addWidget(right);
        splitter->setStretchFactor(0, 1);
        splitter->setStretchFactor(1, 1);
        m_tabs->addTab(splitter, tr("Calibration"));
    }
    {
        auto *splitter = new QSplitter(Qt::Horizontal, m_tabs);
        splitter->setChildrenCollapsible(false);
        auto *left = verticalSplitter(splitter);
        left->addWidget(addPlot(QStringLiteral("alignment"),
                                tr("Gradient alignment with the ideal gradient (cosine)"), false));
        left->addWidget(addPlot(QStringLiteral("agreement"),
                                tr("Teacher–student KL and top-1 agreement on the probes"), false));
        splitter->addWidget(left);
        m_alignmentView = new AlignmentView(splitter);
        splitter->addWidget(m_alignmentView);
        m_tabs->addTab(splitter, tr("Alignment"));
    }
    m_tokenView = new TokenView(m_tabs);
    m_tabs->addTab(m_tokenView, tr("Tokens"));
    {
        auto *splitter = verticalSplitter(m_tabs);
        auto *top = new QSplitter(Qt::Horizontal, splitter);
        top->setChildrenCollapsible(false);
        top->addWidget(addPlot(QStringLiteral("diversity"),
                               tr("Diversity of the student's samples"), false));
        top->addWidget(addPlot(QStringLiteral("entropy"),
                               tr("Entropies (nats) and student/teacher entropy ratio"), false));
        splitter->addWidget(top);
        m_diversityView = new DiversityView(splitter);
        splitter->addWidget(m_diversityView);
        splitter->setStretchFactor(0, 1);
        splitter->setStretchFactor(1, 1);
        m_tabs->addTab(splitter, tr("Diversity"));
    }
    // Schedules are exact, and evaluations are sparse averages already (an EMA over 20 points
    // lags badly): only the per-step training series are smoothed.
    for (const PlotEntry &e : m_plots)
        if (!isSmoothedPlot(e.name))
            e.plot->setSmoothing(SmoothingMode::None, 0.0);

    connect(m_tabs, &QTabWidget::currentChanged, this, &PlotPanel::refreshViews);
    // The views read through the cache's connection as it is when they read.
    for (DiagnosticView *view : diagnosticViews())
        view->setStoreSource([this]() -> const core::StoreReader * {
            return m_cache.isOpen() ? m_cache.reader() : nullptr;
        });

    m_timer = new QTimer(this);
    m_timer->setInterval(500);
    connect(m_timer, &QTimer::timeout, this, &PlotPanel::refresh);

    connect(m_smoothingCombo, qOverload<int>(&QComboBox::currentIndexChanged), this,
            &PlotPanel::applySmoothingFromControls);
    connect(m_strengthSlider, &QSlider::valueChanged, this, &PlotPanel::applySmoothingFromControls);
    connect(m_logCheck, &QCheckBox::toggled, this, [this](bool on) {
        for (MetricPlot *p : plots())
            p->setLogScale(on);
    });
    connect(m_xAxisCombo, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        const auto mode = static_cast<XAxisMode>(m_xAxisCombo->currentData().toInt());
        for (MetricPlot *p : plots())
            p->setXAxisMode(mode);
    });
    applySmoothingFromControls();
}

PlotPanel::~PlotPanel() = default;

MetricPlot *PlotPanel::addPlot(const QString &name, const QString &title, bool optional)
{
    auto *p = new MetricPlot(title, this);
    p->setVisible(!optional);
    m_plots.push_back(PlotEntry{name, p, optional});
    return p;
}

MetricPlot *PlotPanel::plot(const QString &name) const
{
    for (const PlotEntry &e : m_plots)
        if (e.name == name)
            return e.plot;
    return nullptr;
}

QList<MetricPlot *> PlotPanel::plots() const
{
    QList<MetricPlot *> list;
    for (const PlotEntry &e : m_plots)
        list.append(e.plot);
    return list;
}

void PlotPanel::setStorePath(const QString &path)
{
    m_cache.setStorePath(path);
    m_startTimes.clear();
    for (DiagnosticView *view : diagnosticViews())
        view->clear();
    for (const PlotEntry &e : m_plots) {
        e.plot->clearSeries();
        e.plot->setVisible(!e.optional);
    }
    refresh();
}

QString PlotPanel::storePath() const
{
    return m_cache.storePath();
}

void PlotPanel::setRuns(const QList<core::RunId> &runs)
{
    for (core::RunId old : std::as_const(m_runs)) {
        if (runs.contains(old))
            continue;
        for (const PlotEntry &e : m_plots)
            e.plot->removeRun(old);
        m_startTimes.erase(old);
    }
    m_runs = runs;
    m_cache.retainRuns(std::vector<core::RunId>(runs.begin(), runs.end()));
    refresh();
}

void PlotPanel::setLive(bool live)
{
    m_live = live;
    updateTimer();
}

void PlotPanel::setRefreshInterval(int milliseconds)
{
    m_timer->setInterval(milliseconds);
}

int PlotPanel::refreshInterval() const
{
    return m_timer->interval();
}

void PlotPanel::updateTimer()
{
    if (m_live && isVisible())
        m_timer->start();
    else
        m_timer->stop();
}

void PlotPanel::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    updateTimer();
    if (m_live)
        refresh();
    else
        refreshViews();
}

void PlotPanel::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    updateTimer();
}

void PlotPanel::setSmoothing(SmoothingMode mode, double strength)
{
    const int index = m_smoothingCombo->findData(static_cast<int>(mode));
    const QSignalBlocker b1(m_smoothingCombo);
    const QSignalBlocker b2(m_strengthSlider);
    m_smoothingCombo->setCurrentIndex(std::max(0, index));
    m_strengthSlider->setValue(
        static_cast<int>(std::lround(std::clamp(strength, 0.0, 0.99) * 100)));
    applySmoothingFromControls();
}

void PlotPanel::setLogScale(bool on)
{
    m_logCheck->setChecked(on);
}

void PlotPanel::setXAxisMode(XAxisMode mode)
{
    m_xAxisCombo->setCurrentIndex(std::max(0, m_xAxisCombo->findData(static_cast<int>(mode))));
}

void PlotPanel::applySmoothingFromControls()
{
    const auto mode = static_cast<SmoothingMode>(m_smoothingCombo->currentData().toInt());
    const double strength = m_strengthSlider->value() / 100.0;
    m_strengthSlider->setEnabled(mode != SmoothingMode::None);
    for (const PlotEntry &e : m_plots) {
        if (!isSmoothedPlot(e.name))
            continue;
        e.plot->setSmoothing(mode, strength);
    }
    updateStrengthLabel();
}

void PlotPanel::updateStrengthLabel()
{
    const auto mode = static_cast<SmoothingMode>(m_smoothingCombo->currentData().toInt());
    const double strength = m_strengthSlider->value() / 100.0;
    switch (mode) {
    case SmoothingMode::Ema:
        m_strengthLabel->setText(QString::number(emaWeightForStrength(strength), 'f', 2));
        break;
    case SmoothingMode::MovingAverage:
        m_strengthLabel->setText(tr("window %1").arg(movingAverageWindowForStrength(strength)));
        break;
    case SmoothingMode::None:
        m_strengthLabel->setText(QString());
        break;
    }
}

void PlotPanel::setStatus(const QString &text)
{
    if (m_statusLabel->text() != text)
        m_statusLabel->setText(text);
}

int PlotPanel::refresh()
{
    if (!m_cache.ensureOpen()) {
        setStatus(m_cache.storePath().isEmpty() ? QString() : m_cache.lastError());
        return 0;
    }
    setStatus(QString());
    refreshViews();
    // Discover keys on every refresh, so terms that appear during a run show up live.
    for (core::RunId run : std::as_const(m_runs)) {
        for (const std::string &key : m_cache.keys(run))
            if (!plotForKey(key).isEmpty())
                m_cache.track(run, key);
    }
    std::vector<SeriesCache::SeriesKey> changed;
    const int added = m_cache.refresh(&changed);
    if (changed.empty())
        return added;

    // Wall time counts from the run's first point; when that moves, every series of the run
    // is redrawn.
    std::set<core::RunId> moved;
    for (core::RunId run : std::as_const(m_runs)) {
        const double start = m_cache.startTime(run);
        const auto found = m_startTimes.find(run);
        if (found == m_startTimes.end() || found->second != start) {
            if (found != m_startTimes.end())
                moved.insert(run);
            m_startTimes[run] = start;
        }
    }
    if (!moved.empty()) {
        for (core::RunId run : moved)
            for (const std::string &key : m_cache.keys(run))
                if (m_cache.series(run, key))
                    changed.emplace_back(run, key);
        std::sort(changed.begin(), changed.end());
        changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    }

    for (const auto &[run, key] : changed) {
        MetricPlot *p = plot(plotForKey(key));
        const SeriesData *data = m_cache.series(run, key);
        if (!p || !data)
            continue;
        const auto info = m_cache.runInfo(run);
        QString name = info ? QString::fromStdString(info->name) : QString();
        if (name.isEmpty())
            name = tr("run %1").arg(run);
        p->setRunName(run, name);
        p->setSeriesData(run, QString::fromStdString(key), *data, m_cache.startTime(run),
                         m_cache.tokensPerStep(run));
        if (p->isHidden())
            for (const PlotEntry &e : m_plots)
                if (e.plot == p && e.optional)
                    p->setVisible(true);
    }
    if (added > 0)
        emit pointsAdded(added);
    return added;
}

QList<DiagnosticView *> PlotPanel::diagnosticViews() const
{
    return {m_calibrationView, m_alignmentView, m_tokenView, m_diversityView};
}

// Only the views on screen read the store; a view catches up when its tab is shown.
void PlotPanel::refreshViews()
{
    QList<DiagnosticView *> shown;
    for (DiagnosticView *view : diagnosticViews())
        if (view->isVisible())
            shown.append(view);
    if (shown.isEmpty() || !m_cache.ensureOpen())
        return;
    QHash<core::RunId, QString> names;
    for (core::RunId run : std::as_const(m_runs)) {
        const auto info = m_cache.runInfo(run);
        names.insert(run, info && !info->name.empty() ? QString::fromStdString(info->name)
                                                      : tr("run %1").arg(run));
    }
    for (DiagnosticView *view : std::as_const(shown))
        view->refresh(m_runs, names);
}

} // namespace distillery::widgets
