#include "training/runpanel.h"

#include "common/format.h"

#include "training/trainingcontroller.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QStyle>
#include <QThread>
#include <QVBoxLayout>

#include <climits>
#include <cmath>

namespace distillery::widgets {

namespace {

QString compactNumber(double value)
{
    if (value >= 1e6)
        return QString::number(value / 1e6, 'f', 1) + QLatin1Char('M');
    if (value >= 1e3)
        return QString::number(value / 1e3, 'f', 1) + QLatin1Char('k');
    return QString::number(value, 'f', 0);
}

QString duration(double seconds)
{
    return formatClock(seconds);
}

} // namespace

RunPanel::RunPanel(TrainingController *controller, QWidget *parent)
    : QWidget(parent)
    , m_controller(controller)
{
    m_run = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("Run"), this);
    m_run->setToolTip(tr("Train the current graph (queued after the running one)"));
    m_pause = new QPushButton(style()->standardIcon(QStyle::SP_MediaPause), tr("Pause"), this);
    m_pause->setCheckable(true);
    m_pause->setToolTip(tr("Pause or resume the current run between two steps"));
    m_stop = new QPushButton(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop"), this);
    m_stop->setToolTip(tr("Cancel the current run; it keeps a checkpoint and can be resumed"));
    m_run->setObjectName(QStringLiteral("runButton"));
    m_pause->setObjectName(QStringLiteral("pauseButton"));
    m_stop->setObjectName(QStringLiteral("stopButton"));

    m_device = new QComboBox(this);
    m_device->addItem(tr("Auto"), QStringLiteral("auto"));
    m_device->addItem(tr("CPU"), QStringLiteral("cpu"));
    m_device->addItem(tr("CUDA"), QStringLiteral("cuda"));
    if (!core::cudaAvailable()) {
        if (auto *model = qobject_cast<QStandardItemModel *>(m_device->model()))
            model->item(2)->setEnabled(false);
        const QString reason = tr(
            "CUDA is not available: this LibTorch build has no CUDA support or no GPU was found");
        m_device->setItemData(2, reason, Qt::ToolTipRole);
        m_device->setToolTip(tr("Device for the next run. %1.").arg(reason));
    } else {
        m_device->setToolTip(tr("Device for the next run; Auto takes CUDA when available"));
    }

    m_threads = new QSpinBox(this);
    m_threads->setRange(0, std::max(64, QThread::idealThreadCount() * 2));
    m_threads->setSpecialValueText(tr("all cores (%1)").arg(QThread::idealThreadCount()));
    m_threads->setValue(0);
    m_threads->setToolTip(tr("CPU threads for the next run; 0 = one per core"));

    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    m_progress->setFormat(QStringLiteral("%p%"));
    m_progress->setMinimumWidth(200);
    m_detail = new QLabel(tr("idle"), this);
    m_detail->setWordWrap(true);

    m_state = new QLabel(tr("No run yet"), this);
    m_state->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_queue = new QLabel(this);
    m_error = new QLabel(this);
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_error->hide();

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_run);
    buttons->addWidget(m_pause);
    buttons->addWidget(m_stop);
    buttons->addStretch(1);

    auto *form = new QFormLayout;
    form->addRow(tr("Device:"), m_device);
    form->addRow(tr("Threads:"), m_threads);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addLayout(form);
    layout->addWidget(m_progress);
    layout->addWidget(m_detail);
    layout->addWidget(m_state);
    layout->addWidget(m_queue);
    layout->addWidget(m_error);
    layout->addStretch(1);

    connect(m_run, &QPushButton::clicked, this, &RunPanel::runRequested);
    connect(m_pause, &QPushButton::toggled, this, [this](bool paused) {
        if (!m_controller)
            return;
        if (paused)
            m_controller->pause();
        else
            m_controller->resume();
        m_pause->setText(paused ? tr("Resume") : tr("Pause"));
        m_pause->setIcon(
            style()->standardIcon(paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
    });
    connect(m_stop, &QPushButton::clicked, this, [this] {
        if (m_controller)
            m_controller->stop();
        m_state->setText(tr("Stopping… (the run finishes its step and saves a checkpoint)"));
    });

    if (m_controller) {
        connect(m_controller, &TrainingController::progress, this, &RunPanel::onProgress);
        connect(m_controller, &TrainingController::runStarted, this, &RunPanel::onRunStarted);
        connect(m_controller, &TrainingController::runFinished, this, &RunPanel::onRunFinished);
        connect(m_controller, &TrainingController::runRejected, this, &RunPanel::onRunRejected);
        connect(m_controller, &TrainingController::queueChanged, this, &RunPanel::onQueueChanged);
        m_active = m_controller->jobCount() > 0;
    }
    onQueueChanged(m_controller ? m_controller->queuedCount() : 0);
    updateButtons();
}

void RunPanel::setRunEnabled(bool enabled, const QString &reasonTooltip)
{
    m_runEnabled = enabled;
    m_run->setToolTip(enabled ? tr("Train the current graph (queued after the running one)")
                              : reasonTooltip);
    updateButtons();
}

core::RunOptions RunPanel::options() const
{
    core::RunOptions o;
    o.device = device().toStdString();
    o.threads = threads();
    return o;
}

QString RunPanel::device() const
{
    return m_device->currentData().toString();
}

int RunPanel::threads() const
{
    return m_threads->value();
}

QString RunPanel::lastError() const
{
    return m_error->isVisible() || !m_error->text().isEmpty() ? m_error->text() : QString();
}

QString RunPanel::progressText(const TrainingProgress &p)
{
    if (p.paused)
        return tr("paused · %1 elapsed").arg(duration(p.elapsedSeconds));
    QStringList parts;
    parts << QStringLiteral("%1 %2/%3").arg(p.phase).arg(p.step).arg(p.totalSteps);
    parts << tr("loss %1").arg(p.loss, 0, 'g', 4);
    parts << tr("%1 tok/s").arg(compactNumber(p.tokensPerSecond));
    parts << tr("ETA %1").arg(duration(p.etaSeconds));
    return parts.join(QStringLiteral(" · "));
}

void RunPanel::onProgress(const TrainingProgress &p)
{
    m_active = true;
    if (!p.paused) {
        const qint64 total = std::max<qint64>(1, p.totalSteps);
        // QProgressBar takes int; step counts fit.
        m_progress->setRange(0, int(std::min<qint64>(total, INT_MAX)));
        m_progress->setValue(int(std::min<qint64>(p.step, total)));
    }
    m_detail->setText(progressText(p));
    updateButtons();
}

void RunPanel::onRunStarted(qint64 runId, const QString &name)
{
    m_active = true;
    m_error->clear();
    m_error->hide();
    if (m_pause->isChecked()) { // every run starts unpaused
        const QSignalBlocker block(m_pause);
        m_pause->setChecked(false);
        m_pause->setText(tr("Pause"));
        m_pause->setIcon(style()->standardIcon(QStyle::SP_MediaPause));
    }
    m_state->setText(runId > 0 ? tr("Training run #%1 '%2'").arg(runId).arg(name)
                               : tr("Training '%1'").arg(name));
    updateButtons();
}

void RunPanel::onRunFinished(qint64 runId, const QString &status, const QString &error)
{
    m_state->setText(tr("Run #%1 %2").arg(runId).arg(status));
    if (status == QLatin1String("finished"))
        m_progress->setValue(m_progress->maximum());
    if (status == QLatin1String("failed"))
        showError(
            tr("Run #%1 failed: %2").arg(runId).arg(error.isEmpty() ? tr("unknown error") : error));
    m_active = m_controller && m_controller->jobCount() > 0;
    if (!m_active)
        m_detail->setText(m_detail->text() + QStringLiteral(" — ") + status);
    updateButtons();
}

void RunPanel::onRunRejected(const QString &message)
{
    showError(tr("Run refused: %1").arg(message));
    m_state->setText(tr("The run could not start"));
    m_active = m_controller && m_controller->jobCount() > 0;
    updateButtons();
}

void RunPanel::onQueueChanged(int queued)
{
    if (queued > 0)
        m_active = true;
    m_queue->setText(queued == 0 ? tr("Queue: empty") : tr("Queue: %n waiting", nullptr, queued));
    updateButtons();
}

void RunPanel::updateButtons()
{
    m_run->setEnabled(m_runEnabled);
    m_pause->setEnabled(m_active);
    m_stop->setEnabled(m_active);
    if (!m_active && m_pause->isChecked()) {
        const QSignalBlocker block(m_pause);
        m_pause->setChecked(false);
        m_pause->setText(tr("Pause"));
        m_pause->setIcon(style()->standardIcon(QStyle::SP_MediaPause));
    }
}

void RunPanel::showError(const QString &message)
{
    m_error->setText(message);
    m_error->setToolTip(message);
    m_error->show();
}

} // namespace distillery::widgets
