// distillery: the workbench window. See README for the command line.

#include "mainwindow/mainwindow.h"

#include <QApplication>

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName("Distillery");
    QApplication::setOrganizationName("Distillery");
    distillery::widgets::MainWindow window;
    window.show();
    return QApplication::exec();
}
