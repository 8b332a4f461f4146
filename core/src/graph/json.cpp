// The graph file format, version 1:
//   {"format": "distillery.graph", "version": 1, "meta": {"template": "..."},
//    "nodes": [{"id": 1, "kind": "Dataset", "title": "", "x": 0, "y": 0, "params": {...}}],
//    "edges": [{"from": 1, "from_port": "tokens", "to": 2, "to_port": "tokens"}]}
// Loading refuses what cannot be a graph (with the file and the place in every message) and
// keeps what validation can report (unknown parameters, values out of range, bad edges).

#include "graphprivate.h"
#include "common/jsonread.h"
#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace distillery::core {

using namespace graphdetail;

namespace {

using Json = jsonread::Json;
using jsonread::excerpt;
constexpr const char *kFormatName = "distillery.graph";
// The format itself needs four levels (root, nodes, node, params); more is not a graph.
constexpr int kMaxGraphDepth = 16;
constexpr std::uint64_t kMaxGraphFileBytes = std::uint64_t(16) << 20;

Json paramToJson(const ParamValue &value)
{
    return std::visit([](const auto &v) { return Json(v); }, value);
}

// "an array", "a number", ... for "expected X, got Y".
std::string describeJson(const Json &value)
{
    switch (value.type()) {
    case Json::value_t::null:
        return "null";
    case Json::value_t::object:
        return "an object";
    case Json::value_t::array:
        return "an array";
    case Json::value_t::string:
        return "a string";
    case Json::value_t::boolean:
        return "a boolean";
    default:
        return "a number";
    }
}

struct LoadError
{
    std::string code;
    std::string message;
};

struct ParsedGraph
{
    std::map<std::string, std::string> meta;
    std::vector<Node> nodes;
    std::vector<Edge> edges;
    std::unordered_map<NodeId, std::size_t> positions; // node id -> index in nodes
};

class Parser
{
public:
    explicit Parser(const std::string &source)
        : m_source(source)
    {
    }

    ParsedGraph parse(const std::string &text) const
    {
        jsonread::Parsed parsed = jsonread::parse(text, kMaxGraphDepth);
        if (!parsed.ok)
            fail(parsed.error.place, parsed.error.message, "graph.invalid_json");
        const Json &root = parsed.value;
        if (!root.is_object())
            fail({}, "expected a JSON object at the top level, got " + describeJson(root));
        checkHeader(root);

        ParsedGraph graph;
        if (const auto meta = root.find("meta"); meta != root.end()) {
            if (!meta->is_object())
                fail("meta", "expected an object, got " + describeJson(*meta));
            for (const auto &[key, value] : meta->items())
                graph.meta[key] = string(value, "meta." + key);
        }
        const Json &nodes = array(root, "nodes");
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            graph.nodes.push_back(node(nodes[i], "nodes[" + std::to_string(i) + "]", graph.positions));
            graph.positions[graph.nodes.back().id] = i;
        }
        const Json &edges = array(root, "edges");
        for (std::size_t i = 0; i < edges.size(); ++i)
            graph.edges.push_back(edge(edges[i], "edges[" + std::to_string(i) + "]", graph.positions));
        return graph;
    }

private:
    [[noreturn]] void fail(const std::string &place, const std::string &what,
                           const char *code = "graph.malformed") const
    {
        // Keys and values come from the file: none is echoed whole.
        throw LoadError{code, m_source + ": " + (place.empty() ? "" : excerpt(place, 120) + ": ") +
                                  excerpt(what, 600)};
    }

    void checkHeader(const Json &root) const
    {
        const auto format = root.find("format");
        if (format == root.end())
            fail({},
                 std::string("not a Distillery graph: \"format\" is missing (expected \"") +
                     kFormatName + "\")",
                 "graph.unsupported_format");
        if (*format != kFormatName)
            fail("format",
                 "not a Distillery graph: expected \"" + std::string(kFormatName) + "\", got " +
                     format->dump(),
                 "graph.unsupported_format");
        const std::string supported =
            " (supported versions: " + std::to_string(kGraphFormatVersion) + ")";
        const auto version = root.find("version");
        if (version == root.end())
            fail("version", "missing" + supported, "graph.unsupported_version");
        if (*version != kGraphFormatVersion)
            fail("version",
                 "graph format version " + excerpt(*version) + " is not supported" + supported +
                     (version->is_number_integer() && *version > kGraphFormatVersion
                          ? "; the file was written by a newer Distillery"
                          : ""),
                 "graph.unsupported_version");
    }

    const Json &member(const Json &object, const std::string &key, const std::string &place) const
    {
        const auto it = object.find(key);
        if (it == object.end())
            fail(place.empty() ? key : place + "." + key, "missing");
        return *it;
    }

    const Json &array(const Json &root, const std::string &key) const
    {
        const Json &value = member(root, key, {});
        if (!value.is_array())
            fail(key, "expected an array, got " + describeJson(value));
        return value;
    }

    std::string string(const Json &value, const std::string &place) const
    {
        if (!value.is_string())
            fail(place, "expected a string, got " + describeJson(value));
        return value.get<std::string>();
    }

    double number(const Json &value, const std::string &place) const
    {
        if (!value.is_number())
            fail(place, "expected a number, got " + describeJson(value));
        return value.get<double>();
    }

    NodeId nodeId(const Json &value, const std::string &place) const
    {
        if (!value.is_number_integer() || value < 1 || value > INT_MAX)
            fail(place, "expected a node id (a positive integer), got " +
                            (value.is_number() ? excerpt(value) : describeJson(value)));
        return value.get<NodeId>();
    }

    ParamValue paramValue(const Json &value, const ParamSpec *spec, const std::string &place) const
    {
        ParamValue result;
        if (value.is_boolean())
            result = value.get<bool>();
        else if (value.is_number_unsigned() && value.get<std::uint64_t>() > INT64_MAX)
            result = value.get<double>();
        else if (value.is_number_integer())
            result = value.get<std::int64_t>();
        else if (value.is_number())
            result = value.get<double>();
        else if (value.is_string())
            result = value.get<std::string>();
        else {
            std::string expected = "a boolean, number or string";
            if (spec && (spec->type == ParamType::Int || spec->type == ParamType::Float))
                expected = "a number";
            else if (spec && spec->type == ParamType::Bool)
                expected = "true or false";
            else if (spec)
                expected = "a string";
            fail(place, "expected " + expected + ", got " + describeJson(value));
        }
        // Store what fits in the parameter's own type (2 -> 2.0 for a Float); keep a mismatch
        // as it is for validateGraph to report.
        if (spec)
            if (auto coerced = coerceParamValue(*spec, result))
                return coerced.value();
        return result;
    }

    Node node(const Json &json, const std::string &place,
              const std::unordered_map<NodeId, std::size_t> &earlier) const
    {
        if (!json.is_object())
            fail(place, "expected an object, got " + describeJson(json));
        Node n;
        n.id = nodeId(member(json, "id", place), place + ".id");
        if (const auto it = earlier.find(n.id); it != earlier.end())
            fail(place + ".id", "duplicate node id " + std::to_string(n.id) +
                                    " (also used by nodes[" + std::to_string(it->second) + "])");
        n.kind = string(member(json, "kind", place), place + ".kind");
        if (n.kind == "RunSettings") // the name before version 1 was published
            n.kind = "Settings";
        const NodeKindSpec *spec = findNodeKind(n.kind);
        if (!spec)
            fail(place + ".kind",
                 "unknown node kind '" + excerpt(n.kind, 40) + "' (known: " + knownKindNames() + ")",
                 "graph.unknown_kind");
        if (const auto title = json.find("title"); title != json.end())
            n.title = string(*title, place + ".title");
        if (const auto x = json.find("x"); x != json.end())
            n.x = number(*x, place + ".x");
        if (const auto y = json.find("y"); y != json.end())
            n.y = number(*y, place + ".y");
        if (const auto params = json.find("params"); params != json.end()) {
            if (!params->is_object())
                fail(place + ".params", "expected an object, got " + describeJson(*params));
            for (const auto &[name, value] : params->items())
                n.params[name] = paramValue(value, spec->param(name), place + ".params." + name);
        }
        return n;
    }

    Edge edge(const Json &json, const std::string &place,
              const std::unordered_map<NodeId, std::size_t> &nodes) const
    {
        if (!json.is_object())
            fail(place, "expected an object, got " + describeJson(json));
        auto endpoint = [&](const char *key) {
            const NodeId id = nodeId(member(json, key, place), place + "." + key);
            if (!nodes.count(id))
                fail(place + "." + key, "no node with id " + std::to_string(id));
            return id;
        };
        Edge e;
        e.fromNode = endpoint("from");
        e.fromPort = string(member(json, "from_port", place), place + ".from_port");
        e.toNode = endpoint("to");
        e.toPort = string(member(json, "to_port", place), place + ".to_port");
        return e;
    }

    const std::string &m_source;
};

Status fileError(const std::string &message)
{
    return Status::failure(errc::kGraphFile, message);
}

} // namespace

std::string graphToJson(const Graph &graph)
{
    Json nodes = Json::array();
    for (const auto &n : graph.nodes()) {
        Json params = Json::object();
        for (const auto &[name, value] : n.params)
            params[name] = paramToJson(value);
        nodes.push_back({{"id", n.id},
                         {"kind", n.kind},
                         {"title", n.title},
                         {"x", n.x},
                         {"y", n.y},
                         {"params", params}});
    }
    Json edges = Json::array();
    for (const auto &e : graph.edges())
        edges.push_back({{"from", e.fromNode},
                         {"from_port", e.fromPort},
                         {"to", e.toNode},
                         {"to_port", e.toPort}});
    Json root = Json::object();
    root["format"] = kFormatName;
    root["version"] = kGraphFormatVersion;
    root["meta"] = Json::object();
    for (const auto &[key, value] : graph.meta)
        root["meta"][key] = value;
    root["nodes"] = nodes;
    root["edges"] = edges;
    return root.dump(2) + "\n";
}

Result<Graph> graphFromJson(const std::string &text, const std::string &source)
{
    ParsedGraph parsed;
    try {
        parsed = Parser(source).parse(text);
    } catch (const LoadError &e) {
        return Result<Graph>::failure(e.code, e.message);
    }
    Graph graph;
    graph.meta = std::move(parsed.meta);
    graph.m_nodes = std::move(parsed.nodes);
    graph.m_edges = std::move(parsed.edges);
    graph.reindex();
    for (const auto &n : graph.m_nodes)
        graph.m_nextId = std::max(graph.m_nextId, n.id + 1);
    return graph;
}

Result<Graph> loadGraphFile(const std::string &path)
{
    const InputFileKind kind{"graph file", kMaxGraphFileBytes, errc::kGraphFile, errc::kGraphFile,
                             errc::kGraphFile};
    auto text = readInputFile(path, kind);
    if (!text.ok())
        return text.error();
    auto graph = graphFromJson(text.value(), path);
    if (graph.ok()) {
        std::error_code ec;
        const auto folder = std::filesystem::absolute(path, ec).lexically_normal().parent_path();
        if (!ec)
            graph.value().baseDirectory = folder.string();
    }
    return graph;
}

// Written as every file is (files.h): a crash or a full disk never leaves a half-written graph
// where the old one was.
Status saveGraphFile(const Graph &graph, const std::string &path)
{
    auto written = writeFileAtomically(path, graphToJson(graph));
    if (!written.ok())
        return fileError(written.error().message);
    return okStatus();
}

} // namespace distillery::core
