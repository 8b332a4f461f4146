// How fast comparisons over a big store are: a store of R runs × S steps × K series (30M rows at
// the defaults) is generated once, then, with the file's pages dropped from the page cache
// before every round (posix_fadvise DONTNEED: a cold start without root), it times
//   list     StoreReader::open + runs() (what the run browser reads),
//   table    loadComparedRuns + configDiff + groupRuns(auto) + metricTable of 5 columns,
//   series   one metric of every run read and aggregated into group bands (core only),
//   view     ComparisonView::setRuns until its curves are drawn with every run shown (R
//            overlaid curves and the group bands), measured in the GUI's event loop, together
//            with the longest stall of that loop (a 5 ms timer's largest gap).
// Usage: compare_bench [--store PATH] [--runs R] [--steps S] [--series K] [--rounds N]
//        compare_bench --sweep-rss N   queues an N-run sweep of a tiny classic-kd on the GUI's
//                      training controller and prints the resident memory and the thread count
//                      after the 2nd and the Nth run (a sweep must not leak either).
// Run it offscreen: QT_QPA_PLATFORM=offscreen build/bin/compare_bench

#include "compare/comparisonview.h"
#include "training/trainingcontroller.h"

#include <qcustomplot.h>

#include "distillery/core/compare.h"
#include "distillery/core/graph.h"
#include "distillery/core/store.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace distillery;
using namespace distillery::core;
using Clock = std::chrono::steady_clock;

namespace {

double msSince(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

void dropFromPageCache(const std::string &path)
{
    for (const std::string &file : {path, path + "-wal"}) {
        const int fd = ::open(file.c_str(), O_RDONLY);
        if (fd < 0)
            continue;
        ::fdatasync(fd);
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        ::close(fd);
    }
}

bool generate(const std::string &path, int runs, int steps, int series)
{
    auto base = loadTemplate("classic-kd");
    if (!base.ok()) {
        std::fprintf(stderr, "%s\n", base.error().message.c_str());
        return false;
    }
    auto writer = RunWriter::open(path);
    if (!writer.ok()) {
        std::fprintf(stderr, "%s\n", writer.error().message.c_str());
        return false;
    }
    std::vector<std::string> keys = {"eval/kl_oracle_student", "eval/student_nll", "eval/kl_teacher_student",
                                     "eval/student_acc", "eval/calibration/student/ece", "train/loss"};
    for (int k = int(keys.size()); k < series; ++k)
        keys.push_back("diag/bench/series" + std::to_string(k));
    keys.resize(std::size_t(series));
    NodeId kd = kInvalidNode, settings = kInvalidNode;
    for (const Node &n : base.value().nodes()) {
        if (n.title == "kd")
            kd = n.id;
        if (n.kind == "Settings")
            settings = n.id;
    }
    const auto t0 = Clock::now();
    std::uint64_t rows = 0;
    for (int r = 0; r < runs; ++r) {
        Graph g = base.value();
        const double temperature = 1.0 + r % 5;
        (void)g.setParam(kd, "temperature", temperature);
        (void)g.setParam(settings, "seed", std::int64_t(r / 5));
        NewRun nr;
        nr.name = "bench run " + std::to_string(r + 1);
        nr.templateName = "classic-kd";
        nr.graphJson = graphToJson(g);
        nr.stepsTotal = steps;
        nr.group = "bench";
        auto id = writer.value()->createRun(nr);
        if (!id.ok())
            return false;
        for (int s = 1; s <= steps; ++s) {
            for (int k = 0; k < series; ++k)
                writer.value()->addScalar(id.value(), keys[std::size_t(k)], s,
                                          temperature * 0.1 + 1.0 / s + 0.001 * ((s * 7919 + k * 31 + r) % 97));
            rows += std::uint64_t(series);
            if (s % 2000 == 0)
                if (auto st = writer.value()->flush(); !st.ok()) {
                    std::fprintf(stderr, "%s\n", st.error().message.c_str());
                    return false;
                }
        }
        (void)writer.value()->finishRun(id.value(), RunStatus::Finished);
    }
    const double seconds = msSince(t0) / 1000;
    std::printf("generated %llu rows in %.1f s (%.0f rows/s through RunWriter)\n", (unsigned long long)rows, seconds,
                double(rows) / seconds);
    return true;
}

// Resident set in MiB and threads of this process (/proc/self/status).
std::pair<double, int> residentAndThreads()
{
    double rss = 0;
    int threads = 0;
    if (FILE *f = std::fopen("/proc/self/status", "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, f)) {
            if (std::strncmp(line, "VmRSS:", 6) == 0)
                rss = std::atof(line + 6) / 1024.0;
            if (std::strncmp(line, "Threads:", 8) == 0)
                threads = std::atoi(line + 8);
        }
        std::fclose(f);
    }
    return {rss, threads};
}

int sweepRss(int runs)
{
    auto loaded = loadTemplate("classic-kd");
    if (!loaded.ok())
        return 1;
    Graph g = loaded.value();
    auto set = [&](const std::string &kind, const std::map<std::string, ParamValue> &values) {
        for (const Node *n : g.nodesOfKind(kind))
            for (const auto &[k, v] : values)
                (void)g.setParam(n->id, k, v);
    };
    set("Settings", {{"steps", std::int64_t(20)}, {"batch_size", std::int64_t(4)}, {"seq_len", std::int64_t(16)},
                     {"eval_interval", std::int64_t(10)}, {"eval_batches", std::int64_t(1)}, {"threads", std::int64_t(1)}});
    set("Dataset", {{"train_sequences", std::int64_t(64)}, {"validation_sequences", std::int64_t(8)},
                    {"vocab", std::int64_t(16)}, {"hidden_states", std::int64_t(8)}});
    set("Teacher", {{"layers", std::int64_t(1)}, {"d_model", std::int64_t(16)}, {"heads", std::int64_t(2)},
                    {"ffn", std::int64_t(32)}, {"train_steps", std::int64_t(10)}});
    set("Student", {{"layers", std::int64_t(1)}, {"d_model", std::int64_t(8)}, {"heads", std::int64_t(2)},
                    {"ffn", std::int64_t(16)}});
    const std::string store = "/tmp/distillery-sweep-rss.sqlite";
    std::remove(store.c_str());
    widgets::TrainingController controller;
    for (int i = 0; i < runs; ++i) {
        RunOptions options;
        options.storePath = store;
        options.group = "rss";
        options.name = "rss " + std::to_string(i + 1);
        options.seed = i;
        controller.enqueue(g, options);
    }
    int finished = 0;
    std::pair<double, int> afterTwo{0, 0}, afterAll{0, 0};
    QEventLoop loop;
    QObject::connect(&controller, &widgets::TrainingController::runFinished, &loop, [&] {
        ++finished;
        if (finished == 2)
            afterTwo = residentAndThreads();
        if (finished == runs) {
            afterAll = residentAndThreads();
            loop.quit();
        }
    });
    QObject::connect(&controller, &widgets::TrainingController::runRejected, &loop, [&](const QString &m) {
        std::fprintf(stderr, "rejected: %s\n", qPrintable(m));
        loop.quit();
    });
    loop.exec();
    std::printf("sweep of %d runs on the training controller: after 2 runs %.1f MiB, %d threads; after %d runs "
                "%.1f MiB, %d threads (%+.1f%%)\n",
                runs, afterTwo.first, afterTwo.second, runs, afterAll.first, afterAll.second,
                100.0 * (afterAll.first - afterTwo.first) / afterTwo.first);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    std::string store = "/tmp/distillery-compare-bench.sqlite";
    int runs = 50, steps = 20000, series = 30, rounds = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--store")
            store = argv[i + 1];
        else if (a == "--runs")
            runs = std::atoi(argv[i + 1]);
        else if (a == "--steps")
            steps = std::atoi(argv[i + 1]);
        else if (a == "--series")
            series = std::atoi(argv[i + 1]);
        else if (a == "--rounds")
            rounds = std::atoi(argv[i + 1]);
    }
    QApplication app(argc, argv);
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string(argv[i]) == "--sweep-rss")
            return sweepRss(std::atoi(argv[i + 1]));
    struct stat st;
    if (::stat(store.c_str(), &st) != 0) {
        std::printf("generating %s: %d runs × %d steps × %d series\n", store.c_str(), runs, steps, series);
        if (!generate(store, runs, steps, series))
            return 1;
    }
    ::stat(store.c_str(), &st);
    std::printf("store %s: %.0f MB\n", store.c_str(), double(st.st_size) / 1e6);

    std::vector<double> list, table, seriesMs, view, stall;
    for (int round = 0; round < rounds; ++round) {
        dropFromPageCache(store);
        auto t0 = Clock::now();
        auto reader = StoreReader::open(store);
        if (!reader.ok()) {
            std::fprintf(stderr, "%s\n", reader.error().message.c_str());
            return 1;
        }
        auto all = reader.value()->runs();
        list.push_back(msSince(t0));
        std::vector<RunId> ids;
        for (const RunInfo &r : all.value())
            ids.push_back(r.id);
        std::reverse(ids.begin(), ids.end());

        dropFromPageCache(store);
        t0 = Clock::now();
        auto compared = loadComparedRuns(*reader.value(), ids);
        if (!compared.ok())
            return 1;
        const ConfigDiff diff = configDiff(compared.value());
        auto groups = groupRuns(compared.value(), {"auto"});
        const MetricTable metrics = metricTable(compared.value(), groups.value(), defaultMetricColumns(compared.value()));
        table.push_back(msSince(t0));

        dropFromPageCache(store);
        t0 = Clock::now();
        std::size_t points = 0;
        for (const RunGroup &g : groups.value()) {
            std::vector<std::vector<ScalarPoint>> rows;
            std::vector<double> starts;
            for (std::size_t i : g.runs) {
                rows.push_back(reader.value()->scalars(compared.value()[i].info.id, "eval/kl_oracle_student").value());
                points += rows.back().size();
                starts.push_back(0);
            }
            (void)aggregateCurves(rows, starts);
        }
        seriesMs.push_back(msSince(t0));
        if (round == 0)
            std::printf("%zu runs, %zu groups, %zu metric columns, %zu points of one metric\n", ids.size(),
                        groups.value().size(), metrics.columns.size(), points);
        (void)diff;

        // The view: from setRuns to the curves drawn with every run, in the event loop.
        dropFromPageCache(store);
        widgets::ComparisonView widget;
        widget.resize(1280, 800);
        widget.show();
        widget.showTab(QStringLiteral("Curves"));
        QList<qint64> list;
        for (RunId id : ids)
            list << id;
        QElapsedTimer gap;
        double longest = 0;
        QTimer ticker;
        ticker.setInterval(5);
        QObject::connect(&ticker, &QTimer::timeout, [&] {
            longest = std::max(longest, double(gap.nsecsElapsed()) / 1e6);
            gap.restart();
        });
        widget.setShowRuns(true); // all R runs as lines, and the bands
        QEventLoop loop;
        double viewMs = 0;
        // Done when the plot has drawn the curves the worker delivered (its queued replot, as
        // in the application); then a little longer, so that the ticker sees that replot's gap.
        bool delivered = false;
        QObject::connect(&widget, &widgets::ComparisonView::curvesReady, &loop, [&] { delivered = true; });
        QObject::connect(widget.curvePlot(), &QCustomPlot::afterReplot, &loop, [&] {
            if (!delivered || viewMs > 0)
                return;
            viewMs = msSince(t0);
            QTimer::singleShot(30, &loop, &QEventLoop::quit);
        });
        t0 = Clock::now();
        gap.start();
        ticker.start();
        double setRunsMs = 0;
        QTimer::singleShot(0, &widget, [&] {
            gap.restart();
            const auto s0 = Clock::now();
            widget.setRuns(QString::fromStdString(store), list);
            setRunsMs = msSince(s0);
        });
        loop.exec();
        view.push_back(viewMs);
        if (std::getenv("COMPARE_BENCH_VERBOSE"))
            std::printf("  setRuns %.1f ms of %.1f ms\n", setRunsMs, view.back());
        ticker.stop();
        stall.push_back(longest);
    }
    auto show = [](const char *name, const std::vector<double> &v) {
        std::printf("%-7s median %8.1f ms   (", name, median(v));
        for (double x : v)
            std::printf(" %.1f", x);
        std::printf(" )\n");
    };
    show("list", list);
    show("table", table);
    show("series", seriesMs);
    show("view", view);
    show("stall", stall);
    return 0;
}
