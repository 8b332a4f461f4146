#include "graph/graphscene.h"

#include "document/graphdocument.h"
#include "graph/edgeitem.h"
#include "graph/graphstyle.h"
#include "graph/modelfactscache.h"
#include "graph/nodeitem.h"
#include "graph/portitem.h"

#include <QGraphicsSceneMouseEvent>
#include <QGraphicsView>
#include <QKeyEvent>
#include <QPainter>
#include <QUndoStack>

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery::widgets {

namespace gs = graphstyle;
using core::Edge;
using core::NodeId;

namespace {

// One id per mouse drag, so that the document merges the drag's moves into one undo entry.
int nextGesture()
{
    static int gesture = 0;
    return ++gesture;
}

QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}

} // namespace

GraphScene::GraphScene(GraphDocument *document, QObject *parent)
    : QGraphicsScene(parent)
    , m_doc(document)
{
    // A large fixed canvas: panning never hits an edge and the scroll range never jumps.
    setSceneRect(-20000, -20000, 40000, 40000);
    setItemIndexMethod(QGraphicsScene::NoIndex); // few items that move often

    connect(m_doc, &GraphDocument::graphReset, this, &GraphScene::rebuild);
    connect(m_doc, &GraphDocument::nodeAdded, this, [this](NodeId id) {
        addNodeItem(id);
        refreshTexts();
    });
    connect(m_doc, &GraphDocument::nodeRemoved, this, [this](NodeId id) {
        removeNodeItem(id);
        refreshTexts();
    });
    connect(m_doc, &GraphDocument::nodeMoved, this, &GraphScene::onNodeMoved);
    connect(m_doc, &GraphDocument::nodeChanged, this, &GraphScene::onNodeChanged);
    connect(m_doc, &GraphDocument::edgeAdded, this, [this](const Edge &e) {
        addEdgeItem(e);
        updatePortConnections();
        if (NodeItem *to = nodeItem(e.toNode))
            to->refresh(m_doc->graph()); // a Combine counts its terms
    });
    connect(m_doc, &GraphDocument::edgeRemoved, this, [this](const Edge &e) {
        removeEdgeItem(e);
        updatePortConnections();
        if (NodeItem *to = nodeItem(e.toNode))
            to->refresh(m_doc->graph());
    });
    connect(m_doc, &GraphDocument::validationChanged, this, &GraphScene::applyValidation);
    connect(this, &QGraphicsScene::selectionChanged, this, &GraphScene::onSelectionChanged);
    // A Teacher's model file has been read: its card shows the real shape now.
    connect(&ModelFactsCache::instance(), &ModelFactsCache::updated, this, [this]() { refreshTexts(); });
    rebuild();
}

GraphScene::~GraphScene()
{
    // Items go with the scene; drop the drag state that points at them first.
    m_connect.reset();
    m_move.reset();
}

// --- Mirroring the document ----------------------------------------------------------------------

void GraphScene::rebuild()
{
    if (m_connect)
        cancelConnect();
    m_move.reset();
    QSignalBlocker blocker(this);
    for (EdgeItem *e : std::as_const(m_edges))
        delete e;
    m_edges.clear();
    for (NodeItem *n : std::as_const(m_nodes))
        delete n;
    m_nodes.clear();
    for (const core::Node &n : m_doc->graph().nodes())
        addNodeItem(n.id);
    for (const Edge &e : m_doc->graph().edges())
        addEdgeItem(e);
    refreshTexts();
    updatePortConnections();
    applyValidation();
    blocker.unblock();
    onSelectionChanged();
}

void GraphScene::addNodeItem(NodeId id)
{
    const core::Node *node = m_doc->graph().node(id);
    if (!node || m_nodes.contains(id))
        return;
    auto *item = new NodeItem(*node, core::findNodeKind(node->kind));
    item->refresh(m_doc->graph());
    addItem(item);
    m_nodes.insert(id, item);
}

void GraphScene::removeNodeItem(NodeId id)
{
    if (m_connect) {
        // The node being connected from or to may go (an undo during the drag).
        cancelConnect();
    }
    if (m_move)
        m_move->start.remove(id);
    // The document removes edges first; drop any left over defensively.
    for (int i = m_edges.size() - 1; i >= 0; --i) {
        const Edge &e = m_edges[i]->edge();
        if (e.fromNode == id || e.toNode == id)
            delete m_edges.takeAt(i);
    }
    if (NodeItem *item = m_nodes.take(id))
        delete item;
}

void GraphScene::addEdgeItem(const Edge &edge)
{
    if (edgeItem(edge))
        return;
    PortItem *from = portItem(edge.fromNode, edge.fromPort, true);
    PortItem *to = portItem(edge.toNode, edge.toPort, false);
    const core::PortType type = from ? from->portType()
                                : to ? to->portType()
                                     : core::PortType::Scalar;
    auto *item = new EdgeItem(edge, type);
    m_edges.append(item);
    addItem(item);
    updateEdgeGeometry(item);
    const auto name = [this](NodeId id) { return qs(m_doc->graph().describeNode(id)); };
    item->setLabel(
        QStringLiteral("%1 .%2  \u2192  %3 .%4")
            .arg(name(edge.fromNode), qs(edge.fromPort), name(edge.toNode), qs(edge.toPort)));
}

void GraphScene::removeEdgeItem(const Edge &edge)
{
    for (int i = 0; i < m_edges.size(); ++i) {
        if (m_edges[i]->edge() == edge) {
            if (m_connect && m_connect->pickedUp && *m_connect->pickedUp == edge)
                cancelConnect();
            delete m_edges.takeAt(i);
            return;
        }
    }
}

void GraphScene::updateEdgeGeometry(EdgeItem *edge)
{
    const Edge &e = edge->edge();
    auto end = [this](NodeId id, const std::string &port, bool output) {
        if (PortItem *p = portItem(id, port, output))
            return p->sceneAnchor();
        // An edge naming a port the kind does not have (a hand-edited file): attach it to the
        // card's side so that it stays visible and can be selected and deleted.
        if (NodeItem *n = nodeItem(id))
            return n->mapToScene(
                QPointF(output ? n->cardRect().width() : 0, gs::kHeaderHeight / 2));
        return QPointF();
    };
    edge->setEndpoints(end(e.fromNode, e.fromPort, true), end(e.toNode, e.toPort, false));
}

void GraphScene::updateEdgesOf(NodeId id)
{
    for (EdgeItem *e : std::as_const(m_edges))
        if (e->edge().fromNode == id || e->edge().toNode == id)
            updateEdgeGeometry(e);
}

void GraphScene::onNodeMoved(NodeId id, QPointF pos)
{
    if (NodeItem *item = nodeItem(id)) {
        item->setPos(pos);
        updateEdgesOf(id);
    }
}

void GraphScene::onNodeChanged(NodeId id)
{
    Q_UNUSED(id);
    // A Dataset's vocab or the Settings' seq_len change other cards' summaries too.
    refreshTexts();
}

void GraphScene::refreshTexts()
{
    for (NodeItem *n : std::as_const(m_nodes))
        n->refresh(m_doc->graph());
    for (EdgeItem *e : std::as_const(m_edges))
        updateEdgeGeometry(e);
}

void GraphScene::updatePortConnections()
{
    for (NodeItem *n : std::as_const(m_nodes))
        for (PortItem *p : n->ports())
            p->setConnected(false);
    for (const Edge &e : m_doc->graph().edges()) {
        if (PortItem *p = portItem(e.fromNode, e.fromPort, true))
            p->setConnected(true);
        if (PortItem *p = portItem(e.toNode, e.toPort, false))
            p->setConnected(true);
    }
}

void GraphScene::applyValidation()
{
    QHash<NodeId, QStringList> nodeMessages;
    QHash<PortItem *, QStringList> portMessages;
    QHash<EdgeItem *, QStringList> edgeMessages;
    for (const core::ValidationIssue &issue : m_doc->issues()) {
        const QString message = qs(issue.message);
        if (issue.edge) {
            if (EdgeItem *e = edgeItem(*issue.edge))
                edgeMessages[e].append(message);
        }
        if (issue.nodeId == core::kInvalidNode)
            continue;
        nodeMessages[issue.nodeId].append(message);
        if (!issue.port.empty()) {
            PortItem *p = portItem(issue.nodeId, issue.port, false);
            if (!p)
                p = portItem(issue.nodeId, issue.port, true);
            if (p)
                portMessages[p].append(message);
        }
    }
    for (NodeItem *n : std::as_const(m_nodes)) {
        n->setIssues(nodeMessages.value(n->nodeId()));
        for (PortItem *p : n->ports())
            p->setIssue(portMessages.value(p).join(QLatin1Char('\n')));
    }
    for (EdgeItem *e : std::as_const(m_edges))
        e->setIssue(edgeMessages.value(e).join(QLatin1Char('\n')));
}

// --- Lookup
// ----------------------------------------------------------------------------------------

NodeItem *GraphScene::nodeItem(NodeId id) const
{
    return m_nodes.value(id, nullptr);
}

EdgeItem *GraphScene::edgeItem(const Edge &edge) const
{
    for (EdgeItem *e : m_edges)
        if (e->edge() == edge)
            return e;
    return nullptr;
}

PortItem *GraphScene::portItem(NodeId id, const std::string &port, bool output) const
{
    NodeItem *n = nodeItem(id);
    return n ? n->port(port, output) : nullptr;
}

QPointF GraphScene::portScenePos(NodeId id, const std::string &port, bool output) const
{
    PortItem *p = portItem(id, port, output);
    return p ? p->sceneAnchor() : QPointF();
}

QRectF GraphScene::nodesBoundingRect() const
{
    QRectF r;
    for (NodeItem *n : m_nodes)
        r = r.united(n->mapRectToScene(n->boundingRect()));
    return r;
}

QPointF GraphScene::snapped(QPointF p) const
{
    if (!m_snap)
        return p;
    return QPointF(std::round(p.x() / gs::kGrid) * gs::kGrid,
                   std::round(p.y() / gs::kGrid) * gs::kGrid);
}

// --- Selection and clipboard
// ----------------------------------------------------------------------

QList<NodeId> GraphScene::selectedNodeIds() const
{
    QList<NodeId> ids;
    for (QGraphicsItem *item : selectedItems())
        if (auto *n = qgraphicsitem_cast<NodeItem *>(item))
            ids.append(n->nodeId());
    std::sort(ids.begin(), ids.end());
    return ids;
}

QList<Edge> GraphScene::selectedEdges() const
{
    QList<Edge> edges;
    for (QGraphicsItem *item : selectedItems())
        if (auto *e = qgraphicsitem_cast<EdgeItem *>(item); e && !e->isTemporary())
            edges.append(e->edge());
    return edges;
}

NodeId GraphScene::selectedNode() const
{
    const auto ids = selectedNodeIds();
    return ids.size() == 1 ? ids.front() : core::kInvalidNode;
}

void GraphScene::onSelectionChanged()
{
    const NodeId id = selectedNode();
    if (id == m_lastSelected)
        return;
    m_lastSelected = id;
    Q_EMIT nodeSelectionChanged(id);
}

void GraphScene::selectNode(NodeId id)
{
    NodeItem *item = nodeItem(id);
    if (!item)
        return;
    clearSelection();
    item->setSelected(true);
    for (QGraphicsView *view : views())
        view->centerOn(item);
}

std::string GraphScene::copySelection() const
{
    const auto ids = selectedNodeIds();
    if (ids.isEmpty())
        return {};
    return m_doc->copyFragment(ids);
}

core::Result<QList<NodeId>> GraphScene::pasteAt(QPointF scenePos, const std::string &json)
{
    auto fragment = core::graphFromJson(json, "the clipboard");
    if (!fragment.ok()) {
        Q_EMIT editFailed(qs(fragment.error().message));
        return fragment.error();
    }
    double minX = std::numeric_limits<double>::max(), minY = std::numeric_limits<double>::max();
    for (const core::Node &n : fragment.value().nodes()) {
        minX = std::min(minX, n.x);
        minY = std::min(minY, n.y);
    }
    if (fragment.value().nodes().empty())
        minX = minY = 0;
    const QPointF offset = snapped(scenePos) - QPointF(minX, minY);
    auto pasted = m_doc->requestPaste(json, offset);
    if (!pasted.ok()) {
        Q_EMIT editFailed(qs(pasted.error().message));
        return pasted;
    }
    clearSelection();
    for (NodeId id : pasted.value())
        if (NodeItem *n = nodeItem(id))
            n->setSelected(true);
    return pasted;
}

core::Result<NodeId> GraphScene::addNodeAt(const std::string &kind, QPointF scenePos)
{
    const QPointF topLeft = snapped(scenePos - QPointF(gs::kNodeWidth / 2, gs::kHeaderHeight / 2));
    auto id = m_doc->requestAddNode(kind, topLeft);
    if (!id.ok()) {
        Q_EMIT editFailed(qs(id.error().message));
        return id;
    }
    clearSelection();
    if (NodeItem *n = nodeItem(id.value()))
        n->setSelected(true);
    return id;
}

void GraphScene::deleteSelection()
{
    const auto nodes = selectedNodeIds();
    const auto edges = selectedEdges();
    if (nodes.isEmpty() && edges.isEmpty())
        return;
    if (auto st = m_doc->requestRemove(nodes, edges); !st.ok())
        Q_EMIT editFailed(qs(st.error().message));
}

// --- Connecting
// --------------------------------------------------------------------------------------

bool GraphScene::canConnect(const Edge &edge) const
{
    core::Graph trial = m_doc->graph();
    return trial.connect(edge).ok();
}

Edge GraphScene::edgeBetween(PortItem *anchor, PortItem *other) const
{
    PortItem *out = anchor->isOutput() ? anchor : other;
    PortItem *in = anchor->isOutput() ? other : anchor;
    return Edge{out->nodeId(), out->name(), in->nodeId(), in->name()};
}

PortItem *GraphScene::portAt(QPointF scenePos) const
{
    for (QGraphicsItem *item : items(scenePos, Qt::IntersectsItemShape, Qt::DescendingOrder))
        if (auto *p = qgraphicsitem_cast<PortItem *>(item))
            return p;
        else if (qgraphicsitem_cast<NodeItem *>(item))
            return nullptr; // a card on top hides the ports below it
    return nullptr;
}

void GraphScene::beginConnect(PortItem *port, QPointF scenePos)
{
    ConnectDrag drag;
    drag.anchor = port;
    // Pressing on an occupied single input lifts its edge: drop it on another input to
    // re-route it, or on empty canvas to remove it.
    if (!port->isOutput() && !port->acceptsMultiple()) {
        const auto into = m_doc->graph().edgesInto(port->nodeId(), port->name());
        if (!into.empty()) {
            if (PortItem *source = portItem(into.front().fromNode, into.front().fromPort, true)) {
                drag.pickedUp = into.front();
                drag.anchor = source;
            }
        }
    }
    core::Graph base = m_doc->graph();
    if (drag.pickedUp && !base.disconnect(*drag.pickedUp).ok())
        drag.pickedUp.reset(); // not in the document after all: nothing was picked up
    for (NodeItem *n : std::as_const(m_nodes)) {
        for (PortItem *p : n->ports()) {
            if (p == drag.anchor)
                continue;
            bool ok = false;
            if (p->isOutput() != drag.anchor->isOutput()) {
                core::Graph trial = base;
                ok = trial.connect(edgeBetween(drag.anchor, p)).ok();
            }
            p->setDimmed(!ok);
            if (ok)
                drag.accepting.append(p);
        }
    }
    drag.temp = new EdgeItem(drag.anchor->portType());
    addItem(drag.temp);
    if (drag.pickedUp)
        if (EdgeItem *e = edgeItem(*drag.pickedUp))
            e->setVisible(false);
    drag.pressPos = scenePos;
    m_connect = drag;
    updateConnect(scenePos);
}

void GraphScene::updateConnect(QPointF scenePos)
{
    ConnectDrag &drag = *m_connect;
    PortItem *target = nullptr;
    // Right on a port (circle or label) that takes it, else the nearest one within reach.
    if (PortItem *under = portAt(scenePos); under && drag.accepting.contains(under)) {
        target = under;
    } else {
        double best = gs::kSnapDistance;
        for (PortItem *p : std::as_const(drag.accepting)) {
            const double d = QLineF(p->sceneAnchor(), scenePos).length();
            if (d <= best) {
                best = d;
                target = p;
            }
        }
    }
    if (drag.target != target) {
        if (drag.target)
            drag.target->setSnapTarget(false);
        if (target)
            target->setSnapTarget(true);
        drag.target = target;
    }
    const QPointF loose = target ? target->sceneAnchor() : scenePos;
    const QPointF fixed = drag.anchor->sceneAnchor();
    if (drag.anchor->isOutput())
        drag.temp->setEndpoints(fixed, loose);
    else
        drag.temp->setEndpoints(loose, fixed);
}

void GraphScene::cancelConnect()
{
    if (!m_connect)
        return;
    ConnectDrag drag = *m_connect;
    m_connect.reset();
    for (NodeItem *n : std::as_const(m_nodes)) {
        for (PortItem *p : n->ports()) {
            p->setDimmed(false);
            p->setSnapTarget(false);
        }
    }
    removeItem(drag.temp);
    delete drag.temp;
    if (drag.pickedUp)
        if (EdgeItem *e = edgeItem(*drag.pickedUp))
            e->setVisible(true);
}

void GraphScene::finishConnect(QPointF scenePos)
{
    updateConnect(scenePos);
    const ConnectDrag drag = *m_connect;
    const bool moved = QLineF(scenePos, drag.pressPos).length() > 4.0;
    const std::optional<Edge> edge =
        drag.target ? std::optional<Edge>(edgeBetween(drag.anchor, drag.target)) : std::nullopt;
    cancelConnect(); // the items go back to normal before the document changes them

    core::Status st = core::okStatus();
    if (edge && drag.pickedUp) {
        if (*edge == *drag.pickedUp)
            return;
        m_doc->undoStack()->beginMacro(tr("Reconnect"));
        st = m_doc->requestDisconnect(*drag.pickedUp);
        if (st.ok())
            st = m_doc->requestConnect(*edge);
        m_doc->undoStack()->endMacro();
    } else if (edge) {
        st = m_doc->requestConnect(*edge);
    } else if (drag.pickedUp && moved) {
        st = m_doc->requestDisconnect(*drag.pickedUp);
    }
    if (!st.ok())
        Q_EMIT editFailed(qs(st.error().message));
}

// --- Mouse and keys -----------------------------------------------------------------------------

void GraphScene::mousePressEvent(QGraphicsSceneMouseEvent *event)
{
    if (event->button() == Qt::LeftButton) {
        if (m_connect) {
            finishConnect(event->scenePos());
            event->accept();
            return;
        }
        if (PortItem *port = portAt(event->scenePos())) {
            beginConnect(port, event->scenePos());
            event->accept();
            return;
        }
    }
    QGraphicsScene::mousePressEvent(event);
    if (event->button() != Qt::LeftButton || !event->isAccepted())
        return;
    NodeItem *pressed = nullptr;
    for (QGraphicsItem *item = itemAt(event->scenePos(), QTransform()); item;
         item = item->parentItem())
        if ((pressed = qgraphicsitem_cast<NodeItem *>(item)))
            break;
    if (!pressed || !pressed->isSelected())
        return;
    MoveDrag move;
    move.pressPos = event->scenePos();
    for (NodeId id : selectedNodeIds())
        if (NodeItem *n = nodeItem(id))
            move.start.insert(id, n->pos());
    m_move = move;
}

void GraphScene::mouseMoveEvent(QGraphicsSceneMouseEvent *event)
{
    if (m_connect) {
        updateConnect(event->scenePos());
        event->accept();
        return;
    }
    if (m_move && (event->buttons() & Qt::LeftButton)) {
        const QPointF delta = event->scenePos() - m_move->pressPos;
        if (!m_move->started && delta.manhattanLength() < 3.0) {
            event->accept();
            return;
        }
        if (!m_move->started) {
            m_move->started = true;
            m_move->gesture = nextGesture();
        }
        QMap<NodeId, QPointF> positions;
        for (auto it = m_move->start.begin(); it != m_move->start.end(); ++it)
            positions.insert(it.key(), snapped(it.value() + delta));
        if (auto st = m_doc->requestMoveNodes(positions, m_move->gesture); !st.ok())
            Q_EMIT editFailed(qs(st.error().message));
        event->accept();
        return;
    }
    QGraphicsScene::mouseMoveEvent(event);
}

void GraphScene::mouseReleaseEvent(QGraphicsSceneMouseEvent *event)
{
    if (m_connect && event->button() == Qt::LeftButton) {
        finishConnect(event->scenePos());
        event->accept();
        return;
    }
    if (event->button() == Qt::LeftButton)
        m_move.reset();
    QGraphicsScene::mouseReleaseEvent(event);
}

void GraphScene::keyPressEvent(QKeyEvent *event)
{
    if (event->key() == Qt::Key_Escape && m_connect) {
        cancelConnect();
        event->accept();
        return;
    }
    if ((event->key() == Qt::Key_Delete || event->key() == Qt::Key_Backspace) && !focusItem()) {
        deleteSelection();
        event->accept();
        return;
    }
    QGraphicsScene::keyPressEvent(event);
}

void GraphScene::drawBackground(QPainter *painter, const QRectF &rect)
{
    const QPalette pal = palette();
    painter->fillRect(rect, gs::canvasColor(pal));
    const bool dark = gs::isDark(pal);
    const double scale = painter->worldTransform().m11();
    auto lines = [&](double step) {
        QVector<QLineF> out;
        const double left = std::floor(rect.left() / step) * step;
        const double top = std::floor(rect.top() / step) * step;
        for (double x = left; x <= rect.right(); x += step)
            out.append(QLineF(x, rect.top(), x, rect.bottom()));
        for (double y = top; y <= rect.bottom(); y += step)
            out.append(QLineF(rect.left(), y, rect.right(), y));
        return out;
    };
    painter->setRenderHint(QPainter::Antialiasing, false);
    if (gs::kGrid * scale >= 8.0) {
        painter->setPen(QPen(dark ? QColor(255, 255, 255, 9) : QColor(0, 0, 0, 11), 0));
        painter->drawLines(lines(gs::kGrid));
    }
    if (gs::kGrid * 5 * scale >= 8.0) {
        painter->setPen(QPen(dark ? QColor(255, 255, 255, 20) : QColor(0, 0, 0, 22), 0));
        painter->drawLines(lines(gs::kGrid * 5));
    }
}

} // namespace distillery::widgets
