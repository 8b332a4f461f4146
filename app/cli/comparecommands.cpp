// distillery-cli's commands over several runs: sweep (plan and run a grid or random search),
// compare (config diff and metric table with mean ± std per group), report (one HTML file),
// and the run annotations tag and note.

#include "cli.h"

#include "distillery/core/compare.h"
#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <iomanip>
#include <ctime>
#include <fstream>
#include <iostream>
#include <set>

namespace distillery::cli {

namespace {

// Columns on a terminal: UTF-8 continuation bytes take none.
std::size_t displayWidth(const std::string &text)
{
    std::size_t n = 0;
    for (unsigned char c : text)
        n += (c & 0xC0) != 0x80;
    return n;
}

std::string padded(const std::string &text, std::size_t width)
{
    const std::size_t w = displayWidth(text);
    return text + std::string(w < width ? width - w : 0, ' ');
}

void printTable(const std::vector<std::vector<std::string>> &rows, const std::string &indent = "  ")
{
    std::vector<std::size_t> widths;
    for (const auto &row : rows)
        for (std::size_t c = 0; c < row.size(); ++c) {
            if (widths.size() <= c)
                widths.push_back(0);
            widths[c] = std::max(widths[c], displayWidth(row[c]));
        }
    for (const auto &row : rows) {
        std::cout << indent;
        for (std::size_t c = 0; c < row.size(); ++c)
            std::cout << (c + 1 == row.size() ? row[c] : padded(row[c], widths[c] + 2));
        std::cout << "\n";
    }
}

std::vector<std::string> splitList(const std::vector<std::string> &items)
{
    std::vector<std::string> out;
    for (const std::string &item : items) {
        std::size_t start = 0;
        while (start <= item.size()) {
            const std::size_t comma = std::min(item.find(',', start), item.size());
            if (comma > start)
                out.push_back(item.substr(start, comma - start));
            start = comma + 1;
        }
    }
    return out;
}

// The metric columns asked for, or the usual ones the runs have.
Result<std::vector<MetricColumn>> metricColumns(const std::vector<ComparedRun> &runs,
                                                const std::vector<std::string> &asked)
{
    const std::vector<std::string> known = seriesKeys(runs);
    std::vector<MetricColumn> columns;
    if (asked.empty())
        return defaultMetricColumns(runs);
    for (const std::string &text : splitList(asked)) {
        auto column = parseMetricColumn(text, known);
        if (!column.ok())
            return column.error();
        columns.push_back(column.value());
    }
    return columns;
}

struct Comparison
{
    std::vector<ComparedRun> runs;
    std::vector<std::string> groupFields; // resolved
    std::vector<RunGroup> groups;
    ConfigDiff config;
    MetricTable table;
};

struct CompareRequest
{
    std::vector<std::string> runs, groupBy, metrics;
    std::string reference;
};

Result<Comparison> buildComparison(const StoreReader &reader, const CompareRequest &request)
{
    auto ids = parseRunList(reader, request.runs);
    if (!ids.ok())
        return ids.error();
    if (ids.value().empty())
        return Error{errc::kInvalidInput, "no runs given: name them by id (3 5 7), range (3-7), 'last', "
                                          "group:NAME or tag:NAME"};
    Comparison c;
    auto runs = loadComparedRuns(reader, ids.value());
    if (!runs.ok())
        return runs.error();
    c.runs = std::move(runs).value();
    std::size_t reference = 0;
    if (!request.reference.empty()) {
        auto ref = parseRunList(reader, {request.reference});
        if (!ref.ok())
            return ref.error();
        const auto it = std::find_if(c.runs.begin(), c.runs.end(), [&](const ComparedRun &r) {
            return !ref.value().empty() && r.info.id == ref.value().front();
        });
        if (it == c.runs.end())
            return Error{errc::kBadOption, "--reference " + request.reference + " is not one of the runs compared"};
        reference = std::size_t(it - c.runs.begin());
    }
    c.config = configDiff(c.runs, reference);
    std::vector<std::string> by = splitList(request.groupBy);
    if (by.empty())
        by = {"auto"};
    for (const std::string &f : by)
        if (f == "auto")
            for (const std::string &a : autoGroupFields(c.runs))
                c.groupFields.push_back(a);
        else
            c.groupFields.push_back(f);
    auto groups = groupRuns(c.runs, by);
    if (!groups.ok())
        return groups.error();
    c.groups = std::move(groups).value();
    auto columns = metricColumns(c.runs, request.metrics);
    if (!columns.ok())
        return columns.error();
    c.table = metricTable(c.runs, c.groups, columns.value());
    return c;
}

void printComparison(const Comparison &c, bool allParams)
{
    std::cout << c.runs.size() << " runs, " << c.groups.size() << " group" << (c.groups.size() == 1 ? "" : "s");
    if (!c.groupFields.empty()) {
        std::string fields;
        for (const auto &f : c.groupFields)
            fields += (fields.empty() ? "" : ", ") + f;
        std::cout << " by " << fields;
    }
    std::cout << "\n\n";
    int differing = 0;
    for (const ConfigRow &row : c.config.rows)
        differing += row.differs;
    std::cout << "configuration (" << (allParams ? "all parameters" : "only differences") << "; reference run "
              << c.runs[c.config.reference].info.id << "):\n";
    if (differing == 0 && !allParams) {
        std::cout << "  all " << c.config.rows.size() << " parameters are the same in every run\n";
    } else {
        std::vector<std::vector<std::string>> rows{{"parameter"}};
        for (const ComparedRun &r : c.runs)
            rows[0].push_back("run " + std::to_string(r.info.id));
        for (const ConfigRow &row : c.config.rows) {
            if (!row.differs && !allParams)
                continue;
            std::vector<std::string> line{row.name};
            for (std::size_t r = 0; r < row.values.size(); ++r) {
                std::string v = row.values[r].value_or("–");
                if (row.differs && r != c.config.reference && row.values[r] != row.values[c.config.reference])
                    v += " *";
                line.push_back(v);
            }
            rows.push_back(std::move(line));
        }
        printTable(rows);
        if (differing > 0)
            std::cout << "  (* differs from the reference run)\n";
    }
    for (std::size_t r = 0; r < c.config.structure.size(); ++r)
        if (!c.config.structure[r].empty()) {
            std::cout << "structure of run " << c.runs[r].info.id << " against run "
                      << c.runs[c.config.reference].info.id << ":\n";
            for (const std::string &line : c.config.structure[r])
                std::cout << "  " << line << "\n";
        }
    std::cout << "\nmetrics (mean ± std over each group's runs; @step for a single run):\n";
    if (c.table.columns.empty()) {
        std::cout << "  the runs have no evaluation metrics yet\n";
        return;
    }
    std::vector<std::vector<std::string>> rows{{"group", "runs"}};
    for (const MetricColumn &col : c.table.columns)
        rows[0].push_back(col.title());
    for (const MetricTableRow &row : c.table.rows) {
        std::string ids;
        for (std::size_t i = 0; i < row.runs.size(); ++i)
            ids += (i ? "," : "") + std::to_string(row.runs[i]);
        std::vector<std::string> line{row.label, ids};
        for (std::size_t k = 0; k < row.cells.size(); ++k)
            line.push_back(formatSummary(row.cells[k]) +
                           (row.steps[k] >= 0 ? " @" + std::to_string(row.steps[k]) : ""));
        rows.push_back(std::move(line));
    }
    printTable(rows);
}

void printComparisonJson(const Comparison &c)
{
    std::cout << "{\"runs\":[";
    for (std::size_t i = 0; i < c.runs.size(); ++i) {
        const RunInfo &r = c.runs[i].info;
        std::cout << (i ? "," : "") << "{\"id\":" << r.id << ",\"name\":" << jsonString(r.name)
                  << ",\"status\":" << jsonString(runStatusName(r.status)) << ",\"group\":" << jsonString(r.group)
                  << ",\"tags\":[";
        for (std::size_t t = 0; t < r.tags.size(); ++t)
            std::cout << (t ? "," : "") << jsonString(r.tags[t]);
        std::cout << "],\"note\":" << jsonString(r.note) << "}";
    }
    std::cout << "],\"reference\":" << c.runs[c.config.reference].info.id << ",\"config\":[";
    bool first = true;
    for (const ConfigRow &row : c.config.rows) {
        if (!row.differs)
            continue;
        std::cout << (first ? "" : ",") << "{\"param\":" << jsonString(row.name)
                  << ",\"seed\":" << (row.isSeed ? "true" : "false") << ",\"values\":[";
        first = false;
        for (std::size_t r = 0; r < row.values.size(); ++r)
            std::cout << (r ? "," : "") << (row.values[r] ? jsonString(*row.values[r]) : "null");
        std::cout << "]}";
    }
    std::cout << "],\"structure\":{";
    first = true;
    for (std::size_t r = 0; r < c.config.structure.size(); ++r) {
        if (c.config.structure[r].empty())
            continue;
        std::cout << (first ? "" : ",") << "\"" << c.runs[r].info.id << "\":[";
        first = false;
        for (std::size_t l = 0; l < c.config.structure[r].size(); ++l)
            std::cout << (l ? "," : "") << jsonString(c.config.structure[r][l]);
        std::cout << "]";
    }
    std::cout << "},\"group_by\":[";
    for (std::size_t f = 0; f < c.groupFields.size(); ++f)
        std::cout << (f ? "," : "") << jsonString(c.groupFields[f]);
    std::cout << "],\"groups\":[";
    for (std::size_t g = 0; g < c.table.rows.size(); ++g) {
        const MetricTableRow &row = c.table.rows[g];
        std::cout << (g ? "," : "") << "{\"label\":" << jsonString(row.label) << ",\"runs\":[";
        for (std::size_t i = 0; i < row.runs.size(); ++i)
            std::cout << (i ? "," : "") << row.runs[i];
        std::cout << "],\"metrics\":{";
        for (std::size_t k = 0; k < row.cells.size(); ++k) {
            const MetricColumn &col = c.table.columns[k];
            const Summary &s = row.cells[k];
            std::cout << (k ? "," : "") << jsonString(col.key + ":" + metricReduceName(col.reduce)) << ":{\"n\":" << s.n
                      << ",\"mean\":" << jsonNumber(s.mean) << ",\"std\":" << jsonNumber(s.n > 1 ? s.std : NAN)
                      << ",\"min\":" << jsonNumber(s.min) << ",\"max\":" << jsonNumber(s.max)
                      << ",\"step\":" << (row.steps[k] >= 0 ? std::to_string(row.steps[k]) : "null") << "}";
        }
        std::cout << "}}";
    }
    std::cout << "]}\n";
}

std::string defaultSweepName(const Graph &graph)
{
    const auto it = graph.meta.find("template");
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    return (it == graph.meta.end() || it->second.empty() ? std::string("sweep") : it->second + " sweep") + " " + stamp;
}

} // namespace

int cmdCompare(const std::vector<std::string> &runs, const std::string &store, const std::vector<std::string> &groupBy,
               const std::vector<std::string> &metrics, const std::string &reference, bool csv, bool json, bool all)
{
    auto reader = openReader(store);
    if (!reader.ok())
        return badInput(reader.error().message);
    auto c = buildComparison(*reader.value(), {runs, groupBy, metrics, reference});
    if (!c.ok())
        return reportFailure(c.error());
    if (csv)
        std::cout << c.value().table.csv();
    else if (json)
        printComparisonJson(c.value());
    else
        printComparison(c.value(), all);
    return kExitOk;
}

int cmdReport(const ReportCommand &command)
{
    auto reader = openReader(command.store);
    if (!reader.ok())
        return badInput(reader.error().message);
    auto c = buildComparison(*reader.value(), {command.runs, command.groupBy, command.metrics, command.reference});
    if (!c.ok())
        return reportFailure(c.error());
    FigureOptions figures;
    figures.curves = splitList(command.curves);
    if (figures.curves.empty())
        for (const MetricColumn &col : c.value().table.columns)
            if (figures.curves.size() < 2)
                figures.curves.push_back(col.key);
    const std::vector<std::string> known = seriesKeys(c.value().runs);
    for (std::string &curve : figures.curves) {
        auto column = parseMetricColumn(curve, known);
        if (!column.ok())
            return reportFailure(column.error());
        curve = column.value().key;
    }
    const auto band = bandKindFromName(command.band);
    if (!band)
        return badInput("--band must be std, sem, minmax or none, got '" + command.band + "'");
    figures.band = *band;
    if (!command.scatter.empty()) {
        const auto comma = command.scatter.find(',');
        if (comma == std::string::npos)
            return badInput("--scatter takes X,Y (a parameter, student.params or a metric each), got '" +
                            command.scatter + "'");
        figures.scatterX = command.scatter.substr(0, comma);
        figures.scatterY = command.scatter.substr(comma + 1);
    } else if (!c.value().groupFields.empty() && !c.value().table.columns.empty()) {
        figures.scatterX = c.value().groupFields.front();
        figures.scatterY = c.value().table.columns.front().key;
    }
    auto made = reportFigures(*reader.value(), c.value().runs, c.value().groups, figures);
    if (!made.ok())
        return reportFailure(made.error());
    ReportContent content;
    content.title = command.title.empty() ? "Distillery comparison of " + std::to_string(c.value().runs.size()) + " runs"
                                          : command.title;
    content.storePath = command.store;
    content.runs = &c.value().runs;
    content.config = &c.value().config;
    content.table = &c.value().table;
    content.figures = std::move(made).value();
    content.createdAt = double(std::time(nullptr));
    const std::string html = comparisonReportHtml(content);
    if (auto written = writeFileAtomically(command.out, html); !written.ok())
        return reportFailure(written.error());
    std::cout << "wrote " << command.out << " (" << formatBytes(html.size()) << "; " << c.value().runs.size()
              << " runs, " << content.figures.size() << " figures)\n";
    return kExitOk;
}

int cmdSweep(const std::string &graphPath, const SweepCommand &command, RunOptions options)
{
    auto graph = loadGraphArgument(graphPath);
    if (!graph.ok())
        return badInput(graph.error().message);
    std::vector<SweepAxis> axes;
    for (const std::string &set : command.sets) {
        auto axis = parseSweepAxis(graph.value(), set);
        if (!axis.ok())
            return reportFailure(axis.error());
        axes.push_back(std::move(axis).value());
    }
    // --seed and --steps override the graph for every run: a sweep over the same parameter
    // would silently run one value only.
    for (const SweepAxis &a : axes) {
        auto p = findParam(graph.value(), a.param);
        if (!p.ok() || p.value().kind != "Settings")
            continue;
        if ((p.value().param == "seed" && options.seed) || (p.value().param == "steps" && options.steps))
            return badInput("--" + p.value().param + " would override the swept " + a.param +
                            " in every run; give one or the other");
    }
    auto plan = planSweep(axes, command.random, command.sweepSeed);
    if (!plan.ok())
        return reportFailure(plan.error());
    // Every point is checked before the first run starts.
    std::vector<Graph> graphs;
    for (const SweepPoint &p : plan.value()) {
        auto g = applySweepPoint(graph.value(), p);
        if (!g.ok())
            return reportFailure(g.error());
        if (auto issues = validateGraph(g.value()); !issues.empty())
            return badInput("sweep point " + p.label() + ": " + issues.front().message);
        graphs.push_back(std::move(g).value());
    }
    const std::string name = command.name.empty() ? defaultSweepName(graph.value()) : command.name;
    std::string what;
    for (const SweepAxis &a : axes)
        what += (what.empty() ? "" : " × ") + a.param + " (" + std::to_string(a.values.size()) + ")";
    std::cout << "sweep '" << name << "': " << plan.value().size() << " runs, "
              << (command.random > 0 ? "random draws of " : "grid of ") << what << "\n";
    for (std::size_t i = 0; i < plan.value().size(); ++i)
        std::cout << "  " << std::setw(4) << std::right << i + 1 << std::left << "  " << plan.value()[i].label() << "\n";
    if (command.dryRun)
        return kExitOk;
    if (options.storePath.empty())
        return badInput("--store is required to run a sweep (--dry-run only prints the plan)");

    RunControl control;
    g_control = &control;
    std::signal(SIGINT, onSigint);
    std::signal(SIGTERM, onSigint);
    std::vector<RunId> made;
    int failed = 0;
    bool cancelled = false;
    for (std::size_t i = 0; i < graphs.size() && !cancelled; ++i) {
        std::cout << "\n[" << i + 1 << "/" << graphs.size() << "] " << plan.value()[i].label() << "\n" << std::flush;
        RunOptions o = options;
        o.name = name + ": " + plan.value()[i].label();
        o.group = name;
        ProgressPrinter printer;
        auto result = runExperiment(graphs[i], o, [&](const Progress &p) { printer(p); }, &control);
        printer.finish();
        if (!result.ok()) {
            std::cerr << "error: " << result.error().message << "\n";
            ++failed;
            continue;
        }
        made.push_back(result.value().runId);
        printResult(result.value(), options.storePath);
        if (result.value().status == RunStatus::Cancelled)
            cancelled = true;
        else if (result.value().status != RunStatus::Finished)
            ++failed;
    }
    g_control = nullptr;
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    std::cout << "\nsweep '" << name << "': " << made.size() << " of " << graphs.size() << " runs made"
              << (cancelled ? ", cancelled (the rest were not started)" : "")
              << (failed ? ", " + std::to_string(failed) + " failed" : "") << "\n";
    if (!made.empty()) {
        auto reader = openReader(options.storePath);
        if (reader.ok()) {
            std::vector<std::string> ids;
            for (RunId id : made)
                ids.push_back(std::to_string(id));
            if (auto c = buildComparison(*reader.value(), {ids, {}, {}, {}}); c.ok()) {
                std::cout << "\n";
                printComparison(c.value(), false);
            }
            std::cout << "\ncompare again: distillery-cli compare 'group:" << name << "' --store " << options.storePath
                      << "\n";
        }
    }
    if (cancelled)
        return 128 + (g_cancelSignal ? int(g_cancelSignal) : SIGINT);
    return failed ? kExitRunFailed : kExitOk;
}

int cmdTag(const std::vector<std::string> &runs, const std::string &store, const std::vector<std::string> &add,
           const std::vector<std::string> &remove, bool clear)
{
    auto reader = openReader(store);
    if (!reader.ok())
        return badInput(reader.error().message);
    auto ids = parseRunList(*reader.value(), runs);
    if (!ids.ok())
        return reportFailure(ids.error());
    for (RunId id : ids.value()) {
        auto info = reader.value()->run(id);
        if (!info.ok())
            return reportFailure(info.error());
        std::vector<std::string> tags = clear ? std::vector<std::string>{} : info.value().tags;
        for (const std::string &t : splitList(add))
            if (std::find(tags.begin(), tags.end(), t) == tags.end())
                tags.push_back(t);
        for (const std::string &t : splitList(remove))
            tags.erase(std::remove(tags.begin(), tags.end(), t), tags.end());
        if (auto set = setRunTags(store, id, tags); !set.ok())
            return reportFailure(set.error());
        std::sort(tags.begin(), tags.end());
        std::string shown;
        for (const auto &t : tags)
            shown += (shown.empty() ? "" : ", ") + t;
        std::cout << "run " << id << ": " << (shown.empty() ? "no tags" : "tags " + shown) << "\n";
    }
    return kExitOk;
}

int cmdNote(const std::string &runText, const std::string &store, const std::string &note)
{
    auto opened = openRun(store, runText);
    if (!opened.ok())
        return reportFailure(opened.error());
    const RunId id = opened.value().second;
    opened.value().first.reset();
    if (auto set = setRunNote(store, id, note); !set.ok())
        return reportFailure(set.error());
    std::cout << "run " << id << ": " << (note.empty() ? "note cleared" : "note saved") << "\n";
    return kExitOk;
}

} // namespace distillery::cli
