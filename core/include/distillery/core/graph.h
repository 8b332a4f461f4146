#pragma once

// The experiment graph: node kinds with typed ports and parameters, edges, validation with
// precise errors, and versioned JSON load/save. Plain C++ (no LibTorch, no Qt): the GUI's
// document layer wraps a Graph and shows validation issues on nodes, ports and parameters.

#include "distillery/core/models.h"
#include "distillery/core/result.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <unordered_map>
#include <vector>

namespace distillery::core {

using NodeId = int;
constexpr NodeId kInvalidNode = -1;

// Port types. Hidden ports carry the hidden states of all layers; the layer a loss uses is a
// parameter of that loss (student_layer / teacher_layer, -1 = last).
enum class PortType { Tokens, Labels, Logits, Hidden, Scalar };
std::string portTypeName(PortType type);

struct PortSpec
{
    std::string name;
    PortType type;
    bool required = false; // for inputs: the graph is invalid without an edge here
    bool multiple = false; // for inputs: accepts more than one edge (Combine.terms)
    std::string description;
};

enum class ParamType { Int, Float, Bool, String, Enum, Path };
std::string paramTypeName(ParamType type);

using ParamValue = std::variant<bool, std::int64_t, double, std::string>;
std::string paramValueToString(const ParamValue &value);

struct ParamSpec
{
    std::string name;
    ParamType type;
    ParamValue defaultValue;
    std::optional<double> minimum; // inclusive, for Int and Float
    std::optional<double> maximum; // inclusive, for Int and Float
    std::vector<std::string> choices; // for Enum
    std::string unit;                 // shown beside the editor ("steps", "tokens", "")
    std::string description;          // one line, shown in the inspector
};

struct NodeKindSpec
{
    std::string kind; // "Dataset", "Teacher", ...
    std::string category;
    std::string description;
    std::vector<PortSpec> inputs;
    std::vector<PortSpec> outputs;
    std::vector<ParamSpec> params;
    bool singleton = false; // at most one per graph (Settings, Optimizer)

    const PortSpec *input(const std::string &name) const;
    const PortSpec *output(const std::string &name) const;
    const ParamSpec *param(const std::string &name) const;
};

// All node kinds, in palette order.
const std::vector<NodeKindSpec> &nodeKinds();
const NodeKindSpec *findNodeKind(const std::string &kind);

struct Node
{
    NodeId id = kInvalidNode;
    std::string kind;
    std::string title; // user-visible name, may be empty
    std::map<std::string, ParamValue> params; // only the ones set; defaults come from the spec
    double x = 0.0;
    double y = 0.0;
};

struct Edge
{
    NodeId fromNode = kInvalidNode;
    std::string fromPort;
    NodeId toNode = kInvalidNode;
    std::string toPort;
    bool operator==(const Edge &o) const
    {
        return fromNode == o.fromNode && fromPort == o.fromPort && toNode == o.toNode
            && toPort == o.toPort;
    }
};

enum class IssueCode {
    UnknownKind,
    UnknownPort,
    UnknownParam,
    IncompatiblePorts,
    Cycle,
    InputAlreadyConnected,
    DuplicateEdge,
    MissingInput,
    MissingNode,
    ParamType,
    ParamOutOfRange,
    VocabularyMismatch,
    HiddenSizeMismatch,
    Singleton,
    Invalid,
};
std::string issueCodeName(IssueCode code);   // "UnknownKind", as the problems panel shows it
std::string issueErrorCode(IssueCode code);  // "graph.unknown_kind", the Error code (errors.h)

// One validation problem. nodeId, port and param say where, for the canvas to mark it.
struct ValidationIssue
{
    IssueCode code = IssueCode::Invalid;
    NodeId nodeId = kInvalidNode; // kInvalidNode for graph-wide problems
    std::string port;             // "" if not about a port
    std::string param;            // "" if not about a parameter
    std::optional<Edge> edge;     // set when the problem is an edge
    std::string message;          // full sentence, starts with the node ("node 3 (Loss 'kd'): ...")
};

class Graph
{
public:
    // Mutations follow "succeed whole or change nothing".
    NodeId addNode(const std::string &kind, double x = 0.0, double y = 0.0,
                   const std::string &title = {});
    // Inserts a node with a chosen id (load, undo). Fails if the id is taken or the kind unknown.
    Status insertNode(const Node &node);
    // Removes a node and every edge touching it.
    Status removeNode(NodeId id);
    // Connects an output to an input after checking that both ports exist, the types match,
    // the input is free (unless it accepts several), and no cycle results.
    Status connect(const Edge &edge);
    Status disconnect(const Edge &edge);
    Status setParam(NodeId id, const std::string &name, const ParamValue &value);
    Status resetParam(NodeId id, const std::string &name);
    Status setTitle(NodeId id, const std::string &title);
    Status moveNode(NodeId id, double x, double y);

    const std::vector<Node> &nodes() const { return m_nodes; }
    const std::vector<Edge> &edges() const { return m_edges; }
    const Node *node(NodeId id) const;
    std::vector<const Node *> nodesOfKind(const std::string &kind) const;
    std::vector<Edge> edgesInto(NodeId id, const std::string &port = {}) const;
    std::vector<Edge> edgesFrom(NodeId id, const std::string &port = {}) const;
    // The node feeding a single-input port, or nullptr.
    const Node *source(NodeId id, const std::string &port) const;
    NodeId nextId() const { return m_nextId; }

    // Typed parameter access with the spec's default when unset.
    ParamValue param(NodeId id, const std::string &name) const;
    std::int64_t paramInt(NodeId id, const std::string &name) const;
    double paramFloat(NodeId id, const std::string &name) const;
    bool paramBool(NodeId id, const std::string &name) const;
    std::string paramString(NodeId id, const std::string &name) const;

    // "node 3 (Loss 'kd')" — used at the start of every message about a node.
    std::string describeNode(NodeId id) const;

    // Free-form metadata kept with the file (template name, description).
    std::map<std::string, std::string> meta;

    // The folder relative file paths in the graph (corpus, teacher files) are relative to:
    // the graph file's own folder once loaded by loadGraphFile (absolute), empty for a graph
    // made in memory (then they are relative to the current directory). Not saved in the file.
    std::string baseDirectory;
    // A Path parameter's value as the file to open: relative paths joined to baseDirectory.
    std::string resolvePath(const std::string &path) const;
    // A copy whose Path parameters are all resolved (a run records the files it used).
    Graph withResolvedPaths() const;

private:
    // Loading keeps what a file says (edges with bad ports, a second singleton) so that
    // validateGraph can report it; it therefore fills the graph without connect().
    friend Result<Graph> graphFromJson(const std::string &text, const std::string &source);

    // Positions in m_nodes by id: node(id), and so every parameter read, is O(1), which keeps
    // validation linear in the graph's size. Rebuilt when a node is removed or a file loaded.
    void reindex();
    Node *findNode(NodeId id);
    const Node *findNode(NodeId id) const;

    std::vector<Node> m_nodes;
    std::vector<Edge> m_edges;
    std::unordered_map<NodeId, std::size_t> m_index;
    NodeId m_nextId = 1;
};

// The architecture parameters of a Student or trained Teacher node (architecture, layers,
// d_model, heads, kv_heads, ffn, rope_theta, tie_embeddings) as a shape; vocab and maxLen are
// the caller's (the dataset's vocabulary, the run's seq_len).
ModelShape architectureShape(const Graph &graph, NodeId id, std::int64_t vocab, std::int64_t maxLen);

// Whole-graph validation: returns every problem found (empty = valid).
std::vector<ValidationIssue> validateGraph(const Graph &graph);

// The vocabulary of the graph's one Dataset as far as it is known while editing: the oracle's
// vocab, 256 for bytes, the Hugging Face teacher's config.json for tokenizer = teacher, the
// tokenizer file's for tokenizer = file (read once per file version); 0 when unknown (a
// SentencePiece model, a file that cannot be read, no single Dataset).
std::int64_t datasetVocabulary(const Graph &graph);

constexpr int kGraphFormatVersion = 1;
// Serialises to {"format": "distillery.graph", "version": 1, "meta": {...}, "nodes": [...],
// "edges": [...]}.
std::string graphToJson(const Graph &graph);
// Parses JSON text; `source` names the file in error messages.
Result<Graph> graphFromJson(const std::string &text, const std::string &source = "<graph>");
Result<Graph> loadGraphFile(const std::string &path);
Status saveGraphFile(const Graph &graph, const std::string &path);

// Templates shipped in resources/templates (classic-kd, reverse-kl, gkd, taid, hidden-state,
// sparse-topk). templatesDir() honours $DISTILLERY_TEMPLATES, then the install and source dirs.
std::string templatesDir();
std::vector<std::string> templateNames();
Result<Graph> loadTemplate(const std::string &name);

} // namespace distillery::core
