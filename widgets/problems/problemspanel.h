#pragma once

// The problems dock: every validation issue of the graph; clicking one selects its node.

#include "distillery/core/graph.h"

#include <QWidget>

class QListWidget;

namespace distillery::widgets {

class GraphDocument;

class ProblemsPanel : public QWidget
{
    Q_OBJECT
public:
    explicit ProblemsPanel(GraphDocument *document, QWidget *parent = nullptr);
    QListWidget *list() const { return m_list; }

Q_SIGNALS:
    void nodeActivated(distillery::core::NodeId node);

private:
    void refresh();
    GraphDocument *m_document;
    QListWidget *m_list = nullptr;
};

} // namespace distillery::widgets
