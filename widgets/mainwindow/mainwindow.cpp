#include "mainwindow/mainwindow.h"

#include "compare/comparisonview.h"
#include "runs/sweepdialog.h"

#include "document/graphdocument.h"
#include "graph/graphscene.h"
#include "graph/graphview.h"
#include "inspector/inspector.h"
#include "log/logpanel.h"
#include "palette/nodepalette.h"
#include "plots/plotpanel.h"
#include "problems/problemspanel.h"
#include "runs/runbrowser.h"
#include "training/runpanel.h"
#include "training/trainingcontroller.h"

#include "distillery/core/store.h"
#include "distillery/core/trainer.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QGraphicsItem>
#include <QCursor>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPalette>
#include <QSettings>
#include <QStatusBar>
#include <QStyle>
#include <QStyleFactory>
#include <QTimer>
#include <QToolBar>
#include <QUndoStack>

namespace distillery::widgets {

namespace {

constexpr int kMaxRecent = 8;
constexpr const char *kGraphMime = "application/x-distillery-graph";

QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}

QPalette darkPalette()
{
    QPalette p;
    const QColor window(45, 47, 51), base(32, 34, 37), text(225, 227, 230), mid(70, 72, 76);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::PlaceholderText, QColor(150, 152, 156));
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::red);
    p.setColor(QPalette::Mid, mid);
    p.setColor(QPalette::Dark, QColor(25, 26, 28));
    p.setColor(QPalette::Highlight, QColor(64, 128, 210));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(100, 160, 240));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(120, 120, 120));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(120, 120, 120));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(120, 120, 120));
    return p;
}

} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_document(new GraphDocument(this)),
      m_controller(new TrainingController(this))
{
    setObjectName(QStringLiteral("MainWindow"));
    m_scene = new GraphScene(m_document, this);
    m_view = new GraphView(m_scene, this);
    setCentralWidget(m_view);
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks
                   | QMainWindow::AllowNestedDocks);

    createActions();
    createDocks();
    createMenus();

    m_validity = new QLabel(this);
    m_storeLabel = new QLabel(this);
    statusBar()->addPermanentWidget(m_validity);
    statusBar()->addPermanentWidget(m_storeLabel);

    connect(m_document, &GraphDocument::validationChanged, this, &MainWindow::updateRunAvailability);
    connect(m_document, &GraphDocument::modifiedChanged, this, &MainWindow::updateTitle);
    connect(m_document, &GraphDocument::filePathChanged, this, &MainWindow::updateTitle);
    connect(m_document, &GraphDocument::filePathChanged, this, &MainWindow::followGraphFile);
    connect(m_scene, &GraphScene::nodeSelectionChanged, this,
            [this] { m_inspector->setNode(m_scene->selectedNode()); });
    connect(m_problems, &ProblemsPanel::nodeActivated, m_scene, &GraphScene::selectNode);
    connect(m_palette, &NodePalette::addNodeRequested, this, [this](const QString &kind) {
        const QPointF at = m_view->mapToScene(m_view->viewport()->rect().center());
        auto r = m_document->requestAddNode(kind.toStdString(), at);
        if (!r.ok())
            showStatus(qs(r.error().message));
    });
    connect(m_palette, &NodePalette::templateRequested, this, &MainWindow::loadTemplate);
    connect(m_runPanel, &RunPanel::runRequested, this, [this] {
        QString why;
        if (!startRun(&why))
            showStatus(why);
    });
    connect(m_controller, &TrainingController::runStarted, this,
            [this](qint64 runId, const QString &name) {
                m_log->append(QStringLiteral("info"), tr("run %1 '%2' started").arg(runId).arg(name));
                m_runBrowser->refresh();
                if (runId > 0)
                    m_runBrowser->selectRuns({runId});
                m_plots->setLive(true);
            });
    connect(m_controller, &TrainingController::runFinished, this,
            [this](qint64 runId, const QString &status, const QString &error) {
                m_log->append(status == QLatin1String("failed") ? QStringLiteral("error")
                                                                : QStringLiteral("info"),
                              error.isEmpty() ? tr("run %1 %2").arg(runId).arg(status)
                                              : tr("run %1 %2: %3").arg(runId).arg(status, error));
                m_runBrowser->refresh();
                m_plots->refresh();
                updateRunAvailability();
            });
    connect(m_controller, &TrainingController::runRejected, this, [this](const QString &message) {
        m_log->append(QStringLiteral("error"), message);
        showStatus(message);
        updateRunAvailability();
    });
    connect(m_controller, &TrainingController::logMessage, this,
            [this](const QString &m) { m_log->append(QStringLiteral("info"), m); });
    connect(m_runBrowser, &RunBrowser::selectionChanged, this, [this](const QList<qint64> &runs) {
        QList<core::RunId> ids;
        for (qint64 r : runs)
            ids << core::RunId(r);
        m_plots->setRuns(ids);
    });
    connect(m_runBrowser, &RunBrowser::compareRequested, this, [this](const QList<qint64> &ids) {
        QString why;
        if (!openComparison(ids, &why))
            showStatus(why);
    });
    connect(m_runBrowser, &RunBrowser::selectionChanged, this,
            [this](const QList<qint64> &runs) { m_compareAction->setEnabled(runs.size() >= 2); });
    connect(m_runBrowser, &RunBrowser::exportAvailable, m_exportAction, &QAction::setEnabled);
    connect(m_runBrowser, &RunBrowser::exportAvailable, m_tryAction, &QAction::setEnabled);
    connect(m_runBrowser, &RunBrowser::resumeRequested, this, [this](qint64 runId) {
        core::RunOptions options;
        options.storePath = m_storePath.toStdString();
        m_controller->enqueueResume(core::RunId(runId), options);
        m_plots->setStorePath(m_storePath);
        m_plots->setLive(true);
        showStatus(tr("Resuming run #%1").arg(runId));
    });
    connect(m_runBrowser, &RunBrowser::openGraphRequested, this,
            [this](const QString &json, qint64 runId) {
                if (!maybeSave())
                    return;
                auto g = core::graphFromJson(json.toStdString(), "run " + std::to_string(runId));
                if (!g.ok()) {
                    showStatus(qs(g.error().message));
                    return;
                }
                m_document->reset(g.value());
                fitSoon();
                QList<core::RunId> ids{core::RunId(runId)};
                m_plots->setRuns(ids);
            });
    connect(m_view, &GraphView::quickAddRequested, m_view, &GraphView::showQuickAdd);
    connect(m_scene, &GraphScene::editFailed, this, &MainWindow::showStatus);

    QSettings settings;
    applyTheme(settings.value(QStringLiteral("theme"), QStringLiteral("system")).toString());
    restoreLayout();
    updateRecentMenu();
    updateTitle();
    updateRunAvailability();
    useStore(QDir::home().filePath(QStringLiteral("distillery-runs.sqlite")));
    loadTemplate(QStringLiteral("classic-kd"));
}

MainWindow::~MainWindow() = default;

QDockWidget *MainWindow::addDock(const QString &title, const QString &objectName, QWidget *widget,
                                 Qt::DockWidgetArea area)
{
    auto *dock = new QDockWidget(title, this);
    dock->setObjectName(objectName);
    dock->setWidget(widget);
    addDockWidget(area, dock);
    return dock;
}

void MainWindow::createDocks()
{
    m_palette = new NodePalette(this);
    m_inspector = new Inspector(m_document, this);
    connect(m_inspector, &Inspector::sweepRequested, this, [this](const QString &param) {
        if (!openSweepDialog(param))
            showStatus(tr("The graph must be valid to sweep it"));
    });
    m_problems = new ProblemsPanel(m_document, this);
    m_log = new LogPanel(this);
    m_plots = new PlotPanel(this);
    m_runBrowser = new RunBrowser(this);
    m_runPanel = new RunPanel(m_controller, this);

    auto *paletteDock = addDock(tr("Nodes"), QStringLiteral("paletteDock"), m_palette, Qt::LeftDockWidgetArea);
    auto *runDock = addDock(tr("Run"), QStringLiteral("runDock"), m_runPanel, Qt::RightDockWidgetArea);
    auto *inspectorDock = addDock(tr("Inspector"), QStringLiteral("inspectorDock"), m_inspector,
                                  Qt::RightDockWidgetArea);
    auto *plotsDock = addDock(tr("Plots"), QStringLiteral("plotsDock"), m_plots, Qt::BottomDockWidgetArea);
    auto *runsDock = addDock(tr("Runs"), QStringLiteral("runsDock"), m_runBrowser, Qt::BottomDockWidgetArea);
    auto *problemsDock = addDock(tr("Problems"), QStringLiteral("problemsDock"), m_problems,
                                 Qt::BottomDockWidgetArea);
    auto *logDock = addDock(tr("Log"), QStringLiteral("logDock"), m_log, Qt::BottomDockWidgetArea);
    splitDockWidget(runDock, inspectorDock, Qt::Vertical);
    tabifyDockWidget(plotsDock, runsDock);
    tabifyDockWidget(runsDock, problemsDock);
    tabifyDockWidget(problemsDock, logDock);
    plotsDock->raise();
    resizeDocks({paletteDock}, {210}, Qt::Horizontal);
    resizeDocks({inspectorDock}, {360}, Qt::Horizontal);
    resizeDocks({plotsDock}, {280}, Qt::Vertical);
    resizeDocks({runDock, inspectorDock}, {160, 700}, Qt::Vertical);
}

void MainWindow::createActions()
{
    auto make = [this](const QString &text, QKeySequence shortcut, auto slot) {
        auto *a = new QAction(text, this);
        if (!shortcut.isEmpty())
            a->setShortcut(shortcut);
        connect(a, &QAction::triggered, this, slot);
        return a;
    };
    m_newAction = make(tr("&New"), QKeySequence::New, [this] {
        if (!maybeSave())
            return;
        m_document->reset(core::Graph());
    });
    m_openAction = make(tr("&Open…"), QKeySequence::Open, [this] {
        if (!maybeSave())
            return;
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open graph"), QFileInfo(m_document->filePath()).absolutePath(),
            tr("Distillery graphs (*.json);;All files (*)"));
        if (!path.isEmpty())
            openGraph(path);
    });
    m_saveAction = make(tr("&Save"), QKeySequence::Save, [this] { save(); });
    m_saveAsAction = make(tr("Save &As…"), QKeySequence::SaveAs, [this] { saveAs(); });
    m_openStoreAction = make(tr("Open or Create Run &Store…"), QKeySequence(), [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Run store"), m_storePath, tr("Run stores (*.sqlite *.db);;All files (*)"),
            nullptr, QFileDialog::DontConfirmOverwrite);
        if (!path.isEmpty())
            setStorePath(path);
    });
    m_quitAction = make(tr("&Quit"), QKeySequence::Quit, [this] { close(); });

    m_undoAction = m_document->undoStack()->createUndoAction(this, tr("&Undo"));
    m_undoAction->setShortcut(QKeySequence::Undo);
    m_redoAction = m_document->undoStack()->createRedoAction(this, tr("&Redo"));
    m_redoAction->setShortcut(QKeySequence::Redo);
    m_copyAction = make(tr("&Copy"), QKeySequence::Copy, [this] {
        const auto nodes = m_scene->selectedNodeIds();
        if (nodes.isEmpty())
            return;
        auto *mime = new QMimeData;
        const QByteArray json = QByteArray::fromStdString(m_scene->copySelection());
        mime->setData(QString::fromLatin1(kGraphMime), json);
        mime->setText(QString::fromUtf8(json));
        QApplication::clipboard()->setMimeData(mime);
        m_pasteCount = 0;
    });
    m_cutAction = make(tr("Cu&t"), QKeySequence::Cut, [this] {
        m_copyAction->trigger();
        auto st = m_document->requestRemove(m_scene->selectedNodeIds(), m_scene->selectedEdges());
        if (!st.ok())
            showStatus(qs(st.error().message));
    });
    m_pasteAction = make(tr("&Paste"), QKeySequence::Paste, [this] {
        const QMimeData *mime = QApplication::clipboard()->mimeData();
        if (!mime)
            return;
        QByteArray json = mime->data(QString::fromLatin1(kGraphMime));
        if (json.isEmpty())
            json = mime->text().toUtf8();
        QPoint cursor = m_view->mapFromGlobal(QCursor::pos());
        if (!m_view->viewport()->rect().contains(cursor))
            cursor = m_view->viewport()->rect().center() + QPoint(30, 30) * ++m_pasteCount;
        auto r = m_scene->pasteAt(m_view->mapToScene(cursor), json.toStdString());
        if (!r.ok())
            showStatus(tr("Cannot paste: %1").arg(qs(r.error().message)));
    });
    m_deleteAction = make(tr("&Delete"), QKeySequence::Delete, [this] { m_scene->deleteSelection(); });
    m_selectAllAction = make(tr("Select &All"), QKeySequence::SelectAll, [this] {
        for (QGraphicsItem *item : m_scene->items())
            if (item->flags() & QGraphicsItem::ItemIsSelectable)
                item->setSelected(true);
    });
    m_fitAction = make(tr("Zoom to &Fit"), QKeySequence(Qt::CTRL | Qt::Key_0), [this] { m_view->zoomToFit(); });
    m_runAction = make(tr("&Run"), QKeySequence(Qt::CTRL | Qt::Key_R), [this] {
        QString why;
        if (!startRun(&why))
            showStatus(why);
    });
    m_runAction->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    m_pauseAction = make(tr("&Pause / Resume"), QKeySequence(Qt::CTRL | Qt::Key_P), [this] {
        if (m_controller->isPaused())
            m_controller->resume();
        else
            m_controller->pause();
    });
    m_pauseAction->setIcon(style()->standardIcon(QStyle::SP_MediaPause));
    m_stopAction = make(tr("&Stop"), QKeySequence(Qt::CTRL | Qt::Key_Period), [this] { m_controller->stop(); });
    m_stopAction->setIcon(style()->standardIcon(QStyle::SP_MediaStop));
    m_exportAction = make(tr("&Export Student…"), QKeySequence(), [this] {
        if (!m_runBrowser->exportCurrent())
            showStatus(tr("Select one run that is not running in the Runs dock to export its student"));
    });
    m_exportAction->setEnabled(false);
    m_tryAction = make(tr("&Try the Student…"), QKeySequence(), [this] {
        if (!m_runBrowser->tryCurrent())
            showStatus(tr("Select one finished run in the Runs dock to try its student"));
    });
    m_tryAction->setEnabled(false);
    m_sweepAction = make(tr("S&weep…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_W), [this] {
        if (!openSweepDialog())
            showStatus(tr("The graph must be valid to sweep it"));
    });
    m_sweepAction->setToolTip(tr("Run this graph with several values of its parameters and seeds, as one group"));
    m_stopAllAction = make(tr("Stop &All"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Period), [this] {
        const int dropped = m_controller->queuedCount();
        m_controller->clearQueue();
        m_controller->stop();
        showStatus(tr("Stopped; %1 queued runs dropped").arg(dropped));
    });
    m_stopAllAction->setToolTip(tr("Stop the current run and drop the queued ones (the rest of a sweep)"));
    m_compareAction = make(tr("&Compare Runs"), QKeySequence(), [this] { m_runBrowser->compareSelected(); });
    m_compareAction->setToolTip(tr("Compare the runs selected in the Runs dock"));
    m_compareAction->setEnabled(false);
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_newAction);
    QMenu *templates = file->addMenu(tr("New from &Template"));
    for (const auto &name : core::templateNames()) {
        const QString n = qs(name);
        templates->addAction(n, this, [this, n] { loadTemplate(n); });
    }
    file->addAction(m_openAction);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    file->addSeparator();
    file->addAction(m_saveAction);
    file->addAction(m_saveAsAction);
    file->addSeparator();
    file->addAction(m_openStoreAction);
    file->addSeparator();
    file->addAction(m_quitAction);

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_undoAction);
    edit->addAction(m_redoAction);
    edit->addSeparator();
    edit->addAction(m_cutAction);
    edit->addAction(m_copyAction);
    edit->addAction(m_pasteAction);
    edit->addAction(m_deleteAction);
    edit->addSeparator();
    edit->addAction(m_selectAllAction);

    m_viewMenu = menuBar()->addMenu(tr("&View"));
    m_viewMenu->addAction(m_fitAction);
    m_viewMenu->addSeparator();
    for (QDockWidget *dock : findChildren<QDockWidget *>())
        m_viewMenu->addAction(dock->toggleViewAction());
    m_viewMenu->addSeparator();
    QMenu *theme = m_viewMenu->addMenu(tr("&Theme"));
    auto *group = new QActionGroup(this);
    const QString current = QSettings().value(QStringLiteral("theme"), QStringLiteral("system")).toString();
    for (const auto &[key, label] : {std::pair{QStringLiteral("system"), tr("System")},
                                     std::pair{QStringLiteral("light"), tr("Light")},
                                     std::pair{QStringLiteral("dark"), tr("Dark")}}) {
        QAction *a = theme->addAction(label);
        a->setCheckable(true);
        a->setChecked(key == current);
        group->addAction(a);
        const QString k = key;
        connect(a, &QAction::triggered, this, [this, k] {
            QSettings().setValue(QStringLiteral("theme"), k);
            applyTheme(k);
        });
    }

    QMenu *run = menuBar()->addMenu(tr("&Run"));
    run->addAction(m_runAction);
    run->addAction(m_pauseAction);
    run->addAction(m_stopAction);
    run->addSeparator();
    run->addAction(m_exportAction);
    run->addAction(m_tryAction);
    run->addSeparator();
    run->addAction(m_sweepAction);
    run->addAction(m_stopAllAction);
    run->addAction(m_compareAction);

    QToolBar *bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setMovable(false);
    bar->addAction(m_newAction);
    bar->addAction(m_openAction);
    bar->addAction(m_saveAction);
    bar->addSeparator();
    bar->addAction(m_undoAction);
    bar->addAction(m_redoAction);
    bar->addSeparator();
    bar->addAction(m_fitAction);
    bar->addSeparator();
    bar->addAction(m_runAction);
    bar->addAction(m_pauseAction);
    bar->addAction(m_stopAction);
    m_viewMenu->addAction(bar->toggleViewAction());
}

void MainWindow::restoreLayout()
{
    QSettings settings;
    if (settings.contains(QStringLiteral("geometry")))
        restoreGeometry(settings.value(QStringLiteral("geometry")).toByteArray());
    else
        resize(1500, 950);
    if (settings.contains(QStringLiteral("windowState")))
        restoreState(settings.value(QStringLiteral("windowState")).toByteArray());
}

void MainWindow::applyTheme(const QString &theme)
{
    if (theme == QLatin1String("dark")) {
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(darkPalette());
    } else if (theme == QLatin1String("light")) {
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(QApplication::style()->standardPalette());
    } else {
        QApplication::setPalette(QPalette());
    }
    m_scene->update();
}

void MainWindow::updateTitle()
{
    const QString name = m_document->filePath().isEmpty()
                             ? tr("untitled")
                             : QFileInfo(m_document->filePath()).fileName();
    setWindowTitle(tr("%1[*] — Distillery").arg(name));
    setWindowModified(m_document->isModified());
}

void MainWindow::updateRunAvailability()
{
    QString reason;
    const auto &issues = m_document->issues();
    if (!issues.empty()) {
        reason = tr("The graph has %n problem(s); the first: %1", nullptr, int(issues.size()))
                     .arg(qs(issues.front().message));
        m_validity->setText(tr("⚠ %n problem(s)", nullptr, int(issues.size())));
        m_validity->setStyleSheet(QStringLiteral("color:#d04040"));
    } else {
        m_validity->setText(tr("✓ graph valid"));
        m_validity->setStyleSheet(QString());
    }
    const bool ok = reason.isEmpty();
    m_runAction->setEnabled(ok);
    m_runAction->setToolTip(ok ? tr("Train this graph (Ctrl+R)") : reason);
    m_runPanel->setRunEnabled(ok, reason);
}

bool MainWindow::startRun(QString *why)
{
    if (!m_document->isValid()) {
        if (why)
            *why = tr("The graph is invalid: %1").arg(qs(m_document->issues().front().message));
        return false;
    }
    core::RunOptions options = m_runPanel->options();
    options.storePath = m_storePath.toStdString();
    if (!m_document->filePath().isEmpty())
        options.name = QFileInfo(m_document->filePath()).completeBaseName().toStdString();
    m_controller->enqueue(m_document->graph(), options);
    m_plots->setStorePath(m_storePath);
    m_plots->setLive(true);
    return true;
}

bool MainWindow::openGraph(const QString &path, QString *error)
{
    auto st = m_document->open(path);
    if (!st.ok()) {
        const QString message = qs(st.error().message);
        m_log->append(QStringLiteral("error"), message);
        if (error) // the caller reports it
            *error = message;
        else if (isVisible())
            QMessageBox::warning(this, tr("Cannot open the graph"), message);
        return false;
    }
    addRecentFile(m_document->filePath());
    fitSoon();
    showStatus(tr("Opened %1").arg(path));
    return true;
}

void MainWindow::loadTemplate(const QString &name)
{
    if (!maybeSave())
        return;
    auto g = core::loadTemplate(name.toStdString());
    if (!g.ok()) {
        showStatus(qs(g.error().message));
        return;
    }
    m_document->reset(g.value());
    fitSoon();
    showStatus(tr("Template %1").arg(name));
}

void MainWindow::setStorePath(const QString &path)
{
    m_storeChosen = true;
    useStore(path);
}

void MainWindow::followGraphFile()
{
    if (m_storeChosen || m_document->filePath().isEmpty())
        return;
    const QFileInfo graph(m_document->filePath());
    useStore(graph.absoluteDir().filePath(graph.completeBaseName() + QStringLiteral("-runs.sqlite")));
}

void MainWindow::useStore(const QString &path)
{
    if (path == m_storePath)
        return;
    m_storePath = path;
    m_runBrowser->setStorePath(path);
    m_plots->setStorePath(path);
    m_storeLabel->setText(tr("store: %1").arg(QFileInfo(path).fileName()));
    m_storeLabel->setToolTip(path);
    // Show the newest run's curves until the user picks others.
    if (auto reader = core::StoreReader::open(path.toStdString()); reader.ok()) {
        if (auto runs = reader.value()->runs(); runs.ok() && !runs.value().empty()) {
            m_runBrowser->refresh();
            m_runBrowser->selectRuns({qint64(runs.value().front().id)});
            m_plots->setRuns({runs.value().front().id});
        }
    }
}

bool MainWindow::maybeSave()
{
    if (!m_document->isModified() || !isVisible())
        return true;
    const auto answer = QMessageBox::question(
        this, tr("Unsaved changes"), tr("The graph has unsaved changes. Save them?"),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Cancel)
        return false;
    if (answer == QMessageBox::Save)
        return save();
    return true;
}

bool MainWindow::save()
{
    if (m_document->filePath().isEmpty())
        return saveAs();
    auto st = m_document->save(m_document->filePath());
    if (!st.ok()) {
        QMessageBox::warning(this, tr("Cannot save"), qs(st.error().message));
        return false;
    }
    showStatus(tr("Saved %1").arg(m_document->filePath()));
    return true;
}

bool MainWindow::saveAs()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Save graph"), m_document->filePath(),
                                                      tr("Distillery graphs (*.json)"));
    if (path.isEmpty())
        return false;
    auto st = m_document->save(path);
    if (!st.ok()) {
        QMessageBox::warning(this, tr("Cannot save"), qs(st.error().message));
        return false;
    }
    addRecentFile(m_document->filePath());
    return true;
}

void MainWindow::addRecentFile(const QString &path)
{
    QSettings settings;
    QStringList recent = settings.value(QStringLiteral("recentFiles")).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    settings.setValue(QStringLiteral("recentFiles"), recent);
    updateRecentMenu();
}

void MainWindow::updateRecentMenu()
{
    m_recentMenu->clear();
    const QStringList recent = QSettings().value(QStringLiteral("recentFiles")).toStringList();
    for (const QString &path : recent)
        m_recentMenu->addAction(QFileInfo(path).fileName(), this, [this, path] {
            if (maybeSave())
                openGraph(path);
        })->setToolTip(path);
    m_recentMenu->setEnabled(!recent.isEmpty());
}

void MainWindow::fitSoon()
{
    // After the layout has settled (the view may not have its final size yet).
    QTimer::singleShot(0, m_view, &GraphView::zoomToFit);
}

void MainWindow::showEvent(QShowEvent *event)
{
    QMainWindow::showEvent(event);
    fitSoon();
}

void MainWindow::showStatus(const QString &message)
{
    statusBar()->showMessage(message, 8000);
}

bool MainWindow::saveScreenshot(const QString &path)
{
    return grab().save(path);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (!maybeSave()) {
        event->ignore();
        return;
    }
    if (m_controller->isRunning()) {
        const auto answer = QMessageBox::question(
            this, tr("A run is training"),
            tr("Stop the run and quit? It ends as cancelled with a checkpoint and can be resumed."));
        if (answer != QMessageBox::Yes) {
            event->ignore();
            return;
        }
        m_controller->stop();
    }
    QSettings settings;
    settings.setValue(QStringLiteral("geometry"), saveGeometry());
    settings.setValue(QStringLiteral("windowState"), saveState());
    event->accept();
}

} // namespace distillery::widgets
