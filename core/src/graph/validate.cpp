// Whole-graph validation. Every problem is reported (not just the first), each with the node,
// port or parameter it belongs to, so that the canvas can mark all of them at once.

#include "graphprivate.h"

#include "common/jsonread.h"
#include "distillery/core/losskinds.h"
#include "hf/hfconfig.h"
#include "hf/tokenizervocab.h"

#include <cerrno>
#include <filesystem>
#include <optional>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace distillery::core {

using namespace graphdetail;
using jsonread::excerpt;

namespace {

// What arrives at a Hidden or Logits input, looking upstream through Projections.
struct Upstream
{
    const Node *origin = nullptr;     // the first node upstream that is not a Projection
    bool projected = false;           // a Projection lies on the way
    std::optional<std::int64_t> size; // hidden size arriving; none = adapts or unknown
};

// Strongly connected components (Kosaraju, iterative): an edge u -> v closes a cycle exactly
// when u and v are in one component. O(nodes + edges).
std::unordered_map<NodeId, int> components(const Graph &graph)
{
    std::unordered_map<NodeId, std::vector<NodeId>> next, prev;
    for (const auto &e : graph.edges()) {
        next[e.fromNode].push_back(e.toNode);
        prev[e.toNode].push_back(e.fromNode);
    }
    std::vector<NodeId> ids;
    for (const auto &n : graph.nodes())
        ids.push_back(n.id);
    for (const auto &e : graph.edges()) // edges may name missing nodes (reported elsewhere)
        for (NodeId id : {e.fromNode, e.toNode})
            if (!graph.node(id))
                ids.push_back(id);
    // Pass 1: finishing order of a depth-first search over the edges.
    std::unordered_set<NodeId> visited;
    std::vector<NodeId> order;
    for (NodeId root : ids) {
        if (!visited.insert(root).second)
            continue;
        std::vector<std::pair<NodeId, std::size_t>> stack{{root, 0}};
        while (!stack.empty()) {
            auto &[id, child] = stack.back();
            const auto it = next.find(id);
            if (it != next.end() && child < it->second.size()) {
                const NodeId to = it->second[child++];
                if (visited.insert(to).second)
                    stack.push_back({to, 0});
            } else {
                order.push_back(id);
                stack.pop_back();
            }
        }
    }
    // Pass 2: over the reversed edges in reverse finishing order, one component per tree.
    std::unordered_map<NodeId, int> component;
    int count = 0;
    for (auto r = order.rbegin(); r != order.rend(); ++r) {
        if (component.count(*r))
            continue;
        std::vector<NodeId> todo{*r};
        component[*r] = count;
        while (!todo.empty()) {
            const NodeId id = todo.back();
            todo.pop_back();
            if (const auto it = prev.find(id); it != prev.end())
                for (NodeId from : it->second)
                    if (component.emplace(from, count).second)
                        todo.push_back(from);
        }
        ++count;
    }
    return component;
}

class Validator
{
public:
    // Everything asked per node or edge is indexed once, so that validation is linear in the
    // size of the graph (the canvas validates on every edit).
    explicit Validator(const Graph &graph)
        : m_graph(graph)
    {
        for (const auto &n : graph.nodes())
            m_kinds[n.kind].push_back(&n);
        const auto &edges = graph.edges();
        std::set<std::tuple<NodeId, std::string, NodeId, std::string>> seen;
        for (std::size_t i = 0; i < edges.size(); ++i) {
            const Edge &e = edges[i];
            auto &into = m_into[{e.toNode, e.toPort}];
            m_firstInto.push_back(into.empty());
            into.push_back(i);
            m_from[{e.fromNode, e.fromPort}].push_back(i);
            m_repeated.push_back(!seen.insert({e.fromNode, e.fromPort, e.toNode, e.toPort}).second);
        }
        m_component = components(graph);
        // Nodes from which an Optimizer can be reached: a search backwards from every one.
        std::unordered_map<NodeId, std::vector<NodeId>> prev;
        for (const auto &e : edges)
            prev[e.toNode].push_back(e.fromNode);
        std::vector<NodeId> todo;
        for (const Node *o : ofKind("Optimizer"))
            if (m_reachOptimizer.insert(o->id).second)
                todo.push_back(o->id);
        while (!todo.empty()) {
            const NodeId id = todo.back();
            todo.pop_back();
            if (const auto it = prev.find(id); it != prev.end())
                for (NodeId from : it->second)
                    if (m_reachOptimizer.insert(from).second)
                        todo.push_back(from);
        }
    }

    std::vector<ValidationIssue> run()
    {
        for (const auto &node : m_graph.nodes()) {
            const NodeKindSpec *spec = findNodeKind(node.kind);
            if (!spec) {
                report(IssueCode::UnknownKind, node.id,
                       "unknown node kind '" + node.kind + "' (known: " + knownKindNames() + ")");
                continue;
            }
            checkParams(node, *spec);
            checkSingleton(node, *spec);
            checkRequiredInputs(node, *spec);
            if (node.kind == "Teacher" || node.kind == "Student")
                checkModel(node);
            else if (node.kind == "Dataset")
                checkDataset(node);
            else if (node.kind == "Loss")
                checkLoss(node);
            else if (node.kind == "Settings")
                checkSettings(node);
        }
        for (std::size_t i = 0; i < m_graph.edges().size(); ++i)
            checkEdge(i);
        for (const char *kind : {"Dataset", "Student", "Optimizer", "Settings"})
            if (ofKind(kind).empty())
                m_issues.push_back({IssueCode::MissingNode,
                                    kInvalidNode,
                                    {},
                                    {},
                                    std::nullopt,
                                    std::string("the graph has no ") + kind +
                                        " node; an experiment needs exactly one"});
        return std::move(m_issues);
    }

    // The vocabulary the dataset gives, as datasetVocabulary() documents it.
    std::int64_t vocabulary() const { return datasetVocab(); }

private:
    void report(IssueCode code, NodeId id, const std::string &what, const std::string &port = {},
                const std::string &param = {}, std::optional<Edge> edge = std::nullopt)
    {
        m_issues.push_back(
            {code, id, port, param, std::move(edge), m_graph.describeNode(id) + ": " + what});
    }

    void checkParams(const Node &node, const NodeKindSpec &spec)
    {
        for (const auto &[name, value] : node.params) {
            const ParamSpec *paramSpec = spec.param(name);
            if (!paramSpec) {
                report(IssueCode::UnknownParam, node.id,
                       "unknown parameter '" + name + "' for a " + node.kind + " node", {}, name);
                continue;
            }
            const auto coerced = coerceParamValue(*paramSpec, value);
            if (!coerced) {
                report(IssueCode::ParamType, node.id,
                       "parameter '" + name + "' " + coerced.error().message, {}, name);
                continue;
            }
            const auto number = numericValue(coerced.value());
            const auto &lo = paramSpec->minimum;
            const auto &hi = paramSpec->maximum;
            if (number && ((lo && *number < *lo) || (hi && *number > *hi)))
                report(IssueCode::ParamOutOfRange, node.id,
                       "parameter '" + name + "' = " + paramValueToString(coerced.value()) +
                           " is out of range (" +
                           (lo ? "minimum " + paramValueToString(*lo) : std::string()) +
                           (lo && hi ? ", " : "") +
                           (hi ? "maximum " + paramValueToString(*hi) : std::string()) + ")",
                       {}, name);
        }
    }

    void checkSingleton(const Node &node, const NodeKindSpec &spec)
    {
        if (!spec.singleton)
            return;
        const Node *first = ofKind(node.kind).front();
        if (first->id != node.id)
            report(IssueCode::Singleton, node.id,
                   "a graph has at most one " + node.kind + " node, and " +
                       m_graph.describeNode(first->id) + " is one");
    }

    void checkRequiredInputs(const Node &node, const NodeKindSpec &spec)
    {
        for (const auto &port : spec.inputs)
            if (port.required && !connected(node.id, port.name))
                report(IssueCode::MissingInput, node.id,
                       "required input '" + port.name + "' (" + port.description +
                           ") is not connected",
                       port.name);
    }

    void checkModel(const Node &node)
    {
        const std::int64_t dModel = m_graph.paramInt(node.id, "d_model");
        const std::int64_t heads = m_graph.paramInt(node.id, "heads");
        if (heads > 0 && dModel % heads != 0)
            report(IssueCode::Invalid, node.id,
                   "heads = " + std::to_string(heads) +
                       " must divide d_model = " + std::to_string(dModel),
                   {}, "heads");
        if (m_graph.paramString(node.id, "architecture") == "llama") {
            const std::int64_t kv = m_graph.paramInt(node.id, "kv_heads");
            if (kv > 0 && heads > 0 && heads % kv != 0)
                report(IssueCode::Invalid, node.id,
                       "kv_heads = " + std::to_string(kv) + " must divide heads = " + std::to_string(heads)
                           + " (each key/value head serves a group of query heads)",
                       {}, "kv_heads");
            if (heads > 0 && dModel % heads == 0 && (dModel / heads) % 2 != 0)
                report(IssueCode::Invalid, node.id,
                       "the head size d_model / heads = " + std::to_string(dModel / heads)
                           + " is odd; llama's rotary positions need an even head size",
                       {}, "heads");
        }

        const std::int64_t vocab = m_graph.paramInt(node.id, "vocab");
        if (const std::int64_t dataVocab = datasetVocab(); dataVocab > 0 && vocab != 0 && vocab != dataVocab)
            report(IssueCode::VocabularyMismatch, node.id,
                   "vocab = " + std::to_string(vocab) + " differs from the vocabulary of " +
                       m_graph.describeNode(ofKind("Dataset").front()->id) + ", " + std::to_string(dataVocab) +
                       "; set it to 0 to follow the dataset",
                   {}, "vocab");

        if (node.kind == "Student")
            checkStudentInit(node);
        if (node.kind != "Teacher")
            return;
        const std::string source = m_graph.paramString(node.id, "source");
        if (source == "torchscript" && m_graph.paramString(node.id, "precision") != "fp32")
            report(IssueCode::Invalid, node.id,
                   "precision '" + m_graph.paramString(node.id, "precision")
                       + "' is not available for a TorchScript teacher (its module decides its dtype); use fp32",
                   {}, "precision");
        if (source != "train" && m_graph.paramString(node.id, "path").empty())
            report(IssueCode::Invalid, node.id,
                   "source '" + source + "' needs a file in parameter 'path'", {}, "path");
        else if (source == "hf")
            checkHfFolder(node);
        else if (source != "train")
            checkFile(node, source == "checkpoint" ? "checkpoint" : "TorchScript file");
    }

    // Student.init: hf needs a folder that fits the data; teacher-layers needs one teacher
    // whose layers can be copied.
    void checkStudentInit(const Node &node)
    {
        const std::string init = m_graph.paramString(node.id, "init");
        if (init == "hf") {
            if (m_graph.paramString(node.id, "init_path").empty()) {
                report(IssueCode::Invalid, node.id, "init 'hf' needs a Hugging Face folder in parameter 'init_path'",
                       {}, "init_path");
                return;
            }
            checkHfFolder(node, "init_path");
        } else if (init == "teacher-layers") {
            const auto &teachers = ofKind("Teacher");
            if (teachers.size() != 1) {
                report(IssueCode::Invalid, node.id,
                       "init 'teacher-layers' needs exactly one Teacher, the graph has " + std::to_string(teachers.size()),
                       {}, "init");
                return;
            }
            const Node &t = *teachers.front();
            const std::string source = m_graph.paramString(t.id, "source");
            if (source != "train" && source != "hf")
                report(IssueCode::Invalid, node.id,
                       "init 'teacher-layers' copies a teacher trained in the graph or a Hugging Face folder; "
                           + m_graph.describeNode(t.id) + " is source '" + source + "'",
                       {}, "init");
        }
    }

    // A Hugging Face folder in the path parameter `param`: its config.json (no weights are
    // read) must describe a supported model whose vocabulary is the dataset's and whose
    // positions cover seq_len. The config, when it could be read.
    std::optional<hf::HfConfig> checkHfFolder(const Node &node, const std::string &param = "path")
    {
        const std::string given = m_graph.paramString(node.id, param);
        auto config = hf::readHfConfig(m_graph.resolvePath(given));
        if (!config.ok()) {
            report(IssueCode::Invalid, node.id, config.error().message, {}, param);
            return std::nullopt;
        }
        const ModelInfo &info = config.value().info;
        const std::int64_t vocab = datasetVocab();
        if (vocab > 0 && info.vocab != vocab)
            report(IssueCode::VocabularyMismatch, node.id,
                   "the model in '" + excerpt(given) + "' has a vocabulary of " + std::to_string(info.vocab) +
                       ", the dataset's is " + std::to_string(vocab) +
                       (vocab == 256 ? " (bytes; a text corpus can use the teacher's tokenizer: set the "
                                       "Dataset's tokenizer to teacher)"
                                     : ""),
                   {}, param);
        for (const Node *settings : ofKind("Settings")) {
            const std::int64_t seqLen = m_graph.paramInt(settings->id, "seq_len");
            if (info.maxLength > 0 && seqLen > info.maxLength)
                report(IssueCode::Invalid, node.id,
                       "the model in '" + excerpt(given) + "' reads at most " + std::to_string(info.maxLength) +
                           " positions, the run's seq_len is " + std::to_string(seqLen),
                       {}, param);
        }
        return config.value();
    }

    // A file the run would open: reported here, while editing, rather than when a run starts.
    void checkFile(const Node &node, const std::string &what)
    {
        namespace fs = std::filesystem;
        const std::string given = m_graph.paramString(node.id, "path");
        const std::string path = m_graph.resolvePath(given);
        std::error_code ec;
        const auto status = fs::status(path, ec);
        std::string problem;
        if (ec && ec.value() == ELOOP)
            problem = "is a symbolic link loop";
        else if (!fs::exists(status))
            problem = "does not exist";
        else if (fs::is_directory(status))
            problem = "is a directory";
        else if (!fs::is_regular_file(status))
            problem = "is not a regular file";
        if (!problem.empty())
            report(IssueCode::Invalid, node.id,
                   "the " + what + " '" + excerpt(given) + "' " + problem +
                       (path != given ? " (looked for " + excerpt(path) + ")" : std::string()),
                   {}, "path");
    }

    // The vocabulary the dataset gives, 0 when it is not known while editing (no single
    // Dataset, or a SentencePiece model, which is read when the run starts).
    std::int64_t datasetVocab() const
    {
        const auto &datasets = ofKind("Dataset");
        if (datasets.size() != 1)
            return 0;
        const NodeId id = datasets.front()->id;
        if (m_graph.paramString(id, "source") == "oracle-hmm")
            return m_graph.paramInt(id, "vocab");
        const std::string tokenizer = m_graph.paramString(id, "tokenizer");
        if (tokenizer == "bytes")
            return 256;
        if (tokenizer == "teacher")
            if (const Node *teacher = hfTeacher()) {
                auto config = hf::readHfConfig(m_graph.resolvePath(m_graph.paramString(teacher->id, "path")));
                return config.ok() ? config.value().info.vocab : 0;
            }
        if (tokenizer == "file") {
            auto vocab = hf::tokenizerVocab(m_graph.resolvePath(m_graph.paramString(id, "tokenizer_path")));
            return vocab.ok() ? vocab.value() : 0;
        }
        return 0;
    }

    // The first Teacher read from a Hugging Face folder, whose tokenizer a Dataset can use.
    const Node *hfTeacher() const
    {
        for (const Node *t : ofKind("Teacher"))
            if (m_graph.paramString(t->id, "source") == "hf")
                return t;
        return nullptr;
    }

    void checkSettings(const Node &node)
    {
        const std::int64_t seqLen = m_graph.paramInt(node.id, "seq_len");
        const std::int64_t promptLen = m_graph.paramInt(node.id, "prompt_len");
        if (m_graph.paramFloat(node.id, "on_policy_fraction") > 0 && promptLen >= seqLen)
            report(IssueCode::Invalid, node.id,
                   "prompt_len = " + std::to_string(promptLen) + " must be shorter than seq_len = " +
                       std::to_string(seqLen) + " for on-policy sampling (on_policy_fraction > 0)",
                   {}, "prompt_len");
    }

    void checkDataset(const Node &node)
    {
        const std::string source = m_graph.paramString(node.id, "source");
        if (source != "oracle-hmm" && m_graph.paramString(node.id, "path").empty())
            report(IssueCode::Invalid, node.id,
                   "source '" + source + "' needs a corpus file in parameter 'path'", {}, "path");
        else if (source != "oracle-hmm")
            checkFile(node, "corpus file");
        const std::string tokenizer = m_graph.paramString(node.id, "tokenizer");
        if (tokenizer == "bytes")
            return;
        if (source == "oracle-hmm")
            report(IssueCode::Invalid, node.id,
                   "tokenizer = " + tokenizer + " applies to text and jsonl corpora; the oracle has its own "
                   "symbols (set tokenizer to bytes)", {}, "tokenizer");
        else if (tokenizer == "teacher" && !hfTeacher())
            report(IssueCode::Invalid, node.id,
                   "tokenizer = teacher needs a Teacher with source = hf (a Hugging Face folder with its "
                   "tokenizer files)", {}, "tokenizer");
        else if (tokenizer == "file") {
            namespace fs = std::filesystem;
            const std::string given = m_graph.paramString(node.id, "tokenizer_path");
            std::error_code ec;
            if (given.empty())
                report(IssueCode::Invalid, node.id, "tokenizer = file needs a tokenizer.json, a tokenizer.model "
                       "or a folder in parameter 'tokenizer_path'", {}, "tokenizer_path");
            else if (!fs::exists(m_graph.resolvePath(given), ec))
                report(IssueCode::Invalid, node.id, "the tokenizer '" + excerpt(given) + "' does not exist",
                       {}, "tokenizer_path");
            else if (auto vocab = hf::tokenizerVocab(m_graph.resolvePath(given)); !vocab.ok())
                report(IssueCode::Invalid, node.id, vocab.error().message, {}, "tokenizer_path");
        }
    }

    Upstream upstream(NodeId id, const std::string &port) const
    {
        Upstream up;
        const Node *n = sourceOf(id, port);
        // The hop limit stops at a cycle of Projections (reported as a Cycle).
        for (std::size_t hops = 0; n && n->kind == "Projection" && hops < m_graph.nodes().size();
             ++hops) {
            if (!up.projected) {
                up.projected = true;
                const std::int64_t outDim = m_graph.paramInt(n->id, "out_dim");
                if (outDim > 0)
                    up.size = outDim;
            }
            n = sourceOf(n->id, "hidden");
        }
        up.origin = n;
        if (!up.projected && n && (n->kind == "Student" || n->kind == "Teacher"))
            up.size = m_graph.paramInt(n->id, "d_model");
        return up;
    }

    void checkLoss(const Node &node)
    {
        const std::string kind = m_graph.paramString(node.id, "kind");
        const LossKind *lossKind = findLossKind(kind);
        if (!lossKind) {
            report(IssueCode::Invalid, node.id, "loss kind '" + kind + "' is unknown", {}, "kind");
            return;
        }
        const NodeKindSpec &spec = *findNodeKind("Loss");
        for (const auto &port : lossKindInputs(*lossKind)) {
            if (!connected(node.id, port)) {
                report(IssueCode::MissingInput, node.id,
                       "a " + kind + " loss needs input '" + port + "' (" +
                           spec.input(port)->description + ")",
                       port);
                continue;
            }
            if (port == "labels")
                continue;
            const std::string expected = port.rfind("student", 0) == 0 ? "Student" : "Teacher";
            const Node *origin = upstream(node.id, port).origin;
            if (origin && origin->kind != expected)
                report(IssueCode::Invalid, node.id,
                       "input '" + port + "' must come from the " + expected +
                           " (possibly through a Projection), not from " +
                           m_graph.describeNode(origin->id),
                       port);
        }

        if (lossKind->needsTopk) {
            const std::int64_t topK = m_graph.paramInt(node.id, "top_k");
            const std::int64_t vocab = datasetVocab();
            if (vocab > 0 && topK > vocab)
                report(IssueCode::Invalid, node.id,
                       "top_k = " + std::to_string(topK) + " exceeds the vocabulary of the dataset (" +
                           std::to_string(vocab) + ")",
                       {}, "top_k");
        }

        if (lossKind->needsHidden) {
            const Upstream student = upstream(node.id, "student_hidden");
            const Upstream teacher = upstream(node.id, "teacher_hidden");
            checkLayer(node, "student_layer", student.origin);
            checkLayer(node, "teacher_layer", teacher.origin);
            if (student.size && teacher.size && *student.size != *teacher.size) {
                const std::string sizes = "student hidden size " + std::to_string(*student.size) +
                                          " differs from teacher hidden size " +
                                          std::to_string(*teacher.size);
                report(IssueCode::HiddenSizeMismatch, node.id,
                       student.projected || teacher.projected
                           ? sizes + "; set the Projection's out_dim to match, or to 0 to adapt"
                           : sizes + "; insert a Projection between the Student's 'hidden' "
                                     "output and input 'student_hidden'",
                       "student_hidden");
            }
        }

        if (lossKind->constantTemperature
            && m_graph.paramString(node.id, "temperature_schedule") != "constant")
            report(IssueCode::Invalid, node.id,
                   kind + " needs a constant temperature: its teacher cache is built at one "
                          "temperature",
                   {}, "temperature_schedule");

        if (!m_from.count({node.id, "loss"})) {
            report(IssueCode::Invalid, node.id,
                   "its output is not connected; it does not train anything", "loss");
            return;
        }
        if (!m_reachOptimizer.count(node.id))
            report(IssueCode::Invalid, node.id,
                   "its output does not reach the Optimizer; it does not train anything", "loss");
    }

    // A model's hidden states are 0 (embeddings) .. layers (the last block); -1 is the last.
    // Known for the Student, for Teachers built from their parameters (source = train) and for
    // Hugging Face folders (config.json).
    void checkLayer(const Node &loss, const std::string &param, const Node *model)
    {
        if (!model || (model->kind != "Student" && model->kind != "Teacher"))
            return;
        std::int64_t layers = m_graph.paramInt(model->id, "layers");
        const std::string source =
            model->kind == "Teacher" ? m_graph.paramString(model->id, "source") : std::string("train");
        if (source == "hf") {
            auto config = hf::readHfConfig(m_graph.resolvePath(m_graph.paramString(model->id, "path")));
            if (!config.ok())
                return; // the Teacher's own issue says why
            layers = config.value().info.layers;
        } else if (source != "train") {
            return;
        }
        const std::int64_t layer = m_graph.paramInt(loss.id, param);
        if (layer > layers)
            report(IssueCode::Invalid, loss.id,
                   param + " = " + std::to_string(layer) + ", but " +
                       m_graph.describeNode(model->id) + " has hidden layers 0.." +
                       std::to_string(layers) + " (0 = embeddings, " + std::to_string(layers) +
                       " = last; -1 = last)",
                   {}, param);
    }

    void checkEdge(std::size_t index)
    {
        const auto &edges = m_graph.edges();
        const Edge &edge = edges[index];
        const Node *from = m_graph.node(edge.fromNode);
        const Node *to = m_graph.node(edge.toNode);
        const NodeKindSpec *fromSpec = from ? findNodeKind(from->kind) : nullptr;
        const NodeKindSpec *toSpec = to ? findNodeKind(to->kind) : nullptr;
        if (!fromSpec || !toSpec)
            return; // the node's own issue says why
        const std::string fromText =
            m_graph.describeNode(edge.fromNode) + " port '" + edge.fromPort + "'";

        const PortSpec *out = fromSpec->output(edge.fromPort);
        if (!out)
            report(IssueCode::UnknownPort, edge.fromNode,
                   "no output port '" + edge.fromPort + "' (edge to " +
                       m_graph.describeNode(edge.toNode) + ")",
                   edge.fromPort, {}, edge);
        const PortSpec *in = toSpec->input(edge.toPort);
        if (!in)
            report(IssueCode::UnknownPort, edge.toNode,
                   "no input port '" + edge.toPort + "' (edge from " + fromText + ")", edge.toPort,
                   {}, edge);
        if (!in || !out)
            return;

        const std::string target = "input port '" + edge.toPort + "'";
        if (out->type != in->type)
            report(IssueCode::IncompatiblePorts, edge.toNode,
                   target + " expects " + portTypeName(in->type) + ", got " +
                       portTypeName(out->type) + " from " + fromText,
                   edge.toPort, {}, edge);

        if (m_repeated[index])
            report(IssueCode::DuplicateEdge, edge.toNode,
                   target + " has the same edge from " + fromText + " twice", edge.toPort, {},
                   edge);
        else if (!in->multiple && !m_firstInto[index])
            report(IssueCode::InputAlreadyConnected, edge.toNode,
                   target + " takes one edge, but another one comes from " + fromText, edge.toPort,
                   {}, edge);

        if (edge.fromNode == edge.toNode
            || m_component.at(edge.fromNode) == m_component.at(edge.toNode))
            report(IssueCode::Cycle, edge.toNode,
                   "the edge from " + fromText + " into " + target + " closes a cycle", edge.toPort,
                   {}, edge);
    }

    const std::vector<const Node *> &ofKind(const std::string &kind) const
    {
        static const std::vector<const Node *> none;
        const auto it = m_kinds.find(kind);
        return it == m_kinds.end() ? none : it->second;
    }
    bool connected(NodeId id, const std::string &port) const { return m_into.count({id, port}) > 0; }
    const Node *sourceOf(NodeId id, const std::string &port) const
    {
        const auto it = m_into.find({id, port});
        return it == m_into.end() ? nullptr : m_graph.node(m_graph.edges()[it->second.front()].fromNode);
    }

    using Port = std::pair<NodeId, std::string>;
    const Graph &m_graph;
    std::map<std::string, std::vector<const Node *>> m_kinds;
    std::map<Port, std::vector<std::size_t>> m_into, m_from; // edge indices, in file order
    std::vector<bool> m_firstInto; // per edge: the first into its input
    std::vector<bool> m_repeated;  // per edge: an identical edge came earlier
    std::unordered_map<NodeId, int> m_component;
    std::unordered_set<NodeId> m_reachOptimizer;
    std::vector<ValidationIssue> m_issues;
};

} // namespace

std::vector<ValidationIssue> validateGraph(const Graph &graph)
{
    return Validator(graph).run();
}

std::int64_t datasetVocabulary(const Graph &graph)
{
    return Validator(graph).vocabulary();
}

} // namespace distillery::core
