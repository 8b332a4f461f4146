// The graph's mutations: each checks everything first and changes the graph only when all
// checks pass, so a failed request leaves it exactly as it was.

#include "graphprivate.h"

#include <filesystem>
#include <unordered_set>
#include "distillery/core/errors.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace distillery::core {

std::string portTypeName(PortType type)
{
    switch (type) {
    case PortType::Tokens:
        return "Tokens";
    case PortType::Labels:
        return "Labels";
    case PortType::Logits:
        return "Logits";
    case PortType::Hidden:
        return "Hidden";
    case PortType::Scalar:
        return "Scalar";
    }
    return "?";
}

std::string paramTypeName(ParamType type)
{
    switch (type) {
    case ParamType::Int:
        return "Int";
    case ParamType::Float:
        return "Float";
    case ParamType::Bool:
        return "Bool";
    case ParamType::String:
        return "String";
    case ParamType::Enum:
        return "Enum";
    case ParamType::Path:
        return "Path";
    }
    return "?";
}

std::string issueErrorCode(IssueCode code)
{
    // "UnknownKind" -> "graph.unknown_kind"
    std::string out = "graph.";
    for (char c : issueCodeName(code)) {
        if (std::isupper(static_cast<unsigned char>(c))) {
            if (out.size() > 6)
                out += '_';
            out += char(std::tolower(static_cast<unsigned char>(c)));
        } else {
            out += c;
        }
    }
    return out;
}

std::string issueCodeName(IssueCode code)
{
    switch (code) {
    case IssueCode::UnknownKind:
        return "UnknownKind";
    case IssueCode::UnknownPort:
        return "UnknownPort";
    case IssueCode::UnknownParam:
        return "UnknownParam";
    case IssueCode::IncompatiblePorts:
        return "IncompatiblePorts";
    case IssueCode::Cycle:
        return "Cycle";
    case IssueCode::InputAlreadyConnected:
        return "InputAlreadyConnected";
    case IssueCode::DuplicateEdge:
        return "DuplicateEdge";
    case IssueCode::MissingInput:
        return "MissingInput";
    case IssueCode::MissingNode:
        return "MissingNode";
    case IssueCode::ParamType:
        return "ParamType";
    case IssueCode::ParamOutOfRange:
        return "ParamOutOfRange";
    case IssueCode::VocabularyMismatch:
        return "VocabularyMismatch";
    case IssueCode::HiddenSizeMismatch:
        return "HiddenSizeMismatch";
    case IssueCode::Singleton:
        return "Singleton";
    case IssueCode::Invalid:
        return "Invalid";
    }
    return "?";
}

std::string paramValueToString(const ParamValue &value)
{
    if (const auto *b = std::get_if<bool>(&value))
        return *b ? "true" : "false";
    if (const auto *i = std::get_if<std::int64_t>(&value))
        return std::to_string(*i);
    if (const auto *d = std::get_if<double>(&value)) {
        // The shortest text that reads back as the same double: 0.003, 1000, 1e-07.
        char text[32];
        const auto end = std::to_chars(text, text + sizeof text, *d).ptr;
        return std::string(text, end);
    }
    return std::get<std::string>(value);
}

namespace graphdetail {

std::string joined(const std::vector<std::string> &items)
{
    std::string out;
    for (const auto &item : items)
        out += (out.empty() ? "" : ", ") + item;
    return out;
}

std::string knownKindNames()
{
    std::vector<std::string> names;
    for (const auto &kind : nodeKinds())
        names.push_back(kind.kind);
    return joined(names);
}

std::optional<double> numericValue(const ParamValue &value)
{
    if (const auto *i = std::get_if<std::int64_t>(&value))
        return static_cast<double>(*i);
    if (const auto *d = std::get_if<double>(&value))
        return *d;
    return std::nullopt;
}

Result<ParamValue> coerceParamValue(const ParamSpec &spec, const ParamValue &value)
{
    const bool isText = std::holds_alternative<std::string>(value);
    auto fail = [&](const std::string &expected) {
        const std::string got =
            isText ? "'" + std::get<std::string>(value) + "'" : paramValueToString(value);
        return Result<ParamValue>::failure(issueErrorCode(IssueCode::ParamType),
                                           "expects " + expected + ", got " + got);
    };
    switch (spec.type) {
    case ParamType::Int:
        if (std::holds_alternative<std::int64_t>(value))
            return value;
        // 300.0 from a hand-written file means 300; 2^53 bounds the exactly representable.
        if (const auto *d = std::get_if<double>(&value);
            d && std::floor(*d) == *d && std::fabs(*d) < 9007199254740992.0)
            return ParamValue(static_cast<std::int64_t>(*d));
        return fail("an integer");
    case ParamType::Float:
        if (const auto number = numericValue(value))
            return ParamValue(*number);
        return fail("a number");
    case ParamType::Bool:
        if (std::holds_alternative<bool>(value))
            return value;
        return fail("true or false");
    case ParamType::Enum:
        if (isText &&
            std::count(spec.choices.begin(), spec.choices.end(), std::get<std::string>(value)))
            return value;
        return fail("one of " + joined(spec.choices));
    case ParamType::String:
    case ParamType::Path:
        if (isText)
            return value;
        return fail("text");
    }
    return fail(paramTypeName(spec.type));
}

// Depth-first over the edges; `seen` keeps cycles from looping forever.
bool reaches(const std::vector<Edge> &edges, NodeId start, NodeId target)
{
    // O(nodes + edges): the adjacency is built once, every node is visited at most once.
    std::unordered_map<NodeId, std::vector<NodeId>> next;
    for (const auto &e : edges)
        next[e.fromNode].push_back(e.toNode);
    std::vector<NodeId> todo{start};
    std::unordered_set<NodeId> seen{start};
    while (!todo.empty()) {
        const NodeId id = todo.back();
        todo.pop_back();
        if (id == target)
            return true;
        if (const auto it = next.find(id); it != next.end())
            for (NodeId to : it->second)
                if (seen.insert(to).second)
                    todo.push_back(to);
    }
    return false;
}

} // namespace graphdetail

using namespace graphdetail;

namespace {

Status failure(IssueCode code, std::string message)
{
    return Status::failure(issueErrorCode(code), std::move(message));
}

Status noSuchNode(NodeId id)
{
    return Status::failure(errc::kGraphNotFound, "node " + std::to_string(id) + " does not exist");
}


std::string portNames(const std::vector<PortSpec> &ports)
{
    std::vector<std::string> names;
    for (const auto &p : ports)
        names.push_back(p.name);
    return names.empty() ? "none" : joined(names);
}

} // namespace

NodeId Graph::addNode(const std::string &kind, double x, double y, const std::string &title)
{
    Node n;
    n.id = m_nextId;
    n.kind = kind;
    n.title = title;
    n.x = x;
    n.y = y;
    return insertNode(n).ok() ? n.id : kInvalidNode;
}

Status Graph::insertNode(const Node &node)
{
    const std::string what = "cannot add node " + std::to_string(node.id);
    if (node.id <= 0)
        return failure(IssueCode::Invalid, what + ": node ids are positive");
    if (findNode(node.id))
        return failure(IssueCode::Invalid, what + ": the id is taken by " + describeNode(node.id));
    const NodeKindSpec *spec = findNodeKind(node.kind);
    if (!spec)
        return failure(IssueCode::UnknownKind, what + ": unknown node kind '" + node.kind +
                                                   "' (known: " + knownKindNames() + ")");
    if (spec->singleton)
        for (const auto &other : m_nodes)
            if (other.kind == node.kind)
                return failure(IssueCode::Singleton, what + ": a graph has at most one " +
                                                         node.kind + " node, and " +
                                                         describeNode(other.id) + " is one");
    m_nodes.push_back(node);
    m_index[node.id] = m_nodes.size() - 1;
    m_nextId = std::max(m_nextId, node.id + 1);
    return okStatus();
}

Status Graph::removeNode(NodeId id)
{
    const auto it =
        std::find_if(m_nodes.begin(), m_nodes.end(), [id](const Node &n) { return n.id == id; });
    if (it == m_nodes.end())
        return noSuchNode(id);
    m_edges.erase(
        std::remove_if(m_edges.begin(), m_edges.end(),
                       [id](const Edge &e) { return e.fromNode == id || e.toNode == id; }),
        m_edges.end());
    m_nodes.erase(it);
    reindex();
    return okStatus();
}

Status Graph::connect(const Edge &edge)
{
    const Node *from = node(edge.fromNode);
    const Node *to = node(edge.toNode);
    if (!from)
        return noSuchNode(edge.fromNode);
    if (!to)
        return noSuchNode(edge.toNode);
    if (from == to)
        return failure(IssueCode::Cycle,
                       describeNode(to->id) + ": cannot connect a node to itself");
    const NodeKindSpec *fromSpec = findNodeKind(from->kind);
    const NodeKindSpec *toSpec = findNodeKind(to->kind);
    if (!fromSpec || !toSpec)
        return failure(IssueCode::UnknownKind,
                       describeNode((fromSpec ? to : from)->id) + ": unknown node kind");
    const PortSpec *out = fromSpec->output(edge.fromPort);
    if (!out)
        return failure(IssueCode::UnknownPort,
                       describeNode(from->id) + ": no output port '" + edge.fromPort +
                           "' (outputs: " + portNames(fromSpec->outputs) + ")");
    const PortSpec *in = toSpec->input(edge.toPort);
    if (!in)
        return failure(IssueCode::UnknownPort, describeNode(to->id) + ": no input port '" +
                                                   edge.toPort +
                                                   "' (inputs: " + portNames(toSpec->inputs) + ")");
    const std::string target = describeNode(to->id) + ": input port '" + edge.toPort + "'";
    if (out->type != in->type)
        return failure(IssueCode::IncompatiblePorts, target + " expects " + portTypeName(in->type) +
                                                         ", got " + portTypeName(out->type) +
                                                         " from " + describeNode(from->id) +
                                                         " port '" + edge.fromPort + "'");
    if (std::count(m_edges.begin(), m_edges.end(), edge))
        return failure(IssueCode::DuplicateEdge, target + " is already connected to " +
                                                     describeNode(from->id) + " port '" +
                                                     edge.fromPort + "'");
    const std::vector<Edge> existing = edgesInto(to->id, edge.toPort);
    if (!in->multiple && !existing.empty())
        return failure(IssueCode::InputAlreadyConnected,
                       target + " takes one edge and is already connected to " +
                           describeNode(existing.front().fromNode) + " port '" +
                           existing.front().fromPort + "'; disconnect that first");
    if (reaches(m_edges, to->id, from->id))
        return failure(IssueCode::Cycle, "connecting " + describeNode(from->id) + " to " +
                                             describeNode(to->id) + " would create a cycle");
    m_edges.push_back(edge);
    return okStatus();
}

Status Graph::disconnect(const Edge &edge)
{
    const auto it = std::find(m_edges.begin(), m_edges.end(), edge);
    if (it == m_edges.end())
        return Status::failure(
            errc::kGraphNotFound, "no edge from " + describeNode(edge.fromNode) + " port '" + edge.fromPort +
                            "' to " + describeNode(edge.toNode) + " port '" + edge.toPort + "'");
    m_edges.erase(it);
    return okStatus();
}

Status Graph::setParam(NodeId id, const std::string &name, const ParamValue &value)
{
    Node *n = findNode(id);
    if (!n)
        return noSuchNode(id);
    const NodeKindSpec *spec = findNodeKind(n->kind);
    const ParamSpec *paramSpec = spec ? spec->param(name) : nullptr;
    if (!paramSpec)
        return failure(IssueCode::UnknownParam, describeNode(id) + ": no parameter '" + name + "'");
    auto coerced = coerceParamValue(*paramSpec, value);
    if (!coerced)
        return failure(IssueCode::ParamType,
                       describeNode(id) + ": parameter '" + name + "' " + coerced.error().message);
    n->params[name] = coerced.value();
    return okStatus();
}

Status Graph::resetParam(NodeId id, const std::string &name)
{
    Node *n = findNode(id);
    if (!n)
        return noSuchNode(id);
    const NodeKindSpec *spec = findNodeKind(n->kind);
    // Resetting an unknown parameter that came from a file removes it.
    if (!n->params.erase(name) && !(spec && spec->param(name)))
        return failure(IssueCode::UnknownParam, describeNode(id) + ": no parameter '" + name + "'");
    return okStatus();
}

Status Graph::setTitle(NodeId id, const std::string &title)
{
    Node *n = findNode(id);
    if (!n)
        return noSuchNode(id);
    n->title = title;
    return okStatus();
}

Status Graph::moveNode(NodeId id, double x, double y)
{
    Node *n = findNode(id);
    if (!n)
        return noSuchNode(id);
    n->x = x;
    n->y = y;
    return okStatus();
}

void Graph::reindex()
{
    m_index.clear();
    m_index.reserve(m_nodes.size());
    for (std::size_t i = 0; i < m_nodes.size(); ++i)
        m_index[m_nodes[i].id] = i;
}

Node *Graph::findNode(NodeId id)
{
    const auto it = m_index.find(id);
    return it == m_index.end() ? nullptr : &m_nodes[it->second];
}

const Node *Graph::findNode(NodeId id) const
{
    const auto it = m_index.find(id);
    return it == m_index.end() ? nullptr : &m_nodes[it->second];
}

const Node *Graph::node(NodeId id) const
{
    return findNode(id);
}

std::vector<const Node *> Graph::nodesOfKind(const std::string &kind) const
{
    std::vector<const Node *> out;
    for (const auto &n : m_nodes)
        if (n.kind == kind)
            out.push_back(&n);
    return out;
}

std::vector<Edge> Graph::edgesInto(NodeId id, const std::string &port) const
{
    std::vector<Edge> out;
    for (const auto &e : m_edges)
        if (e.toNode == id && (port.empty() || e.toPort == port))
            out.push_back(e);
    return out;
}

std::vector<Edge> Graph::edgesFrom(NodeId id, const std::string &port) const
{
    std::vector<Edge> out;
    for (const auto &e : m_edges)
        if (e.fromNode == id && (port.empty() || e.fromPort == port))
            out.push_back(e);
    return out;
}

const Node *Graph::source(NodeId id, const std::string &port) const
{
    for (const auto &e : m_edges)
        if (e.toNode == id && e.toPort == port)
            return node(e.fromNode);
    return nullptr;
}

// A stored value that does not fit the parameter's type (possible after loading a file, and
// reported by validateGraph) reads as the default, so that callers always get a usable value.
// Asking for a parameter the node's kind does not have is a programming error and throws.
ParamValue Graph::param(NodeId id, const std::string &name) const
{
    const Node *n = node(id);
    if (!n)
        throw std::invalid_argument("Graph::param: node " + std::to_string(id) + " does not exist");
    const NodeKindSpec *spec = findNodeKind(n->kind);
    const ParamSpec *paramSpec = spec ? spec->param(name) : nullptr;
    const auto stored = n->params.find(name);
    if (!paramSpec) {
        if (stored == n->params.end())
            throw std::invalid_argument("Graph::param: " + describeNode(id) +
                                        " has no parameter '" + name + "'");
        return stored->second;
    }
    if (stored != n->params.end())
        if (auto coerced = coerceParamValue(*paramSpec, stored->second))
            return coerced.value();
    return paramSpec->defaultValue;
}

std::int64_t Graph::paramInt(NodeId id, const std::string &name) const
{
    const ParamValue value = param(id, name);
    if (const auto *d = std::get_if<double>(&value))
        return static_cast<std::int64_t>(*d);
    return std::get<std::int64_t>(value);
}

double Graph::paramFloat(NodeId id, const std::string &name) const
{
    const ParamValue value = param(id, name);
    if (const auto *i = std::get_if<std::int64_t>(&value))
        return static_cast<double>(*i);
    return std::get<double>(value);
}

bool Graph::paramBool(NodeId id, const std::string &name) const
{
    return std::get<bool>(param(id, name));
}

std::string Graph::paramString(NodeId id, const std::string &name) const
{
    return std::get<std::string>(param(id, name));
}

std::string Graph::resolvePath(const std::string &path) const
{
    namespace fs = std::filesystem;
    if (path.empty() || baseDirectory.empty() || fs::path(path).is_absolute())
        return path;
    return (fs::path(baseDirectory) / path).lexically_normal().string();
}

Graph Graph::withResolvedPaths() const
{
    Graph copy = *this;
    for (auto &n : copy.m_nodes) {
        const NodeKindSpec *spec = findNodeKind(n.kind);
        for (auto &[name, value] : n.params) {
            const ParamSpec *p = spec ? spec->param(name) : nullptr;
            if (p && p->type == ParamType::Path)
                if (const auto *text = std::get_if<std::string>(&value))
                    value = resolvePath(*text);
        }
    }
    copy.baseDirectory.clear();
    return copy;
}

std::string Graph::describeNode(NodeId id) const
{
    const std::string head = "node " + std::to_string(id);
    const Node *n = node(id);
    if (!n)
        return head;
    return head + " (" + n->kind + (n->title.empty() ? "" : " '" + n->title + "'") + ")";
}

ModelShape architectureShape(const Graph &g, NodeId id, std::int64_t vocab, std::int64_t maxLen)
{
    ModelShape s;
    s.vocab = vocab;
    s.layers = g.paramInt(id, "layers");
    s.dModel = g.paramInt(id, "d_model");
    s.heads = g.paramInt(id, "heads");
    s.ffn = g.paramInt(id, "ffn");
    s.maxLen = maxLen;
    s.tiedHead = g.paramBool(id, "tie_embeddings");
    if (g.paramString(id, "architecture") == "llama") {
        s.family = ModelFamily::Llama;
        s.kvHeads = g.paramInt(id, "kv_heads");
        s.ropeTheta = g.paramFloat(id, "rope_theta");
    }
    return s;
}

} // namespace distillery::core
