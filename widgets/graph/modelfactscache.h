#pragma once

// What the model files behind Teacher nodes hold (checkpoint, TorchScript, Hugging Face
// folder), for their cards: read once per file and modification time on a worker thread, so
// that the canvas never waits for a large file. Node cards ask and show "reading…" until the
// answer arrives with updated().

#include "distillery/core/modeltools.h"

#include <QDateTime>
#include <QHash>
#include <QObject>
#include <QString>

namespace distillery::widgets {

class ModelFactsCache : public QObject
{
    Q_OBJECT
public:
    enum class State { Reading, Ready, Failed };
    struct Entry
    {
        State state = State::Reading;
        core::ModelFacts facts; // when Ready
        QString error;          // when Failed
    };

    static ModelFactsCache &instance();

    // The facts of the model at `path` as far as known; a file not read yet, or changed since,
    // starts a read in the background and is Reading until updated(path).
    Entry lookup(const QString &path);

    // Blocks until no read is running (for tests).
    void waitForReads();

Q_SIGNALS:
    void updated(const QString &path);

private:
    explicit ModelFactsCache(QObject *parent = nullptr);
    struct Cached
    {
        Entry entry;
        QDateTime modified;
        qint64 size = -1;
    };
    QHash<QString, Cached> m_cache;
    int m_running = 0;
};

} // namespace distillery::widgets
