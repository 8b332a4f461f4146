#pragma once

// Comparing runs: the parameters of experiment graphs flattened to names (`kd.temperature`),
// config and structural diffs of graphs, metrics reduced to last / best / min / max, groups of
// runs with mean ± std, curves aggregated into bands, Pareto fronts, sweep plans, and a
// self-contained HTML report. Plain C++ over the graph and the store (no LibTorch, no Qt): the
// CLI's compare / sweep / report commands and the GUI's comparison view share it.
// Inside: core/src/compare (params.cpp, graphdiff.cpp, metrics.cpp, sweep.cpp, report.cpp).

#include "distillery/core/graph.h"
#include "distillery/core/result.h"
#include "distillery/core/store.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace distillery::core {

// ---- Parameters by name -------------------------------------------------------------------

// How a node is named in parameter names: its title when no other node has that title, else
// its kind when the graph holds one node of that kind, else `Kind#id`.
std::string nodeLabel(const Graph &graph, NodeId id);

// One parameter of one node, with its spec's default when the graph does not set it.
struct FlatParam
{
    std::string name;  // "kd.temperature": nodeLabel + "." + parameter
    std::string alias; // "Settings.seed" when the node's kind is held once and differs from name
    NodeId node = kInvalidNode;
    std::string kind;  // the node's kind
    std::string param; // the parameter
    ParamValue value;
    bool isDefault = true; // not set in the graph
};
// Every parameter of every node, nodes in id order, parameters in spec order.
std::vector<FlatParam> flattenParams(const Graph &graph);
// The parameter a name means: `title.param`, `Kind.param` (a kind held once) or
// `Kind#id.param`. graph.unknown_param names what the graph offers when nothing matches.
Result<FlatParam> findParam(const Graph &graph, const std::string &name);
// A parameter's value from its text as a command line gives it ("2", "true", "forward-kl"),
// checked against its type (not its range: validateGraph reports that).
Result<ParamValue> parseParamText(const ParamSpec &spec, const std::string &text);
// The run seed (Settings.seed): runs that differ only in it are repetitions of one experiment.
bool isSeedParam(const FlatParam &param);

// ---- Graph diffs --------------------------------------------------------------------------

struct ParamChange
{
    std::string param;
    std::string before, after; // values as text
};

// Nodes are matched by title (unique in both graphs, same kind), then by id and kind (a renamed
// node keeps its id); any other node is added or removed.
struct NodeDiff
{
    enum class Change { Same, Changed, Added, Removed };
    Change change = Change::Same;
    std::string label;                 // nodeLabel in the graph that has it (after, if both)
    NodeId before = kInvalidNode;      // id in the first graph
    NodeId after = kInvalidNode;       // id in the second graph
    std::string kindBefore, kindAfter; // differ when a matched node changed kind
    std::vector<ParamChange> params;   // for Changed
};

struct EdgeDiff
{
    bool added = false;      // false: removed
    Edge edge;               // in the ids of the graph that has it
    std::string description; // "kd.loss -> sum.terms"
};

struct GraphDiff
{
    std::vector<NodeDiff> nodes; // every node of both graphs
    std::vector<EdgeDiff> edges; // only edges in one graph and not the other
    // Added, removed or rewired: more than parameter values differ.
    bool structural() const;
    // "node 'ta' (Teacher) added", "edge kd.loss -> sum.terms removed", ... one line each.
    std::vector<std::string> structuralLines() const;
};
GraphDiff diffGraphs(const Graph &before, const Graph &after);

// ---- Runs in a comparison -----------------------------------------------------------------

struct ComparedRun
{
    RunInfo info;
    Graph graph;                               // parsed from the stored graph JSON
    std::vector<FlatParam> params;             // flattenParams(graph)
    std::map<std::string, SeriesStats> series; // StoreReader::seriesStats
    // The value of a parameter by name or alias, or nullptr.
    const FlatParam *param(const std::string &name) const;
};
// The runs in the order given. A run that does not exist, or whose stored graph cannot be read,
// is an error naming it.
Result<std::vector<ComparedRun>> loadComparedRuns(const StoreReader &reader,
                                                  const std::vector<RunId> &ids);
// "3,5,7-9", "last", "group:NAME" (the runs of a group, oldest first) or "tag:NAME": run ids,
// each once. store.no_such_run for an id that is not in the store.
Result<std::vector<RunId>> parseRunList(const StoreReader &reader, const std::vector<std::string> &items);

// One row per parameter name that some run has; `differs` when the values (text) are not all
// equal or some run lacks the parameter.
struct ConfigRow
{
    std::string name;
    std::vector<std::optional<std::string>> values; // one per run
    bool differs = false;
    bool isSeed = false;
};
struct ConfigDiff
{
    std::vector<ConfigRow> rows;                     // in the order of the first run's graph, then new ones
    std::size_t reference = 0;                       // the run the others are compared with
    std::vector<std::vector<std::string>> structure; // per run: structuralLines() against the reference
};
ConfigDiff configDiff(const std::vector<ComparedRun> &runs, std::size_t reference = 0);

// ---- Metrics ------------------------------------------------------------------------------

enum class MetricGoal { Lower, Higher, None };
// NLL, KL, JS, ECE, MCE, Brier, loss, self-BLEU: lower; accuracy, agreement, distinct-n, cosine,
// tokens/s: higher; anything else (entropies, learning rate, timings): none.
MetricGoal metricGoal(const std::string &key);
// "KL(oracle‖student)", "student NLL", or the key itself.
std::string metricLabel(const std::string &key);

enum class MetricReduce { Last, Best, Min, Max };
std::string metricReduceName(MetricReduce reduce);
std::optional<MetricReduce> metricReduceFromName(const std::string &name);

struct MetricValue
{
    double value = 0;
    std::int64_t step = -1; // -1: the run has no finite value of it
    bool present() const { return step >= 0; }
};
// Best is the minimum or the maximum by metricGoal; the last value when the goal is None.
MetricValue reduceMetric(const SeriesStats &stats, MetricReduce reduce, MetricGoal goal);

// A column of a metric table: `eval/student_nll` or `eval/student_nll:best`.
struct MetricColumn
{
    std::string key;
    MetricReduce reduce = MetricReduce::Last;
    std::string title() const; // "student NLL (best)"
};
// Parses `KEY[:last|best|min|max]`; a KEY without '/' is looked up as eval/KEY, diag/KEY, train/KEY
// among `known` keys. metric.unknown lists close matches when it is none of them.
Result<MetricColumn> parseMetricColumn(const std::string &text, const std::vector<std::string> &known);

// Every series key of the runs, sorted; and the columns a comparison starts with: KL(oracle‖student),
// student NLL, KL(teacher‖student), student accuracy and ECE, those the runs have (last values).
std::vector<std::string> seriesKeys(const std::vector<ComparedRun> &runs);
std::vector<MetricColumn> defaultMetricColumns(const std::vector<ComparedRun> &runs);

// Mean, sample standard deviation (n - 1; 0 for one value), extremes and count of the finite
// values given.
struct Summary
{
    int n = 0;
    double mean = 0, std = 0, min = 0, max = 0;
    double sem() const; // std / sqrt(n)
};
Summary summarize(const std::vector<double> &values);
// "3.2080 ± 0.0031 (n=4)", "3.2080" for one value, "–" for none.
std::string formatSummary(const Summary &s, int precision = 4);

// ---- Groups -------------------------------------------------------------------------------

// What runs are grouped by: parameter names, or the fields "template", "tag", "group", "status";
// "auto" = the parameters that differ except the seed; "none" = every run alone.
struct RunGroup
{
    std::string label;            // "kd.temperature=2", "run 7" for a run alone
    std::vector<std::size_t> runs; // indexes into the compared runs
};
Result<std::vector<RunGroup>> groupRuns(const std::vector<ComparedRun> &runs,
                                        const std::vector<std::string> &by);
// The fields `auto` resolves to for these runs.
std::vector<std::string> autoGroupFields(const std::vector<ComparedRun> &runs);

struct MetricTableRow
{
    std::string label;
    std::vector<std::size_t> runs;
    std::vector<Summary> cells;           // one per column over the group's runs
    std::vector<std::int64_t> steps;      // one per column: the step for a single run, else -1
};
struct MetricTable
{
    std::vector<MetricColumn> columns;
    std::vector<MetricTableRow> rows;
    std::string csv() const; // header + one line per row: label, n, then mean,std per column
};
MetricTable metricTable(const std::vector<ComparedRun> &runs, const std::vector<RunGroup> &groups,
                        const std::vector<MetricColumn> &columns);

// ---- Curves -------------------------------------------------------------------------------

// One step of a group's curve: the summary over the runs that have a finite value at it, and the
// mean of their elapsed seconds since the run started.
struct BandPoint
{
    std::int64_t step = 0;
    double seconds = 0;
    Summary value;
};
// Steps in order (the union of the runs' steps). `startTimes` are the runs' creation times.
std::vector<BandPoint> aggregateCurves(const std::vector<std::vector<ScalarPoint>> &runs,
                                       const std::vector<double> &startTimes);
// Tokens one optimizer step of this graph trains on (batch × seq_len), 0 when unknown.
std::int64_t tokensPerStep(const Graph &graph);

// Points not dominated by any other: no other point is at least as good in both coordinates and
// better in one. Non-finite points are never on the front.
std::vector<bool> paretoFront(const std::vector<double> &x, const std::vector<double> &y,
                              bool lowerXBetter, bool lowerYBetter);

// ---- Sweeps -------------------------------------------------------------------------------

struct SweepAxis
{
    std::string param;               // the name as given ("kd.temperature")
    std::vector<ParamValue> values;  // for a list, and the grid values of a range
    enum class Spacing { List, Linear, Log } spacing = Spacing::List;
    double lo = 0, hi = 0;           // a range's ends (random samples are drawn between them)
    bool isSeed = false;             // crossed with every random sample
    bool integer = false;            // an Int parameter: range values are rounded
};
// `NAME=V1,V2,...`, `NAME=lin:LO:HI:N` or `NAME=log:LO:HI:N` (N values, ends included). Values
// are checked against the parameter's type and the graph's validation (ranges, choices).
Result<SweepAxis> parseSweepAxis(const Graph &graph, const std::string &text);

struct SweepPoint
{
    std::vector<std::pair<std::string, ParamValue>> values; // one per axis, axis order
    std::string label() const;                              // "kd.temperature=2 run.seed=1"
};
// Grid: every combination, the last axis fastest. random > 0: that many draws of the non-seed
// axes (lists uniformly, ranges uniformly or log-uniformly, kept to 3 significant digits; without
// repeats when every axis is a list and the grid is large enough), each crossed with the seed
// axes. Deterministic in `seed`.
Result<std::vector<SweepPoint>> planSweep(const std::vector<SweepAxis> &axes, int random = 0,
                                          std::uint64_t seed = 0);
// The graph with the point's values set; an error names the parameter when validation fails.
Result<Graph> applySweepPoint(const Graph &graph, const SweepPoint &point);

// ---- Report -------------------------------------------------------------------------------

struct ReportFigure
{
    std::string title;
    std::string mime; // "image/svg+xml" (inlined) or "image/png" (base64)
    std::string data; // the SVG text or the PNG bytes
};
struct ReportContent
{
    std::string title;
    std::string storePath;
    std::vector<ComparedRun> const *runs = nullptr;
    const ConfigDiff *config = nullptr;
    const MetricTable *table = nullptr;
    std::vector<ReportFigure> figures;
    double createdAt = 0; // unix seconds
};
// One HTML file with everything inline (styles, SVG, PNG as data: URIs): runs, metric table,
// config diff with changed cells marked, structural changes, figures.
std::string comparisonReportHtml(const ReportContent &content);

// The report's figures drawn as SVG (headless): for each curve metric, one band chart of the
// groups (mean with the chosen spread), and a scatter of `scatterX` against `scatterY` over the
// runs with its Pareto front (when both are given: a parameter or a metric column's text).
enum class BandKind { Std, MinMax, StdErr, None };
std::string bandKindName(BandKind kind);
std::optional<BandKind> bandKindFromName(const std::string &name);
struct FigureOptions
{
    std::vector<std::string> curves; // series keys
    BandKind band = BandKind::Std;
    std::string scatterX, scatterY;
};
Result<std::vector<ReportFigure>> reportFigures(const StoreReader &reader,
                                                const std::vector<ComparedRun> &runs,
                                                const std::vector<RunGroup> &groups,
                                                const FigureOptions &options);
// A quantity of a run for trade-off plots: a parameter (by name), `student.params` (the
// student's parameter count, from the run's metadata), or a metric column (`KEY[:reduce]`).
// NaN when the run lacks it; an error when the name is neither.
Result<std::vector<double>> runQuantity(const std::vector<ComparedRun> &runs, const std::string &name);

} // namespace distillery::core
