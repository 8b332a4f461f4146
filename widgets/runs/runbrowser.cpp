#include "runs/runbrowser.h"

#include "runs/runtablemodel.h"
#include "export/exportdialog.h"
#include "export/trydialog.h"

#include "distillery/core/store.h"

#include <QAction>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QInputDialog>
#include <QKeyEvent>
#include <QSettings>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStyle>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <functional>
#include <tuple>

namespace distillery::widgets {

namespace {

// The run table's keys (also shown in its context menu and the buttons' tooltips).
const QKeySequence kRenameKey(Qt::Key_F2);
const QKeySequence kDeleteKey(Qt::Key_Delete);
const QKeySequence kOpenGraphKey(Qt::Key_Return);
const QKeySequence kResumeKey(Qt::CTRL | Qt::SHIFT | Qt::Key_R);
const QKeySequence kExportKey(Qt::CTRL | Qt::SHIFT | Qt::Key_E);
const QKeySequence kTryKey(Qt::CTRL | Qt::SHIFT | Qt::Key_T);
const QKeySequence kCompareKey(Qt::CTRL | Qt::SHIFT | Qt::Key_C);
const QKeySequence kTagKey(Qt::CTRL | Qt::SHIFT | Qt::Key_G);

// Filters on name, template, status, group and tags; case-insensitive substring.
class RunFilterProxy : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

    void setText(const QString &text)
    {
        m_text = text.trimmed();
        invalidateFilter();
    }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override
    {
        if (m_text.isEmpty())
            return true;
        for (int column : {RunTableModel::NameColumn, RunTableModel::TemplateColumn,
                           RunTableModel::StatusColumn, RunTableModel::GroupColumn,
                           RunTableModel::TagsColumn}) {
            const QString value =
                sourceModel()->index(sourceRow, column, sourceParent).data().toString();
            if (value.contains(m_text, Qt::CaseInsensitive))
                return true;
        }
        return false;
    }

private:
    QString m_text;
};

} // namespace

RunBrowser::RunBrowser(QWidget *parent)
    : QWidget(parent)
{
    m_model = new RunTableModel(this);
    auto *proxy = new RunFilterProxy(this);
    proxy->setSourceModel(m_model);
    proxy->setSortRole(RunTableModel::SortRole);
    proxy->setDynamicSortFilter(true);
    m_proxy = proxy;

    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(tr("Filter by name, template, status, group or tag"));
    m_filter->setClearButtonEnabled(true);

    m_view = new QTableView(this);
    m_view->setModel(m_proxy);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(RunTableModel::IdColumn, Qt::DescendingOrder);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 8);
    m_view->horizontalHeader()->setStretchLastSection(false);
    m_view->horizontalHeader()->setSectionResizeMode(RunTableModel::NameColumn,
                                                     QHeaderView::Stretch);
    m_view->horizontalHeader()->setHighlightSections(false);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->setColumnWidth(RunTableModel::IdColumn, 48);
    m_view->setColumnWidth(RunTableModel::StatusColumn, 80);
    m_view->setColumnWidth(RunTableModel::TemplateColumn, 110);
    m_view->setColumnWidth(RunTableModel::StepsColumn, 80);
    m_view->setColumnWidth(RunTableModel::DurationColumn, 75);
    m_view->setColumnWidth(RunTableModel::KlColumn, 100);
    m_view->setColumnWidth(RunTableModel::NllColumn, 100);
    m_view->setColumnWidth(RunTableModel::SeedColumn, 50);
    m_view->setColumnWidth(RunTableModel::KlOracleColumn, 100);
    m_view->setColumnWidth(RunTableModel::GroupColumn, 130);
    m_view->setColumnWidth(RunTableModel::TagsColumn, 120);

    m_rename = new QPushButton(tr("Rename"), this);
    m_rename->setToolTip(tr("Rename the run (%1)").arg(kRenameKey.toString(QKeySequence::NativeText)));
    m_delete = new QPushButton(style()->standardIcon(QStyle::SP_TrashIcon), tr("Delete"), this);
    m_delete->setToolTip(tr("Delete the selected runs and their files (%1)")
                             .arg(kDeleteKey.toString(QKeySequence::NativeText)));
    m_openGraph =
        new QPushButton(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("Open graph"), this);
    m_openGraph->setToolTip(tr("Open the experiment graph this run was trained with (%1)")
                                .arg(kOpenGraphKey.toString(QKeySequence::NativeText)));
    m_resume = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("Resume"), this);
    m_resume->setToolTip(tr("Continue a cancelled, interrupted or failed run from its newest "
                            "checkpoint (%1)")
                             .arg(kResumeKey.toString(QKeySequence::NativeText)));
    m_export = new QPushButton(tr("Export…"), this);
    m_export->setToolTip(tr("Write the run's trained student as a Hugging Face folder or TorchScript (%1)")
                             .arg(kExportKey.toString(QKeySequence::NativeText)));
    m_compare = new QPushButton(tr("Compare"), this);
    m_compare->setToolTip(tr("Compare the selected runs: config diff, metric table with mean ± std, curves by "
                             "group with bands, trade-off plots (%1)")
                              .arg(kCompareKey.toString(QKeySequence::NativeText)));
    m_tag = new QPushButton(tr("Tag…"), this);
    m_tag->setToolTip(tr("Set the tags of the selected runs (%1); filter by a tag in the field on the left")
                          .arg(kTagKey.toString(QKeySequence::NativeText)));
    m_view->installEventFilter(this);
    auto *refreshButton =
        new QPushButton(style()->standardIcon(QStyle::SP_BrowserReload), QString(), this);
    refreshButton->setToolTip(tr("Re-read the store now (it is re-read every second anyway)"));

    m_message = new QLabel(this);
    m_message->setWordWrap(true);
    m_message->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_message->hide();

    auto *top = new QHBoxLayout;
    top->addWidget(m_filter, 1);
    top->addWidget(m_rename);
    top->addWidget(m_delete);
    top->addWidget(m_openGraph);
    top->addWidget(m_resume);
    top->addWidget(m_export);
    top->addWidget(m_compare);
    top->addWidget(m_tag);
    top->addWidget(refreshButton);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_message);

    m_timer = new QTimer(this);
    m_timer->setInterval(1000);
    connect(m_timer, &QTimer::timeout, this, &RunBrowser::refresh);

    connect(m_filter, &QLineEdit::textChanged, this, &RunBrowser::setFilterText);
    connect(m_rename, &QPushButton::clicked, this, &RunBrowser::renameCurrent);
    connect(m_delete, &QPushButton::clicked, this, &RunBrowser::deleteSelected);
    connect(m_openGraph, &QPushButton::clicked, this, &RunBrowser::openCurrentGraph);
    connect(m_resume, &QPushButton::clicked, this, &RunBrowser::resumeCurrent);
    connect(m_export, &QPushButton::clicked, this, &RunBrowser::exportCurrent);
    connect(m_compare, &QPushButton::clicked, this, &RunBrowser::compareSelected);
    connect(m_tag, &QPushButton::clicked, this, &RunBrowser::tagSelected);
    connect(refreshButton, &QPushButton::clicked, this, &RunBrowser::refresh);
    connect(m_view, &QTableView::customContextMenuRequested, this, &RunBrowser::showContextMenu);
    m_view->horizontalHeader()->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->horizontalHeader()->setToolTip(tr("Right-click to add a column: any parameter or metric"));
    connect(m_view->horizontalHeader(), &QHeaderView::customContextMenuRequested, this, &RunBrowser::showHeaderMenu);
    m_model->setExtraColumns(QSettings().value(QStringLiteral("runs/extraColumns")).toStringList());
    connect(m_view, &QTableView::activated, this, [this](const QModelIndex &index) {
        if (index.column() != RunTableModel::NameColumn)
            openCurrentGraph();
    });
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &RunBrowser::emitSelectionIfChanged);
    // Rows removed by a refresh drop out of the selection without a selectionChanged per row.
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &RunBrowser::emitSelectionIfChanged);
    connect(m_model, &RunTableModel::errorOccurred, this, [this](const QString &message) {
        m_message->setText(message);
        m_message->setVisible(!message.isEmpty());
    });
    updateActions();
}

void RunBrowser::setStorePath(const QString &path)
{
    m_message->hide();
    m_model->setStorePath(path);
    updateActions();
}

QString RunBrowser::storePath() const
{
    return m_model->storePath();
}

void RunBrowser::refresh()
{
    if (m_model->refresh())
        m_message->hide();
    updateActions();
}

QList<qint64> RunBrowser::selectedRunIds() const
{
    QList<qint64> ids;
    for (const QModelIndex &index : m_view->selectionModel()->selectedRows())
        ids << index.data(RunTableModel::RunIdRole).toLongLong();
    std::sort(ids.begin(), ids.end());
    return ids;
}

void RunBrowser::selectRuns(const QList<qint64> &runIds)
{
    QItemSelection selection;
    for (qint64 id : runIds) {
        const int row = m_model->rowForRun(id);
        if (row < 0)
            continue;
        const QModelIndex index = m_proxy->mapFromSource(m_model->index(row, 0));
        if (index.isValid())
            selection.select(index, index);
    }
    m_view->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect |
                                                    QItemSelectionModel::Rows);
}

void RunBrowser::setFilterText(const QString &text)
{
    if (m_filter->text() != text)
        m_filter->setText(text); // comes back here through textChanged
    else
        static_cast<RunFilterProxy *>(m_proxy)->setText(text);
}

bool RunBrowser::deleteRuns(const QList<qint64> &runIds, QString *error)
{
    QStringList problems;
    for (qint64 id : runIds) {
        auto deleted = core::deleteRun(m_model->storePath().toStdString(), id);
        if (!deleted.ok())
            problems << QString::fromStdString(deleted.error().message);
    }
    m_model->refresh();
    updateActions();
    if (error)
        *error = problems.join(QLatin1Char('\n'));
    return problems.isEmpty();
}

void RunBrowser::renameCurrent()
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows(RunTableModel::NameColumn);
    if (rows.isEmpty())
        return;
    m_view->setCurrentIndex(rows.first());
    m_view->edit(rows.first());
}

void RunBrowser::deleteSelected()
{
    const QList<qint64> ids = selectedRunIds();
    if (ids.isEmpty())
        return;
    QStringList names;
    for (qint64 id : ids)
        if (const core::RunInfo *info = m_model->runInfo(id))
            names << QStringLiteral("#%1 '%2'").arg(id).arg(QString::fromStdString(info->name));
    const QString question =
        ids.size() == 1
            ? tr("Delete run %1 and all its curves, diagnostics and samples from the store?")
                  .arg(names.value(0))
            : tr("Delete %1 runs (%2) and all their curves, diagnostics and samples from the "
                 "store?")
                  .arg(ids.size())
                  .arg(names.join(QStringLiteral(", ")));
    const auto answer = QMessageBox::question(
        this, tr("Delete runs"),
        question + QLatin1Char('\n') + tr("Checkpoint files stay on disk. This cannot be undone."),
        QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
    if (answer != QMessageBox::Yes)
        return;
    QString error;
    if (!deleteRuns(ids, &error))
        QMessageBox::warning(this, tr("Delete runs"), error);
}

void RunBrowser::openCurrentGraph()
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    const QModelIndex index = rows.isEmpty() ? m_view->currentIndex() : rows.first();
    if (!index.isValid())
        return;
    const qint64 id = index.data(RunTableModel::RunIdRole).toLongLong();
    const QString json = index.data(RunTableModel::GraphJsonRole).toString();
    if (!json.isEmpty())
        Q_EMIT openGraphRequested(json, id);
}

qint64 RunBrowser::currentRunId() const
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    const QModelIndex index = rows.isEmpty() ? m_view->currentIndex() : rows.first();
    return index.isValid() ? index.data(RunTableModel::RunIdRole).toLongLong() : 0;
}

bool RunBrowser::canResume(qint64 runId) const
{
    const core::RunInfo *info = m_model->runInfo(runId);
    return info
           && (info->status == core::RunStatus::Cancelled || info->status == core::RunStatus::Interrupted
               || info->status == core::RunStatus::Failed);
}

void RunBrowser::resumeCurrent()
{
    const qint64 id = currentRunId();
    if (id > 0 && canResume(id))
        Q_EMIT resumeRequested(id);
}

void RunBrowser::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refresh();
    m_timer->start();
}

void RunBrowser::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_timer->stop();
}

void RunBrowser::updateActions()
{
    const int selected = m_view->selectionModel()->selectedRows().size();
    m_rename->setEnabled(selected == 1);
    m_delete->setEnabled(selected > 0);
    m_openGraph->setEnabled(selected == 1);
    m_resume->setEnabled(selected == 1 && canResume(currentRunId()));
    m_compare->setEnabled(selected >= 2);
    m_tag->setEnabled(selected > 0);
    const core::RunInfo *info = selected == 1 ? m_model->runInfo(currentRunId()) : nullptr;
    const bool exportable = info && info->status != core::RunStatus::Running;
    if (exportable != m_export->isEnabled() || !m_exportKnown) {
        m_exportKnown = true;
        m_export->setEnabled(exportable);
        Q_EMIT exportAvailable(exportable);
    }
}

QString RunBrowser::studentPath(qint64 runId, QString *why) const
{
    auto reader = core::StoreReader::open(storePath().toStdString());
    if (!reader.ok()) {
        if (why)
            *why = QString::fromStdString(reader.error().message);
        return {};
    }
    if (auto cps = reader.value()->checkpoints(runId); cps.ok())
        for (const auto &c : cps.value())
            if (c.kind == "model")
                return QString::fromStdString(c.path);
    // A run that has not finished keeps its newest student beside its checkpoints.
    if (auto meta = reader.value()->runMeta(runId); meta.ok() && meta.value().count("artifacts")) {
        const QString file = QString::fromStdString(core::resolveStorePath(storePath().toStdString(),
                                                                           meta.value().at("artifacts")))
                             + QStringLiteral("/student.pt");
        if (QFileInfo::exists(file))
            return file;
    }
    if (why)
        *why = tr("run %1 has no trained student yet (student.pt is written with its first checkpoint)").arg(runId);
    return {};
}

TryDialog *RunBrowser::tryCurrent()
{
    const qint64 id = currentRunId();
    if (id <= 0)
        return nullptr;
    QString why;
    const QString path = studentPath(id, &why);
    if (path.isEmpty()) {
        m_message->setText(why);
        m_message->show();
        return nullptr;
    }
    const core::RunInfo *info = m_model->runInfo(id);
    auto *dialog = new TryDialog(path, tr("Try the student of run %1 '%2'")
                                           .arg(id)
                                           .arg(info ? QString::fromStdString(info->name) : QString()),
                                 this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
    return dialog;
}

ExportDialog *RunBrowser::exportCurrent()
{
    const qint64 id = currentRunId();
    if (id <= 0 || !m_export->isEnabled())
        return nullptr;
    auto *dialog = new ExportDialog(storePath(), id, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
    return dialog;
}

void RunBrowser::setExtraColumns(const QStringList &columns)
{
    const QList<qint64> selected = selectedRunIds();
    m_model->setExtraColumns(columns);
    QSettings().setValue(QStringLiteral("runs/extraColumns"), m_model->extraColumns());
    selectRuns(selected);
}

void RunBrowser::showHeaderMenu(const QPoint &pos)
{
    const int section = m_view->horizontalHeader()->logicalIndexAt(pos);
    QMenu menu(this);
    menu.addAction(tr("Add column…"), this, [this] {
        bool ok = false;
        const QString spec = QInputDialog::getItem(
            this, tr("Add column"),
            tr("A parameter (kd.temperature, Settings.seed) or a metric (eval/student_nll; add :best, :min or "
               ":max for that value instead of the last):"),
            m_model->availableColumns(), 0, true, &ok);
        if (ok && !spec.trimmed().isEmpty())
            setExtraColumns(m_model->extraColumns() << spec.trimmed());
    });
    const QStringList extras = m_model->extraColumns();
    const int extra = section - RunTableModel::ColumnCount;
    if (extra >= 0 && extra < extras.size())
        menu.addAction(tr("Remove column '%1'").arg(extras[extra]), this, [this, extra] {
            QStringList columns = m_model->extraColumns();
            columns.removeAt(extra);
            setExtraColumns(columns);
        });
    menu.exec(m_view->horizontalHeader()->mapToGlobal(pos));
}

void RunBrowser::compareSelected()
{
    const QList<qint64> ids = selectedRunIds();
    if (ids.size() < 2) {
        m_message->setText(tr("Select two or more runs to compare (Ctrl or Shift click)."));
        m_message->show();
        return;
    }
    QList<qint64> ordered = ids;
    std::sort(ordered.begin(), ordered.end()); // oldest first: the reference is the first run
    Q_EMIT compareRequested(ordered);
}

bool RunBrowser::setTags(const QList<qint64> &runIds, const QStringList &tags, QString *error)
{
    std::vector<std::string> list;
    for (const QString &t : tags)
        if (!t.trimmed().isEmpty())
            list.push_back(t.trimmed().toStdString());
    QStringList problems;
    for (qint64 id : runIds)
        if (auto set = core::setRunTags(storePath().toStdString(), id, list); !set.ok())
            problems << QString::fromStdString(set.error().message);
    refresh();
    if (!problems.isEmpty()) {
        problems.removeDuplicates();
        if (error)
            *error = problems.join(QLatin1Char('\n'));
        m_message->setText(problems.join(QLatin1Char('\n')));
        m_message->show();
        return false;
    }
    return true;
}

bool RunBrowser::tagSelected()
{
    const QList<qint64> ids = selectedRunIds();
    if (ids.isEmpty())
        return false;
    // The tags every selected run has.
    QStringList common;
    bool first = true;
    for (qint64 id : ids) {
        QStringList tags;
        if (const core::RunInfo *info = m_model->runInfo(id))
            for (const auto &t : info->tags)
                tags << QString::fromStdString(t);
        if (first)
            common = tags;
        else
            common.erase(std::remove_if(common.begin(), common.end(), [&](const QString &t) { return !tags.contains(t); }),
                         common.end());
        first = false;
    }
    bool ok = false;
    const QString text = QInputDialog::getText(
        this, tr("Tag runs"),
        (ids.size() == 1 ? tr("Tags of run %1").arg(ids.front()) : tr("Tags of %1 runs").arg(ids.size())) +
            tr(", separated by commas (they replace the runs' tags):"),
        QLineEdit::Normal, common.join(QStringLiteral(", ")), &ok);
    if (!ok)
        return false;
    return setTags(ids, text.split(QLatin1Char(','), Qt::SkipEmptyParts));
}

void RunBrowser::editNote()
{
    const qint64 id = currentRunId();
    const core::RunInfo *info = m_model->runInfo(id);
    if (!info)
        return;
    bool ok = false;
    const QString text = QInputDialog::getMultiLineText(this, tr("Note on run %1").arg(id),
                                                        tr("Note on run %1 '%2':").arg(id).arg(QString::fromStdString(info->name)),
                                                        QString::fromStdString(info->note), &ok);
    if (!ok)
        return;
    if (auto set = core::setRunNote(storePath().toStdString(), id, text.toStdString()); !set.ok()) {
        m_message->setText(QString::fromStdString(set.error().message));
        m_message->show();
    }
    refresh();
}

void RunBrowser::emitSelectionIfChanged()
{
    updateActions();
    const QList<qint64> ids = selectedRunIds();
    if (ids == m_lastSelection)
        return;
    m_lastSelection = ids;
    Q_EMIT selectionChanged(ids);
}

// The table's keys. They win over the window's shortcuts of the same keys (the canvas's Delete)
// while the table has the focus: the ShortcutOverride is accepted, the key press handled here.
bool RunBrowser::eventFilter(QObject *watched, QEvent *event)
{
    const bool key = event->type() == QEvent::KeyPress || event->type() == QEvent::ShortcutOverride;
    // (While a name is edited, the keys go to the editor, not to the table.)
    if (watched != m_view || !key)
        return QWidget::eventFilter(watched, event);
    const QKeySequence pressed(static_cast<QKeyEvent *>(event)->keyCombination());
    // Each key, whether it applies to the selection now, and what it does. Try the student has
    // no button of its own: it applies where Export does.
    const std::tuple<QKeySequence, bool, std::function<void()>> keys[] = {
        {kRenameKey, m_rename->isEnabled(), [this] { renameCurrent(); }},
        {kDeleteKey, m_delete->isEnabled(), [this] { deleteSelected(); }},
        {kOpenGraphKey, m_openGraph->isEnabled(), [this] { openCurrentGraph(); }},
        {kResumeKey, m_resume->isEnabled(), [this] { resumeCurrent(); }},
        {kExportKey, m_export->isEnabled(), [this] { exportCurrent(); }},
        {kTryKey, m_export->isEnabled(), [this] { tryCurrent(); }},
        {kCompareKey, m_compare->isEnabled(), [this] { compareSelected(); }},
        {kTagKey, m_tag->isEnabled(), [this] { tagSelected(); }}};
    for (const auto &[sequence, enabled, action] : keys) {
        if (pressed != sequence || !enabled)
            continue;
        if (event->type() == QEvent::ShortcutOverride)
            event->accept();
        else
            action();
        return true;
    }
    return QWidget::eventFilter(watched, event);
}

void RunBrowser::showContextMenu(const QPoint &pos)
{
    const QModelIndex index = m_view->indexAt(pos);
    if (index.isValid() && !m_view->selectionModel()->isRowSelected(index.row(), index.parent()))
        m_view->selectionModel()->select(index, QItemSelectionModel::ClearAndSelect |
                                                    QItemSelectionModel::Rows);
    QMenu menu(this);
    QAction *rename = menu.addAction(tr("Rename"), this, &RunBrowser::renameCurrent);
    QAction *open = menu.addAction(tr("Open graph"), this, &RunBrowser::openCurrentGraph);
    QAction *resume = menu.addAction(tr("Resume"), this, &RunBrowser::resumeCurrent);
    QAction *exportAction = menu.addAction(tr("Export student…"), this, &RunBrowser::exportCurrent);
    QAction *tryAction = menu.addAction(tr("Try the student…"), this, &RunBrowser::tryCurrent);
    tryAction->setShortcut(kTryKey);
    tryAction->setEnabled(m_export->isEnabled());
    menu.addSeparator();
    QAction *compare = menu.addAction(tr("Compare"), this, &RunBrowser::compareSelected);
    compare->setShortcut(kCompareKey);
    compare->setEnabled(m_compare->isEnabled());
    QAction *tag = menu.addAction(tr("Tag…"), this, &RunBrowser::tagSelected);
    tag->setShortcut(kTagKey);
    tag->setEnabled(m_tag->isEnabled());
    QAction *note = menu.addAction(tr("Note…"), this, &RunBrowser::editNote);
    menu.addSeparator();
    QAction *del = menu.addAction(style()->standardIcon(QStyle::SP_TrashIcon), tr("Delete…"), this,
                                  &RunBrowser::deleteSelected);
    // Shown in the menu; the keys themselves work in the table (eventFilter).
    rename->setShortcut(kRenameKey);
    open->setShortcut(kOpenGraphKey);
    resume->setShortcut(kResumeKey);
    exportAction->setShortcut(kExportKey);
    exportAction->setEnabled(m_export->isEnabled());
    del->setShortcut(kDeleteKey);
    const int selected = m_view->selectionModel()->selectedRows().size();
    rename->setEnabled(selected == 1);
    open->setEnabled(selected == 1);
    resume->setEnabled(m_resume->isEnabled());
    del->setEnabled(selected > 0);
    note->setEnabled(selected == 1);
    menu.exec(m_view->viewport()->mapToGlobal(pos));
}

} // namespace distillery::widgets
