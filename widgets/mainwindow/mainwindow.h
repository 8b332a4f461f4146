#pragma once

// The workbench window: the canvas in the centre; palette, inspector, problems, run panel,
// runs, plots and log as docks that can be moved and hidden (restored on the next start).

#include "distillery/core/graph.h"

#include <QMainWindow>
#include <QStringList>

class QAction;
class QDockWidget;
class QLabel;
class QMenu;

namespace distillery::widgets {

class ComparisonView;
class SweepDialog;
class GraphDocument;
class GraphScene;
class GraphView;
class Inspector;
class LogPanel;
class NodePalette;
class PlotPanel;
class ProblemsPanel;
class RunBrowser;
class RunPanel;
class TrainingController;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    GraphDocument *document() const { return m_document; }
    GraphScene *scene() const { return m_scene; }
    GraphView *view() const { return m_view; }
    Inspector *inspector() const { return m_inspector; }
    NodePalette *palette() const { return m_palette; }
    PlotPanel *plots() const { return m_plots; }
    RunBrowser *runBrowser() const { return m_runBrowser; }
    RunPanel *runPanel() const { return m_runPanel; }
    TrainingController *controller() const { return m_controller; }
    QAction *runAction() const { return m_runAction; }

    // Opens a graph file; on failure nothing changes and the reason is returned (and shown).
    bool openGraph(const QString &path, QString *error = nullptr);
    void loadTemplate(const QString &name);
    // The run store new runs go to and the run browser shows. Until one is chosen (here, by
    // --store or from the File menu) the store follows the graph: <graph>-runs.sqlite beside
    // the graph file, or ~/distillery-runs.sqlite for an unsaved graph.
    void setStorePath(const QString &path);
    QString storePath() const { return m_storePath; }
    // Starts the current graph (as the Run action does). False with the reason when it cannot.
    bool startRun(QString *why = nullptr);
    // Opens a comparison of these runs of the current store in a window of its own (null, with
    // the reason, when they cannot be read).
    ComparisonView *openComparison(const QList<qint64> &runIds, QString *error = nullptr);
    // Sweep… on the current graph, with `param` (kd.temperature) as its first parameter if given.
    // The dialog is modeless; accepting it queues its runs (queueSweep). Null for an invalid graph.
    SweepDialog *openSweepDialog(const QString &param = {});
    // Queues one run per graph, named after the sweep and its point, in the sweep's group.
    bool queueSweep(const SweepDialog &dialog, QString *why = nullptr);
    // Renders the window into a PNG (used by `distillery --screenshot`).
    bool saveScreenshot(const QString &path);

protected:
    void closeEvent(QCloseEvent *event) override;
    void showEvent(QShowEvent *event) override;

private:
    void createActions();
    void createMenus();
    void createDocks();
    void restoreLayout();
    void updateTitle();
    void updateRunAvailability();
    void updateRecentMenu();
    void addRecentFile(const QString &path);
    // Asks to save unsaved changes; false when the user cancels.
    bool maybeSave();
    bool save();
    bool saveAs();
    void applyTheme(const QString &theme);
    QDockWidget *addDock(const QString &title, const QString &objectName, QWidget *widget,
                         Qt::DockWidgetArea area);
    void showStatus(const QString &message);
    void useStore(const QString &path);
    void followGraphFile();
    void fitSoon();

    GraphDocument *m_document = nullptr;
    GraphScene *m_scene = nullptr;
    GraphView *m_view = nullptr;
    Inspector *m_inspector = nullptr;
    NodePalette *m_palette = nullptr;
    ProblemsPanel *m_problems = nullptr;
    LogPanel *m_log = nullptr;
    PlotPanel *m_plots = nullptr;
    RunBrowser *m_runBrowser = nullptr;
    RunPanel *m_runPanel = nullptr;
    TrainingController *m_controller = nullptr;
    QString m_storePath;
    bool m_storeChosen = false;
    QLabel *m_validity = nullptr;
    QLabel *m_storeLabel = nullptr;
    QMenu *m_recentMenu = nullptr;
    QMenu *m_viewMenu = nullptr;
    QAction *m_newAction = nullptr, *m_openAction = nullptr, *m_saveAction = nullptr,
            *m_saveAsAction = nullptr, *m_openStoreAction = nullptr, *m_quitAction = nullptr,
            *m_undoAction = nullptr, *m_redoAction = nullptr, *m_cutAction = nullptr,
            *m_copyAction = nullptr, *m_pasteAction = nullptr, *m_deleteAction = nullptr,
            *m_selectAllAction = nullptr, *m_fitAction = nullptr, *m_runAction = nullptr,
            *m_pauseAction = nullptr, *m_stopAction = nullptr, *m_exportAction = nullptr,
            *m_tryAction = nullptr, *m_compareAction = nullptr,
            *m_sweepAction = nullptr, *m_stopAllAction = nullptr;
    int m_pasteCount = 0;
};

} // namespace distillery::widgets
