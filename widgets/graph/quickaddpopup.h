#pragma once

// A small searchable list of node kinds: type to filter by kind name, category or description,
// Enter (or a click) adds the chosen kind at the position the popup was opened for.

#include <QFrame>
#include <QPointF>

class QLineEdit;
class QListWidget;
class QListWidgetItem;

namespace distillery::widgets {

class GraphScene;

class QuickAddPopup : public QFrame
{
    Q_OBJECT
public:
    QuickAddPopup(GraphScene *scene, QPointF scenePos, QWidget *parent = nullptr);

    QLineEdit *filterEdit() const { return m_filter; }
    QListWidget *list() const { return m_list; }
    // Kinds shown for the current filter, in palette order.
    QStringList visibleKinds() const;

public Q_SLOTS:
    void setFilter(const QString &text);
    // Adds the current kind and closes; returns whether a node was added.
    bool accept();

Q_SIGNALS:
    void nodeAdded(int nodeId);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    GraphScene *m_scene;
    QPointF m_scenePos;
    QLineEdit *m_filter;
    QListWidget *m_list;
};

} // namespace distillery::widgets
