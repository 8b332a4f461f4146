#include "mainwindow/mainwindow.h"

#include "document/graphdocument.h"

namespace distillery::widgets {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_document(new GraphDocument(this))
{
    setWindowTitle(tr("Distillery"));
}

MainWindow::~MainWindow() = default;

} // namespace distillery::widgets
