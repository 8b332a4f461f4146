#include "compare/comparisonview.h"

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

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A table cell that sorts by a number (missing values first) instead of its text.
class NumberItem : public QTableWidgetItem
{
public:
    NumberItem(const QString &text, double value)
        : QTableWidgetItem(text)
    {
        setData(Qt::UserRole, std::isfinite(value) ? value : -std::numeric_limits<double>::infinity());
        setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    bool operator<(const QTableWidgetItem &other) const override
    {
        return data(Qt::UserRole).toDouble() < other.data(Qt::UserRole).toDouble();
    }
};

QColor groupColor(int index)
{
    static const QColor palette[] = {QColor(31, 119, 180), QColor(214, 39, 40), QColor(44, 160, 44),
                                     QColor(255, 127, 14), QColor(148, 103, 189), QColor(140, 86, 75),
                                     QColor(227, 119, 194), QColor(23, 190, 207), QColor(127, 127, 127),
                                     QColor(188, 189, 34)};
    return palette[index % int(sizeof palette / sizeof *palette)];
}

QString qs(const std::string &text)
{
    return QString::fromStdString(text);
}

QIcon swatch(const QColor &color)
{
    QPixmap pixmap(14, 14);
    pixmap.fill(color);
    return QIcon(pixmap);
}

// A plot on a hidden tab has no paint buffer to draw into: it is drawn when its tab is shown.
void replotIfShown(QCustomPlot *plot)
{
    if (plot->isVisible())
        plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace

// What the worker reads for one metric: each group's aggregate and each run's points.
struct ComparisonView::CurveData
{
    std::vector<std::vector<BandPoint>> groups;
    std::vector<std::vector<ScalarPoint>> runs; // in the order of the compared runs
    QString error;
};

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

QString quantityLabel(const QString &name)
{
    if (name == QLatin1String("student.params"))
        return QObject::tr("student parameters");
    if (name == QLatin1String("student.flops"))
        return QObject::tr("student FLOPs/token");
    const int colon = name.lastIndexOf(QLatin1Char(':'));
    if (colon < 0)
        return name.contains(QLatin1Char('/')) ? qs(metricLabel(name.toStdString())) : name;
    return qs(metricLabel(name.left(colon).toStdString())) + QStringLiteral(" (") + name.mid(colon + 1) +
           QStringLiteral(")");
}

} // namespace

ComparisonView::ComparisonView(QWidget *parent)
    : QWidget(parent)
    , m_generation(std::make_shared<std::atomic<int>>(0))
{
    auto *layout = new QVBoxLayout(this);
    auto *header = new QHBoxLayout;
    m_summary = new QLabel(this);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    header->addWidget(m_summary, 1);
    header->addWidget(new QLabel(tr("Group by:"), this));
    m_groupBy = new QComboBox(this);
    m_groupBy->setMinimumContentsLength(18);
    m_groupBy->setToolTip(tr("Runs in one group are averaged: mean ± std in the table, a band in the curves. "
                             "auto: the parameters that differ, except the seed."));
    header->addWidget(m_groupBy);
    auto *report = new QPushButton(tr("Export report…"), this);
    report->setToolTip(tr("One self-contained HTML file: runs, metric table, config diff and the plots"));
    header->addWidget(report);
    layout->addLayout(header);
    m_tabs = new QTabWidget(this);
    layout->addWidget(m_tabs, 1);
    buildConfigTab();
    buildMetricsTab();
    buildCurvesTab();
    buildScatterTab();
    buildParallelTab();
    connect(m_groupBy, QOverload<int>::of(&QComboBox::activated), this, [this] { regroup(); });
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] {
        for (QCustomPlot *plot : {m_curvePlot, m_scatterPlot, m_parallelPlot})
            replotIfShown(plot);
    });
    connect(report, &QPushButton::clicked, this, &ComparisonView::exportReportInteractive);
}

ComparisonView::~ComparisonView()
{
    m_generation->fetch_add(1); // results still on their way are dropped
}

// ---- Loading -------------------------------------------------------------------------------

bool ComparisonView::setRuns(const QString &storePath, const QList<qint64> &runIds, QString *error)
{
    auto fail = [&](const QString &why) {
        if (error)
            *error = why;
        Q_EMIT errorOccurred(why);
        return false;
    };
    if (runIds.size() < 1)
        return fail(tr("Select at least one run to compare."));
    auto reader = StoreReader::open(storePath.toStdString());
    if (!reader.ok())
        return fail(qs(reader.error().message));
    std::vector<RunId> ids;
    for (qint64 id : runIds)
        if (std::find(ids.begin(), ids.end(), RunId(id)) == ids.end())
            ids.push_back(RunId(id));
    auto runs = loadComparedRuns(*reader.value(), ids);
    if (!runs.ok())
        return fail(qs(runs.error().message));
    m_storePath = storePath;
    m_reader = std::move(reader).value();
    m_runs = std::move(runs).value();
    m_columns = defaultMetricColumns(m_runs);
    m_hiddenCurves.clear();
    setWindowTitle(tr("Compare runs %1").arg([&] {
        QStringList list;
        for (const ComparedRun &r : m_runs)
            list << QString::number(r.info.id);
        return list.join(QStringLiteral(", "));
    }()));
    m_reference->blockSignals(true);
    m_reference->clear();
    for (const ComparedRun &r : m_runs)
        m_reference->addItem(tr("run %1 %2").arg(r.info.id).arg(qs(r.info.name)), qint64(r.info.id));
    m_reference->blockSignals(false);
    m_config = core::configDiff(m_runs, 0);
    fillGroupBy();
    // Curve metric: the table's first column, else the training loss.
    m_curveMetric->blockSignals(true);
    m_curveMetric->clear();
    for (const std::string &key : seriesKeys(m_runs))
        m_curveMetric->addItem(qs(metricLabel(key)) == qs(key) ? qs(key) : qs(metricLabel(key)) + QStringLiteral("  —  ") + qs(key),
                               qs(key));
    const QString first = m_columns.empty() ? QStringLiteral("train/loss") : qs(m_columns.front().key);
    m_curveMetric->setCurrentIndex(std::max(0, m_curveMetric->findData(first)));
    m_curveMetric->blockSignals(false);
    fillQuantities();
    regroup();
    return true;
}

QList<qint64> ComparisonView::runIds() const
{
    QList<qint64> ids;
    for (const ComparedRun &r : m_runs)
        ids << r.info.id;
    return ids;
}

bool ComparisonView::showTab(const QString &name)
{
    for (int i = 0; i < m_tabs->count(); ++i)
        if (m_tabs->tabText(i).remove(QLatin1Char('&')).compare(name, Qt::CaseInsensitive) == 0) {
            m_tabs->setCurrentIndex(i);
            return true;
        }
    return false;
}

void ComparisonView::fillGroupBy()
{
    const QString current = groupBy();
    m_groupBy->clear();
    QStringList autoFields;
    for (const std::string &f : autoGroupFields(m_runs))
        autoFields << qs(f);
    m_groupBy->addItem(autoFields.isEmpty() ? tr("auto (nothing differs but the seed)")
                                            : tr("auto (%1)").arg(autoFields.join(QStringLiteral(", "))),
                       QStringLiteral("auto"));
    m_groupBy->addItem(tr("none (every run alone)"), QStringLiteral("none"));
    for (const char *field : {"template", "tag", "group", "status"})
        m_groupBy->addItem(QString::fromLatin1(field), QString::fromLatin1(field));
    for (const ConfigRow &row : m_config.rows)
        if (row.differs)
            m_groupBy->addItem(qs(row.name), qs(row.name));
    m_groupBy->setCurrentIndex(std::max(0, m_groupBy->findData(current.isEmpty() ? QStringLiteral("auto") : current)));
}

void ComparisonView::setGroupBy(const QString &field)
{
    int index = m_groupBy->findData(field);
    if (index < 0) {
        m_groupBy->addItem(field, field);
        index = m_groupBy->count() - 1;
    }
    m_groupBy->setCurrentIndex(index);
    regroup();
}

QString ComparisonView::groupBy() const
{
    return m_groupBy->currentData().toString();
}

void ComparisonView::regroup()
{
    auto groups = groupRuns(m_runs, {groupBy().toStdString()});
    if (!groups.ok()) {
        Q_EMIT errorOccurred(qs(groups.error().message));
        groups = groupRuns(m_runs, {"none"});
    }
    m_groups = std::move(groups).value();
    int finished = 0;
    for (const ComparedRun &r : m_runs)
        finished += r.info.status == RunStatus::Finished;
    m_summary->setText(tr("<b>%1 runs</b> in %2 groups · %3 finished · store %4")
                           .arg(m_runs.size())
                           .arg(m_groups.size())
                           .arg(finished)
                           .arg(m_storePath.toHtmlEscaped()));
    fillConfig();
    fillMetrics();
    drawScatter();
    drawParallel();
    loadCurves();
}

// ---- Config --------------------------------------------------------------------------------

void ComparisonView::buildConfigTab()
{
    auto *page = new QWidget(this);
    auto *layout = new QVBoxLayout(page);
    auto *bar = new QHBoxLayout;
    m_onlyDiff = new QCheckBox(tr("Only differences"), page);
    m_onlyDiff->setChecked(true);
    bar->addWidget(m_onlyDiff);
    bar->addSpacing(16);
    bar->addWidget(new QLabel(tr("Reference:"), page));
    m_reference = new QComboBox(page);
    m_reference->setToolTip(tr("Cells that differ from this run are highlighted"));
    bar->addWidget(m_reference);
    bar->addStretch(1);
    auto *copy = new QPushButton(tr("Copy"), page);
    copy->setToolTip(tr("The visible rows as tab-separated text"));
    bar->addWidget(copy);
    layout->addLayout(bar);
    auto *split = new QSplitter(Qt::Vertical, page);
    m_configTable = new QTableWidget(split);
    m_configTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_configTable->verticalHeader()->setVisible(false);
    m_configTable->setAlternatingRowColors(true);
    m_structure = new QListWidget(split);
    m_structure->setToolTip(tr("Nodes added or removed and edges rewired, against the reference run"));
    split->setStretchFactor(0, 4);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);
    m_tabs->addTab(page, tr("Config"));
    connect(m_onlyDiff, &QCheckBox::toggled, this, [this] { fillConfig(); });
    connect(m_reference, QOverload<int>::of(&QComboBox::activated), this, [this](int index) {
        m_config = core::configDiff(m_runs, std::size_t(std::max(0, index)));
        fillConfig();
    });
    connect(copy, &QPushButton::clicked, this, [this] {
        QStringList lines;
        QStringList header;
        for (int c = 0; c < m_configTable->columnCount(); ++c)
            header << m_configTable->horizontalHeaderItem(c)->text();
        lines << header.join(QLatin1Char('\t'));
        for (int r = 0; r < m_configTable->rowCount(); ++r) {
            QStringList cells;
            for (int c = 0; c < m_configTable->columnCount(); ++c)
                cells << (m_configTable->item(r, c) ? m_configTable->item(r, c)->text() : QString());
            lines << cells.join(QLatin1Char('\t'));
        }
        QApplication::clipboard()->setText(lines.join(QLatin1Char('\n')));
    });
}

void ComparisonView::setReferenceRun(qint64 runId)
{
    const int index = m_reference->findData(runId);
    if (index < 0)
        return;
    m_reference->setCurrentIndex(index);
    m_config = core::configDiff(m_runs, std::size_t(index));
    fillConfig();
}

void ComparisonView::fillConfig()
{
    const bool only = m_onlyDiff->isChecked();
    m_configTable->clear();
    m_configTable->setColumnCount(int(m_runs.size()) + 1);
    QStringList headers{tr("parameter")};
    for (std::size_t r = 0; r < m_runs.size(); ++r)
        headers << tr("run %1%2").arg(m_runs[r].info.id).arg(r == m_config.reference ? tr(" (reference)") : QString());
    m_configTable->setHorizontalHeaderLabels(headers);
    int rows = 0;
    for (const ConfigRow &row : m_config.rows)
        rows += !only || row.differs;
    m_configTable->setRowCount(rows);
    const QColor changed = palette().color(QPalette::Base).lightness() > 128 ? QColor(255, 236, 170) : QColor(110, 90, 20);
    int at = 0;
    int differing = 0;
    for (const ConfigRow &row : m_config.rows) {
        differing += row.differs;
        if (only && !row.differs)
            continue;
        auto *name = new QTableWidgetItem(qs(row.name));
        if (row.isSeed) {
            QFont f = name->font();
            f.setItalic(true);
            name->setFont(f);
            name->setToolTip(tr("The run seed: runs that differ only in it are repetitions"));
        }
        m_configTable->setItem(at, 0, name);
        for (std::size_t r = 0; r < row.values.size(); ++r) {
            auto *cell = new QTableWidgetItem(row.values[r] ? qs(*row.values[r]) : QStringLiteral("–"));
            if (r != m_config.reference && row.values[r] != row.values[m_config.reference]) {
                cell->setBackground(changed);
                cell->setToolTip(tr("reference: %1").arg(row.values[m_config.reference]
                                                             ? qs(*row.values[m_config.reference])
                                                             : tr("(not in its graph)")));
            }
            m_configTable->setItem(at, int(r) + 1, cell);
        }
        ++at;
    }
    m_configTable->resizeColumnsToContents();
    m_configTable->horizontalHeader()->setStretchLastSection(false);
    m_structure->clear();
    for (std::size_t r = 0; r < m_config.structure.size(); ++r)
        for (const std::string &line : m_config.structure[r])
            m_structure->addItem(tr("run %1: %2").arg(m_runs[r].info.id).arg(qs(line)));
    if (m_structure->count() == 0)
        m_structure->addItem(tr("Same graph structure in every run (nodes and edges); %1 of %2 parameters differ.")
                                 .arg(differing)
                                 .arg(m_config.rows.size()));
}

// ---- Metrics -------------------------------------------------------------------------------

void ComparisonView::buildMetricsTab()
{
    auto *page = new QWidget(this);
    auto *layout = new QVBoxLayout(page);
    auto *bar = new QHBoxLayout;
    m_columnsButton = new QToolButton(page);
    m_columnsButton->setText(tr("Columns…"));
    m_columnsButton->setToolTip(tr("Choose the metrics shown"));
    bar->addWidget(m_columnsButton);
    bar->addWidget(new QLabel(tr("Value:"), page));
    m_reduce = new QComboBox(page);
    m_reduce->addItem(tr("last"), QStringLiteral("last"));
    m_reduce->addItem(tr("best (min or max by metric)"), QStringLiteral("best"));
    m_reduce->addItem(tr("min"), QStringLiteral("min"));
    m_reduce->addItem(tr("max"), QStringLiteral("max"));
    bar->addWidget(m_reduce);
    bar->addStretch(1);
    auto *copy = new QPushButton(tr("Copy CSV"), page);
    auto *save = new QPushButton(tr("Save CSV…"), page);
    bar->addWidget(copy);
    bar->addWidget(save);
    layout->addLayout(bar);
    m_metricTable = new QTableWidget(page);
    m_metricTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_metricTable->setSortingEnabled(true);
    m_metricTable->verticalHeader()->setVisible(false);
    layout->addWidget(m_metricTable, 1);
    auto *note = new QLabel(tr("Groups show mean ± sample standard deviation over their runs (n); a single run "
                               "shows its value and the step it was reached at. Click a header to sort."),
                            page);
    note->setWordWrap(true);
    layout->addWidget(note);
    m_tabs->addTab(page, tr("Metrics"));
    connect(m_columnsButton, &QToolButton::clicked, this, &ComparisonView::chooseColumns);
    connect(m_reduce, QOverload<int>::of(&QComboBox::activated), this, [this] {
        const auto reduce = metricReduceFromName(m_reduce->currentData().toString().toStdString());
        for (MetricColumn &c : m_columns)
            c.reduce = reduce.value_or(MetricReduce::Last);
        fillMetrics();
    });
    connect(copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(metricCsv()); });
    connect(save, &QPushButton::clicked, this, &ComparisonView::saveMetricCsv);
}

void ComparisonView::setMetricColumns(const QStringList &columns)
{
    std::vector<MetricColumn> parsed;
    const std::vector<std::string> known = seriesKeys(m_runs);
    for (const QString &text : columns) {
        auto column = parseMetricColumn(text.toStdString(), known);
        if (!column.ok()) {
            Q_EMIT errorOccurred(qs(column.error().message));
            continue;
        }
        parsed.push_back(column.value());
    }
    m_columns = parsed;
    fillMetrics();
}

QStringList ComparisonView::metricColumns() const
{
    QStringList out;
    for (const MetricColumn &c : m_columns)
        out << qs(c.key + ":" + metricReduceName(c.reduce));
    return out;
}

void ComparisonView::chooseColumns()
{
    QMenu menu(this);
    std::set<std::string> chosen;
    for (const MetricColumn &c : m_columns)
        chosen.insert(c.key);
    QString section;
    for (const std::string &key : seriesKeys(m_runs)) {
        const QString prefix = qs(key.substr(0, key.find('/')));
        if (prefix != section) {
            menu.addSection(prefix);
            section = prefix;
        }
        QAction *a = menu.addAction(qs(key));
        a->setCheckable(true);
        a->setChecked(chosen.count(key));
        a->setData(qs(key));
    }
    QAction *picked = menu.exec(m_columnsButton->mapToGlobal(QPoint(0, m_columnsButton->height())));
    if (!picked)
        return;
    const std::string key = picked->data().toString().toStdString();
    if (picked->isChecked()) {
        const auto reduce = metricReduceFromName(m_reduce->currentData().toString().toStdString());
        m_columns.push_back({key, reduce.value_or(MetricReduce::Last)});
    } else {
        m_columns.erase(std::remove_if(m_columns.begin(), m_columns.end(),
                                       [&](const MetricColumn &c) { return c.key == key; }),
                        m_columns.end());
    }
    fillMetrics();
    fillQuantities();
}

void ComparisonView::fillMetrics()
{
    m_table = core::metricTable(m_runs, m_groups, m_columns);
    m_metricTable->setSortingEnabled(false);
    m_metricTable->clear();
    m_metricTable->setColumnCount(int(m_columns.size()) + 2);
    QStringList headers{tr("group"), tr("runs")};
    for (const MetricColumn &c : m_columns) {
        const MetricGoal goal = metricGoal(c.key);
        headers << qs(c.title()) + (goal == MetricGoal::Lower ? QStringLiteral(" ↓") : goal == MetricGoal::Higher ? QStringLiteral(" ↑") : QString());
    }
    m_metricTable->setHorizontalHeaderLabels(headers);
    for (int c = 0; c < int(m_columns.size()); ++c)
    {
        const std::string &key = m_columns[std::size_t(c)].key;
        const MetricGoal goal = metricGoal(key);
        m_metricTable->horizontalHeaderItem(c + 2)->setToolTip(
            qs(key) + (goal == MetricGoal::Lower    ? tr(" — lower is better")
                       : goal == MetricGoal::Higher ? tr(" — higher is better")
                                                    : QString()));
    }
    m_metricTable->setRowCount(int(m_table.rows.size()));
    for (int r = 0; r < int(m_table.rows.size()); ++r) {
        const MetricTableRow &row = m_table.rows[std::size_t(r)];
        auto *label = new QTableWidgetItem(qs(row.label));
        label->setIcon(swatch(groupColor(r)));
        m_metricTable->setItem(r, 0, label);
        QStringList ids;
        for (std::size_t id : row.runs)
            ids << QString::number(id);
        m_metricTable->setItem(r, 1, new NumberItem(ids.join(QStringLiteral(", ")), double(row.runs.size())));
        for (int c = 0; c < int(row.cells.size()); ++c) {
            const Summary &s = row.cells[std::size_t(c)];
            QString text = qs(formatSummary(s));
            if (row.steps[std::size_t(c)] >= 0)
                text += tr("  @%1").arg(row.steps[std::size_t(c)]);
            auto *cell = new NumberItem(text, s.n ? s.mean : kNaN);
            if (s.n > 1)
                cell->setToolTip(tr("mean %1, std %2, min %3, max %4 over %5 runs")
                                     .arg(s.mean, 0, 'g', 6).arg(s.std, 0, 'g', 4).arg(s.min, 0, 'g', 6)
                                     .arg(s.max, 0, 'g', 6).arg(s.n));
            m_metricTable->setItem(r, c + 2, cell);
        }
    }
    m_metricTable->setSortingEnabled(true);
    m_metricTable->resizeColumnsToContents();
}

void ComparisonView::saveMetricCsv()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Save metric table"), QStringLiteral("metrics.csv"),
                                                      tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(metricCsv().toUtf8()) < 0 || !file.commit())
        QMessageBox::warning(this, tr("Save metric table"), tr("Cannot write %1: %2").arg(path, file.errorString()));
}

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

// ---- Export --------------------------------------------------------------------------------

void ComparisonView::savePlot(QCustomPlot *plot, const QString &what)
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Save %1").arg(what), what + QStringLiteral(".png"),
                                                      tr("PNG image (*.png);;PDF document (*.pdf)"));
    if (path.isEmpty())
        return;
    const bool ok = path.endsWith(QLatin1String(".pdf"), Qt::CaseInsensitive) ? plot->savePdf(path) : plot->savePng(path);
    if (!ok)
        QMessageBox::warning(this, tr("Save %1").arg(what), tr("Cannot write %1").arg(path));
}

bool ComparisonView::exportReport(const QString &path, QString *error)
{
    auto pngOf = [](QCustomPlot *plot) {
        QByteArray bytes;
        QBuffer buffer(&bytes);
        buffer.open(QIODevice::WriteOnly);
        plot->toPixmap(1000, 520).save(&buffer, "PNG");
        return bytes.toStdString();
    };
    ReportContent content;
    content.title = tr("Distillery comparison of %1 runs").arg(m_runs.size()).toStdString();
    content.storePath = m_storePath.toStdString();
    content.runs = &m_runs;
    content.config = &m_config;
    content.table = &m_table;
    content.createdAt = double(QDateTime::currentSecsSinceEpoch());
    if (!m_curves.empty())
        content.figures.push_back({tr("%1 by group (%2)").arg(quantityLabel(curveMetric()), m_band->currentText()).toStdString(),
                                   "image/png", pngOf(m_curvePlot)});
    if (!m_points.empty())
        content.figures.push_back({(quantityLabel(m_scatterY->currentData().toString()) + tr(" against ") +
                                    quantityLabel(m_scatterX->currentData().toString()) + QStringLiteral(". ") +
                                    m_scatterNote).toStdString(),
                                   "image/png", pngOf(m_scatterPlot)});
    const std::string html = comparisonReportHtml(content);
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(html.data(), qint64(html.size())) < 0 || !file.commit()) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

void ComparisonView::exportReportInteractive()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Export comparison report"),
                                                      QStringLiteral("comparison.html"), tr("HTML files (*.html)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportReport(path, &error))
        QMessageBox::warning(this, tr("Export comparison report"), error);
}

} // namespace distillery::widgets
