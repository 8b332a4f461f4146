// Parameters of experiment graphs by name (`kd.temperature`), runs loaded for comparison, and
// config diffs over runs.

#include "distillery/core/compare.h"
#include "distillery/core/errors.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

namespace distillery::core {

namespace {

int titleCount(const Graph &graph, const std::string &title)
{
    int n = 0;
    for (const Node &node : graph.nodes())
        n += node.title == title;
    return n;
}

// The nodes a label can mean: by unique title, by a kind held once, or `Kind#id`.
const Node *nodeByLabel(const Graph &graph, const std::string &label)
{
    for (const Node &node : graph.nodes())
        if (!node.title.empty() && node.title == label && titleCount(graph, label) == 1)
            return &node;
    if (auto kinds = graph.nodesOfKind(label); kinds.size() == 1)
        return kinds.front();
    const auto hash = label.find('#');
    if (hash != std::string::npos) {
        char *end = nullptr;
        const long id = std::strtol(label.c_str() + hash + 1, &end, 10);
        if (end && *end == '\0' && hash + 1 < label.size())
            if (const Node *node = graph.node(NodeId(id)); node && node->kind == label.substr(0, hash))
                return node;
    }
    return nullptr;
}

} // namespace

std::string nodeLabel(const Graph &graph, NodeId id)
{
    const Node *node = graph.node(id);
    if (!node)
        return "#" + std::to_string(id);
    if (!node->title.empty() && node->title.find('.') == std::string::npos &&
        titleCount(graph, node->title) == 1)
        return node->title;
    if (graph.nodesOfKind(node->kind).size() == 1)
        return node->kind;
    return node->kind + "#" + std::to_string(id);
}

std::vector<FlatParam> flattenParams(const Graph &graph)
{
    std::vector<const Node *> nodes;
    for (const Node &node : graph.nodes())
        nodes.push_back(&node);
    std::sort(nodes.begin(), nodes.end(), [](const Node *a, const Node *b) { return a->id < b->id; });
    std::vector<FlatParam> out;
    for (const Node *node : nodes) {
        const NodeKindSpec *spec = findNodeKind(node->kind);
        if (!spec)
            continue;
        const std::string label = nodeLabel(graph, node->id);
        const bool singleKind = graph.nodesOfKind(node->kind).size() == 1;
        for (const ParamSpec &p : spec->params) {
            FlatParam f;
            f.name = label + "." + p.name;
            if (singleKind && label != node->kind)
                f.alias = node->kind + "." + p.name;
            f.node = node->id;
            f.kind = node->kind;
            f.param = p.name;
            const auto set = node->params.find(p.name);
            f.isDefault = set == node->params.end();
            f.value = f.isDefault ? p.defaultValue : set->second;
            out.push_back(std::move(f));
        }
    }
    return out;
}

Result<FlatParam> findParam(const Graph &graph, const std::string &name)
{
    const auto dot = name.rfind('.');
    if (dot != std::string::npos && dot > 0 && dot + 1 < name.size()) {
        if (const Node *node = nodeByLabel(graph, name.substr(0, dot))) {
            const std::string param = name.substr(dot + 1);
            for (FlatParam &f : flattenParams(graph))
                if (f.node == node->id && f.param == param)
                    return f;
            const NodeKindSpec *spec = findNodeKind(node->kind);
            std::string known;
            for (const ParamSpec &p : spec ? spec->params : std::vector<ParamSpec>{})
                known += (known.empty() ? "" : ", ") + p.name;
            return Error{"graph.unknown_param", "'" + name + "': " + graph.describeNode(node->id) +
                                                    " has no parameter '" + param + "' (it has " +
                                                    known + ")"};
        }
    }
    std::string nodes;
    for (const Node &node : graph.nodes())
        nodes += (nodes.empty() ? "" : ", ") + nodeLabel(graph, node.id);
    return Error{"graph.unknown_param",
                 "'" + name + "' names no parameter of the graph: give NODE.PARAM with NODE a node's "
                 "title or a kind the graph holds once (its nodes: " + nodes + "), e.g. kd.temperature"};
}

Result<ParamValue> parseParamText(const ParamSpec &spec, const std::string &text)
{
    auto expected = [&](const std::string &what) {
        return Error{"graph.param_type", "parameter '" + spec.name + "' expects " + what + ", got '" + text + "'"};
    };
    switch (spec.type) {
    case ParamType::Int: {
        errno = 0;
        char *end = nullptr;
        const long long v = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || errno || !end || *end != '\0')
            return expected("an integer");
        return ParamValue(std::int64_t(v));
    }
    case ParamType::Float: {
        errno = 0;
        char *end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || errno || !end || *end != '\0' || !std::isfinite(v))
            return expected("a finite number");
        return ParamValue(v);
    }
    case ParamType::Bool:
        if (text == "true" || text == "1")
            return ParamValue(true);
        if (text == "false" || text == "0")
            return ParamValue(false);
        return expected("true or false");
    case ParamType::Enum:
        if (std::find(spec.choices.begin(), spec.choices.end(), text) == spec.choices.end()) {
            std::string choices;
            for (const auto &c : spec.choices)
                choices += (choices.empty() ? "" : ", ") + c;
            return expected("one of " + choices);
        }
        return ParamValue(text);
    case ParamType::String:
    case ParamType::Path:
        return ParamValue(text);
    }
    return expected(paramTypeName(spec.type));
}

bool isSeedParam(const FlatParam &param)
{
    return param.kind == "Settings" && param.param == "seed";
}

const FlatParam *ComparedRun::param(const std::string &name) const
{
    for (const FlatParam &f : params)
        if (f.name == name || (!f.alias.empty() && f.alias == name))
            return &f;
    return nullptr;
}

Result<std::vector<ComparedRun>> loadComparedRuns(const StoreReader &reader, const std::vector<RunId> &ids)
{
    std::vector<ComparedRun> out;
    for (RunId id : ids) {
        auto info = reader.run(id);
        if (!info.ok())
            return info.error();
        auto graph = graphFromJson(info.value().graphJson, "run " + std::to_string(id) + "'s graph");
        if (!graph.ok())
            return Error{graph.error().code, "run " + std::to_string(id) + " ('" + info.value().name +
                                                 "'): its stored graph cannot be read: " +
                                                 graph.error().message};
        auto series = reader.seriesStats(id);
        if (!series.ok())
            return series.error();
        ComparedRun run;
        run.info = std::move(info).value();
        run.graph = std::move(graph).value();
        run.params = flattenParams(run.graph);
        run.series = std::move(series).value();
        out.push_back(std::move(run));
    }
    return out;
}

Result<std::vector<RunId>> parseRunList(const StoreReader &reader, const std::vector<std::string> &items)
{
    auto runs = reader.runs();
    if (!runs.ok())
        return runs.error();
    std::set<RunId> known;
    for (const RunInfo &r : runs.value())
        known.insert(r.id);
    std::vector<RunId> out;
    auto add = [&](RunId id) -> std::optional<Error> {
        if (!known.count(id))
            return Error{"store.no_such_run", "no run with id " + std::to_string(id) + " in the store"};
        if (std::find(out.begin(), out.end(), id) == out.end())
            out.push_back(id);
        return std::nullopt;
    };
    auto number = [](const std::string &text, RunId *value) {
        errno = 0;
        char *end = nullptr;
        const long long v = std::strtoll(text.c_str(), &end, 10);
        *value = RunId(v);
        return !text.empty() && !errno && end && *end == '\0' && v > 0;
    };
    for (const std::string &item : items) {
        // group:NAME and tag:NAME select every run of a group or with a tag (names may hold commas).
        for (const char *field : {"group:", "tag:"}) {
            if (item.rfind(field, 0) != 0)
                continue;
            const std::string name = item.substr(std::string(field).size());
            std::size_t matched = 0;
            for (auto it = runs.value().rbegin(); it != runs.value().rend(); ++it) { // oldest first
                const bool in = field[0] == 'g' ? it->group == name
                                                : std::count(it->tags.begin(), it->tags.end(), name) > 0;
                if (in && std::find(out.begin(), out.end(), it->id) == out.end()) {
                    out.push_back(it->id);
                    ++matched;
                }
            }
            if (matched == 0)
                return Error{errc::kInvalidInput, std::string("no run ") +
                                                      (field[0] == 'g' ? "is in group '" : "has the tag '") +
                                                      name + "'"};
        }
        if (item.rfind("group:", 0) == 0 || item.rfind("tag:", 0) == 0)
            continue;
        std::size_t start = 0;
        while (start <= item.size()) {
            const std::size_t comma = std::min(item.find(',', start), item.size());
            const std::string part = item.substr(start, comma - start);
            start = comma + 1;
            if (part.empty())
                continue;
            if (part == "last") {
                if (runs.value().empty())
                    return Error{"store.no_such_run", "the store has no runs ('last')"};
                if (auto failed = add(runs.value().front().id))
                    return *failed;
                continue;
            }
            const auto dash = part.find('-');
            RunId lo = 0, hi = 0;
            if (dash != std::string::npos && number(part.substr(0, dash), &lo) &&
                number(part.substr(dash + 1), &hi) && lo <= hi && hi - lo < 100000) {
                for (RunId id = lo; id <= hi; ++id)
                    if (known.count(id))
                        out.push_back(id);
                continue;
            }
            if (!number(part, &lo))
                return Error{errc::kInvalidInput, "'" + part + "' is not a run: give ids (3), ranges (3-7) "
                                                              "or 'last', separated by commas or spaces"};
            if (auto failed = add(lo))
                return *failed;
        }
    }
    return out;
}

ConfigDiff configDiff(const std::vector<ComparedRun> &runs, std::size_t reference)
{
    ConfigDiff diff;
    diff.reference = runs.empty() ? 0 : std::min(reference, runs.size() - 1);
    std::map<std::string, std::size_t> rowOf;
    for (std::size_t r = 0; r < runs.size(); ++r)
        for (const FlatParam &f : runs[r].params) {
            auto [it, fresh] = rowOf.emplace(f.name, diff.rows.size());
            if (fresh) {
                ConfigRow row;
                row.name = f.name;
                row.values.assign(runs.size(), std::nullopt);
                row.isSeed = isSeedParam(f);
                diff.rows.push_back(std::move(row));
            }
            diff.rows[it->second].values[r] = paramValueToString(f.value);
        }
    for (ConfigRow &row : diff.rows)
        for (const auto &v : row.values)
            row.differs = row.differs || v != row.values.front();
    diff.structure.resize(runs.size());
    for (std::size_t r = 0; r < runs.size(); ++r)
        if (r != diff.reference)
            diff.structure[r] = diffGraphs(runs[diff.reference].graph, runs[r].graph).structuralLines();
    return diff;
}

} // namespace distillery::core
