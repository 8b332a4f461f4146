#include "training/trainingcontroller.h"

#include "distillery/core/store.h"


#include <algorithm>
#include <exception>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace distillery::widgets {

namespace {

QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}

QString statusText(core::RunStatus status)
{
    switch (status) {
    case core::RunStatus::Finished:
        return QStringLiteral("finished");
    case core::RunStatus::Cancelled:
        return QStringLiteral("cancelled");
    default:
        return QStringLiteral("failed");
    }
}

// The display name of a run the core has just created (the job's name, or the template's).
QString runName(const std::string &storePath, core::RunId run, const QString &fallback)
{
    if (auto reader = core::StoreReader::open(storePath); reader.ok())
        if (auto info = reader.value()->run(run); info.ok() && !info.value().name.empty())
            return qs(info.value().name);
    return fallback;
}

// The worker yields to the GUI thread when both want a core: Linux nice values are per
// thread and inherited by the threads it starts (LibTorch's pools created during the run).
void lowerWorkerPriority()
{
#ifdef __linux__
    const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
    ::setpriority(PRIO_PROCESS, tid, 2);
#endif
}

} // namespace

TrainingController::TrainingController(QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<distillery::widgets::TrainingProgress>();
    m_throttle.setSingleShot(true);
    connect(&m_throttle, &QTimer::timeout, this, &TrainingController::emitHeldProgress);
    m_sinceEmit.start();
    m_worker = std::thread([this] { workerLoop(); });
}

TrainingController::~TrainingController()
{
    {
        std::lock_guard lock(m_mutex);
        m_quit = true;
        m_queue.clear();
        if (m_control)
            m_control->requestCancel();
    }
    m_wake.notify_all();
    if (m_worker.joinable())
        m_worker.join();
    // Deliveries the worker posted meanwhile are discarded with this object.
}

void TrainingController::enqueue(const core::Graph &graph, const core::RunOptions &options)
{
    push(Job{graph, options, 0});
}

void TrainingController::enqueueResume(core::RunId run, const core::RunOptions &options)
{
    push(Job{core::Graph(), options, run});
}

void TrainingController::push(Job job)
{
    int queued = 0;
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back(std::move(job));
        queued = int(m_queue.size());
    }
    ++m_outstanding;
    m_wake.notify_all();
    Q_EMIT queueChanged(queued);
}

void TrainingController::pause()
{
    std::lock_guard lock(m_mutex);
    if (!m_control)
        return;
    m_paused = true;
    m_control->setPaused(true);
}

void TrainingController::resume()
{
    std::lock_guard lock(m_mutex);
    m_paused = false;
    if (m_control)
        m_control->setPaused(false);
}

void TrainingController::stop()
{
    std::lock_guard lock(m_mutex);
    if (m_control)
        m_control->requestCancel();
}

void TrainingController::clearQueue()
{
    {
        std::lock_guard lock(m_mutex);
        if (m_queue.empty())
            return;
        m_outstanding -= int(m_queue.size());
        m_queue.clear();
    }
    Q_EMIT queueChanged(0);
}

bool TrainingController::isRunning() const
{
    std::lock_guard lock(m_mutex);
    return m_busy;
}

bool TrainingController::isPaused() const
{
    std::lock_guard lock(m_mutex);
    return m_busy && m_paused;
}

int TrainingController::queuedCount() const
{
    std::lock_guard lock(m_mutex);
    return int(m_queue.size());
}

// ---------------------------------------------------------------------------------------------
// Worker thread

void TrainingController::workerLoop()
{
    lowerWorkerPriority();
    for (;;) {
        Job job;
        std::shared_ptr<core::RunControl> control;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_quit || !m_queue.empty(); });
            if (m_quit)
                return;
            job = std::move(m_queue.front());
            m_queue.pop_front();
            control = std::make_shared<core::RunControl>();
            m_control = control;
            m_busy = true;
            m_paused = false;
        }
        postQueueChanged();
        runJob(std::move(job), control);
        {
            std::lock_guard lock(m_mutex);
            m_control.reset();
            m_busy = false;
            m_paused = false;
        }
    }
}

void TrainingController::runJob(Job job, const std::shared_ptr<core::RunControl> &control)
{
    const std::string storePath = job.options.storePath;
    bool started = false;
    qint64 knownId = 0;
    QString name = qs(job.options.name);

    auto announce = [&](qint64 id, const QString &runName) {
        started = true;
        knownId = id;
        QMetaObject::invokeMethod(
            this, [this, id, runName] { Q_EMIT runStarted(id, runName); }, Qt::QueuedConnection);
        QMetaObject::invokeMethod(
            this,
            [this, id, runName] {
                Q_EMIT logMessage(id > 0 ? tr("Run #%1 '%2' started").arg(id).arg(runName)
                                         : tr("Run '%1' started").arg(runName));
            },
            Qt::QueuedConnection);
    };

    auto onProgress = [&](const core::Progress &p) {
        // Reports before the run exists (loading a teacher) have no run id: shown, not announced.
        if (!started && p.runId > 0)
            announce(p.runId, runName(storePath, p.runId, name.isEmpty() ? tr("run") : name));
        TrainingProgress t;
        t.phase = qs(p.phase);
        t.step = p.step;
        t.totalSteps = p.totalSteps;
        t.loss = p.loss;
        t.tokensPerSecond = p.tokensPerSecond;
        t.etaSeconds = p.etaSeconds;
        t.elapsedSeconds = p.elapsedSeconds;
        t.paused = p.paused;
        postProgress(t);
    };

    QString error;
    try {
        auto result = job.resume > 0
                          ? core::resumeRun(job.resume, job.options, onProgress, control.get())
                          : core::runExperiment(job.graph, job.options, onProgress, control.get());
        if (!result.ok()) {
            const QString message = qs(result.error().message);
            QMetaObject::invokeMethod(
                this, [this, message] { rejectJob(message); }, Qt::QueuedConnection);
            return;
        }
        const core::RunResult &r = result.value();
        if (!started)
            announce(r.runId, name.isEmpty() ? tr("run") : name);
        const qint64 id = r.runId;
        const QString status = statusText(r.status);
        const QString message = qs(r.error);
        QMetaObject::invokeMethod(
            this, [this, id, status, message] { finishJob(id, status, message); },
            Qt::QueuedConnection);
        return;
    } catch (const std::exception &e) {
        error = QString::fromLocal8Bit(e.what());
    } catch (...) {
        error = tr("unknown exception in the trainer");
    }
    // Exceptions never cross into the event loop: they end the job like a failed or refused run.
    if (started) {
        const qint64 id = knownId;
        QMetaObject::invokeMethod(
            this, [this, id, error] { finishJob(id, QStringLiteral("failed"), error); },
            Qt::QueuedConnection);
    } else {
        QMetaObject::invokeMethod(
            this, [this, error] { rejectJob(error); }, Qt::QueuedConnection);
    }
}

void TrainingController::postProgress(const TrainingProgress &progress)
{
    std::lock_guard lock(m_progressMutex);
    m_pendingProgress = progress;
    if (m_progressPosted)
        return;
    m_progressPosted = true;
    QMetaObject::invokeMethod(
        this, [this] { deliverProgress(); }, Qt::QueuedConnection);
}

void TrainingController::postQueueChanged()
{
    QMetaObject::invokeMethod(
        this, [this] { Q_EMIT queueChanged(queuedCount()); }, Qt::QueuedConnection);
}

// ---------------------------------------------------------------------------------------------
// GUI thread

void TrainingController::deliverProgress()
{
    {
        std::lock_guard lock(m_progressMutex);
        m_progressPosted = false;
        if (!m_pendingProgress)
            return;
        m_heldProgress = std::move(m_pendingProgress);
        m_pendingProgress.reset();
    }
    const qint64 interval = 1000 / kMaxProgressPerSecond;
    const qint64 since = m_sinceEmit.elapsed();
    if (since >= interval && !m_throttle.isActive())
        emitHeldProgress();
    else if (!m_throttle.isActive())
        m_throttle.start(int(interval - since));
}

void TrainingController::emitHeldProgress()
{
    if (!m_heldProgress)
        return;
    const TrainingProgress p = *m_heldProgress;
    m_heldProgress.reset();
    m_sinceEmit.restart();
    Q_EMIT progress(p);
}

void TrainingController::flushHeldProgress()
{
    m_throttle.stop();
    emitHeldProgress();
}

void TrainingController::finishJob(qint64 runId, const QString &status, const QString &error)
{
    // The worker posted every progress before this; the last one may still be held back.
    flushHeldProgress();
    m_outstanding = std::max(0, m_outstanding - 1);
    Q_EMIT logMessage(error.isEmpty() ? tr("Run #%1 %2").arg(runId).arg(status)
                                      : tr("Run #%1 %2: %3").arg(runId).arg(status, error));
    Q_EMIT runFinished(runId, status, error);
}

void TrainingController::rejectJob(const QString &message)
{
    flushHeldProgress();
    m_outstanding = std::max(0, m_outstanding - 1);
    Q_EMIT logMessage(tr("Run refused: %1").arg(message));
    Q_EMIT runRejected(message);
}

} // namespace distillery::widgets
