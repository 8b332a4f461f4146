#pragma once

// The graph canvas: a QGraphicsScene that mirrors a GraphDocument. It builds its items from the
// document's graph and follows the document's signals; every user edit (move, connect, delete,
// paste, drop) goes through GraphDocument::requestXxx, so it is undoable and validated, and the
// items change only when the document says so.

#include "distillery/core/graph.h"

#include <QGraphicsItem>
#include <QGraphicsScene>
#include <QHash>
#include <QList>
#include <QMap>
#include <QPointF>

#include <optional>
#include <string>

namespace distillery::widgets {

class EdgeItem;
class GraphDocument;
class NodeItem;
class PortItem;

class GraphScene : public QGraphicsScene
{
    Q_OBJECT
public:
    explicit GraphScene(GraphDocument *document, QObject *parent = nullptr);
    ~GraphScene() override;

    GraphDocument *document() const { return m_doc; }

    // --- Items ----------------------------------------------------------------------------------
    NodeItem *nodeItem(core::NodeId id) const;
    EdgeItem *edgeItem(const core::Edge &edge) const;
    PortItem *portItem(core::NodeId id, const std::string &port, bool output) const;
    int nodeItemCount() const { return int(m_nodes.size()); }
    int edgeItemCount() const { return int(m_edges.size()); }
    // Where edges attach to a port, in scene coordinates (a null point if there is no such port).
    QPointF portScenePos(core::NodeId id, const std::string &port, bool output) const;

    // --- Connections ----------------------------------------------------------------------------
    // Whether the document would accept `edge` now (tried on a copy of the graph).
    bool canConnect(const core::Edge &edge) const;
    // True while the user drags a new connection from a port.
    bool isConnecting() const { return m_connect.has_value(); }

    // --- Selection and clipboard ----------------------------------------------------------------
    QList<core::NodeId> selectedNodeIds() const;
    QList<core::Edge> selectedEdges() const;
    // The single selected node, or kInvalidNode when none or several are selected.
    core::NodeId selectedNode() const;
    // The selected nodes and the edges between them as distillery.graph JSON ("" if none).
    std::string copySelection() const;
    // Pastes a copySelection() fragment so that its top-left node lands at `scenePos`; selects
    // the pasted nodes.
    core::Result<QList<core::NodeId>> pasteAt(QPointF scenePos, const std::string &json);
    // Adds a node of `kind` with its header centred near `scenePos` (drops, quick add).
    core::Result<core::NodeId> addNodeAt(const std::string &kind, QPointF scenePos);

    // --- Settings -------------------------------------------------------------------------------
    void setSnapToGrid(bool on) { m_snap = on; }
    bool snapToGrid() const { return m_snap; }
    QPointF snapped(QPointF p) const;
    // Bounding rectangle of the node cards (for zoom-to-fit), null if the graph is empty.
    QRectF nodesBoundingRect() const;

public Q_SLOTS:
    // Selects one node and centres it in the views (the problems panel uses it).
    void selectNode(distillery::core::NodeId id);
    // Removes the selected nodes and edges as one undo entry.
    void deleteSelection();
    // Rebuilds every item from the document's graph.
    void rebuild();

Q_SIGNALS:
    // The single selected node changed (kInvalidNode: none or several).
    void nodeSelectionChanged(distillery::core::NodeId id);
    // A request the document refused (a paste of only singletons, ...): for the status bar.
    void editFailed(const QString &message);

protected:
    void drawBackground(QPainter *painter, const QRectF &rect) override;
    void mousePressEvent(QGraphicsSceneMouseEvent *event) override;
    void mouseMoveEvent(QGraphicsSceneMouseEvent *event) override;
    void mouseReleaseEvent(QGraphicsSceneMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;

private:
    struct ConnectDrag
    {
        PortItem *anchor = nullptr;         // the fixed end
        std::optional<core::Edge> pickedUp; // an existing edge lifted off its input
        EdgeItem *temp = nullptr;
        PortItem *target = nullptr;
        QList<PortItem *> accepting;
        QPointF pressPos;
    };
    struct MoveDrag
    {
        QPointF pressPos;
        QMap<core::NodeId, QPointF> start;
        int gesture = 0;
        bool started = false;
    };

    void addNodeItem(core::NodeId id);
    void removeNodeItem(core::NodeId id);
    void addEdgeItem(const core::Edge &edge);
    void removeEdgeItem(const core::Edge &edge);
    void onNodeMoved(core::NodeId id, QPointF pos);
    void onNodeChanged(core::NodeId id);
    void refreshTexts();
    void updateEdgesOf(core::NodeId id);
    void updateEdgeGeometry(EdgeItem *edge);
    void updatePortConnections();
    void applyValidation();
    void onSelectionChanged();

    PortItem *portAt(QPointF scenePos) const;
    void beginConnect(PortItem *port, QPointF scenePos);
    void updateConnect(QPointF scenePos);
    void finishConnect(QPointF scenePos);
    void cancelConnect();
    core::Edge edgeBetween(PortItem *anchor, PortItem *other) const;

    GraphDocument *m_doc;
    QHash<core::NodeId, NodeItem *> m_nodes;
    QList<EdgeItem *> m_edges;
    std::optional<ConnectDrag> m_connect;
    std::optional<MoveDrag> m_move;
    bool m_snap = true;
    core::NodeId m_lastSelected = core::kInvalidNode;
};

} // namespace distillery::widgets
