#pragma once

// A connection drawn as a cubic Bezier from an output port to an input port, coloured by the
// port type and drawn behind the nodes. Its shape is a wide invisible stroke so that a thin
// curve is still easy to click. Without an edge (the scene's connection being dragged) it is
// a temporary curve between two free points.

#include "distillery/core/graph.h"

#include <QColor>
#include <QGraphicsItem>
#include <QPainterPath>

#include <optional>

namespace distillery::widgets {

class EdgeItem : public QGraphicsItem
{
public:
    enum { Type = UserType + 0x0D52 };

    // A real edge of the document.
    EdgeItem(const core::Edge &edge, core::PortType type);
    // The temporary curve of a connection being dragged.
    explicit EdgeItem(core::PortType type);

    int type() const override { return Type; }
    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

    bool isTemporary() const { return !m_edge.has_value(); }
    const core::Edge &edge() const { return *m_edge; }
    core::PortType portType() const { return m_type; }

    // Output end first, input end second (a reverse drag passes the mouse as the output end).
    void setEndpoints(QPointF outputEnd, QPointF inputEnd);
    QPointF outputEnd() const { return m_from; }
    QPointF inputEnd() const { return m_to; }
    QPainterPath path() const { return m_path; }

    // The tooltip's first line ("node 1 (Dataset 'data') .tokens -> ...").
    void setLabel(const QString &label);
    // Red with the messages as tooltip when validation mentions this edge.
    void setIssue(const QString &message);
    bool isMarkedInvalid() const { return !m_issue.isEmpty(); }

protected:
    void hoverEnterEvent(QGraphicsSceneHoverEvent *event) override;
    void hoverLeaveEvent(QGraphicsSceneHoverEvent *event) override;

private:
    void rebuildPath();
    void updateToolTip();

    std::optional<core::Edge> m_edge;
    core::PortType m_type;
    QPointF m_from, m_to;
    QPainterPath m_path;
    QPainterPath m_hitShape;
    QString m_label;
    QString m_issue;
    bool m_hovered = false;
};

} // namespace distillery::widgets
