#include "log/logpanel.h"

#include <QDateTime>
#include <QMetaObject>
#include <QPointer>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace distillery::widgets {

// Forwards spdlog records to a LogPanel through the event loop (the engine logs from its
// worker thread).
class QtLogSink : public spdlog::sinks::base_sink<std::mutex>
{
public:
    explicit QtLogSink(LogPanel *panel) : m_panel(panel) {}
    void detach()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        m_panel = nullptr;
    }

protected:
    void sink_it_(const spdlog::details::log_msg &msg) override
    {
        if (!m_panel)
            return;
        const auto level = spdlog::level::to_string_view(msg.level);
        const QString levelText = QString::fromUtf8(level.data(), int(level.size()));
        const QString text = QString::fromUtf8(msg.payload.data(), int(msg.payload.size()));
        QPointer<LogPanel> panel(m_panel);
        QMetaObject::invokeMethod(
            m_panel, [panel, levelText, text] {
                if (panel)
                    panel->append(levelText, text);
            },
            Qt::QueuedConnection);
    }
    void flush_() override {}

private:
    LogPanel *m_panel;
};

LogPanel::LogPanel(QWidget *parent) : QPlainTextEdit(parent)
{
    setReadOnly(true);
    setMaximumBlockCount(5000);
    setFont(QFont(QStringLiteral("monospace")));
    m_sink = std::make_shared<QtLogSink>(this);
    spdlog::default_logger()->sinks().push_back(m_sink);
}

LogPanel::~LogPanel()
{
    m_sink->detach();
    auto &sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), m_sink), sinks.end());
}

void LogPanel::append(const QString &level, const QString &message)
{
    QString color;
    if (level.startsWith(QLatin1String("err")) || level.startsWith(QLatin1String("crit")))
        color = QStringLiteral("#d04040");
    else if (level.startsWith(QLatin1String("warn")))
        color = QStringLiteral("#c08020");
    const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss"));
    const QString line = QStringLiteral("%1 %2 %3").arg(stamp, level.leftJustified(7), message);
    if (color.isEmpty())
        appendPlainText(line);
    else
        appendHtml(QStringLiteral("<span style='color:%1'>%2</span>").arg(color, line.toHtmlEscaped()));
}

} // namespace distillery::widgets
