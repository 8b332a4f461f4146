#include "document/graphdocument.h"

#include <QFileInfo>
#include <QUndoCommand>
#include <QUndoStack>

#include <algorithm>
#include <set>

namespace distillery::widgets {

using core::Edge;
using core::Node;
using core::NodeId;

namespace {

QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}

// --- Undo commands: each changes the document through its apply* primitives -----------------

class InsertNodeCommand : public QUndoCommand
{
public:
    InsertNodeCommand(GraphDocument *doc, Node node, QUndoCommand *parent = nullptr)
        : QUndoCommand(parent), m_doc(doc), m_node(std::move(node))
    {
        setText(QObject::tr("Add %1").arg(qs(m_node.kind)));
    }
    void redo() override { m_doc->applyInsertNode(m_node); }
    void undo() override { m_doc->applyRemoveNode(m_node.id); }

private:
    GraphDocument *m_doc;
    Node m_node;
};

// Removes one node that has no edges left (its edges are removed by sibling commands first).
class RemoveNodeCommand : public QUndoCommand
{
public:
    RemoveNodeCommand(GraphDocument *doc, Node node, QUndoCommand *parent = nullptr)
        : QUndoCommand(parent), m_doc(doc), m_node(std::move(node))
    {}
    void redo() override { m_doc->applyRemoveNode(m_node.id); }
    void undo() override { m_doc->applyInsertNode(m_node); }

private:
    GraphDocument *m_doc;
    Node m_node;
};

class ConnectCommand : public QUndoCommand
{
public:
    ConnectCommand(GraphDocument *doc, Edge edge, bool connect, QUndoCommand *parent = nullptr)
        : QUndoCommand(parent), m_doc(doc), m_edge(std::move(edge)), m_connect(connect)
    {
        setText(connect ? QObject::tr("Connect") : QObject::tr("Disconnect"));
    }
    void redo() override { apply(m_connect); }
    void undo() override { apply(!m_connect); }

private:
    void apply(bool connect)
    {
        if (connect)
            m_doc->applyConnect(m_edge);
        else
            m_doc->applyDisconnect(m_edge);
    }
    GraphDocument *m_doc;
    Edge m_edge;
    bool m_connect;
};

class SetParamCommand : public QUndoCommand
{
public:
    SetParamCommand(GraphDocument *doc, NodeId node, std::string name,
                    std::optional<core::ParamValue> before, std::optional<core::ParamValue> after)
        : m_doc(doc), m_node(node), m_name(std::move(name)), m_before(std::move(before)),
          m_after(std::move(after))
    {
        setText(QObject::tr("Set %1").arg(qs(m_name)));
    }
    void redo() override { m_doc->applySetParam(m_node, m_name, m_after); }
    void undo() override { m_doc->applySetParam(m_node, m_name, m_before); }

private:
    GraphDocument *m_doc;
    NodeId m_node;
    std::string m_name;
    std::optional<core::ParamValue> m_before, m_after;
};

class RenameCommand : public QUndoCommand
{
public:
    RenameCommand(GraphDocument *doc, NodeId node, std::string before, std::string after)
        : m_doc(doc), m_node(node), m_before(std::move(before)), m_after(std::move(after))
    {
        setText(QObject::tr("Rename"));
    }
    void redo() override { m_doc->applyRename(m_node, m_after); }
    void undo() override { m_doc->applyRename(m_node, m_before); }

private:
    GraphDocument *m_doc;
    NodeId m_node;
    std::string m_before, m_after;
};

// A move of one or more nodes. Moves of the same gesture (one mouse drag) merge.
class MoveCommand : public QUndoCommand
{
public:
    MoveCommand(GraphDocument *doc, QMap<NodeId, QPointF> before, QMap<NodeId, QPointF> after,
                int gesture)
        : m_doc(doc), m_before(std::move(before)), m_after(std::move(after)), m_gesture(gesture)
    {
        setText(QObject::tr("Move"));
    }
    int id() const override { return 1; }
    bool mergeWith(const QUndoCommand *other) override
    {
        const auto *move = static_cast<const MoveCommand *>(other);
        if (m_gesture == 0 || move->m_gesture != m_gesture)
            return false;
        for (auto it = move->m_after.begin(); it != move->m_after.end(); ++it) {
            if (!m_before.contains(it.key()))
                m_before.insert(it.key(), move->m_before.value(it.key()));
            m_after.insert(it.key(), it.value());
        }
        return true;
    }
    void redo() override { apply(m_after); }
    void undo() override { apply(m_before); }

private:
    void apply(const QMap<NodeId, QPointF> &positions)
    {
        for (auto it = positions.begin(); it != positions.end(); ++it)
            m_doc->applyMove(it.key(), it.value());
    }
    GraphDocument *m_doc;
    QMap<NodeId, QPointF> m_before, m_after;
    int m_gesture;
};

core::Error error(const std::string &code, const std::string &message)
{
    return core::Error{code, message};
}

} // namespace

GraphDocument::GraphDocument(QObject *parent)
    : QObject(parent), m_undo(new QUndoStack(this))
{
    qRegisterMetaType<core::Edge>();
    qRegisterMetaType<core::NodeId>("distillery::core::NodeId");
    connect(m_undo, &QUndoStack::cleanChanged, this,
            [this](bool clean) { Q_EMIT modifiedChanged(!clean); });
    revalidate();
}

GraphDocument::~GraphDocument() = default;

std::vector<core::ValidationIssue> GraphDocument::issuesOf(NodeId node) const
{
    std::vector<core::ValidationIssue> out;
    for (const auto &issue : m_issues)
        if (issue.nodeId == node)
            out.push_back(issue);
    return out;
}

void GraphDocument::revalidate()
{
    m_issues = core::validateGraph(m_graph);
    Q_EMIT validationChanged();
}

// --- Primitive changes ---------------------------------------------------------------------

void GraphDocument::applyInsertNode(const Node &node)
{
    if (!m_graph.insertNode(node).ok())
        return;
    Q_EMIT nodeAdded(node.id);
    revalidate();
}

void GraphDocument::applyRemoveNode(NodeId id)
{
    // Edges go first, each with its signal, so that views never hold an edge to nothing.
    for (const Edge &e : m_graph.edgesInto(id))
        applyDisconnect(e);
    for (const Edge &e : m_graph.edgesFrom(id))
        applyDisconnect(e);
    if (!m_graph.removeNode(id).ok())
        return;
    Q_EMIT nodeRemoved(id);
    revalidate();
}

bool GraphDocument::applyConnect(const Edge &edge)
{
    if (!m_graph.connect(edge).ok())
        return false;
    Q_EMIT edgeAdded(edge);
    revalidate();
    return true;
}

void GraphDocument::applyDisconnect(const Edge &edge)
{
    if (!m_graph.disconnect(edge).ok())
        return;
    Q_EMIT edgeRemoved(edge);
    revalidate();
}

void GraphDocument::applySetParam(NodeId id, const std::string &name,
                                  const std::optional<core::ParamValue> &value)
{
    const auto st = value ? m_graph.setParam(id, name, *value) : m_graph.resetParam(id, name);
    if (!st.ok())
        return;
    Q_EMIT nodeChanged(id);
    revalidate();
}

void GraphDocument::applyRename(NodeId id, const std::string &title)
{
    if (!m_graph.setTitle(id, title).ok())
        return;
    Q_EMIT nodeChanged(id);
    revalidate(); // messages name the node by its title
}

void GraphDocument::applyMove(NodeId id, QPointF pos)
{
    if (!m_graph.moveNode(id, pos.x(), pos.y()).ok())
        return;
    Q_EMIT nodeMoved(id, pos);
}

// --- Requests ----------------------------------------------------------------------------------

core::Result<NodeId> GraphDocument::requestAddNode(const std::string &kind, QPointF pos,
                                                   const std::string &title)
{
    // Try on a copy first: the graph's own checks (unknown kind, second singleton) decide.
    core::Graph trial = m_graph;
    const NodeId id = trial.addNode(kind, pos.x(), pos.y(), title);
    if (id == core::kInvalidNode) {
        if (!core::findNodeKind(kind))
            return error("UnknownKind", "unknown node kind '" + kind + "'");
        return error("Singleton", "the graph already has a " + kind + " node; it takes one");
    }
    m_undo->push(new InsertNodeCommand(this, *trial.node(id)));
    return id;
}

core::Status GraphDocument::requestRemove(const QList<NodeId> &nodes, const QList<Edge> &edges)
{
    std::set<NodeId> ids(nodes.begin(), nodes.end());
    for (NodeId id : ids)
        if (!m_graph.node(id))
            return error("NoSuchNode", "node " + std::to_string(id) + " does not exist");
    // Every edge that goes: the ones asked for and the ones touching a removed node.
    std::vector<Edge> gone;
    auto add = [&gone](const Edge &e) {
        if (std::find(gone.begin(), gone.end(), e) == gone.end())
            gone.push_back(e);
    };
    for (const Edge &e : edges) {
        const auto &all = m_graph.edges();
        if (std::find(all.begin(), all.end(), e) == all.end())
            return error("NoSuchEdge", "that edge does not exist");
        add(e);
    }
    for (const Edge &e : m_graph.edges())
        if (ids.count(e.fromNode) || ids.count(e.toNode))
            add(e);
    if (ids.empty() && gone.empty())
        return core::okStatus();

    auto *macro = new QUndoCommand(ids.empty() ? tr("Delete %n edge(s)", nullptr, int(gone.size()))
                                               : tr("Delete %n node(s)", nullptr, int(ids.size())));
    for (const Edge &e : gone)
        new ConnectCommand(this, e, false, macro);
    for (NodeId id : ids)
        new RemoveNodeCommand(this, *m_graph.node(id), macro);
    m_undo->push(macro);
    return core::okStatus();
}

core::Status GraphDocument::requestRemoveNodes(const QList<NodeId> &nodes)
{
    return requestRemove(nodes, {});
}

core::Status GraphDocument::requestConnect(const Edge &edge)
{
    core::Graph trial = m_graph;
    if (auto st = trial.connect(edge); !st.ok())
        return st;
    m_undo->push(new ConnectCommand(this, edge, true));
    return core::okStatus();
}

core::Status GraphDocument::requestDisconnect(const Edge &edge)
{
    return requestRemove({}, {edge});
}

core::Status GraphDocument::requestSetParam(NodeId node, const std::string &name,
                                            const core::ParamValue &value)
{
    const Node *n = m_graph.node(node);
    if (!n)
        return error("NoSuchNode", "node " + std::to_string(node) + " does not exist");
    core::Graph trial = m_graph;
    if (auto st = trial.setParam(node, name, value); !st.ok())
        return st;
    std::optional<core::ParamValue> before;
    if (auto it = n->params.find(name); it != n->params.end())
        before = it->second;
    if (before && *before == value)
        return core::okStatus(); // nothing changes, no undo entry
    m_undo->push(new SetParamCommand(this, node, name, before, value));
    return core::okStatus();
}

core::Status GraphDocument::requestResetParam(NodeId node, const std::string &name)
{
    const Node *n = m_graph.node(node);
    if (!n)
        return error("NoSuchNode", "node " + std::to_string(node) + " does not exist");
    core::Graph trial = m_graph;
    if (auto st = trial.resetParam(node, name); !st.ok())
        return st;
    auto it = n->params.find(name);
    if (it == n->params.end())
        return core::okStatus();
    m_undo->push(new SetParamCommand(this, node, name, it->second, std::nullopt));
    return core::okStatus();
}

core::Status GraphDocument::requestRename(NodeId node, const std::string &title)
{
    const Node *n = m_graph.node(node);
    if (!n)
        return error("NoSuchNode", "node " + std::to_string(node) + " does not exist");
    if (n->title == title)
        return core::okStatus();
    m_undo->push(new RenameCommand(this, node, n->title, title));
    return core::okStatus();
}

core::Status GraphDocument::requestMoveNodes(const QMap<NodeId, QPointF> &positions, int gesture)
{
    QMap<NodeId, QPointF> before, after;
    for (auto it = positions.begin(); it != positions.end(); ++it) {
        const Node *n = m_graph.node(it.key());
        if (!n)
            return error("NoSuchNode", "node " + std::to_string(it.key()) + " does not exist");
        before.insert(it.key(), QPointF(n->x, n->y));
        after.insert(it.key(), it.value());
    }
    if (before == after)
        return core::okStatus();
    m_undo->push(new MoveCommand(this, before, after, gesture));
    return core::okStatus();
}

core::Result<QList<NodeId>> GraphDocument::requestInsertGraph(const core::Graph &fragment,
                                                             QPointF offset, const QString &what)
{
    // New ids from the document's counter; singletons the document already has are skipped
    // (with the edges that touch them), since a graph takes one of each.
    core::Graph trial = m_graph;
    std::map<NodeId, NodeId> idMap;
    auto *macro = new QUndoCommand(what);
    QList<NodeId> added;
    for (const Node &n : fragment.nodes()) {
        Node copy = n;
        copy.id = trial.nextId();
        copy.x += offset.x();
        copy.y += offset.y();
        if (!trial.insertNode(copy).ok())
            continue;
        idMap[n.id] = copy.id;
        added.append(copy.id);
        new InsertNodeCommand(this, copy, macro);
    }
    for (const Edge &e : fragment.edges()) {
        auto from = idMap.find(e.fromNode), to = idMap.find(e.toNode);
        if (from == idMap.end() || to == idMap.end())
            continue;
        const Edge mapped{from->second, e.fromPort, to->second, e.toPort};
        if (trial.connect(mapped).ok())
            new ConnectCommand(this, mapped, true, macro);
    }
    if (added.isEmpty()) {
        delete macro;
        return error("NothingToInsert", "nothing to insert: every node is a kind the graph "
                                        "already has and takes only once");
    }
    m_undo->push(macro);
    return added;
}

std::string GraphDocument::copyFragment(const QList<NodeId> &nodes) const
{
    core::Graph fragment;
    std::set<NodeId> ids(nodes.begin(), nodes.end());
    std::set<NodeId> copied;
    for (NodeId id : ids)
        if (const Node *n = m_graph.node(id); n && fragment.insertNode(*n).ok())
            copied.insert(id);
    // Edges between copied nodes were valid in the document, so they are in the fragment; one
    // that is refused is left out of the clipboard rather than half-copied.
    for (const Edge &e : m_graph.edges())
        if (copied.count(e.fromNode) && copied.count(e.toNode) && !fragment.connect(e).ok())
            continue;
    return core::graphToJson(fragment);
}

core::Result<QList<NodeId>> GraphDocument::requestPaste(const std::string &json, QPointF offset)
{
    auto fragment = core::graphFromJson(json, "the clipboard");
    if (!fragment.ok())
        return fragment.error();
    return requestInsertGraph(fragment.value(), offset, tr("Paste"));
}

// --- Whole document -----------------------------------------------------------------------------

void GraphDocument::reset(const core::Graph &graph, const QString &filePath)
{
    m_graph = graph;
    m_undo->clear();
    m_undo->setClean();
    if (m_filePath != filePath) {
        m_filePath = filePath;
        Q_EMIT filePathChanged(m_filePath);
    }
    Q_EMIT graphReset();
    revalidate();
    Q_EMIT modifiedChanged(false);
}

core::Status GraphDocument::open(const QString &path)
{
    auto loaded = core::loadGraphFile(path.toStdString());
    if (!loaded.ok())
        return loaded.error();
    reset(loaded.value(), QFileInfo(path).absoluteFilePath());
    return core::okStatus();
}

core::Status GraphDocument::save(const QString &path)
{
    if (auto st = core::saveGraphFile(m_graph, path.toStdString()); !st.ok())
        return st;
    const QString absolute = QFileInfo(path).absoluteFilePath();
    if (m_filePath != absolute) {
        m_filePath = absolute;
        Q_EMIT filePathChanged(m_filePath);
    }
    m_undo->setClean();
    return core::okStatus();
}

bool GraphDocument::isModified() const
{
    return !m_undo->isClean();
}

} // namespace distillery::widgets
