#include "graph/edgeitem.h"

#include "graph/graphstyle.h"

#include <QGraphicsScene>
#include <QPainter>
#include <QPainterPathStroker>
#include <QStyleOptionGraphicsItem>

#include <algorithm>
#include <cmath>

namespace distillery::widgets {

namespace {
constexpr double kHitWidth = 14.0;
}

EdgeItem::EdgeItem(const core::Edge &edge, core::PortType type)
    : m_edge(edge)
    , m_type(type)
{
    setFlag(ItemIsSelectable);
    setAcceptHoverEvents(true);
    setZValue(-1); // behind every node
    m_label = QStringLiteral("%1.%2 \u2192 %3.%4")
                  .arg(edge.fromNode)
                  .arg(QString::fromStdString(edge.fromPort))
                  .arg(edge.toNode)
                  .arg(QString::fromStdString(edge.toPort));
    updateToolTip();
}

EdgeItem::EdgeItem(core::PortType type)
    : m_type(type)
{
    setZValue(5); // a connection being dragged stays visible over the cards
    setAcceptedMouseButtons(Qt::NoButton);
}

void EdgeItem::setEndpoints(QPointF outputEnd, QPointF inputEnd)
{
    if (outputEnd == m_from && inputEnd == m_to && !m_path.isEmpty())
        return;
    prepareGeometryChange();
    m_from = outputEnd;
    m_to = inputEnd;
    rebuildPath();
}

void EdgeItem::rebuildPath()
{
    // Horizontal tangents at both ends; the handles grow with the distance so that backward
    // edges (input left of the output) loop round instead of cutting through the cards.
    const double dx = m_to.x() - m_from.x();
    const double dy = std::abs(m_to.y() - m_from.y());
    double handle = std::max(50.0, std::abs(dx) * 0.5);
    if (dx < 0)
        handle = std::max(handle, std::min(200.0, 60.0 + dy * 0.3 + std::abs(dx) * 0.25));
    QPainterPath path(m_from);
    path.cubicTo(m_from + QPointF(handle, 0), m_to - QPointF(handle, 0), m_to);
    m_path = path;
    QPainterPathStroker stroker;
    stroker.setWidth(kHitWidth);
    stroker.setCapStyle(Qt::RoundCap);
    m_hitShape = stroker.createStroke(m_path);
}

QRectF EdgeItem::boundingRect() const
{
    return m_hitShape.boundingRect().adjusted(-2, -2, 2, 2);
}

QPainterPath EdgeItem::shape() const
{
    return m_hitShape;
}

void EdgeItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    painter->setRenderHint(QPainter::Antialiasing);
    const QPalette pal = scene() ? scene()->palette() : QPalette();
    QColor colour = graphstyle::portColor(m_type);
    const bool invalid = !m_issue.isEmpty();
    if (invalid)
        colour = graphstyle::invalidColor();
    double width = 2.2;
    if (m_hovered)
        width += 1.0;
    if (isSelected()) {
        // A halo in the highlight colour under the curve.
        QColor halo = pal.color(QPalette::Highlight);
        halo.setAlpha(150);
        painter->setPen(QPen(halo, width + 5, Qt::SolidLine, Qt::RoundCap));
        painter->setBrush(Qt::NoBrush);
        painter->drawPath(m_path);
    }
    QPen pen(colour, width, invalid ? Qt::DashLine : Qt::SolidLine, Qt::RoundCap);
    if (isTemporary()) {
        pen.setStyle(Qt::DashLine);
        pen.setDashPattern({4, 3});
    }
    painter->setPen(pen);
    painter->setBrush(Qt::NoBrush);
    painter->drawPath(m_path);
}

void EdgeItem::setIssue(const QString &message)
{
    if (m_issue == message)
        return;
    m_issue = message;
    updateToolTip();
    update();
}

void EdgeItem::setLabel(const QString &label)
{
    m_label = label;
    updateToolTip();
}

void EdgeItem::updateToolTip()
{
    if (isTemporary())
        return;
    setToolTip(m_issue.isEmpty() ? m_label : m_label + QStringLiteral("\n") + m_issue);
}

void EdgeItem::hoverEnterEvent(QGraphicsSceneHoverEvent *)
{
    m_hovered = true;
    update();
}

void EdgeItem::hoverLeaveEvent(QGraphicsSceneHoverEvent *)
{
    m_hovered = false;
    update();
}

} // namespace distillery::widgets
