#include "graph/portitem.h"

#include "graph/graphstyle.h"
#include "graph/nodeitem.h"

#include <QCursor>
#include <QFontMetricsF>
#include <QGraphicsScene>
#include <QObject>
#include <QPainter>

namespace distillery::widgets {

namespace {
constexpr double kLabelWidth = 96.0;
constexpr double kHitRadius = 9.0;
} // namespace

PortItem::PortItem(NodeItem *node, const core::PortSpec &spec, bool output)
    : QGraphicsItem(node)
    , m_node(node)
    , m_name(spec.name)
    , m_type(spec.type)
    , m_output(output)
    , m_required(spec.required)
    , m_multiple(spec.multiple)
    , m_description(QString::fromStdString(spec.description))
{
    setAcceptHoverEvents(true);
    setCursor(Qt::CrossCursor);
    setZValue(1);
    updateToolTip();
}

core::NodeId PortItem::nodeId() const
{
    return m_node->nodeId();
}

QPointF PortItem::sceneAnchor() const
{
    return scenePos();
}

QRectF PortItem::labelRect() const
{
    const double h = graphstyle::kPortRow;
    return m_output ? QRectF(-kLabelWidth - 10, -h / 2, kLabelWidth, h)
                    : QRectF(10, -h / 2, kLabelWidth, h);
}

QRectF PortItem::boundingRect() const
{
    const double r = kHitRadius + 2;
    return QRectF(-r, -r, 2 * r, 2 * r).united(labelRect());
}

QPainterPath PortItem::shape() const
{
    // The circle with a generous margin, plus the label: easy to grab at any zoom.
    QPainterPath path;
    path.addEllipse(QPointF(0, 0), kHitRadius, kHitRadius);
    path.addRect(labelRect().adjusted(0, 2, 0, -2));
    return path;
}

void PortItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    const QPalette pal = scene() ? scene()->palette() : QPalette();
    const QColor colour = graphstyle::portColor(m_type);
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setOpacity(m_dimmed ? 0.22 : 1.0);

    double r = graphstyle::kPortRadius;
    if (m_hovered || m_snapTarget)
        r += 1.5;
    if (m_snapTarget) {
        QColor halo = colour;
        halo.setAlpha(90);
        painter->setPen(Qt::NoPen);
        painter->setBrush(halo);
        painter->drawEllipse(QPointF(0, 0), r + 5, r + 5);
    }
    const QColor card = graphstyle::cardColor(pal);
    painter->setPen(QPen(m_issue.isEmpty() ? colour.darker(130) : graphstyle::invalidColor(),
                         m_issue.isEmpty() ? 1.4 : 2.2));
    // Connected ports are filled; open ones are rings (the card shows through).
    painter->setBrush(m_connected || m_snapTarget ? QBrush(colour) : QBrush(card));
    painter->drawEllipse(QPointF(0, 0), r, r);
    if (!m_connected && !m_snapTarget) {
        painter->setPen(Qt::NoPen);
        painter->setBrush(colour);
        painter->drawEllipse(QPointF(0, 0), r * 0.38, r * 0.38);
    }

    QFont font = painter->font();
    font.setPointSizeF(8.0);
    if (m_required && !m_output)
        font.setBold(true);
    painter->setFont(font);
    painter->setPen(m_issue.isEmpty() ? graphstyle::cardTextColor(pal)
                                      : graphstyle::invalidColor());
    QString label = QString::fromStdString(m_name);
    if (m_multiple)
        label += QStringLiteral(" \u2217"); // accepts several edges
    const QRectF rect = labelRect();
    const QString text = QFontMetricsF(font).elidedText(label, Qt::ElideRight, rect.width());
    painter->drawText(rect, Qt::AlignVCenter | (m_output ? Qt::AlignRight : Qt::AlignLeft), text);
}

void PortItem::setDimmed(bool dimmed)
{
    if (m_dimmed == dimmed)
        return;
    m_dimmed = dimmed;
    update();
}

void PortItem::setSnapTarget(bool target)
{
    if (m_snapTarget == target)
        return;
    m_snapTarget = target;
    update();
}

void PortItem::setConnected(bool connected)
{
    if (m_connected == connected)
        return;
    m_connected = connected;
    update();
}

void PortItem::setIssue(const QString &message)
{
    if (m_issue == message)
        return;
    m_issue = message;
    updateToolTip();
    update();
}

void PortItem::updateToolTip()
{
    QString tip = QStringLiteral("<b>%1</b> %2 &middot; %3")
                      .arg(QString::fromStdString(m_name),
                           m_output ? QObject::tr("output") : QObject::tr("input"),
                           QString::fromStdString(core::portTypeName(m_type)));
    if (m_required)
        tip += QObject::tr(" &middot; required");
    if (m_multiple)
        tip += QObject::tr(" &middot; takes several");
    if (!m_description.isEmpty())
        tip += QStringLiteral("<br>") + m_description.toHtmlEscaped();
    if (!m_issue.isEmpty())
        tip += QStringLiteral("<br><span style='color:#e53935'>%1</span>")
                   .arg(m_issue.toHtmlEscaped());
    setToolTip(tip);
}

void PortItem::hoverEnterEvent(QGraphicsSceneHoverEvent *)
{
    m_hovered = true;
    update();
}

void PortItem::hoverLeaveEvent(QGraphicsSceneHoverEvent *)
{
    m_hovered = false;
    update();
}

} // namespace distillery::widgets
