#pragma once

// The view of the graph canvas: wheel zoom around the cursor (0.2x-3x), panning with the
// middle button or space+drag, rubber-band selection, zoom to fit, a quick-add request on
// double-click of empty canvas, and drops of node kinds from the palette.

#include <QGraphicsView>
#include <QPointF>

namespace distillery::widgets {

class GraphScene;

class GraphView : public QGraphicsView
{
    Q_OBJECT
public:
    // MIME type the palette drags; the data is the node kind's name in UTF-8.
    static constexpr const char *kNodeKindMime = "application/x-distillery-node-kind";
    static constexpr double kMinZoom = 0.2;
    static constexpr double kMaxZoom = 3.0;

    explicit GraphView(GraphScene *scene, QWidget *parent = nullptr);

    GraphScene *graphScene() const { return m_scene; }
    double zoom() const;
    // Sets the zoom factor (clamped) around the view's centre.
    void setZoom(double factor);

public Q_SLOTS:
    // Fits every node in the view with a margin (never zooming in past 1.5x).
    void zoomToFit();
    void zoomIn();
    void zoomOut();
    void resetZoom();
    // Shows the searchable node popup at a scene position (what double-click asks for).
    void showQuickAdd(QPointF scenePos);

Q_SIGNALS:
    // Double-click on empty canvas: the main window (or showQuickAdd) offers node kinds here.
    void quickAddRequested(QPointF scenePos);
    void zoomChanged(double factor);

protected:
    void wheelEvent(QWheelEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void keyReleaseEvent(QKeyEvent *event) override;
    void focusOutEvent(QFocusEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dragMoveEvent(QDragMoveEvent *event) override;
    void dragLeaveEvent(QDragLeaveEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void scaleBy(double factor);
    void updateCursor();

    GraphScene *m_scene;
    bool m_spaceHeld = false;
    bool m_panning = false;
    QPoint m_lastPanPos;
};

} // namespace distillery::widgets
