#pragma once

// Runs core experiments one after another on a worker thread and reports to the GUI thread.
//
// Threading: one std::thread per controller takes jobs from a queue and calls
// core::runExperiment with a RunControl of its own. Everything it has to say is posted to this
// object's thread (the GUI thread) with queued invocations; the signals below are therefore
// always emitted on the GUI thread. No public function blocks on training: stop() only requests
// cancellation (the run writes a checkpoint and ends 'cancelled' at its next step boundary).
// Only the destructor waits for the worker, after cancelling the current run and dropping the
// queue.
//
// Run ids: core creates the run before its first progress report, and every report carries the
// run's id (core::Progress::runId). runStarted() is emitted on the first report, just before
// the first progress(), with that id and the run's name as stored; runFinished() has the id of
// core's RunResult. A job the core refuses before creating a run (bad input) emits only
// runRejected().

#include "distillery/core/graph.h"
#include "distillery/core/trainer.h"

#include <QElapsedTimer>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QTimer>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace distillery::widgets {

// A progress report, as a small value type for queued signals.
struct TrainingProgress
{
    QString phase; // "teacher 'name'", "cache", "student", "eval", "paused"
    qint64 step = 0;
    qint64 totalSteps = 0;
    double loss = 0;
    double tokensPerSecond = 0;
    double etaSeconds = 0; // of the current phase
    double elapsedSeconds = 0;
    bool paused = false;
};

class TrainingController : public QObject
{
    Q_OBJECT
public:
    // At most this many progress() signals per second.
    static constexpr int kMaxProgressPerSecond = 20;

    explicit TrainingController(QObject *parent = nullptr);
    // Cancels the current run, drops the queue and waits for the worker (the current step and
    // the cancel checkpoint), so it may take as long as one training step.
    ~TrainingController() override;

    // Queues a run; runs train one after another in the order they were enqueued.
    void enqueue(const core::Graph &graph, const core::RunOptions &options);
    // Queues the resume of a cancelled, interrupted or failed run of options.storePath (its
    // stored graph, from its newest checkpoint). Refusals (a run another process writes, an
    // unreadable checkpoint) come back as runRejected with the reason; the run is unchanged.
    void enqueueResume(core::RunId run, const core::RunOptions &options);
    // Pause/resume the current run (between steps). A new run always starts unpaused.
    void pause();
    void resume();
    // Cancels the current run (it ends 'cancelled' with a checkpoint); queued runs continue.
    void stop();
    // Drops runs that have not started yet.
    void clearQueue();

    bool isRunning() const; // a job is being worked on (preparing, training or finishing)
    bool isPaused() const;
    int queuedCount() const; // jobs waiting, not counting the current one
    // Jobs enqueued whose runFinished/runRejected has not been emitted yet (GUI-thread view,
    // consistent with the signals; use it to enable Stop/Pause).
    int jobCount() const { return m_outstanding; }

Q_SIGNALS:
    void runStarted(qint64 runId, const QString &name);
    void progress(const distillery::widgets::TrainingProgress &progress);
    void runFinished(qint64 runId, const QString &status, const QString &error);
    void runRejected(const QString &message);
    void queueChanged(int queued);
    void logMessage(const QString &message);

private:
    struct Job
    {
        core::Graph graph;
        core::RunOptions options;
        core::RunId resume = 0; // > 0: resume this run instead of starting the graph
    };

    void push(Job job);
    void workerLoop();
    void runJob(Job job, const std::shared_ptr<core::RunControl> &control);
    // Worker side: stores the newest report and posts one delivery if none is pending.
    void postProgress(const TrainingProgress &progress);
    // GUI side.
    void deliverProgress();
    void emitHeldProgress();
    void flushHeldProgress();
    void finishJob(qint64 runId, const QString &status, const QString &error);
    void rejectJob(const QString &message);
    void postQueueChanged();

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Job> m_queue;
    std::shared_ptr<core::RunControl> m_control; // of the current run
    bool m_busy = false;
    bool m_paused = false;
    bool m_quit = false;
    std::thread m_worker;

    // Progress coalescing: the worker keeps only the newest report; the GUI thread emits at
    // most kMaxProgressPerSecond and always delivers the last one before runFinished.
    std::mutex m_progressMutex;
    std::optional<TrainingProgress> m_pendingProgress;
    bool m_progressPosted = false;
    int m_outstanding = 0;                          // GUI thread only
    std::optional<TrainingProgress> m_heldProgress; // GUI thread only
    QElapsedTimer m_sinceEmit;                      // GUI thread only
    QTimer m_throttle;                              // GUI thread only
};

} // namespace distillery::widgets

Q_DECLARE_METATYPE(distillery::widgets::TrainingProgress)
