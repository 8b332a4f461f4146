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
