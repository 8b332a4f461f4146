// Sweep plans: axes parsed from `NAME=values` (lists, linear and log ranges), grids and random
// draws, and the graph of each point.

#include "distillery/core/compare.h"
#include "distillery/core/errors.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <random>
#include <set>

namespace distillery::core {

namespace {

std::vector<std::string> split(const std::string &text, char by)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto at = text.find(by, start);
        parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (at == std::string::npos)
            return parts;
        start = at + 1;
    }
}

std::optional<double> number(const std::string &text)
{
    errno = 0;
    char *end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || errno || !end || *end != '\0' || !std::isfinite(v))
        return std::nullopt;
    return v;
}

// The validation problems of `graph` that are about one parameter of one node.
std::string paramProblem(const Graph &graph, NodeId node, const std::string &param)
{
    for (const ValidationIssue &issue : validateGraph(graph))
        if (issue.nodeId == node && issue.param == param)
            return issue.message;
    return {};
}

ParamValue rangeValue(double v, bool integer)
{
    return integer ? ParamValue(std::int64_t(std::llround(v))) : ParamValue(v);
}

// A random draw kept to 3 significant digits: 0.00157, not 0.001566712561094495.
double roundedDraw(double v)
{
    if (v == 0 || !std::isfinite(v))
        return v;
    const double scale = std::pow(10.0, 2 - std::floor(std::log10(std::fabs(v))));
    return std::round(v * scale) / scale;
}

} // namespace

Result<SweepAxis> parseSweepAxis(const Graph &graph, const std::string &text)
{
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
        return Error{errc::kBadOption, "'" + text + "': give NODE.PARAM=VALUES, e.g. kd.temperature=1,2,4, "
                                       "optim.lr=log:1e-4:1e-2:3 or kd.weight=lin:0.1:0.9:5"};
    SweepAxis axis;
    axis.param = text.substr(0, eq);
    const std::string values = text.substr(eq + 1);
    auto found = findParam(graph, axis.param);
    if (!found.ok())
        return found.error();
    const FlatParam &param = found.value();
    const NodeKindSpec *kind = findNodeKind(param.kind);
    const ParamSpec *spec = kind ? kind->param(param.param) : nullptr;
    if (!spec)
        return Error{errc::kBadOption, "'" + axis.param + "' is not a parameter"};
    axis.isSeed = isSeedParam(param);
    axis.integer = spec->type == ParamType::Int;
    auto bad = [&](const std::string &why) {
        return Error{errc::kBadOption, "'" + text + "': " + why};
    };
    const std::vector<std::string> parts = split(values, ':');
    if ((parts.front() == "lin" || parts.front() == "log") && parts.size() == 4) {
        if (spec->type != ParamType::Int && spec->type != ParamType::Float)
            return bad("a range needs a numeric parameter; " + axis.param + " is " + paramTypeName(spec->type));
        const auto lo = number(parts[1]), hi = number(parts[2]);
        const auto count = number(parts[3]);
        if (!lo || !hi || !count || *count < 1 || *count > 10000 || std::floor(*count) != *count)
            return bad("a range is lin:LO:HI:N or log:LO:HI:N with numbers LO, HI and a count N from 1 to 10000");
        const bool log = parts.front() == "log";
        if (log && (*lo <= 0 || *hi <= 0))
            return bad("a log range needs LO and HI above 0");
        axis.spacing = log ? SweepAxis::Spacing::Log : SweepAxis::Spacing::Linear;
        axis.lo = *lo;
        axis.hi = *hi;
        const int n = int(*count);
        for (int i = 0; i < n; ++i) {
            const double t = n == 1 ? 0.0 : double(i) / (n - 1);
            const double v = log ? std::exp(std::log(*lo) + t * (std::log(*hi) - std::log(*lo))) : *lo + t * (*hi - *lo);
            const ParamValue pv = rangeValue(v, axis.integer);
            if (std::find(axis.values.begin(), axis.values.end(), pv) == axis.values.end())
                axis.values.push_back(pv);
        }
    } else {
        for (const std::string &item : split(values, ',')) {
            if (item.empty())
                return bad("an empty value in the list");
            auto v = parseParamText(*spec, item);
            if (!v.ok())
                return bad(v.error().message);
            if (std::find(axis.values.begin(), axis.values.end(), v.value()) != axis.values.end())
                return bad("'" + item + "' is given twice");
            axis.values.push_back(v.value());
        }
    }
    // Every value must pass the graph's validation (ranges, choices).
    for (const ParamValue &v : axis.values) {
        Graph copy = graph;
        if (auto set = copy.setParam(param.node, param.param, v); !set.ok())
            return bad(set.error().message);
        if (const std::string problem = paramProblem(copy, param.node, param.param); !problem.empty())
            return bad(problem);
    }
    return axis;
}

std::string SweepPoint::label() const
{
    std::string out;
    for (const auto &[name, value] : values)
        out += (out.empty() ? "" : " ") + name + "=" + paramValueToString(value);
    return out;
}

Result<std::vector<SweepPoint>> planSweep(const std::vector<SweepAxis> &axes, int random, std::uint64_t seed)
{
    if (axes.empty())
        return Error{errc::kBadOption, "a sweep needs at least one --set NODE.PARAM=VALUES"};
    std::set<std::string> names;
    for (const SweepAxis &a : axes) {
        if (!names.insert(a.param).second)
            return Error{errc::kBadOption, "'" + a.param + "' is swept twice"};
        if (a.values.empty())
            return Error{errc::kBadOption, "'" + a.param + "' has no values"};
    }
    if (random < 0)
        return Error{errc::kBadOption, "--random needs a count of 1 or more"};
    constexpr std::size_t kMostPoints = 10000;
    auto grid = [&](const std::vector<const SweepAxis *> &use) -> Result<std::vector<SweepPoint>> {
        std::size_t total = 1;
        for (const SweepAxis *a : use) {
            total *= a->values.size();
            if (total > kMostPoints)
                return Error{errc::kBadOption, "the sweep has more than " + std::to_string(kMostPoints) +
                                                   " runs; use --random N or fewer values"};
        }
        std::vector<SweepPoint> points(total);
        for (std::size_t i = 0; i < total; ++i) {
            std::size_t rest = i;
            std::vector<std::pair<std::string, ParamValue>> values(use.size());
            for (std::size_t k = use.size(); k-- > 0;) {
                values[k] = {use[k]->param, use[k]->values[rest % use[k]->values.size()]};
                rest /= use[k]->values.size();
            }
            points[i].values = std::move(values);
        }
        return points;
    };
    std::vector<const SweepAxis *> all;
    for (const SweepAxis &a : axes)
        all.push_back(&a);
    if (random == 0)
        return grid(all);

    std::vector<const SweepAxis *> draws, seeds;
    for (const SweepAxis &a : axes)
        (a.isSeed ? seeds : draws).push_back(&a);
    std::mt19937_64 rng(seed);
    std::vector<std::vector<std::pair<std::string, ParamValue>>> samples;
    const bool listsOnly = std::all_of(draws.begin(), draws.end(), [](const SweepAxis *a) {
        return a->spacing == SweepAxis::Spacing::List;
    });
    auto full = grid(draws);
    if (listsOnly && full.ok() && full.value().size() >= std::size_t(random)) {
        // Without repeats: a random subset of the grid.
        std::vector<SweepPoint> pool = std::move(full).value();
        std::shuffle(pool.begin(), pool.end(), rng);
        for (int i = 0; i < random; ++i)
            samples.push_back(pool[std::size_t(i)].values);
    } else {
        for (int i = 0; i < random; ++i) {
            std::vector<std::pair<std::string, ParamValue>> values;
            for (const SweepAxis *a : draws) {
                std::uniform_real_distribution<double> unit(0.0, 1.0);
                if (a->spacing == SweepAxis::Spacing::List) {
                    std::uniform_int_distribution<std::size_t> pick(0, a->values.size() - 1);
                    values.push_back({a->param, a->values[pick(rng)]});
                } else {
                    const double t = unit(rng);
                    const double v = a->spacing == SweepAxis::Spacing::Log
                                         ? std::exp(std::log(a->lo) + t * (std::log(a->hi) - std::log(a->lo)))
                                         : a->lo + t * (a->hi - a->lo);
                    values.push_back({a->param, rangeValue(std::clamp(roundedDraw(v), std::min(a->lo, a->hi), std::max(a->lo, a->hi)), a->integer)});
                }
            }
            samples.push_back(std::move(values));
        }
    }
    auto seedGrid = grid(seeds);
    if (!seedGrid.ok())
        return seedGrid.error();
    std::vector<SweepPoint> points;
    for (const auto &sample : samples)
        for (const SweepPoint &s : seedGrid.value()) {
            SweepPoint p;
            p.values = sample;
            p.values.insert(p.values.end(), s.values.begin(), s.values.end());
            // Axis order as given.
            std::vector<std::pair<std::string, ParamValue>> ordered;
            for (const SweepAxis &a : axes)
                for (const auto &v : p.values)
                    if (v.first == a.param)
                        ordered.push_back(v);
            p.values = std::move(ordered);
            points.push_back(std::move(p));
        }
    if (points.size() > kMostPoints)
        return Error{errc::kBadOption, "the sweep has more than " + std::to_string(kMostPoints) + " runs"};
    return points;
}

Result<Graph> applySweepPoint(const Graph &graph, const SweepPoint &point)
{
    Graph out = graph;
    for (const auto &[name, value] : point.values) {
        auto found = findParam(out, name);
        if (!found.ok())
            return found.error();
        if (auto set = out.setParam(found.value().node, found.value().param, value); !set.ok())
            return Error{set.error().code, "sweep point " + point.label() + ": " + set.error().message};
        if (const std::string problem = paramProblem(out, found.value().node, found.value().param); !problem.empty())
            return Error{errc::kBadOption, "sweep point " + point.label() + ": " + problem};
    }
    return out;
}

} // namespace distillery::core
