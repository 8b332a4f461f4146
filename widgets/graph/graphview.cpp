#include "graph/graphview.h"

#include "graph/graphscene.h"
#include "graph/quickaddpopup.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QKeyEvent>
#include <QLineEdit>
#include <QMimeData>
#include <QMouseEvent>
#include <QScrollBar>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace distillery::widgets {

GraphView::GraphView(GraphScene *scene, QWidget *parent)
    : QGraphicsView(scene, parent)
    , m_scene(scene)
{
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing |
                   QPainter::SmoothPixmapTransform);
    setDragMode(QGraphicsView::RubberBandDrag);
    setRubberBandSelectionMode(Qt::IntersectsItemShape);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setResizeAnchor(QGraphicsView::AnchorViewCenter);
    // Whole-viewport repaints: the grid and the curves never leave trails, and scrollbars
    // (hidden: panning is by mouse) never flicker in and out.
    setViewportUpdateMode(QGraphicsView::FullViewportUpdate);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setFrameShape(QFrame::NoFrame);
    setAcceptDrops(true);
    setFocusPolicy(Qt::StrongFocus);
    setOptimizationFlag(QGraphicsView::DontSavePainterState, false);
    centerOn(0, 0);
}

double GraphView::zoom() const
{
    return transform().m11();
}

void GraphView::scaleBy(double factor)
{
    const double current = zoom();
    const double target = std::clamp(current * factor, kMinZoom, kMaxZoom);
    if (std::abs(target - current) < 1e-9)
        return;
    scale(target / current, target / current);
    Q_EMIT zoomChanged(target);
}

void GraphView::setZoom(double factor)
{
    const auto anchor = transformationAnchor();
    setTransformationAnchor(QGraphicsView::AnchorViewCenter);
    scaleBy(factor / zoom());
    setTransformationAnchor(anchor);
}

void GraphView::zoomIn()
{
    setZoom(zoom() * 1.25);
}

void GraphView::zoomOut()
{
    setZoom(zoom() / 1.25);
}

void GraphView::resetZoom()
{
    setZoom(1.0);
}

void GraphView::zoomToFit()
{
    const QRectF nodes = m_scene->nodesBoundingRect();
    if (nodes.isNull()) {
        resetZoom();
        centerOn(0, 0);
        return;
    }
    const QRectF target = nodes.adjusted(-40, -40, 40, 40);
    fitInView(target, Qt::KeepAspectRatio);
    const double z = zoom();
    if (z > 1.5 || z < kMinZoom) {
        const double clamped = std::clamp(z, kMinZoom, 1.5);
        setTransform(QTransform::fromScale(clamped, clamped));
    }
    centerOn(target.center());
    Q_EMIT zoomChanged(zoom());
}

void GraphView::showQuickAdd(QPointF scenePos)
{
    auto *popup = new QuickAddPopup(m_scene, scenePos, this);
    popup->setAttribute(Qt::WA_DeleteOnClose);
    popup->move(viewport()->mapToGlobal(mapFromScene(scenePos)));
    popup->show();
    popup->filterEdit()->setFocus();
}

void GraphView::wheelEvent(QWheelEvent *event)
{
    const QPoint delta = event->angleDelta();
    if (delta.y() == 0 || (event->modifiers() & Qt::ShiftModifier)) {
        // Horizontal wheels and shift+wheel pan sideways.
        horizontalScrollBar()->setValue(horizontalScrollBar()->value() -
                                        (delta.x() ? delta.x() : delta.y()) / 2);
        event->accept();
        return;
    }
    scaleBy(std::pow(1.0015, delta.y())); // one notch (120) ~ 1.2x
    event->accept();
}

void GraphView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::MiddleButton || (event->button() == Qt::LeftButton && m_spaceHeld)) {
        m_panning = true;
        m_lastPanPos = event->position().toPoint();
        updateCursor();
        event->accept();
        return;
    }
    QGraphicsView::mousePressEvent(event);
}

void GraphView::mouseMoveEvent(QMouseEvent *event)
{
    if (m_panning) {
        const QPoint pos = event->position().toPoint();
        const QPoint d = pos - m_lastPanPos;
        m_lastPanPos = pos;
        horizontalScrollBar()->setValue(horizontalScrollBar()->value() - d.x());
        verticalScrollBar()->setValue(verticalScrollBar()->value() - d.y());
        event->accept();
        return;
    }
    QGraphicsView::mouseMoveEvent(event);
}

void GraphView::mouseReleaseEvent(QMouseEvent *event)
{
    if (m_panning && (event->button() == Qt::MiddleButton || event->button() == Qt::LeftButton)) {
        m_panning = false;
        updateCursor();
        event->accept();
        return;
    }
    QGraphicsView::mouseReleaseEvent(event);
}

void GraphView::mouseDoubleClickEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton && !itemAt(event->position().toPoint())) {
        Q_EMIT quickAddRequested(mapToScene(event->position().toPoint()));
        event->accept();
        return;
    }
    QGraphicsView::mouseDoubleClickEvent(event);
}

void GraphView::keyPressEvent(QKeyEvent *event)
{
    if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
        m_spaceHeld = true;
        updateCursor();
        event->accept();
        return;
    }
    if (event->key() == Qt::Key_Space) {
        event->accept();
        return;
    }
    if ((event->key() == Qt::Key_F || event->key() == Qt::Key_Home) &&
        event->modifiers() == Qt::NoModifier && !m_scene->isConnecting()) {
        zoomToFit();
        event->accept();
        return;
    }
    QGraphicsView::keyPressEvent(event);
}

void GraphView::keyReleaseEvent(QKeyEvent *event)
{
    if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
        m_spaceHeld = false;
        updateCursor();
        event->accept();
        return;
    }
    QGraphicsView::keyReleaseEvent(event);
}

void GraphView::focusOutEvent(QFocusEvent *event)
{
    m_spaceHeld = false;
    updateCursor();
    QGraphicsView::focusOutEvent(event);
}

void GraphView::updateCursor()
{
    if (m_panning)
        viewport()->setCursor(Qt::ClosedHandCursor);
    else if (m_spaceHeld)
        viewport()->setCursor(Qt::OpenHandCursor);
    else
        viewport()->unsetCursor();
}

void GraphView::dragEnterEvent(QDragEnterEvent *event)
{
    if (event->mimeData()->hasFormat(QString::fromLatin1(kNodeKindMime))) {
        event->acceptProposedAction();
        return;
    }
    QGraphicsView::dragEnterEvent(event);
}

void GraphView::dragMoveEvent(QDragMoveEvent *event)
{
    if (event->mimeData()->hasFormat(QString::fromLatin1(kNodeKindMime))) {
        event->acceptProposedAction();
        return;
    }
    QGraphicsView::dragMoveEvent(event);
}

void GraphView::dragLeaveEvent(QDragLeaveEvent *event)
{
    QGraphicsView::dragLeaveEvent(event);
}

void GraphView::dropEvent(QDropEvent *event)
{
    const QString format = QString::fromLatin1(kNodeKindMime);
    if (!event->mimeData()->hasFormat(format)) {
        QGraphicsView::dropEvent(event);
        return;
    }
    const std::string kind =
        QString::fromUtf8(event->mimeData()->data(format)).trimmed().toStdString();
    const QPointF scenePos = mapToScene(event->position().toPoint());
    if (m_scene->addNodeAt(kind, scenePos).ok())
        event->acceptProposedAction();
    else
        event->ignore();
    setFocus();
}

} // namespace distillery::widgets
