#pragma once

// The dock that starts and steers training: Run / Pause-Resume / Stop, device and threads,
// a progress bar ("phase step/total · loss · tokens/s · ETA"), the queue length and the last
// error in red. It only talks to a TrainingController; the main window answers runRequested()
// by calling controller->enqueue(graph, panel->options() + store path).

#include "distillery/core/trainer.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace distillery::widgets {

class TrainingController;
struct TrainingProgress;

class RunPanel : public QWidget
{
    Q_OBJECT
public:
    explicit RunPanel(TrainingController *controller, QWidget *parent = nullptr);

    // The main window disables Run while the graph is invalid and gives the reason.
    void setRunEnabled(bool enabled, const QString &reasonTooltip = {});
    // device ("auto" | "cpu" | "cuda") and threads (0 = all cores); other fields unset.
    core::RunOptions options() const;
    QString device() const;
    int threads() const;
    QString lastError() const;
    // "student 12/200 · loss 2.314 · 1.2k tok/s · ETA 0:42"
    static QString progressText(const TrainingProgress &progress);

Q_SIGNALS:
    void runRequested();

private:
    void onProgress(const TrainingProgress &progress);
    void onRunStarted(qint64 runId, const QString &name);
    void onRunFinished(qint64 runId, const QString &status, const QString &error);
    void onRunRejected(const QString &message);
    void onQueueChanged(int queued);
    void updateButtons();
    void showError(const QString &message);

    TrainingController *m_controller = nullptr;
    QPushButton *m_run = nullptr;
    QPushButton *m_pause = nullptr;
    QPushButton *m_stop = nullptr;
    QComboBox *m_device = nullptr;
    QSpinBox *m_threads = nullptr;
    QLabel *m_detail = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_state = nullptr;
    QLabel *m_queue = nullptr;
    QLabel *m_error = nullptr;
    bool m_runEnabled = true;
    bool m_active = false; // between runStarted/enqueue and the end of the last job
};

} // namespace distillery::widgets
