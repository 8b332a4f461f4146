#pragma once

// The workbench window: canvas, palette, inspector, problems, runs, plots and log as docks.

#include <QMainWindow>

namespace distillery::widgets {

class GraphDocument;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    GraphDocument *document() const { return m_document; }

private:
    GraphDocument *m_document = nullptr;
};

} // namespace distillery::widgets
