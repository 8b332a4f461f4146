// distillery: the workbench window.
//   distillery [--open GRAPH | --template NAME] [--store DB] [--run] [--select ID]
//              [--screenshot OUT.png]

#include "graph/graphscene.h"
#include "mainwindow/mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <cstdio>

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Distillery"));
    QApplication::setOrganizationName(QStringLiteral("Distillery"));
    QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Knowledge-distillation workbench"));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption open(QStringLiteral("open"), QStringLiteral("Open a graph file."),
                                  QStringLiteral("GRAPH"));
    const QCommandLineOption templ(QStringLiteral("template"),
                                   QStringLiteral("Start from a built-in template (default classic-kd)."),
                                   QStringLiteral("NAME"));
    const QCommandLineOption store(QStringLiteral("store"),
                                   QStringLiteral("Run store to write and browse."), QStringLiteral("DB"));
    const QCommandLineOption run(QStringLiteral("run"), QStringLiteral("Start training at once."));
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                        QStringLiteral("Render the window to a PNG and exit."),
                                        QStringLiteral("OUT.png"));
    const QCommandLineOption select(QStringLiteral("select"),
                                    QStringLiteral("Select a node (its id) for the inspector."),
                                    QStringLiteral("ID"));
    parser.addOptions({open, templ, store, run, screenshot, select});
    parser.process(app);

    distillery::widgets::MainWindow window;
    if (parser.isSet(store))
        window.setStorePath(parser.value(store));
    if (parser.isSet(templ))
        window.loadTemplate(parser.value(templ));
    if (parser.isSet(open)) {
        QString error;
        if (!window.openGraph(parser.value(open), &error)) {
            std::fprintf(stderr, "distillery: %s\n", qPrintable(error));
            return 2;
        }
    }
    window.show();
    if (parser.isSet(select))
        window.scene()->selectNode(parser.value(select).toInt());
    if (parser.isSet(run)) {
        QString why;
        if (!window.startRun(&why))
            std::fprintf(stderr, "distillery: cannot run: %s\n", qPrintable(why));
    }
    if (parser.isSet(screenshot)) {
        const QString out = parser.value(screenshot);
        // Let the layout settle and the plots draw before grabbing.
        QTimer::singleShot(parser.isSet(run) ? 8000 : 800, &window, [&window, out] {
            const bool ok = window.saveScreenshot(out);
            std::fprintf(ok ? stdout : stderr, "%s %s\n", ok ? "wrote" : "cannot write", qPrintable(out));
            QApplication::exit(ok ? 0 : 1);
        });
    }
    return QApplication::exec();
}
