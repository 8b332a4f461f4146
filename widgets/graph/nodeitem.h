#pragma once

// A node of the experiment graph as a card: a header coloured by the node kind with the title
// and the kind, the ports (inputs left, outputs right), up to three key parameters and a
// one-line summary (model size and FLOPs, loss formula and weight, run length...). Selected
// cards get a highlight outline, invalid ones a red outline with the messages as tooltip.
// The item only shows the document: the scene moves it when the document says so.

#include "distillery/core/graph.h"

#include <QGraphicsItem>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace distillery::widgets {

class PortItem;

class NodeItem : public QGraphicsItem
{
public:
    enum { Type = UserType + 0x0D50 };

    NodeItem(const core::Node &node, const core::NodeKindSpec *spec);

    int type() const override { return Type; }
    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

    core::NodeId nodeId() const { return m_id; }
    const std::string &kind() const { return m_kind; }
    QString title() const { return m_title; }
    QString summary() const { return m_summary; }
    QList<QPair<QString, QString>> keyParams() const { return m_params; }
    QRectF cardRect() const { return QRectF(0, 0, m_width, m_height); }

    PortItem *port(const std::string &name, bool output) const;
    const QList<PortItem *> &inputPorts() const { return m_inputs; }
    const QList<PortItem *> &outputPorts() const { return m_outputs; }
    QList<PortItem *> ports() const { return m_inputs + m_outputs; }

    // Re-reads title, parameters and summary from the graph (which also holds the Dataset and
    // Settings nodes the summary depends on).
    void refresh(const core::Graph &graph);

    // Validation messages about this node; empty = valid.
    void setIssues(const QStringList &messages);
    bool isMarkedInvalid() const { return !m_issues.isEmpty(); }
    QStringList issues() const { return m_issues; }

    // The one-line summary for a node of `graph` (public for tests and tooltips).
    static QString summaryFor(const core::Graph &graph, const core::Node &node);

protected:
    QVariant itemChange(GraphicsItemChange change, const QVariant &value) override;
    void hoverEnterEvent(QGraphicsSceneHoverEvent *event) override;
    void hoverLeaveEvent(QGraphicsSceneHoverEvent *event) override;

private:
    void layoutPorts();
    void updateToolTip();
    double paramsTop() const;
    bool paramsBesidePorts() const;

    core::NodeId m_id;
    std::string m_kind;
    const core::NodeKindSpec *m_spec;
    QString m_title;
    QString m_description;
    QList<QPair<QString, QString>> m_params;
    QString m_summary;
    QStringList m_issues;
    QList<PortItem *> m_inputs;
    QList<PortItem *> m_outputs;
    double m_width;
    double m_height = 0;
    bool m_hovered = false;
};

} // namespace distillery::widgets
