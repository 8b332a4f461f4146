#pragma once

// The runs dock: a filter field, the run table (multi-row selection, sortable by every column)
// and Rename / Delete / Open graph as buttons and context menu. While visible it re-reads the
// store every second, so runs written by another process (distillery-cli run) appear and
// progress live; the selection is kept across refreshes.

#include <QList>
#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
class QTimer;

namespace distillery::widgets {

class ExportDialog;
class TryDialog;
class RunTableModel;

class RunBrowser : public QWidget
{
    Q_OBJECT
public:
    explicit RunBrowser(QWidget *parent = nullptr);

    void setStorePath(const QString &path);
    QString storePath() const;
    RunTableModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }

    QList<qint64> selectedRunIds() const;
    void selectRuns(const QList<qint64> &runIds);
    void setFilterText(const QString &text);

    // Deletes runs from the store without asking (deleteSelected() asks first). Returns false
    // and fills `error` with one line per run that could not be deleted.
    bool deleteRuns(const QList<qint64> &runIds, QString *error = nullptr);

public Q_SLOTS:
    void refresh();
    void renameCurrent();
    void deleteSelected(); // with a confirmation dialog
    void openCurrentGraph();
    void resumeCurrent();
    // Compare (two or more selected runs): asks the window to open a comparison.
    void compareSelected();
    // Tag… on the selected runs: one line of comma-separated tags, replacing theirs; tags common
    // to all of them are offered. False (with the reason shown) when the store refuses.
    bool tagSelected();
    bool setTags(const QList<qint64> &runIds, const QStringList &tags, QString *error = nullptr);
    // Note… on one run: free text kept in the store.
    void editNote();
    // Extra columns (RunTableModel::setExtraColumns), kept in the settings for the next start.
    void setExtraColumns(const QStringList &columns);
    // Export student… on the selected run: opens the export dialog (null without one run).
    ExportDialog *exportCurrent();
    // Try the student…: the selected run's trained student in a prompt box (null, with the
    // reason shown, when it has none yet).
    TryDialog *tryCurrent();
    // The selected run's student as a built-in checkpoint, or empty (and why in `why`).
    QString studentPath(qint64 runId, QString *why = nullptr) const;

Q_SIGNALS:
    void selectionChanged(const QList<qint64> &runIds);
    void openGraphRequested(const QString &graphJson, qint64 runId);
    // Resume (button or context menu) on one cancelled, interrupted or failed run.
    void resumeRequested(qint64 runId);
    void compareRequested(const QList<qint64> &runIds);
    // Whether Export student… applies to the selection (one run that is not running).
    void exportAvailable(bool available);

protected:
    void showEvent(QShowEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    qint64 currentRunId() const;
    bool canResume(qint64 runId) const;
    void updateActions();
    void emitSelectionIfChanged();
    void showContextMenu(const QPoint &pos);
    void showHeaderMenu(const QPoint &pos);

    RunTableModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QLineEdit *m_filter = nullptr;
    QTableView *m_view = nullptr;
    QPushButton *m_rename = nullptr;
    QPushButton *m_delete = nullptr;
    QPushButton *m_openGraph = nullptr;
    QPushButton *m_resume = nullptr;
    QPushButton *m_export = nullptr;
    QPushButton *m_compare = nullptr;
    QPushButton *m_tag = nullptr;
    QLabel *m_message = nullptr;
    QTimer *m_timer = nullptr;
    QList<qint64> m_lastSelection;
    bool m_exportKnown = false;
};

} // namespace distillery::widgets
