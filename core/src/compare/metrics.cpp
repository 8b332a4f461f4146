// Metrics of compared runs: goals (lower or higher is better), last / best / min / max, groups
// with mean ± std, curves aggregated into bands, Pareto fronts.

#include "distillery/core/compare.h"
#include "distillery/core/errors.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace distillery::core {

namespace {

bool contains(const std::string &text, const char *part)
{
    return text.find(part) != std::string::npos;
}

std::string lastPart(const std::string &key)
{
    const auto slash = key.rfind('/');
    return slash == std::string::npos ? key : key.substr(slash + 1);
}

std::string number(double v, int precision)
{
    if (std::isnan(v))
        return "nan";
    std::ostringstream s;
    s << std::fixed << std::setprecision(precision) << v;
    return s.str();
}

// A CSV field, quoted when it holds a comma, quote or line break.
std::string csvField(const std::string &text)
{
    if (text.find_first_of(",\"\n\r") == std::string::npos)
        return text;
    std::string out = "\"";
    for (char c : text)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string csvNumber(double v)
{
    if (!std::isfinite(v))
        return "";
    std::ostringstream s;
    s << std::setprecision(10) << v;
    return s.str();
}

} // namespace

MetricGoal metricGoal(const std::string &key)
{
    const std::string k = lastPart(key);
    if (key.rfind("perf/", 0) == 0 || key.rfind("diag/seconds/", 0) == 0)
        return MetricGoal::None;
    if (contains(k, "tokens_per_s"))
        return MetricGoal::Higher;
    if (contains(k, "entropy") || k == "lr" || k == "grad_norm" || k == "mean_length" || k == "flag" ||
        k == "conf_minus_acc")
        return MetricGoal::None;
    if (contains(k, "nll") || contains(k, "kl") || k == "js" || k == "ece" || k == "mce" || k == "brier" ||
        contains(k, "loss") || contains(k, "self_bleu") || key.rfind("train/term/", 0) == 0)
        return MetricGoal::Lower;
    if (contains(k, "acc") || contains(k, "agree") || contains(k, "distinct") || contains(k, "cosine") ||
        contains(k, "unique"))
        return MetricGoal::Higher;
    return MetricGoal::None;
}

std::string metricLabel(const std::string &key)
{
    static const std::map<std::string, std::string> names = {
        {"eval/kl_oracle_student", "KL(oracle‖student)"},
        {"eval/kl_oracle_teacher", "KL(oracle‖teacher)"},
        {"eval/kl_teacher_student", "KL(teacher‖student)"},
        {"eval/student_nll", "student NLL"},
        {"eval/teacher_nll", "teacher NLL"},
        {"eval/oracle_nll", "oracle NLL"},
        {"eval/student_acc", "student accuracy"},
        {"eval/teacher_acc", "teacher accuracy"},
        {"eval/calibration/student/ece", "student ECE"},
        {"eval/calibration/teacher/ece", "teacher ECE"},
        {"eval/calibration/student/brier", "student Brier"},
        {"diag/diversity/distinct2", "distinct-2"},
        {"diag/diversity/self_bleu4", "self-BLEU-4"},
        {"diag/align/top1_agree", "top-1 agreement"},
        {"train/loss", "training loss"},
        {"train/tokens_per_s", "tokens/s"},
    };
    const auto it = names.find(key);
    return it == names.end() ? key : it->second;
}

std::string metricReduceName(MetricReduce reduce)
{
    switch (reduce) {
    case MetricReduce::Last: return "last";
    case MetricReduce::Best: return "best";
    case MetricReduce::Min: return "min";
    case MetricReduce::Max: return "max";
    }
    return "last";
}

std::optional<MetricReduce> metricReduceFromName(const std::string &name)
{
    for (MetricReduce r : {MetricReduce::Last, MetricReduce::Best, MetricReduce::Min, MetricReduce::Max})
        if (metricReduceName(r) == name)
            return r;
    return std::nullopt;
}

MetricValue reduceMetric(const SeriesStats &stats, MetricReduce reduce, MetricGoal goal)
{
    if (reduce == MetricReduce::Best)
        reduce = goal == MetricGoal::Lower    ? MetricReduce::Min
                 : goal == MetricGoal::Higher ? MetricReduce::Max
                                              : MetricReduce::Last;
    switch (reduce) {
    case MetricReduce::Min:
        return stats.hasFinite() ? MetricValue{stats.min, stats.minStep} : MetricValue{};
    case MetricReduce::Max:
        return stats.hasFinite() ? MetricValue{stats.max, stats.maxStep} : MetricValue{};
    default:
        return std::isfinite(stats.last.value) ? MetricValue{stats.last.value, stats.last.step} : MetricValue{};
    }
}

std::string MetricColumn::title() const
{
    return metricLabel(key) + " (" + metricReduceName(reduce) + ")";
}

Result<MetricColumn> parseMetricColumn(const std::string &text, const std::vector<std::string> &known)
{
    MetricColumn column;
    std::string key = text;
    if (const auto colon = text.rfind(':'); colon != std::string::npos) {
        const auto reduce = metricReduceFromName(text.substr(colon + 1));
        if (!reduce)
            return Error{errc::kBadOption, "'" + text + "': after ':' give last, best, min or max"};
        column.reduce = *reduce;
        key = text.substr(0, colon);
    }
    const bool isKnown = std::find(known.begin(), known.end(), key) != known.end();
    if (!isKnown && key.find('/') == std::string::npos) {
        for (const char *prefix : {"eval/", "diag/", "train/", "eval/calibration/student/", "diag/diversity/",
                                   "diag/align/"})
            if (std::find(known.begin(), known.end(), prefix + key) != known.end()) {
                column.key = prefix + key;
                return column;
            }
    }
    if (!isKnown) {
        std::string close;
        int shown = 0;
        for (const std::string &k : known)
            if (shown < 12 && (k.find(lastPart(key)) != std::string::npos || lastPart(k).find(lastPart(key)) == 0)) {
                close += (close.empty() ? "" : ", ") + k;
                ++shown;
            }
        return Error{errc::kBadOption, "no run has a series '" + key + "'" +
                                           (close.empty() ? std::string("; `distillery-cli metrics RUN` lists a run's series")
                                                          : "; did you mean " + close + "?")};
    }
    column.key = key;
    return column;
}

std::vector<std::string> seriesKeys(const std::vector<ComparedRun> &runs)
{
    std::set<std::string> keys;
    for (const ComparedRun &r : runs)
        for (const auto &[k, stats] : r.series)
            keys.insert(k);
    return {keys.begin(), keys.end()};
}

std::vector<MetricColumn> defaultMetricColumns(const std::vector<ComparedRun> &runs)
{
    const std::vector<std::string> known = seriesKeys(runs);
    std::vector<MetricColumn> columns;
    for (const char *key : {"eval/kl_oracle_student", "eval/student_nll", "eval/kl_teacher_student",
                            "eval/student_acc", "eval/calibration/student/ece"})
        if (std::binary_search(known.begin(), known.end(), std::string(key)))
            columns.push_back({key, MetricReduce::Last});
    return columns;
}

double Summary::sem() const
{
    return n > 0 ? std / std::sqrt(double(n)) : std::numeric_limits<double>::quiet_NaN();
}

Summary summarize(const std::vector<double> &values)
{
    Summary s;
    double sum = 0;
    for (double v : values)
        if (std::isfinite(v)) {
            if (s.n == 0)
                s.min = s.max = v;
            s.min = std::min(s.min, v);
            s.max = std::max(s.max, v);
            sum += v;
            ++s.n;
        }
    if (s.n == 0) {
        s.mean = s.std = s.min = s.max = std::numeric_limits<double>::quiet_NaN();
        return s;
    }
    s.mean = sum / s.n;
    if (s.n > 1) {
        double squares = 0;
        for (double v : values)
            if (std::isfinite(v))
                squares += (v - s.mean) * (v - s.mean);
        s.std = std::sqrt(squares / (s.n - 1));
    }
    return s;
}

std::string formatSummary(const Summary &s, int precision)
{
    if (s.n == 0)
        return "–";
    if (s.n == 1)
        return number(s.mean, precision);
    return number(s.mean, precision) + " ± " + number(s.std, precision) + " (n=" + std::to_string(s.n) + ")";
}

std::vector<std::string> autoGroupFields(const std::vector<ComparedRun> &runs)
{
    std::vector<std::string> fields;
    for (const ConfigRow &row : configDiff(runs).rows)
        if (row.differs && !row.isSeed)
            fields.push_back(row.name);
    return fields;
}

Result<std::vector<RunGroup>> groupRuns(const std::vector<ComparedRun> &runs, const std::vector<std::string> &by)
{
    std::vector<std::string> fields;
    for (const std::string &f : by) {
        if (f == "auto") {
            for (const std::string &a : autoGroupFields(runs))
                fields.push_back(a);
        } else if (!f.empty()) {
            fields.push_back(f);
        }
    }
    const bool none = std::find(by.begin(), by.end(), "none") != by.end();
    for (const std::string &f : fields) {
        if (none || f == "template" || f == "tag" || f == "group" || f == "status")
            continue;
        bool anyRun = false;
        for (const ComparedRun &r : runs)
            anyRun = anyRun || r.param(f);
        if (!anyRun && !runs.empty()) {
            auto found = findParam(runs.front().graph, f);
            return Error{errc::kBadOption, "cannot group by '" + f + "': " +
                                               (found.ok() ? std::string("no run has it")
                                                           : found.error().message) +
                                               " (or give template, tag, group, status, auto, none)"};
        }
    }
    // Nothing differs but the seed: the runs are repetitions of one experiment, one group.
    bool onlySeeds = runs.size() > 1 && fields.empty() && !none;
    if (onlySeeds)
        for (const ConfigRow &row : configDiff(runs).rows)
            onlySeeds = onlySeeds && (!row.differs || row.isSeed);
    std::vector<RunGroup> groups;
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        std::string label;
        if (none || fields.empty()) {
            label = "run " + std::to_string(runs[i].info.id) +
                    (runs[i].info.name.empty() ? "" : " " + runs[i].info.name);
            if (onlySeeds)
                label = runs.front().info.templateName.empty() ? "all runs" : runs.front().info.templateName;
        } else {
            for (const std::string &f : fields) {
                std::string value;
                const RunInfo &info = runs[i].info;
                if (f == "template")
                    value = info.templateName.empty() ? "(none)" : info.templateName;
                else if (f == "group")
                    value = info.group.empty() ? "(none)" : info.group;
                else if (f == "status")
                    value = runStatusName(info.status);
                else if (f == "tag") {
                    for (const std::string &t : info.tags)
                        value += (value.empty() ? "" : "+") + t;
                    if (value.empty())
                        value = "(no tag)";
                } else if (const FlatParam *p = runs[i].param(f))
                    value = paramValueToString(p->value);
                else
                    value = "–";
                label += (label.empty() ? "" : " ") + f + "=" + value;
            }
        }
        auto [it, fresh] = index.emplace(label, groups.size());
        if (fresh)
            groups.push_back({label, {}});
        groups[it->second].runs.push_back(i);
    }
    return groups;
}

std::string MetricTable::csv() const
{
    std::ostringstream out;
    out << "group,runs,n";
    for (const MetricColumn &c : columns) {
        const std::string name = c.key + ":" + metricReduceName(c.reduce);
        out << "," << csvField(name + " mean") << "," << csvField(name + " std") << ","
            << csvField(name + " step");
    }
    out << "\n";
    for (const MetricTableRow &row : rows) {
        std::string ids;
        int n = 0;
        for (const Summary &s : row.cells)
            n = std::max(n, s.n);
        out << csvField(row.label) << ",";
        for (std::size_t i = 0; i < row.runs.size(); ++i)
            ids += (i ? " " : "") + std::to_string(row.runs[i]);
        out << csvField(ids) << "," << n;
        for (std::size_t c = 0; c < row.cells.size(); ++c)
            out << "," << csvNumber(row.cells[c].mean) << "," << (row.cells[c].n > 1 ? csvNumber(row.cells[c].std) : "")
                << "," << (row.steps[c] >= 0 ? std::to_string(row.steps[c]) : "");
        out << "\n";
    }
    return out.str();
}

MetricTable metricTable(const std::vector<ComparedRun> &runs, const std::vector<RunGroup> &groups,
                        const std::vector<MetricColumn> &columns)
{
    MetricTable table;
    table.columns = columns;
    for (const RunGroup &g : groups) {
        MetricTableRow row;
        row.label = g.label;
        for (std::size_t i : g.runs)
            row.runs.push_back(std::size_t(runs[i].info.id));
        for (const MetricColumn &c : columns) {
            std::vector<double> values;
            std::int64_t step = -1;
            for (std::size_t i : g.runs) {
                const auto it = runs[i].series.find(c.key);
                const MetricValue v = it == runs[i].series.end()
                                          ? MetricValue{}
                                          : reduceMetric(it->second, c.reduce, metricGoal(c.key));
                values.push_back(v.present() ? v.value : std::numeric_limits<double>::quiet_NaN());
                step = v.step;
            }
            row.cells.push_back(summarize(values));
            row.steps.push_back(g.runs.size() == 1 ? step : -1);
        }
        table.rows.push_back(std::move(row));
    }
    return table;
}

std::vector<BandPoint> aggregateCurves(const std::vector<std::vector<ScalarPoint>> &runs,
                                       const std::vector<double> &startTimes)
{
    // Every step of any run, in order; then each run walks it once (both are sorted), so
    // 50 runs of 20k points aggregate in one pass with no per-point lookups.
    std::vector<std::int64_t> steps;
    for (const auto &run : runs)
        for (const ScalarPoint &p : run)
            steps.push_back(p.step);
    std::sort(steps.begin(), steps.end());
    steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
    const std::size_t n = steps.size();
    std::vector<int> count(n, 0), timed(n, 0);
    std::vector<double> sum(n, 0), squares(n, 0), lo(n, 0), hi(n, 0), seconds(n, 0);
    for (int pass = 0; pass < 2; ++pass)
        for (std::size_t r = 0; r < runs.size(); ++r) {
            const double start = r < startTimes.size() ? startTimes[r] : 0.0;
            std::size_t at = 0;
            for (const ScalarPoint &p : runs[r]) {
                while (steps[at] < p.step)
                    ++at;
                if (!std::isfinite(p.value))
                    continue;
                if (pass == 0) {
                    lo[at] = count[at] == 0 ? p.value : std::min(lo[at], p.value);
                    hi[at] = count[at] == 0 ? p.value : std::max(hi[at], p.value);
                    sum[at] += p.value;
                    ++count[at];
                    seconds[at] += p.wallTime - start;
                    ++timed[at];
                } else {
                    const double d = p.value - sum[at] / count[at];
                    squares[at] += d * d;
                }
            }
        }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<BandPoint> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        BandPoint &b = out[i];
        b.step = steps[i];
        b.value.n = count[i];
        if (count[i] == 0) {
            b.value.mean = b.value.std = b.value.min = b.value.max = nan;
            b.seconds = nan;
            continue;
        }
        b.value.mean = sum[i] / count[i];
        b.value.std = count[i] > 1 ? std::sqrt(squares[i] / (count[i] - 1)) : 0.0;
        b.value.min = lo[i];
        b.value.max = hi[i];
        b.seconds = seconds[i] / timed[i];
    }
    return out;
}

std::int64_t tokensPerStep(const Graph &graph)
{
    const auto settings = graph.nodesOfKind("Settings");
    if (settings.size() != 1)
        return 0;
    return graph.paramInt(settings.front()->id, "batch_size") * graph.paramInt(settings.front()->id, "seq_len");
}

std::vector<bool> paretoFront(const std::vector<double> &x, const std::vector<double> &y, bool lowerXBetter,
                              bool lowerYBetter)
{
    const std::size_t n = std::min(x.size(), y.size());
    std::vector<bool> front(n, false);
    auto better = [](double a, double b, bool lower) { return lower ? a < b : a > b; };
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(x[i]) || !std::isfinite(y[i]))
            continue;
        bool dominated = false;
        for (std::size_t j = 0; j < n && !dominated; ++j) {
            if (j == i || !std::isfinite(x[j]) || !std::isfinite(y[j]))
                continue;
            const bool noWorse = !better(x[i], x[j], lowerXBetter) && !better(y[i], y[j], lowerYBetter);
            const bool strictly = better(x[j], x[i], lowerXBetter) || better(y[j], y[i], lowerYBetter);
            dominated = noWorse && strictly;
        }
        front[i] = !dominated;
    }
    return front;
}

Result<std::vector<double>> runQuantity(const std::vector<ComparedRun> &runs, const std::string &name)
{
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> out(runs.size(), nan);
    if (name == "student.params" || name == "student.flops") {
        for (std::size_t i = 0; i < runs.size(); ++i) {
            const Graph &g = runs[i].graph;
            const auto students = g.nodesOfKind("Student");
            const auto settings = g.nodesOfKind("Settings");
            const std::int64_t vocab = datasetVocabulary(g);
            if (students.size() != 1 || settings.size() != 1 || vocab <= 0)
                continue;
            const std::int64_t seqLen = g.paramInt(settings.front()->id, "seq_len");
            const ModelShape shape = architectureShape(g, students.front()->id, vocab, seqLen);
            out[i] = name == "student.params" ? double(parameterCount(shape)) : forwardFlopsPerToken(shape, seqLen);
        }
        return out;
    }
    bool isParam = false;
    for (std::size_t i = 0; i < runs.size(); ++i)
        if (const FlatParam *p = runs[i].param(name)) {
            isParam = true;
            if (const auto *d = std::get_if<double>(&p->value))
                out[i] = *d;
            else if (const auto *k = std::get_if<std::int64_t>(&p->value))
                out[i] = double(*k);
            else if (const auto *b = std::get_if<bool>(&p->value))
                out[i] = *b ? 1.0 : 0.0;
        }
    if (isParam)
        return out;
    auto column = parseMetricColumn(name, seriesKeys(runs));
    if (!column.ok())
        return Error{errc::kBadOption, "'" + name + "' is neither a parameter (NODE.PARAM), student.params, "
                                       "student.flops nor a metric: " + column.error().message};
    for (std::size_t i = 0; i < runs.size(); ++i)
        if (const auto it = runs[i].series.find(column.value().key); it != runs[i].series.end()) {
            const MetricValue v = reduceMetric(it->second, column.value().reduce, metricGoal(column.value().key));
            if (v.present())
                out[i] = v.value;
        }
    return out;
}

} // namespace distillery::core
