// distillery: the workbench window.
//   distillery [--open GRAPH | --template NAME] [--store DB] [--run] [--select ID]
//              [--runs IDS] [--plots-tab NAME] [--screenshot OUT.png] [--plots-screenshot OUT.png]
//              [--compare IDS [--compare-tab NAME] [--group-by FIELD]] [--sweep PARAM=VALUES]

#include "compare/comparisonview.h"
#include "graph/graphscene.h"
#include "mainwindow/mainwindow.h"
#include "plots/plotpanel.h"
#include "runs/runbrowser.h"
#include "runs/sweepdialog.h"

#include "distillery/core/blas.h"
#include "distillery/core/compare.h"
#include "distillery/core/store.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTabWidget>
#include <QTimer>

#include <cstdio>
#include <functional>

int main(int argc, char **argv)
{
    distillery::core::selectBlasKernels(argc, argv); // may restart with better BLAS kernels
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Knowledge-distillation workbench"));
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
    const QCommandLineOption runs(QStringLiteral("runs"),
                                  QStringLiteral("Show these runs of the store (comma-separated ids)."),
                                  QStringLiteral("IDS"));
    const QCommandLineOption plotsTab(
        QStringLiteral("plots-tab"),
        QStringLiteral("Open the plots on this tab: Loss, Evaluation, Optimizer, Calibration, "
                       "Alignment, Tokens or Diversity."),
        QStringLiteral("NAME"));
    const QCommandLineOption plotsShot(QStringLiteral("plots-screenshot"),
                                       QStringLiteral("Render the plots panel alone (1500×820) to a PNG and exit."),
                                       QStringLiteral("OUT.png"));
    const QCommandLineOption compare(
        QStringLiteral("compare"),
        QStringLiteral("Open the comparison of these runs of the store (ids, ranges 3-7, group:NAME, tag:NAME); "
                       "with --screenshot, the comparison window is rendered."),
        QStringLiteral("IDS"));
    const QCommandLineOption compareTab(QStringLiteral("compare-tab"),
                                        QStringLiteral("The comparison's tab: Config, Metrics, Curves, Trade-off or Parallel."),
                                        QStringLiteral("NAME"));
    const QCommandLineOption groupBy(QStringLiteral("group-by"),
                                     QStringLiteral("Group the compared runs by this field (auto, none, template, "
                                                    "tag, group or a parameter such as kd.temperature)."),
                                     QStringLiteral("FIELD"));
    const QCommandLineOption sweep(QStringLiteral("sweep"),
                                   QStringLiteral("Open the Sweep dialog on NODE.PARAM=VALUES (e.g. kd.temperature=1,2,4); "
                                                  "with --screenshot, the dialog is rendered."),
                                   QStringLiteral("PARAM=VALUES"));
    const QCommandLineOption seeds(QStringLiteral("seeds"), QStringLiteral("Seeds of the --sweep dialog (1,2,3)."),
                                   QStringLiteral("SEEDS"));
    parser.addOptions({open, templ, store, run, screenshot, select, runs, plotsTab, plotsShot, compare, compareTab,
                       groupBy, sweep, seeds});
    // Parsed before the QApplication exists: --help and --version need no display.
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);
    const QCommandLineOption help = parser.addHelpOption();
    const QCommandLineOption version = parser.addVersionOption();
    if (!parser.parse(arguments)) {
        std::fprintf(stderr, "distillery: %s\n", qPrintable(parser.errorText()));
        return 2;
    }
    if (parser.isSet(help)) {
        std::fputs(qPrintable(parser.helpText().replace(QStringLiteral("<executable_name>"), QStringLiteral("distillery"))), stdout);
        return 0;
    }
    if (parser.isSet(version)) {
        std::printf("Distillery 0.1.0\n");
        return 0;
    }
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Distillery"));
    QApplication::setOrganizationName(QStringLiteral("Distillery"));
    QApplication::setApplicationVersion(QStringLiteral("0.1.0"));


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
    if (parser.isSet(runs)) {
        QList<qint64> ids;
        for (const QString &id : parser.value(runs).split(QLatin1Char(','), Qt::SkipEmptyParts))
            ids.append(id.trimmed().toLongLong());
        window.runBrowser()->selectRuns(ids);
    }
    if (parser.isSet(plotsTab)) {
        QTabWidget *tabs = window.plots()->tabs();
        int found = -1;
        for (int i = 0; i < tabs->count(); ++i)
            if (tabs->tabText(i).compare(parser.value(plotsTab), Qt::CaseInsensitive) == 0)
                found = i;
        if (found < 0) {
            std::fprintf(stderr, "distillery: --plots-tab: no tab '%s'\n", qPrintable(parser.value(plotsTab)));
            return 2;
        }
        tabs->setCurrentIndex(found);
    }
    distillery::widgets::ComparisonView *comparison = nullptr;
    if (parser.isSet(compare)) {
        auto reader = distillery::core::StoreReader::open(window.storePath().toStdString());
        if (!reader.ok()) {
            std::fprintf(stderr, "distillery: --compare: %s\n", reader.error().message.c_str());
            return 2;
        }
        // "3,5 7-9" (commas or spaces), or one "group:NAME" / "tag:NAME" whose name may hold spaces.
        const QString value = parser.value(compare).trimmed();
        std::vector<std::string> items;
        if (value.startsWith(QLatin1String("group:")) || value.startsWith(QLatin1String("tag:")))
            items.push_back(value.toStdString());
        else
            for (const QString &item : value.split(QLatin1Char(' '), Qt::SkipEmptyParts))
                items.push_back(item.toStdString());
        auto ids = distillery::core::parseRunList(*reader.value(), items);
        if (!ids.ok()) {
            std::fprintf(stderr, "distillery: --compare: %s\n", ids.error().message.c_str());
            return 2;
        }
        QList<qint64> list;
        for (auto id : ids.value())
            list << id;
        QString error;
        comparison = window.openComparison(list, &error);
        if (!comparison) {
            std::fprintf(stderr, "distillery: --compare: %s\n", qPrintable(error));
            return 2;
        }
        if (parser.isSet(groupBy))
            comparison->setGroupBy(parser.value(groupBy));
        if (parser.isSet(compareTab) && !comparison->showTab(parser.value(compareTab))) {
            std::fprintf(stderr, "distillery: --compare-tab: no tab '%s' (Config, Metrics, Curves, Trade-off, Parallel)\n",
                         qPrintable(parser.value(compareTab)));
            return 2;
        }
    }
    distillery::widgets::SweepDialog *sweepDialog = nullptr;
    if (parser.isSet(sweep)) {
        const QString text = parser.value(sweep);
        sweepDialog = window.openSweepDialog(text.section(QLatin1Char('='), 0, 0));
        if (!sweepDialog) {
            std::fprintf(stderr, "distillery: --sweep: the graph is not valid\n");
            return 2;
        }
        if (text.contains(QLatin1Char('=')))
            sweepDialog->setAxisValues(0, text.section(QLatin1Char('='), 1));
        if (parser.isSet(seeds))
            sweepDialog->setSeeds(parser.value(seeds));
    }
    if (parser.isSet(run)) {
        QString why;
        if (!window.startRun(&why))
            std::fprintf(stderr, "distillery: cannot run: %s\n", qPrintable(why));
    }
    // After `delayMs` (the layout settles, the plots draw): `grab` renders to `out`, then exit.
    auto shootLater = [](QObject *context, int delayMs, const QString &out, std::function<bool(const QString &)> grab) {
        QTimer::singleShot(delayMs, context, [out, grab] {
            const bool ok = grab(out);
            std::fprintf(ok ? stdout : stderr, "%s %s\n", ok ? "wrote" : "cannot write", qPrintable(out));
            QApplication::exit(ok ? 0 : 1);
        });
    };
    auto grabOf = [](QWidget *widget) {
        return [widget](const QString &out) { return widget->grab().save(out, "PNG"); };
    };
    // The plots panel alone, at a size that shows it whole, with the window's store, runs and tab.
    distillery::widgets::PlotPanel shotPanel;
    if (parser.isSet(plotsShot)) {
        shotPanel.setStorePath(window.storePath());
        shotPanel.setRuns(window.plots()->runs());
        shotPanel.tabs()->setCurrentIndex(window.plots()->tabs()->currentIndex());
        shotPanel.setLive(true);
        shotPanel.resize(1500, 820);
        shotPanel.show();
        shootLater(&window, parser.isSet(run) ? 8000 : 1200, parser.value(plotsShot), grabOf(&shotPanel));
    } else if (parser.isSet(screenshot) && sweepDialog) {
        shootLater(sweepDialog, 800, parser.value(screenshot), grabOf(sweepDialog));
    } else if (parser.isSet(screenshot) && comparison) {
        shootLater(comparison, 1500, parser.value(screenshot), grabOf(comparison));
    } else if (parser.isSet(screenshot)) {
        shootLater(&window, parser.isSet(run) ? 8000 : 800, parser.value(screenshot),
                   [&window](const QString &out) { return window.saveScreenshot(out); });
    }
    return QApplication::exec();
}
