// The comparison as one self-contained HTML file, and its figures drawn as SVG.

#include "distillery/core/compare.h"
#include "distillery/core/errors.h"

#include "render/svgplot.h"

#include <cmath>
#include <ctime>
#include <iomanip>
#include <limits>
#include <sstream>

namespace distillery::core {

namespace {

using render::xmlEscaped;

std::string base64(const std::string &bytes)
{
    static const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned v = (unsigned char)bytes[i] << 16 | (unsigned char)bytes[i + 1] << 8 | (unsigned char)bytes[i + 2];
        for (int s = 18; s >= 0; s -= 6)
            out += alphabet[(v >> s) & 63];
    }
    if (i < bytes.size()) {
        unsigned v = (unsigned char)bytes[i] << 16;
        if (i + 1 < bytes.size())
            v |= (unsigned char)bytes[i + 1] << 8;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += i + 1 < bytes.size() ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string isoTime(double unixSeconds)
{
    std::time_t t = std::time_t(unixSeconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M UTC", &tm);
    return buffer;
}

const char *kStyle = R"css(
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.meta { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.88em; margin: 0.6em 0; }
th, td { border: 1px solid #d6d6d6; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.changed { background: #fff1c2; } td.ref { background: #eef4ff; } tr.seed td { color: #777; font-style: italic; }
figure { margin: 1.2em 0; } figcaption { color: #555; font-size: 0.9em; } .tag { background: #e8eef7; border-radius: 3px; padding: 0 4px; margin-right: 3px; }
ul.changes { font-family: monospace; font-size: 0.9em; }
)css";

} // namespace

std::string bandKindName(BandKind kind)
{
    switch (kind) {
    case BandKind::Std: return "std";
    case BandKind::MinMax: return "minmax";
    case BandKind::StdErr: return "sem";
    case BandKind::None: return "none";
    }
    return "std";
}

std::optional<BandKind> bandKindFromName(const std::string &name)
{
    for (BandKind k : {BandKind::Std, BandKind::MinMax, BandKind::StdErr, BandKind::None})
        if (bandKindName(k) == name)
            return k;
    return std::nullopt;
}

std::string comparisonReportHtml(const ReportContent &content)
{
    static const std::vector<ComparedRun> noRuns;
    const std::vector<ComparedRun> &runs = content.runs ? *content.runs : noRuns;
    std::ostringstream html;
    html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
         << xmlEscaped(content.title) << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n"
         << "<h1>" << xmlEscaped(content.title) << "</h1>\n<p class=\"meta\">" << runs.size()
         << " runs from " << xmlEscaped(content.storePath) << (content.createdAt > 0 ? ", " + isoTime(content.createdAt) : "")
         << " · made by Distillery</p>\n";

    html << "<h2>Runs</h2>\n<table>\n<tr><th>run</th><th>name</th><th>status</th><th>group</th><th>tags</th>"
            "<th>steps</th><th>note</th></tr>\n";
    for (const ComparedRun &r : runs) {
        html << "<tr><td class=\"num\">" << r.info.id << "</td><td>" << xmlEscaped(r.info.name) << "</td><td>"
             << runStatusName(r.info.status) << (r.info.error.empty() ? "" : ": " + xmlEscaped(r.info.error))
             << "</td><td>" << xmlEscaped(r.info.group) << "</td><td>";
        for (const std::string &t : r.info.tags)
            html << "<span class=\"tag\">" << xmlEscaped(t) << "</span>";
        html << "</td><td class=\"num\">" << r.info.lastStep << " / " << r.info.stepsTotal << "</td><td>"
             << xmlEscaped(r.info.note) << "</td></tr>\n";
    }
    html << "</table>\n";

    if (content.table && !content.table->columns.empty()) {
        const MetricTable &t = *content.table;
        html << "<h2>Metrics</h2>\n<p class=\"meta\">Mean ± sample standard deviation over the runs of each "
                "group (n runs); a single run's value is shown with the step it was reached at.</p>\n"
                "<table>\n<tr><th>group</th><th>runs</th>";
        for (const MetricColumn &c : t.columns)
            html << "<th>" << xmlEscaped(c.title()) << "</th>";
        html << "</tr>\n";
        for (const MetricTableRow &row : t.rows) {
            html << "<tr><td>" << xmlEscaped(row.label) << "</td><td>";
            for (std::size_t i = 0; i < row.runs.size(); ++i)
                html << (i ? ", " : "") << row.runs[i];
            html << "</td>";
            for (std::size_t c = 0; c < row.cells.size(); ++c) {
                html << "<td class=\"num\">" << xmlEscaped(formatSummary(row.cells[c]));
                if (row.steps[c] >= 0)
                    html << " <span class=\"meta\">@" << row.steps[c] << "</span>";
                html << "</td>";
            }
            html << "</tr>\n";
        }
        html << "</table>\n";
    }

    if (content.config) {
        const ConfigDiff &d = *content.config;
        int differing = 0;
        for (const ConfigRow &row : d.rows)
            differing += row.differs;
        html << "<h2>Configuration differences</h2>\n";
        if (differing == 0) {
            html << "<p>All " << d.rows.size() << " parameters are the same in every run.</p>\n";
        } else {
            html << "<p class=\"meta\">" << differing << " of " << d.rows.size()
                 << " parameters differ; cells that differ from the reference run ";
            if (d.reference < runs.size())
                html << runs[d.reference].info.id;
            html << " are marked.</p>\n<table>\n<tr><th>parameter</th>";
            for (std::size_t r = 0; r < runs.size(); ++r)
                html << "<th>run " << runs[r].info.id << (r == d.reference ? " (reference)" : "") << "</th>";
            html << "</tr>\n";
            for (const ConfigRow &row : d.rows) {
                if (!row.differs)
                    continue;
                html << "<tr" << (row.isSeed ? " class=\"seed\"" : "") << "><td>" << xmlEscaped(row.name) << "</td>";
                for (std::size_t r = 0; r < row.values.size(); ++r) {
                    const bool changed = r != d.reference && row.values[r] != row.values[d.reference];
                    html << "<td class=\"num" << (changed ? " changed" : r == d.reference ? " ref" : "") << "\">"
                         << xmlEscaped(row.values[r].value_or("–")) << "</td>";
                }
                html << "</tr>\n";
            }
            html << "</table>\n";
        }
        bool anyStructure = false;
        for (std::size_t r = 0; r < d.structure.size(); ++r)
            if (!d.structure[r].empty()) {
                if (!anyStructure)
                    html << "<h2>Structural differences</h2>\n";
                anyStructure = true;
                html << "<p>run " << runs[r].info.id << " against run " << runs[d.reference].info.id
                     << ":</p>\n<ul class=\"changes\">\n";
                for (const std::string &line : d.structure[r])
                    html << "<li>" << xmlEscaped(line) << "</li>\n";
                html << "</ul>\n";
            }
    }

    if (!content.figures.empty())
        html << "<h2>Figures</h2>\n";
    for (const ReportFigure &f : content.figures) {
        html << "<figure>\n";
        if (f.mime == "image/svg+xml")
            html << f.data;
        else
            html << "<img alt=\"" << xmlEscaped(f.title) << "\" style=\"max-width:100%\" src=\"data:" << f.mime
                 << ";base64," << base64(f.data) << "\">\n";
        html << "<figcaption>" << xmlEscaped(f.title) << "</figcaption>\n</figure>\n";
    }
    html << "</body>\n</html>\n";
    return html.str();
}

Result<std::vector<ReportFigure>> reportFigures(const StoreReader &reader, const std::vector<ComparedRun> &runs,
                                                const std::vector<RunGroup> &groups, const FigureOptions &options)
{
    std::vector<ReportFigure> figures;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (const std::string &key : options.curves) {
        std::vector<render::PlotSeries> series;
        for (const RunGroup &g : groups) {
            std::vector<std::vector<ScalarPoint>> rows;
            std::vector<double> starts;
            for (std::size_t i : g.runs) {
                auto points = reader.scalars(runs[i].info.id, key);
                if (!points.ok())
                    return points.error();
                rows.push_back(std::move(points).value());
                starts.push_back(runs[i].info.createdAt);
            }
            render::PlotSeries s;
            s.label = g.label + (g.runs.size() > 1 ? " (n=" + std::to_string(g.runs.size()) + ")" : "");
            for (const BandPoint &b : aggregateCurves(rows, starts)) {
                if (b.value.n == 0)
                    continue;
                s.x.push_back(double(b.step));
                s.y.push_back(b.value.mean);
                double lo = nan, hi = nan;
                switch (options.band) {
                case BandKind::Std: lo = b.value.mean - b.value.std, hi = b.value.mean + b.value.std; break;
                case BandKind::StdErr: lo = b.value.mean - b.value.sem(), hi = b.value.mean + b.value.sem(); break;
                case BandKind::MinMax: lo = b.value.min, hi = b.value.max; break;
                case BandKind::None: break;
                }
                s.lo.push_back(lo);
                s.hi.push_back(hi);
            }
            if (options.band == BandKind::None || g.runs.size() < 2)
                s.lo.clear(), s.hi.clear();
            series.push_back(std::move(s));
        }
        const std::string bandText = options.band == BandKind::Std      ? "mean ± std"
                                     : options.band == BandKind::StdErr ? "mean ± standard error"
                                     : options.band == BandKind::MinMax ? "mean, min–max band"
                                                                        : "mean";
        std::string svg = render::bandChartSvg(metricLabel(key), "step", metricLabel(key), series);
        if (!svg.empty())
            figures.push_back({metricLabel(key) + " by group (" + bandText + " over each group's runs)",
                               "image/svg+xml", std::move(svg)});
    }
    if (!options.scatterX.empty() && !options.scatterY.empty()) {
        auto x = runQuantity(runs, options.scatterX);
        if (!x.ok())
            return x.error();
        auto y = runQuantity(runs, options.scatterY);
        if (!y.ok())
            return y.error();
        // Metric names as the store spells them (student_nll -> eval/student_nll).
        const std::vector<std::string> keys = seriesKeys(runs);
        auto canonical = [&](const std::string &q) {
            if (q == "student.params" || q == "student.flops")
                return q;
            for (const ComparedRun &r : runs)
                if (r.param(q))
                    return q;
            auto column = parseMetricColumn(q, keys);
            if (!column.ok())
                return q;
            return column.value().reduce == MetricReduce::Last
                       ? column.value().key
                       : column.value().key + ":" + metricReduceName(column.value().reduce);
        };
        FigureOptions names = options;
        names.scatterX = canonical(options.scatterX);
        names.scatterY = canonical(options.scatterY);
        // A parameter has no better side: the front needs two quantities that do.
        auto goalOf = [&](const std::string &name) {
            if (name == "student.params" || name == "student.flops")
                return MetricGoal::Lower;
            for (const ComparedRun &r : runs)
                if (r.param(name))
                    return MetricGoal::None;
            const auto colon = name.rfind(':');
            return metricGoal(colon == std::string::npos ? name : name.substr(0, colon));
        };
        const MetricGoal gx = goalOf(names.scatterX), gy = goalOf(names.scatterY);
        const bool withFront = gx != MetricGoal::None && gy != MetricGoal::None;
        const std::vector<bool> front =
            paretoFront(x.value(), y.value(), gx == MetricGoal::Lower, gy == MetricGoal::Lower);
        auto nameOf = [](const std::string &q) {
            const auto colon = q.rfind(':');
            const std::string key = colon == std::string::npos ? q : q.substr(0, colon);
            const std::string label = q == "student.params"  ? std::string("student parameters")
                                      : q == "student.flops" ? std::string("student FLOPs/token")
                                                             : metricLabel(key);
            return colon == std::string::npos ? label : label + " (" + q.substr(colon + 1) + ")";
        };
        std::vector<render::ScatterPoint> points;
        for (std::size_t i = 0; i < runs.size(); ++i)
            points.push_back({"run " + std::to_string(runs[i].info.id), x.value()[i], y.value()[i],
                              withFront && front[i]});
        const std::string xName = nameOf(names.scatterX), yName = nameOf(names.scatterY);
        std::string svg = render::scatterChartSvg(yName + " against " + xName, xName, yName, points);
        if (!svg.empty())
            figures.push_back({yName + " against " + xName + " over the runs" +
                                   (withFront ? std::string("; the Pareto front (") +
                                                    (gx == MetricGoal::Lower ? "lower" : "higher") + " x, " +
                                                    (gy == MetricGoal::Lower ? "lower" : "higher") +
                                                    " y is better) is marked"
                                              : std::string()),
                               "image/svg+xml", std::move(svg)});
    }
    return figures;
}

} // namespace distillery::core
