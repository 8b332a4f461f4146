// The window's sweeps and comparisons: the Sweep dialog, queueing its runs, comparison windows.

#include "mainwindow/mainwindow.h"

#include "compare/comparisonview.h"
#include "document/graphdocument.h"
#include "plots/plotpanel.h"
#include "runs/sweepdialog.h"
#include "training/runpanel.h"
#include "training/trainingcontroller.h"

#include "distillery/core/trainer.h"

namespace distillery::widgets {

SweepDialog *MainWindow::openSweepDialog(const QString &param)
{
    if (!m_document->isValid())
        return nullptr;
    auto *dialog = new SweepDialog(m_document->graph(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    if (!param.isEmpty())
        dialog->addAxis(param);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        QString why;
        if (!queueSweep(*dialog, &why))
            showStatus(why);
    });
    dialog->show();
    return dialog;
}

bool MainWindow::queueSweep(const SweepDialog &dialog, QString *why)
{
    if (!dialog.problem().isEmpty() || dialog.graphs().empty()) {
        if (why)
            *why = dialog.problem().isEmpty() ? tr("The sweep has no runs") : dialog.problem();
        return false;
    }
    const core::RunOptions base = m_runPanel->options();
    for (std::size_t i = 0; i < dialog.graphs().size(); ++i) {
        core::RunOptions options = base;
        options.storePath = m_storePath.toStdString();
        options.group = dialog.name().toStdString();
        options.name = options.group + ": " + dialog.plan()[i].label();
        m_controller->enqueue(dialog.graphs()[i], options);
    }
    m_plots->setStorePath(m_storePath);
    m_plots->setLive(true);
    showStatus(tr("Sweep '%1': %2 runs queued").arg(dialog.name()).arg(dialog.graphs().size()));
    return true;
}

ComparisonView *MainWindow::openComparison(const QList<qint64> &runIds, QString *error)
{
    auto *view = new ComparisonView(this);
    view->setWindowFlag(Qt::Window);
    view->setAttribute(Qt::WA_DeleteOnClose);
    if (!view->setRuns(m_storePath, runIds, error)) {
        delete view;
        return nullptr;
    }
    connect(view, &ComparisonView::errorOccurred, this, [this](const QString &m) { showStatus(m); });
    view->resize(1280, 800);
    view->show();
    return view;
}

} // namespace distillery::widgets
