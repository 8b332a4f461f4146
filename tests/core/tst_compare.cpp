// Comparing runs through compare.h: parameter names, graph diffs, metric reductions and tables,
// groups, curves, Pareto fronts, sweep plans and the HTML report, each against values worked
// out by hand or computed independently here.

#include "core/testgraphs.h"
#include "distillery/core/compare.h"
#include "distillery/core/graph.h"
#include "distillery/core/store.h"

#include <QtTest>

#include <cmath>
#include <limits>
#include <set>

using namespace distillery::core;
using distillery::core::testing::byTitle;

#define CHECK_OK(expr)                                                                             \
    do {                                                                                           \
        const auto &checkResult_ = (expr);                                                         \
        QVERIFY2(checkResult_.ok(), checkResult_.ok() ? "" : checkResult_.error().message.c_str()); \
    } while (false)

#define TAKE(var, expr)                                                                            \
    auto var##Result_ = (expr);                                                                    \
    QVERIFY2(var##Result_.ok(), var##Result_.ok() ? "" : var##Result_.error().message.c_str());    \
    auto &var = var##Result_.value()

namespace {

Graph classic()
{
    auto g = loadTemplate("classic-kd");
    if (!g.ok())
        qFatal("%s", g.error().message.c_str());
    return g.value();
}


bool has(const std::string &text, const std::string &part)
{
    return text.find(part) != std::string::npos;
}

std::string values(const SweepPoint &p)
{
    return p.label();
}

} // namespace

class tst_Compare : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

private Q_SLOTS:
    void paramNames()
    {
        Graph g = classic();
        const auto flat = flattenParams(g);
        std::map<std::string, const FlatParam *> byName;
        for (const FlatParam &f : flat)
            byName[f.name] = &f;
        QVERIFY(byName.count("kd.temperature"));
        QCOMPARE(std::get<double>(byName["kd.temperature"]->value), 2.0);
        QVERIFY(!byName["kd.temperature"]->isDefault);
        QVERIFY(byName.count("run.seed"));
        QCOMPARE(byName["run.seed"]->alias, std::string("Settings.seed"));
        QVERIFY(isSeedParam(*byName["run.seed"]));
        QVERIFY(!isSeedParam(*byName["data.seed"]));
        QVERIFY(byName["kd.temperature"]->alias.empty()); // two Loss nodes: no kind alias
        // Defaults appear with the spec's value.
        QVERIFY(byName.count("kd.beta") && byName["kd.beta"]->isDefault);

        TAKE(seed, findParam(g, "Settings.seed"));
        QCOMPARE(seed.name, std::string("run.seed"));
        TAKE(temp, findParam(g, "kd.temperature"));
        QCOMPARE(temp.node, byTitle(g, "kd"));
        auto unknownParam = findParam(g, "kd.nothing");
        QVERIFY(!unknownParam.ok());
        QVERIFY(has(unknownParam.error().message, "temperature")); // lists what the node has
        auto unknownNode = findParam(g, "nobody.temperature");
        QVERIFY(!unknownNode.ok());
        QVERIFY(has(unknownNode.error().message, "kd"));
        QVERIFY(!findParam(g, "Loss.weight").ok()); // two Loss nodes: the kind is ambiguous

        // Untitled and duplicate titles: Kind#id.
        CHECK_OK(g.setTitle(byTitle(g, "ce"), "kd"));
        const NodeId first = g.nodesOfKind("Loss")[0]->id;
        QCOMPARE(nodeLabel(g, first), "Loss#" + std::to_string(first));
        TAKE(byId, findParam(g, "Loss#" + std::to_string(first) + ".weight"));
        QCOMPARE(byId.node, first);
    }

    void paramText()
    {
        Graph g = classic();
        const ParamSpec *temperature = findNodeKind("Loss")->param("temperature");
        const ParamSpec *steps = findNodeKind("Settings")->param("steps");
        const ParamSpec *kind = findNodeKind("Loss")->param("kind");
        TAKE(t, parseParamText(*temperature, "2.5"));
        QCOMPARE(std::get<double>(t), 2.5);
        TAKE(s, parseParamText(*steps, "300"));
        QCOMPARE(std::get<std::int64_t>(s), std::int64_t(300));
        QVERIFY(!parseParamText(*steps, "2.5").ok());
        QVERIFY(!parseParamText(*steps, "").ok());
        QVERIFY(!parseParamText(*temperature, "warm").ok());
        QVERIFY(!parseParamText(*temperature, "inf").ok());
        TAKE(k, parseParamText(*kind, "reverse-kl"));
        QCOMPARE(std::get<std::string>(k), std::string("reverse-kl"));
        auto badKind = parseParamText(*kind, "kl-forward");
        QVERIFY(!badKind.ok());
        QVERIFY(has(badKind.error().message, "forward-kl"));
    }

    void graphDiff()
    {
        const Graph a = classic();
        QVERIFY(!diffGraphs(a, a).structural());
        for (const NodeDiff &n : diffGraphs(a, a).nodes)
            QVERIFY(n.change == NodeDiff::Change::Same);

        Graph b = a;
        CHECK_OK(b.setParam(byTitle(b, "kd"), "temperature", 4.0));
        CHECK_OK(b.moveNode(byTitle(b, "kd"), 999, 999)); // positions are not configuration
        GraphDiff d = diffGraphs(a, b);
        QVERIFY(!d.structural());
        int changed = 0;
        for (const NodeDiff &n : d.nodes)
            if (n.change == NodeDiff::Change::Changed) {
                ++changed;
                QCOMPARE(n.label, std::string("kd"));
                QCOMPARE(int(n.params.size()), 1);
                QCOMPARE(n.params[0].param, std::string("temperature"));
                QCOMPARE(n.params[0].before, std::string("2"));
                QCOMPARE(n.params[0].after, std::string("4"));
            }
        QCOMPARE(changed, 1);

        // Remove the cross-entropy term, add a reverse-KL term wired into the sum.
        Graph c = a;
        CHECK_OK(c.removeNode(byTitle(c, "ce")));
        const NodeId rkl = c.addNode("Loss", 0, 0, "rkl");
        CHECK_OK(c.setParam(rkl, "kind", std::string("reverse-kl")));
        for (const Edge &e : a.edgesInto(byTitle(a, "ce")))
            CHECK_OK(c.connect({e.fromNode, e.fromPort, rkl, e.toPort}));
        for (const Edge &e : a.edgesFrom(byTitle(a, "ce")))
            CHECK_OK(c.connect({rkl, e.fromPort, e.toNode, e.toPort}));
        d = diffGraphs(a, c);
        QVERIFY(d.structural());
        const auto lines = d.structuralLines();
        std::set<std::string> text(lines.begin(), lines.end());
        QVERIFY2(text.count("node 'rkl' (Loss) added"), lines.front().c_str());
        QVERIFY(text.count("node 'ce' (Loss) removed"));
        QVERIFY(text.count("edge rkl.loss -> sum.terms added"));
        QVERIFY(text.count("edge ce.loss -> sum.terms removed"));
        // Every edge of the removed node is reported, and every edge of the added one.
        int removed = 0, added = 0;
        for (const EdgeDiff &e : d.edges)
            (e.added ? added : removed)++;
        QCOMPARE(removed, int(a.edgesInto(byTitle(a, "ce")).size() + a.edgesFrom(byTitle(a, "ce")).size()));
        QCOMPARE(added, removed);
    }

    void summaries()
    {
        const Summary s = summarize({1, 2, 3, 4, std::nan("")});
        QCOMPARE(s.n, 4);
        QCOMPARE(s.mean, 2.5);
        QVERIFY(std::abs(s.std - std::sqrt(5.0 / 3.0)) < 1e-12); // sum of squares 5, n - 1 = 3
        QCOMPARE(s.min, 1.0);
        QCOMPARE(s.max, 4.0);
        QVERIFY(std::abs(s.sem() - std::sqrt(5.0 / 3.0) / 2.0) < 1e-12);
        QCOMPARE(summarize({7}).std, 0.0);
        QCOMPARE(summarize({}).n, 0);
        QCOMPARE(formatSummary(summarize({3.2, 3.21})), std::string("3.2050 ± 0.0071 (n=2)"));
        QCOMPARE(formatSummary(summarize({3.2})), std::string("3.2000"));
        QCOMPARE(formatSummary(summarize({})), std::string("–"));
    }

    void goalsAndReductions()
    {
        QVERIFY(metricGoal("eval/student_nll") == MetricGoal::Lower);
        QVERIFY(metricGoal("eval/kl_oracle_student") == MetricGoal::Lower);
        QVERIFY(metricGoal("eval/calibration/student/ece") == MetricGoal::Lower);
        QVERIFY(metricGoal("train/loss") == MetricGoal::Lower);
        QVERIFY(metricGoal("eval/student_acc") == MetricGoal::Higher);
        QVERIFY(metricGoal("diag/align/top1_agree") == MetricGoal::Higher);
        QVERIFY(metricGoal("diag/diversity/distinct2") == MetricGoal::Higher);
        QVERIFY(metricGoal("diag/diversity/self_bleu4") == MetricGoal::Lower);
        QVERIFY(metricGoal("diag/diversity/student_entropy") == MetricGoal::None);
        QVERIFY(metricGoal("train/lr") == MetricGoal::None);
        QVERIFY(metricGoal("perf/step_ms") == MetricGoal::None);

        SeriesStats s;
        s.last = {30, 0, 2.0};
        s.min = 1.5, s.minStep = 10, s.max = 3.0, s.maxStep = 1;
        auto v = reduceMetric(s, MetricReduce::Best, MetricGoal::Lower);
        QCOMPARE(v.value, 1.5);
        QCOMPARE(v.step, std::int64_t(10));
        v = reduceMetric(s, MetricReduce::Best, MetricGoal::Higher);
        QCOMPARE(v.value, 3.0);
        QCOMPARE(reduceMetric(s, MetricReduce::Best, MetricGoal::None).value, 2.0);
        QCOMPARE(reduceMetric(s, MetricReduce::Last, MetricGoal::Lower).step, std::int64_t(30));
        s.last.value = std::nan("");
        QVERIFY(!reduceMetric(s, MetricReduce::Last, MetricGoal::Lower).present());

        const std::vector<std::string> known{"eval/student_nll", "eval/kl_oracle_student", "train/loss"};
        TAKE(c, parseMetricColumn("student_nll:best", known));
        QCOMPARE(c.key, std::string("eval/student_nll"));
        QVERIFY(c.reduce == MetricReduce::Best);
        QCOMPARE(c.title(), std::string("student NLL (best)"));
        auto bad = parseMetricColumn("eval/nll", known);
        QVERIFY(!bad.ok());
        QVERIFY(has(bad.error().message, "eval/student_nll")); // a close match is offered
        QVERIFY(!parseMetricColumn("train/loss:median", known).ok());
    }

    void pareto()
    {
        // (x lower better, y lower better): (1,5) (2,3) (3,4) (4,1) (2,3) (5,5) (nan, 0)
        const std::vector<double> x{1, 2, 3, 4, 2, 5, std::nan("")};
        const std::vector<double> y{5, 3, 4, 1, 3, 5, 0};
        const auto front = paretoFront(x, y, true, true);
        QCOMPARE(front, (std::vector<bool>{true, true, false, true, true, false, false}));
        // Higher y better: (1,5) and (5,5)? (1,5) dominates (5,5) when lower x is better.
        const auto up = paretoFront(x, y, true, false);
        QCOMPARE(up, (std::vector<bool>{true, false, false, false, false, false, false}));
        // Brute force over random points: a point is on the front iff no other dominates it.
        std::vector<double> rx, ry;
        for (int i = 0; i < 60; ++i) {
            rx.push_back(std::fmod(i * 7.31, 10.0));
            ry.push_back(std::fmod(i * 3.17 + 1.0, 9.0));
        }
        const auto rf = paretoFront(rx, ry, false, true);
        for (std::size_t i = 0; i < rx.size(); ++i) {
            bool dominated = false;
            for (std::size_t j = 0; j < rx.size(); ++j)
                dominated = dominated || (rx[j] >= rx[i] && ry[j] <= ry[i] && (rx[j] > rx[i] || ry[j] < ry[i]));
            QCOMPARE(bool(rf[i]), !dominated);
        }
    }

    void sweepAxes()
    {
        const Graph g = classic();
        TAKE(list, parseSweepAxis(g, "kd.temperature=1,2,4"));
        QCOMPARE(int(list.values.size()), 3);
        QCOMPARE(std::get<double>(list.values[2]), 4.0);
        QVERIFY(!list.isSeed);
        TAKE(seeds, parseSweepAxis(g, "Settings.seed=1,2,3"));
        QVERIFY(seeds.isSeed);
        QCOMPARE(std::get<std::int64_t>(seeds.values[0]), std::int64_t(1));
        TAKE(lin, parseSweepAxis(g, "kd.weight=lin:0.1:0.9:5"));
        QCOMPARE(int(lin.values.size()), 5);
        QVERIFY(std::abs(std::get<double>(lin.values[1]) - 0.3) < 1e-12);
        TAKE(lg, parseSweepAxis(g, "adamw.lr=log:1e-4:1e-2:3"));
        QVERIFY(std::abs(std::get<double>(lg.values[1]) - 1e-3) < 1e-15);
        // An integer range is rounded and deduplicated: 1, 1.75, 2.5, 3.25, 4 -> 1, 2, 3(2.5 rounds away), 4
        TAKE(layers, parseSweepAxis(g, "student.layers=lin:1:4:5"));
        std::vector<std::int64_t> ints;
        for (const auto &v : layers.values)
            ints.push_back(std::get<std::int64_t>(v));
        QCOMPARE(ints, (std::vector<std::int64_t>{1, 2, 3, 4}));
        TAKE(kinds, parseSweepAxis(g, "kd.kind=forward-kl,reverse-kl"));
        QCOMPARE(int(kinds.values.size()), 2);

        for (const char *bad : {"kd.temperature", "kd.temperature=", "=1,2", "kd.temperature=1,,2",
                                "kd.temperature=1,1", "kd.temperature=0", "kd.temperature=warm",
                                "kd.kind=lin:1:2:3", "adamw.lr=log:0:1:3", "kd.weight=lin:0:1:0",
                                "kd.weight=lin:a:1:2", "run.steps=2.5", "nobody.x=1", "kd.kind=kl"}) {
            auto r = parseSweepAxis(g, bad);
            QVERIFY2(!r.ok(), bad);
            QVERIFY2(!r.error().message.empty(), bad);
        }
        auto range = parseSweepAxis(g, "kd.temperature=1,500");
        QVERIFY(!range.ok());
        QVERIFY2(has(range.error().message, "out of range"), range.error().message.c_str());
    }

    void sweepPlans()
    {
        const Graph g = classic();
        TAKE(t, parseSweepAxis(g, "kd.temperature=1,2,4"));
        TAKE(s, parseSweepAxis(g, "run.seed=1,2,3"));
        TAKE(grid, planSweep({t, s}));
        QCOMPARE(int(grid.size()), 9);
        QCOMPARE(values(grid[0]), std::string("kd.temperature=1 run.seed=1"));
        QCOMPARE(values(grid[1]), std::string("kd.temperature=1 run.seed=2"));
        QCOMPARE(values(grid[8]), std::string("kd.temperature=4 run.seed=3"));
        std::set<std::string> distinct;
        for (const auto &p : grid)
            distinct.insert(values(p));
        QCOMPARE(int(distinct.size()), 9);

        // Random over lists: without repeats, each draw crossed with every seed, deterministic.
        TAKE(w, parseSweepAxis(g, "kd.weight=0.1,0.5,0.9"));
        TAKE(r1, planSweep({t, w, s}, 4, 7));
        TAKE(r2, planSweep({t, w, s}, 4, 7));
        QCOMPARE(int(r1.size()), 12);
        std::set<std::string> draws;
        for (std::size_t i = 0; i < r1.size(); ++i) {
            QCOMPARE(values(r1[i]), values(r2[i]));
            std::string withoutSeed = values(r1[i]).substr(0, values(r1[i]).find(" run.seed="));
            draws.insert(withoutSeed);
        }
        QCOMPARE(int(draws.size()), 4);
        TAKE(other, planSweep({t, w, s}, 4, 8));
        bool differs = false;
        for (std::size_t i = 0; i < other.size(); ++i)
            differs = differs || values(other[i]) != values(r1[i]);
        QVERIFY(differs);

        // Random over a log range: inside it, 3 significant digits, spread over the decades.
        TAKE(lr, parseSweepAxis(g, "adamw.lr=log:1e-5:1e-1:2"));
        TAKE(many, planSweep({lr}, 400, 1));
        int decades[4] = {0, 0, 0, 0};
        for (const SweepPoint &p : many) {
            const double v = std::get<double>(p.values[0].second);
            QVERIFY(v >= 1e-5 && v <= 1e-1);
            const double scaled = v / std::pow(10.0, std::floor(std::log10(v)) - 2);
            QVERIFY2(std::abs(scaled - std::round(scaled)) < 1e-6, std::to_string(v).c_str());
            decades[std::min(3, int(std::floor(std::log10(v))) + 5)]++;
        }
        for (int d : decades)
            QVERIFY2(d > 60, std::to_string(d).c_str()); // about 100 each for a log-uniform draw

        QVERIFY(!planSweep({}).ok());
        QVERIFY(!planSweep({t, t}).ok());
        TAKE(big, parseSweepAxis(g, "kd.weight=lin:0.1:0.9:200"));
        TAKE(big2, parseSweepAxis(g, "kd.temperature=lin:1:10:200"));
        QVERIFY(!planSweep({big, big2}).ok()); // 40,000 runs
        TAKE(applied, applySweepPoint(g, grid[5]));
        QCOMPARE(applied.paramFloat(byTitle(applied, "kd"), "temperature"), 2.0);
        QCOMPARE(applied.paramInt(byTitle(applied, "run"), "seed"), std::int64_t(3));
        QVERIFY(validateGraph(applied).empty());
    }

    // Runs written to a store, compared: config diff, groups, metric table, curves, run lists,
    // the report.
    void storeComparison()
    {
        QVERIFY(m_dir.isValid());
        const std::string path = m_dir.filePath("compare.sqlite").toStdString();
        const Graph base = classic();
        std::vector<RunId> ids;
        // kd.temperature 1, 2 × seeds 1, 2, 3; eval/student_nll = 3 + T/10 + seed/100 at step 10,
        // and 4 + ... at step 5 (the best is the last); train/loss falls over 10 steps.
        std::map<RunId, double> finalNll;
        {
            TAKE(writer, RunWriter::open(path));
            for (double temperature : {1.0, 2.0})
                for (std::int64_t seed : {1, 2, 3}) {
                    Graph g = base;
                    CHECK_OK(g.setParam(byTitle(g, "kd"), "temperature", temperature));
                    CHECK_OK(g.setParam(byTitle(g, "run"), "seed", seed));
                    NewRun nr;
                    nr.name = "T" + std::to_string(int(temperature)) + " s" + std::to_string(seed);
                    nr.templateName = "classic-kd";
                    nr.graphJson = graphToJson(g);
                    nr.seed = seed;
                    nr.group = "sweep A";
                    TAKE(id, writer->createRun(nr));
                    ids.push_back(id);
                    const double nll = 3.0 + temperature / 10 + double(seed) / 100;
                    finalNll[id] = nll;
                    writer->addScalar(id, "eval/student_nll", 5, nll + 1);
                    writer->addScalar(id, "eval/student_nll", 10, nll);
                    for (int step = 1; step <= 10; ++step)
                        writer->addScalar(id, "train/loss", step, 10.0 / step + double(seed));
                    CHECK_OK(writer->finishRun(id, RunStatus::Finished));
                }
            // A structurally different run outside the group.
            Graph g = base;
            CHECK_OK(g.removeNode(byTitle(g, "ce")));
            NewRun nr;
            nr.name = "no ce";
            nr.graphJson = graphToJson(g);
            TAKE(id, writer->createRun(nr));
            ids.push_back(id);
            CHECK_OK(writer->finishRun(id, RunStatus::Failed, "stopped"));
        }
        CHECK_OK(setRunTags(path, ids[0], {"baseline"}));
        CHECK_OK(setRunTags(path, ids[4], {"baseline", "best"}));
        TAKE(reader, StoreReader::open(path));

        TAKE(sweep, parseRunList(*reader, {"group:sweep A"}));
        QCOMPARE(sweep, std::vector<RunId>(ids.begin(), ids.begin() + 6));
        TAKE(tagged, parseRunList(*reader, {"tag:baseline"}));
        QCOMPARE(tagged, (std::vector<RunId>{ids[0], ids[4]}));
        TAKE(range, parseRunList(*reader, {std::to_string(ids[1]) + "-" + std::to_string(ids[3]), "last"}));
        QCOMPARE(range, (std::vector<RunId>{ids[1], ids[2], ids[3], ids[6]}));
        QVERIFY(!parseRunList(*reader, {"999"}).ok());
        QVERIFY(!parseRunList(*reader, {"x"}).ok());
        QVERIFY(!parseRunList(*reader, {"group:nope"}).ok());

        TAKE(runs, loadComparedRuns(*reader, sweep));
        const ConfigDiff diff = configDiff(runs);
        std::vector<std::string> differing;
        for (const ConfigRow &row : diff.rows)
            if (row.differs)
                differing.push_back(row.name);
        QCOMPARE(differing, (std::vector<std::string>{"kd.temperature", "run.seed"}));
        for (const auto &lines : diff.structure)
            QVERIFY(lines.empty());
        QCOMPARE(autoGroupFields(runs), std::vector<std::string>{"kd.temperature"});

        TAKE(groups, groupRuns(runs, {"auto"}));
        QCOMPARE(int(groups.size()), 2);
        QCOMPARE(groups[0].label, std::string("kd.temperature=1"));
        QCOMPARE(groups[1].runs, (std::vector<std::size_t>{3, 4, 5}));
        TAKE(byTag, groupRuns(runs, {"tag"}));
        QCOMPARE(byTag[0].label, std::string("tag=baseline"));
        QCOMPARE(int(byTag.size()), 3); // baseline, (no tag), baseline+best
        QVERIFY(!groupRuns(runs, {"kd.nothing"}).ok());
        TAKE(alone, groupRuns(runs, {"none"}));
        QCOMPARE(int(alone.size()), 6);

        std::vector<std::string> keys{"eval/student_nll", "train/loss"};
        TAKE(last, parseMetricColumn("student_nll", keys));
        TAKE(best, parseMetricColumn("student_nll:best", keys));
        TAKE(worst, parseMetricColumn("student_nll:max", keys));
        const MetricTable table = metricTable(runs, groups, {last, best, worst});
        QCOMPARE(int(table.rows.size()), 2);
        // Group T=1: 3.1 + {0.01, 0.02, 0.03}: mean 3.12, std 0.01.
        QVERIFY(std::abs(table.rows[0].cells[0].mean - 3.12) < 1e-12);
        QVERIFY(std::abs(table.rows[0].cells[0].std - 0.01) < 1e-12);
        QCOMPARE(table.rows[0].cells[0].n, 3);
        QVERIFY(std::abs(table.rows[1].cells[1].mean - 3.22) < 1e-12); // best = the last here
        QVERIFY(std::abs(table.rows[1].cells[2].mean - 4.22) < 1e-12); // max = step 5
        QCOMPARE(table.rows[0].steps[0], std::int64_t(-1));            // a group has no single step
        const MetricTable single = metricTable(runs, alone, {worst});
        QCOMPARE(single.rows[0].steps[0], std::int64_t(5));
        const std::string csv = table.csv();
        QVERIFY2(has(csv, "group,runs,n,eval/student_nll:last mean"), csv.c_str());
        QVERIFY2(has(csv, "kd.temperature=1,"), csv.c_str());
        QVERIFY2(has(csv, ",3,3.12,0.01,"), csv.c_str());

        // Curves: train/loss = 10/step + seed; mean over seeds 1..3 = 10/step + 2, std 1.
        std::vector<std::vector<ScalarPoint>> curves;
        std::vector<double> starts;
        for (std::size_t i : groups[0].runs) {
            TAKE(points, reader->scalars(runs[i].info.id, "train/loss"));
            curves.push_back(points);
            starts.push_back(runs[i].info.createdAt);
        }
        curves[1].pop_back(); // a run one step short: n = 2 at step 10
        const auto band = aggregateCurves(curves, starts);
        QCOMPARE(int(band.size()), 10);
        QVERIFY(std::abs(band[3].value.mean - (10.0 / 4 + 2)) < 1e-12);
        QVERIFY(std::abs(band[3].value.std - 1.0) < 1e-12);
        QCOMPARE(band[9].value.n, 2);
        QVERIFY(std::abs(band[9].value.mean - (1.0 + 2.0)) < 1e-12); // seeds 1 and 3
        QCOMPARE(tokensPerStep(runs[0].graph),
                 runs[0].graph.paramInt(byTitle(runs[0].graph, "run"), "batch_size") *
                     runs[0].graph.paramInt(byTitle(runs[0].graph, "run"), "seq_len"));

        TAKE(temps, runQuantity(runs, "kd.temperature"));
        QCOMPARE(temps, (std::vector<double>{1, 1, 1, 2, 2, 2}));
        TAKE(nll, runQuantity(runs, "student_nll"));
        QCOMPARE(nll[2], finalNll[ids[2]]);
        TAKE(params, runQuantity(runs, "student.params"));
        QVERIFY(params[0] > 1000 && params[0] == params[5]);
        QVERIFY(!runQuantity(runs, "nothing_at_all").ok());

        // The structural run against the first.
        TAKE(mixed, loadComparedRuns(*reader, {ids[0], ids[6]}));
        const ConfigDiff md = configDiff(mixed);
        QVERIFY(!md.structure[1].empty());
        QVERIFY(has(md.structure[1].front(), "'ce'"));

        // The report: self-contained, with the table's values, the diff and the figures.
        FigureOptions fo;
        fo.curves = {"train/loss"};
        fo.scatterX = "kd.temperature";
        fo.scatterY = "eval/student_nll";
        TAKE(figures, reportFigures(*reader, runs, groups, fo));
        QCOMPARE(int(figures.size()), 2);
        QVERIFY(has(figures[0].data, "<polygon")); // the std band
        QVERIFY(has(figures[0].data, "kd.temperature=2 (n=3)"));
        ReportContent content;
        content.title = "T sweep <test>";
        content.storePath = path;
        content.runs = &runs;
        content.config = &diff;
        content.table = &table;
        content.figures = figures;
        content.figures.push_back({"png", "image/png", std::string("\x89PNG\r\n\x1a\n", 8)});
        const std::string html = comparisonReportHtml(content);
        QVERIFY(has(html, "<title>T sweep &lt;test&gt;</title>"));
        QVERIFY(has(html, "3.1200 ± 0.0100 (n=3)"));
        QVERIFY(has(html, "<td>kd.temperature</td>"));
        QVERIFY(has(html, "class=\"num changed\">2</td>"));
        QVERIFY(has(html, "data:image/png;base64,iVBORw0KGgo="));
        QVERIFY(!has(html, "src=\"http"));
        QVERIFY(!has(html, "<link"));
        QVERIFY(has(html, "<span class=\"tag\">baseline</span>"));
    }
};

QTEST_GUILESS_MAIN(tst_Compare)
#include "tst_compare.moc"
