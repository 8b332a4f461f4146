#include "graph/modelfactscache.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QFileInfo>
#include <QThreadPool>

namespace distillery::widgets {

namespace {

// A folder's stamp is its config.json's (a Hugging Face folder is read from it).
QFileInfo stampOf(const QString &path)
{
    QFileInfo info(path);
    if (info.isDir())
        return QFileInfo(path + QStringLiteral("/config.json"));
    return info;
}

} // namespace

ModelFactsCache::ModelFactsCache(QObject *parent)
    : QObject(parent)
{}

ModelFactsCache &ModelFactsCache::instance()
{
    // Never destroyed: a read still running at exit posts its answer to a living object.
    static ModelFactsCache *cache = new ModelFactsCache();
    return *cache;
}

ModelFactsCache::Entry ModelFactsCache::lookup(const QString &path)
{
    const QFileInfo stamp = stampOf(path);
    const QDateTime modified = stamp.lastModified();
    const qint64 size = stamp.exists() ? stamp.size() : -1;
    auto it = m_cache.find(path);
    if (it != m_cache.end() && it->modified == modified && it->size == size)
        return it->entry;
    Cached &c = m_cache[path];
    c.entry = Entry{};
    c.modified = modified;
    c.size = size;
    ++m_running;
    const std::string file = path.toStdString();
    QThreadPool::globalInstance()->start([this, path, file, modified, size]() {
        auto facts = core::inspectModel(file);
        QMetaObject::invokeMethod(
            this,
            [this, path, modified, size, facts = std::move(facts)]() {
                --m_running;
                auto it = m_cache.find(path);
                if (it == m_cache.end() || it->modified != modified || it->size != size)
                    return; // a newer read replaced it
                if (facts.ok()) {
                    it->entry.state = State::Ready;
                    it->entry.facts = facts.value();
                } else {
                    it->entry.state = State::Failed;
                    it->entry.error = QString::fromStdString(facts.error().message);
                }
                Q_EMIT updated(path);
            },
            Qt::QueuedConnection);
    });
    return c.entry;
}

void ModelFactsCache::waitForReads()
{
    while (m_running > 0) {
        QThreadPool::globalInstance()->waitForDone(50);
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    }
}

} // namespace distillery::widgets
