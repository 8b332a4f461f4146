#pragma once

// The log dock: spdlog messages from the engine (any thread) and the workbench's own lines.

#include <QPlainTextEdit>

#include <memory>

namespace distillery::widgets {

class LogPanel : public QPlainTextEdit
{
    Q_OBJECT
public:
    explicit LogPanel(QWidget *parent = nullptr);
    ~LogPanel() override;

public Q_SLOTS:
    // level: "info", "warning", "error", ...; safe to call from the GUI thread only (the spdlog
    // sink queues calls from other threads).
    void append(const QString &level, const QString &message);

private:
    std::shared_ptr<class QtLogSink> m_sink;
};

} // namespace distillery::widgets
