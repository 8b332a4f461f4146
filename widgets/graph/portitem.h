#pragma once

// One port of a node card: a small circle coloured by its port type, with its name beside it
// (inputs on the left edge, outputs on the right). Ports are children of their NodeItem; the
// scene starts a connection when one is pressed.

#include "distillery/core/graph.h"

#include <QGraphicsItem>
#include <QString>

namespace distillery::widgets {

class NodeItem;

class PortItem : public QGraphicsItem
{
public:
    enum { Type = UserType + 0x0D51 };

    PortItem(NodeItem *node, const core::PortSpec &spec, bool output);

    int type() const override { return Type; }
    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

    NodeItem *nodeItem() const { return m_node; }
    core::NodeId nodeId() const;
    const std::string &name() const { return m_name; }
    core::PortType portType() const { return m_type; }
    bool isOutput() const { return m_output; }
    bool acceptsMultiple() const { return m_multiple; }
    // Centre of the circle in scene coordinates: where edges attach.
    QPointF sceneAnchor() const;

    // Greyed out while a connection is dragged that this port cannot take.
    void setDimmed(bool dimmed);
    bool isDimmed() const { return m_dimmed; }
    // The port the loose end of a dragged connection snaps to.
    void setSnapTarget(bool target);
    bool isSnapTarget() const { return m_snapTarget; }
    void setConnected(bool connected);
    bool isConnected() const { return m_connected; }
    // A validation problem about this port (a required input left open); empty = none.
    void setIssue(const QString &message);
    bool hasIssue() const { return !m_issue.isEmpty(); }

protected:
    void hoverEnterEvent(QGraphicsSceneHoverEvent *event) override;
    void hoverLeaveEvent(QGraphicsSceneHoverEvent *event) override;

private:
    void updateToolTip();
    QRectF labelRect() const;

    NodeItem *m_node;
    std::string m_name;
    core::PortType m_type;
    bool m_output;
    bool m_required;
    bool m_multiple;
    QString m_description;
    QString m_issue;
    bool m_dimmed = false;
    bool m_snapTarget = false;
    bool m_connected = false;
    bool m_hovered = false;
};

} // namespace distillery::widgets
