#pragma once

// The node palette dock: node kinds by category (drag onto the canvas, or double-click to add
// at the centre of the view) and the built-in templates (double-click to open one).

#include <QWidget>

class QLineEdit;
class QTreeWidget;
class QTreeWidgetItem;

namespace distillery::widgets {

// Mime type of a node kind dragged from the palette; the data is the kind's name in UTF-8.
inline constexpr const char *kNodeKindMime = "application/x-distillery-node-kind";

class NodePalette : public QWidget
{
    Q_OBJECT
public:
    explicit NodePalette(QWidget *parent = nullptr);
    QTreeWidget *tree() const { return m_tree; }
    // Shows only entries whose name or description contains `text`.
    void setFilter(const QString &text);

Q_SIGNALS:
    void addNodeRequested(const QString &kind);
    void templateRequested(const QString &name);

private:
    QLineEdit *m_search = nullptr;
    QTreeWidget *m_tree = nullptr;
};

} // namespace distillery::widgets
