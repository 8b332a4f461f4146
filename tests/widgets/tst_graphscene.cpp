// The graph canvas: the scene mirrors the document (also through undo/redo), a mouse drag of
// nodes is one undo entry, connections are made by dragging between ports (incompatible ports
// are dimmed and refused), Delete removes a selection in one undo entry, invalid nodes are
// marked, palette drops add nodes, and the classic-kd template renders to a screenshot.

#include "document/graphdocument.h"
#include "graph/edgeitem.h"
#include "graph/graphscene.h"
#include "graph/graphstyle.h"
#include "graph/graphview.h"
#include "graph/modelfactscache.h"
#include "graph/nodeitem.h"
#include "graph/portitem.h"
#include "graph/quickaddpopup.h"

#include "distillery/core/models.h"

#include <QApplication>
#include <QDir>
#include <QImage>
#include <QListWidget>
#include <QMimeData>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <QUndoStack>

using namespace distillery;
using core::Edge;
using core::NodeId;
using widgets::GraphDocument;
using widgets::GraphScene;
using widgets::GraphView;

namespace {

NodeId firstOf(const GraphDocument &doc, const char *kind)
{
    auto nodes = doc.graph().nodesOfKind(kind);
    return nodes.empty() ? core::kInvalidNode : nodes.front()->id;
}

NodeId byTitle(const GraphDocument &doc, const char *title)
{
    for (const auto &n : doc.graph().nodes())
        if (n.title == title)
            return n.id;
    return core::kInvalidNode;
}

bool hasEdge(const GraphDocument &doc, const Edge &e)
{
    const auto &all = doc.graph().edges();
    return std::find(all.begin(), all.end(), e) != all.end();
}

// The classic-kd template into the document; the reason when it cannot be loaded (empty when
// it was).
QString loadClassic(GraphDocument &doc)
{
    auto graph = core::loadTemplate("classic-kd");
    if (!graph.ok())
        return QString::fromStdString(graph.error().message);
    doc.reset(graph.value());
    return {};
}

// A shown view over the scene, large enough for the template at zoom 1.
struct Canvas
{
    explicit Canvas(GraphScene *scene)
        : view(scene)
    {
        view.resize(1400, 800);
        view.show();
        QApplication::setActiveWindow(&view);
        view.setFocus();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.resetZoom();
        view.centerOn(QPointF(600, 250));
    }
    QPoint at(QPointF scenePos) const { return view.mapFromScene(scenePos); }
    void mouse(QEvent::Type type, QPointF scenePos, Qt::MouseButton button,
               Qt::MouseButtons buttons, Qt::KeyboardModifiers mods = Qt::NoModifier)
    {
        const QPointF local = at(scenePos);
        QMouseEvent ev(type, local, view.viewport()->mapToGlobal(local), button, buttons, mods);
        QApplication::sendEvent(view.viewport(), &ev);
    }
    void press(QPointF p, Qt::KeyboardModifiers mods = Qt::NoModifier)
    {
        mouse(QEvent::MouseButtonPress, p, Qt::LeftButton, Qt::LeftButton, mods);
    }
    void move(QPointF p) { mouse(QEvent::MouseMove, p, Qt::NoButton, Qt::LeftButton); }
    void release(QPointF p) { mouse(QEvent::MouseButtonRelease, p, Qt::LeftButton, Qt::NoButton); }
    // Press, move in a few steps, release: what a user's drag sends.
    void drag(QPointF from, QPointF to, int steps = 5)
    {
        press(from);
        for (int i = 1; i <= steps; ++i)
            move(from + (to - from) * (double(i) / steps));
        release(to);
    }
    GraphView view;
};

QPointF headerOf(GraphScene &scene, NodeId id)
{
    auto *item = scene.nodeItem(id);
    return item->scenePos() + QPointF(40, widgets::graphstyle::kHeaderHeight / 2);
}

} // namespace

class tst_GraphScene : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void mirrorsDocument()
    {
        GraphDocument doc;
        GraphScene scene(&doc);
        QCOMPARE(scene.nodeItemCount(), 0);
        QCOMPARE(loadClassic(doc), QString());
        QCOMPARE(scene.nodeItemCount(), int(doc.graph().nodes().size()));
        QCOMPARE(scene.edgeItemCount(), int(doc.graph().edges().size()));
        QCOMPARE(scene.nodeItemCount(), 8);
        QCOMPARE(scene.edgeItemCount(), 9);
        for (const auto &n : doc.graph().nodes()) {
            auto *item = scene.nodeItem(n.id);
            QVERIFY(item);
            QCOMPARE(item->pos(), QPointF(n.x, n.y));
        }
        for (const auto &e : doc.graph().edges())
            QVERIFY(scene.edgeItem(e));

        // Add, connect, remove; then undo and redo all of it.
        auto proj = doc.requestAddNode("Projection", {300, 600});
        QVERIFY(proj.ok());
        QCOMPARE(scene.nodeItemCount(), 9);
        QVERIFY(scene.nodeItem(proj.value()));
        const Edge hidden{firstOf(doc, "Student"), "hidden", proj.value(), "hidden"};
        QVERIFY(doc.requestConnect(hidden).ok());
        QCOMPARE(scene.edgeItemCount(), 10);
        QVERIFY(scene.edgeItem(hidden));
        // The edge starts and ends at the ports.
        QCOMPARE(scene.edgeItem(hidden)->outputEnd(),
                 scene.portScenePos(hidden.fromNode, "hidden", true));
        QCOMPARE(scene.edgeItem(hidden)->inputEnd(),
                 scene.portScenePos(proj.value(), "hidden", false));
        QVERIFY(doc.requestRemoveNodes({firstOf(doc, "Student")}).ok());
        QCOMPARE(scene.nodeItemCount(), 8);
        QCOMPARE(scene.edgeItemCount(), 6); // 1->3, 3->4, 3->5 and 3->proj went with the student
        QVERIFY(!scene.edgeItem(hidden));

        doc.undoStack()->undo();
        QCOMPARE(scene.nodeItemCount(), 9);
        QCOMPARE(scene.edgeItemCount(), 10);
        doc.undoStack()->undo();
        QCOMPARE(scene.edgeItemCount(), 9);
        doc.undoStack()->undo();
        QCOMPARE(scene.nodeItemCount(), 8);
        QVERIFY(!scene.nodeItem(proj.value()));
        doc.undoStack()->redo();
        doc.undoStack()->redo();
        doc.undoStack()->redo();
        QCOMPARE(scene.nodeItemCount(), int(doc.graph().nodes().size()));
        QCOMPARE(scene.edgeItemCount(), int(doc.graph().edges().size()));

        // A moved node follows the document (and its edges follow the node).
        const NodeId loss = byTitle(doc, "kd");
        QVERIFY(doc.requestMoveNodes({{loss, QPointF(600, 300)}}).ok());
        QCOMPARE(scene.nodeItem(loss)->pos(), QPointF(600, 300));
        const Edge kdToSum{loss, "loss", byTitle(doc, "sum"), "terms"};
        QCOMPARE(scene.edgeItem(kdToSum)->outputEnd(), scene.portScenePos(loss, "loss", true));

        // Reset rebuilds.
        doc.reset(core::Graph{});
        QCOMPARE(scene.nodeItemCount(), 0);
        QCOMPARE(scene.edgeItemCount(), 0);
    }

    void cardsShowSummaries()
    {
        GraphDocument doc;
        GraphScene scene(&doc);
        QCOMPARE(loadClassic(doc), QString());
        const NodeId student = firstOf(doc, "Student");
        core::ModelShape shape{64, 1, 64, 4, 256, 64}; // vocab from the dataset, seq_len 64
        QCOMPARE(scene.nodeItem(student)->summary(),
                 QString::fromStdString(core::describeModel(shape, 64)));
        QVERIFY(scene.nodeItem(student)->summary().contains("params"));
        QVERIFY(scene.nodeItem(firstOf(doc, "Settings"))
                    ->summary()
                    .startsWith(QString::fromUtf8("300 × 16 × 64")));
        const QString kd = scene.nodeItem(byTitle(doc, "kd"))->summary();
        QVERIFY2(kd.contains("0.9") && kd.contains("KL") && kd.contains("2"), qPrintable(kd));
        QVERIFY(!scene.nodeItem(byTitle(doc, "ce"))->summary().contains(QString::fromUtf8("τ")));
        QVERIFY(scene.nodeItem(firstOf(doc, "Optimizer"))->summary().contains("3e-3"));
        QCOMPARE(scene.nodeItem(byTitle(doc, "kd"))->title(), QString("kd"));
        QVERIFY(scene.nodeItem(student)->keyParams().size() >= 1);
        QVERIFY(scene.nodeItem(student)->keyParams().size() <= 3);

        // Byte-level corpora have 256 tokens; a longer seq_len changes the FLOPs; the cards of
        // other nodes follow.
        QVERIFY(doc.requestSetParam(firstOf(doc, "Dataset"), "source", std::string("text")).ok());
        QVERIFY(doc.requestSetParam(firstOf(doc, "Settings"), "seq_len", std::int64_t(128)).ok());
        shape.vocab = 256;
        shape.maxLen = 128;
        QCOMPARE(scene.nodeItem(student)->summary(),
                 QString::fromStdString(core::describeModel(shape, 128)));
        // Renaming shows the new title.
        QVERIFY(doc.requestRename(student, "tiny").ok());
        QCOMPARE(scene.nodeItem(student)->title(), QString("tiny"));
    }

    // A file-backed Teacher's card shows what the file holds, read off the GUI thread.
    void fileTeacherCardsShowTheFile()
    {
        QTemporaryDir dir;
        QFile config(dir.filePath("config.json"));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write(R"({"model_type": "gpt2", "vocab_size": 64, "n_positions": 128, "n_embd": 48,
                         "n_layer": 3, "n_head": 4, "activation_function": "gelu_new"})");
        config.close();
        GraphDocument doc;
        GraphScene scene(&doc);
        QCOMPARE(loadClassic(doc), QString());
        const NodeId teacher = firstOf(doc, "Teacher");
        QVERIFY(doc.requestSetParam(teacher, "source", std::string("hf")).ok());
        QCOMPARE(scene.nodeItem(teacher)->summary(), QString("no file chosen"));
        QVERIFY(doc.requestSetParam(teacher, "path", dir.path().toStdString()).ok());
        QVERIFY(widgets::ModelFactsCache::instance().lookup(dir.path()).state
                != widgets::ModelFactsCache::State::Failed);
        widgets::ModelFactsCache::instance().waitForReads();
        // GPT-2's parameters for V 64, 128 positions, d 48, 3 blocks, FFN 4d, tied head.
        const int D = 48, F = 4 * 48;
        const int params = 64 * D + 128 * D + 3 * (4 * D + 3 * D * D + 3 * D + D * D + D + 2 * D * F + F + D) + 2 * D;
        QCOMPARE(params, 94128);
        QVERIFY2(scene.nodeItem(teacher)->summary().startsWith("94.1k params, "), qPrintable(scene.nodeItem(teacher)->summary()));
        const auto rows = scene.nodeItem(teacher)->keyParams();
        QVERIFY(std::any_of(rows.begin(), rows.end(), [](const QPair<QString, QString> &r) {
            return r.second == QString::fromUtf8("3 layers · d 48 · 4 heads");
        }));
        // A file that is not a model.
        QFile junk(dir.filePath("junk.pt"));
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write("not a model");
        junk.close();
        QVERIFY(doc.requestSetParam(teacher, "source", std::string("checkpoint")).ok());
        QVERIFY(doc.requestSetParam(teacher, "path", dir.filePath("junk.pt").toStdString()).ok());
        widgets::ModelFactsCache::instance().waitForReads();
        QCOMPARE(scene.nodeItem(teacher)->summary(), QString("cannot read the file"));
    }

    void dragMovesNodesAsOneUndoEntry()
    {
        GraphDocument doc;
        GraphScene scene(&doc);
        QCOMPARE(loadClassic(doc), QString());
        Canvas canvas(&scene);
        const NodeId teacher = firstOf(doc, "Teacher");
        const NodeId student = firstOf(doc, "Student");
        const QPointF teacherStart(doc.graph().node(teacher)->x, doc.graph().node(teacher)->y);
        const QPointF studentStart(doc.graph().node(student)->x, doc.graph().node(student)->y);
        const int before = doc.undoStack()->count();

        // Select both (click, ctrl+click), then drag the teacher's header.
        canvas.press(headerOf(scene, teacher));
        canvas.release(headerOf(scene, teacher));
        canvas.press(headerOf(scene, student), Qt::ControlModifier);
        canvas.mouse(QEvent::MouseButtonRelease, headerOf(scene, student), Qt::LeftButton,
                     Qt::NoButton, Qt::ControlModifier);
        QCOMPARE(scene.selectedNodeIds().size(), 2);

        const QPointF from = headerOf(scene, teacher);
        canvas.drag(from, from + QPointF(63, 41), 8);
        QCOMPARE(doc.undoStack()->count(), before + 1);
        // Snapped to the 20 px grid; both selected nodes moved by the same amount.
        QCOMPARE(QPointF(doc.graph().node(teacher)->x, doc.graph().node(teacher)->y),
                 teacherStart + QPointF(60, 40));
        QCOMPARE(QPointF(doc.graph().node(student)->x, doc.graph().node(student)->y),
                 studentStart + QPointF(60, 40));
        QCOMPARE(scene.nodeItem(teacher)->pos(), teacherStart + QPointF(60, 40));
        QCOMPARE(scene.selectedNodeIds().size(), 2); // a drag keeps the selection

        // A second drag is a second entry; undo brings the first position back.
        canvas.drag(headerOf(scene, teacher), headerOf(scene, teacher) + QPointF(-40, 0));
        QCOMPARE(doc.undoStack()->count(), before + 2);
        doc.undoStack()->undo();
        doc.undoStack()->undo();
        QCOMPARE(scene.nodeItem(teacher)->pos(), teacherStart);
        QCOMPARE(scene.nodeItem(student)->pos(), studentStart);

        // Without snapping the node lands exactly where it was dragged.
        scene.setSnapToGrid(false);
        canvas.drag(headerOf(scene, teacher), headerOf(scene, teacher) + QPointF(13, 7));
        QCOMPARE(scene.nodeItem(teacher)->pos(), teacherStart + QPointF(13, 7));
    }

    void connectByDraggingPorts()
    {
        GraphDocument doc;
        GraphScene scene(&doc);
        const NodeId data = doc.requestAddNode("Dataset", {0, 0}).value();
        const NodeId student = doc.requestAddNode("Student", {400, 0}).value();
        const NodeId loss = doc.requestAddNode("Loss", {400, 260}).value();
        Canvas canvas(&scene);
        const int before = doc.undoStack()->count();

        // Forward: output -> input, released a few pixels off the port (it snaps).
        canvas.drag(scene.portScenePos(data, "tokens", true),
                    scene.portScenePos(student, "tokens", false) + QPointF(6, -5));
        const Edge tokens{data, "tokens", student, "tokens"};
        QVERIFY(hasEdge(doc, tokens));
        QVERIFY(scene.edgeItem(tokens));
        QCOMPARE(doc.undoStack()->count(), before + 1);
        QVERIFY(!scene.isConnecting());

        // Reverse: from the loss's labels input to the dataset's labels output.
        canvas.drag(scene.portScenePos(loss, "labels", false),
                    scene.portScenePos(data, "labels", true));
        QVERIFY(hasEdge(doc, Edge{data, "labels", loss, "labels"}));
        QCOMPARE(doc.undoStack()->count(), before + 2);

        // Released on empty canvas: nothing.
        canvas.drag(scene.portScenePos(student, "logits", true), QPointF(900, 700));
        QCOMPARE(doc.undoStack()->count(), before + 2);
        QCOMPARE(scene.edgeItemCount(), 2);
    }

    void incompatiblePortIsDimmedAndRefused()
    {
        GraphDocument doc;
        GraphScene scene(&doc);
        const NodeId data = doc.requestAddNode("Dataset", {0, 0}).value();
        const NodeId student = doc.requestAddNode("Student", {400, 0}).value();
        const NodeId loss = doc.requestAddNode("Loss", {400, 260}).value();
        Canvas canvas(&scene);
        const int before = doc.undoStack()->count();

        // Labels cannot go into the student's tokens input.
        const QPointF from = scene.portScenePos(data, "labels", true);
        const QPointF to = scene.portScenePos(student, "tokens", false);
        QVERIFY(!scene.canConnect(Edge{data, "labels", student, "tokens"}));
        canvas.press(from);
        canvas.move(from + QPointF(30, 10));
        canvas.move(to);
        QVERIFY(scene.isConnecting());
        QVERIFY(scene.portItem(student, "tokens", false)->isDimmed());
        QVERIFY(!scene.portItem(student, "tokens", false)->isSnapTarget());
        QVERIFY(!scene.portItem(loss, "labels", false)->isDimmed()); // a valid target stays lit
        QVERIFY(scene.portItem(loss, "student", false)->isDimmed());
        QVERIFY(scene.portItem(student, "logits", true)->isDimmed()); // outputs cannot take it
        canvas.release(to);

        QVERIFY(!scene.isConnecting());
        QCOMPARE(doc.undoStack()->count(), before);
        QVERIFY(doc.graph().edges().empty());
        QCOMPARE(scene.edgeItemCount(), 0);
        QVERIFY(!scene.portItem(student, "tokens", false)->isDimmed()); // back to normal
        // 3 cards with 2 + 3 + 6 ports and no temporary curve left behind.
        QCOMPARE(scene.items().size(), 3 + 2 + 3 + 6);
    }

    void dragOffConnectedInputDetaches()
    {
        GraphDocument doc;
        GraphScene scene(&doc);
        QCOMPARE(loadClassic(doc), QString());
        Canvas canvas(&scene);
        const NodeId kd = byTitle(doc, "kd");
        const NodeId ce = byTitle(doc, "ce");
        const Edge teacherLogits{firstOf(doc, "Teacher"), "logits", kd, "teacher"};
        QVERIFY(hasEdge(doc, teacherLogits));
        const int before = doc.undoStack()->count();

        // Lift the edge off kd.teacher and drop it on ce.teacher: one "Reconnect" entry.
        canvas.drag(scene.portScenePos(kd, "teacher", false),
                    scene.portScenePos(ce, "teacher", false));
        QVERIFY(!hasEdge(doc, teacherLogits));
        QVERIFY(hasEdge(doc, Edge{teacherLogits.fromNode, "logits", ce, "teacher"}));
        QCOMPARE(doc.undoStack()->count(), before + 1);
        doc.undoStack()->undo();
        QVERIFY(hasEdge(doc, teacherLogits));
        QVERIFY(scene.edgeItem(teacherLogits)->isVisible());

        // Dropped on empty canvas, it is removed.
        canvas.drag(scene.portScenePos(kd, "teacher", false), QPointF(700, 650));
        QVERIFY(!hasEdge(doc, teacherLogits));
        QVERIFY(!scene.edgeItem(teacherLogits));

        // A plain click on a connected input changes nothing.
        const Edge studentLogits{firstOf(doc, "Student"), "logits", kd, "student"};
        const int count = doc.undoStack()->count();
        canvas.press(scene.portScenePos(kd, "student", false));
        canvas.release(scene.portScenePos(kd, "student", false));
        QVERIFY(hasEdge(doc, studentLogits));
        QCOMPARE(doc.undoStack()->count(), count);
    }

    void deleteRemovesSelectionInOneEntry()
    {
        GraphDocument doc;
        GraphScene scene(&doc);
        QCOMPARE(loadClassic(doc), QString());
        Canvas canvas(&scene);
        const NodeId student = firstOf(doc, "Student");
        const Edge ceToSum{byTitle(doc, "ce"), "loss", byTitle(doc, "sum"), "terms"};
        scene.nodeItem(student)->setSelected(true);
        scene.edgeItem(ceToSum)->setSelected(true);
        QCOMPARE(scene.selectedNodeIds(), QList<NodeId>{student});
        QCOMPARE(scene.selectedEdges().size(), 1);
        const int before = doc.undoStack()->count();

        QTest::keyClick(&canvas.view, Qt::Key_Delete);
        QCOMPARE(doc.undoStack()->count(), before + 1);
        QVERIFY(!doc.graph().node(student));
        QVERIFY(!hasEdge(doc, ceToSum));
        QCOMPARE(scene.nodeItemCount(), 7);
        QCOMPARE(scene.edgeItemCount(), 9 - 3 - 1);
        doc.undoStack()->undo();
        QCOMPARE(scene.nodeItemCount(), 8);
        QCOMPARE(scene.edgeItemCount(), 9);
    }

    void rubberBandSelects()
    {
        GraphDocument doc;
        GraphScene scene(&doc);
        QCOMPARE(loadClassic(doc), QString());
        Canvas canvas(&scene);
        // A band around the two loss nodes only (x 560..780, y 0..~300).
        canvas.drag(QPointF(540, -30), QPointF(800, 310), 6);
        const auto ids = scene.selectedNodeIds();
        QVERIFY2(ids.contains(byTitle(doc, "ce")) && ids.contains(byTitle(doc, "kd")),
                 qPrintable(QString::number(ids.size())));
        QVERIFY(!ids.contains(firstOf(doc, "Student")));
    }

    void invalidNodesAreMarked()
    {
        GraphDocument doc;
        GraphScene scene(&doc);
        const NodeId student = doc.requestAddNode("Student", {0, 0}).value();
        QVERIFY(!doc.issuesOf(student).empty()); // its tokens input is required
        QVERIFY(scene.nodeItem(student)->isMarkedInvalid());
        QVERIFY(scene.nodeItem(student)->toolTip().contains("tokens"));
        QVERIFY(scene.portItem(student, "tokens", false)->hasIssue());

        const NodeId data = doc.requestAddNode("Dataset", {-300, 0}).value();
        QVERIFY(doc.requestConnect(Edge{data, "tokens", student, "tokens"}).ok());
        QVERIFY(!scene.portItem(student, "tokens", false)->hasIssue());
        for (const auto &n : doc.graph().nodes())
            QCOMPARE(scene.nodeItem(n.id)->isMarkedInvalid(), !doc.issuesOf(n.id).empty());

        // A valid template shows no marks; an out-of-range value marks its node.
        QCOMPARE(loadClassic(doc), QString());
        for (const auto &n : doc.graph().nodes())
            QCOMPARE(scene.nodeItem(n.id)->isMarkedInvalid(), !doc.issuesOf(n.id).empty());
        const NodeId kd = byTitle(doc, "kd");
        QVERIFY(!scene.nodeItem(kd)->isMarkedInvalid());
        QVERIFY(doc.requestDisconnect(
                       Edge{firstOf(doc, "Dataset"), "tokens", firstOf(doc, "Student"), "tokens"})
                    .ok());
        QVERIFY(scene.nodeItem(firstOf(doc, "Student"))->isMarkedInvalid());
        doc.undoStack()->undo();
        QVERIFY(!scene.nodeItem(firstOf(doc, "Student"))->isMarkedInvalid());
    }

    void dropAddsNode()
    {
        GraphDocument doc;
        GraphScene scene(&doc);
        Canvas canvas(&scene);
        const QPointF scenePos(300, 200);
        auto *mime = new QMimeData;
        mime->setData(GraphView::kNodeKindMime, QByteArray("Projection"));
        const QPointF local = canvas.at(scenePos);
        QDragEnterEvent enter(local.toPoint(), Qt::CopyAction, mime, Qt::LeftButton,
                              Qt::NoModifier);
        QApplication::sendEvent(canvas.view.viewport(), &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(local, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(canvas.view.viewport(), &drop);
        QCOMPARE(doc.graph().nodes().size(), size_t(1));
        const auto &node = doc.graph().nodes().front();
        QCOMPARE(node.kind, std::string("Projection"));
        QCOMPARE(scene.nodeItemCount(), 1);
        QVERIFY(scene.nodeItem(node.id)->sceneBoundingRect().contains(scenePos));
        QCOMPARE(scene.selectedNode(), node.id);
        delete mime;
    }

    void selectionClipboardAndQuickAdd()
    {
        GraphDocument doc;
        GraphScene scene(&doc);
        QCOMPARE(loadClassic(doc), QString());
        QSignalSpy selection(&scene, &GraphScene::nodeSelectionChanged);
        const NodeId kd = byTitle(doc, "kd");
        scene.selectNode(kd);
        QCOMPARE(scene.selectedNode(), kd);
        QCOMPARE(selection.count(), 1);
        QCOMPARE(selection.last().at(0).value<NodeId>(), kd);

        scene.nodeItem(byTitle(doc, "ce"))->setSelected(true);
        QCOMPARE(scene.selectedNode(), core::kInvalidNode);
        const std::string json = scene.copySelection();
        QVERIFY(!json.empty());
        auto pasted = scene.pasteAt(QPointF(1000, 600), json);
        QVERIFY(pasted.ok());
        QCOMPARE(pasted.value().size(), 2);
        QCOMPARE(scene.nodeItemCount(), 10);
        QCOMPARE(scene.selectedNodeIds().size(), 2);
        double minX = 1e9, minY = 1e9;
        for (NodeId id : pasted.value()) {
            minX = std::min(minX, doc.graph().node(id)->x);
            minY = std::min(minY, doc.graph().node(id)->y);
        }
        QCOMPARE(QPointF(minX, minY), QPointF(1000, 600));

        // Quick add: the filter finds kinds by description too; singletons present are off.
        widgets::QuickAddPopup popup(&scene, QPointF(0, 700));
        popup.setFilter("adapter");
        QCOMPARE(popup.visibleKinds(), QStringList{"Projection"});
        QVERIFY(popup.accept());
        QCOMPARE(doc.graph().nodesOfKind("Projection").size(), size_t(1));
        widgets::QuickAddPopup second(&scene, QPointF(0, 900));
        second.setFilter("Settings");
        QCOMPARE(second.visibleKinds(), QStringList{"Settings"});
        QVERIFY(!second.accept()); // the graph has its one Settings node
        QCOMPARE(doc.graph().nodesOfKind("Settings").size(), size_t(1));
    }

    void zoomIsClamped()
    {
        GraphDocument doc;
        GraphScene scene(&doc);
        QCOMPARE(loadClassic(doc), QString());
        Canvas canvas(&scene);
        canvas.view.setZoom(10);
        QCOMPARE(canvas.view.zoom(), GraphView::kMaxZoom);
        canvas.view.setZoom(0.01);
        QCOMPARE(canvas.view.zoom(), GraphView::kMinZoom);
        canvas.view.zoomToFit();
        const QRectF visible =
            canvas.view.mapToScene(canvas.view.viewport()->rect()).boundingRect();
        QVERIFY(visible.contains(scene.nodesBoundingRect()));
        QSignalSpy quickAdd(&canvas.view, &GraphView::quickAddRequested);
        const QPointF empty(700, 520);
        QVERIFY(!canvas.view.itemAt(canvas.at(empty)));
        canvas.mouse(QEvent::MouseButtonDblClick, empty, Qt::LeftButton, Qt::LeftButton);
        QCOMPARE(quickAdd.count(), 1);
    }

    void screenshot()
    {
        GraphDocument doc;
        GraphScene scene(&doc);
        QCOMPARE(loadClassic(doc), QString());
        // One invalid node, so the screenshot shows the problem marking too.
        QVERIFY(doc.requestAddNode("Projection", {560, 420}, "adapter").ok());
        GraphView view(&scene);
        view.resize(1400, 800);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.zoomToFit();
        const QImage image = view.grab().toImage();
        QCOMPARE(image.size(), QSize(1400, 800));
        const QString path = QDir::temp().filePath("distillery-canvas.png");
        QVERIFY(image.save(path));
        qInfo("screenshot: %s", qPrintable(path));
        // The picture has the canvas colour and the cards' colours, not one flat fill.
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 7)
            for (int x = 0; x < image.width(); x += 7)
                colours.insert(image.pixel(x, y));
        QVERIFY(colours.size() > 50);

        // The same canvas on a dark palette.
        QPalette dark;
        dark.setColor(QPalette::Window, QColor(0x2b, 0x2d, 0x31));
        dark.setColor(QPalette::WindowText, QColor(0xe0, 0xe0, 0xe0));
        dark.setColor(QPalette::Base, QColor(0x23, 0x25, 0x28));
        dark.setColor(QPalette::Text, QColor(0xe0, 0xe0, 0xe0));
        dark.setColor(QPalette::Highlight, QColor(0x3d, 0x8e, 0xe6));
        scene.setPalette(dark);
        scene.selectNode(byTitle(doc, "kd"));
        view.zoomToFit();
        const QString darkPath = QDir::temp().filePath("distillery-canvas-dark.png");
        QVERIFY(view.grab().save(darkPath));
        qInfo("screenshot: %s", qPrintable(darkPath));

        // Mid-drag from the dataset's labels: incompatible ports are dimmed, the curve follows.
        const NodeId data = firstOf(doc, "Dataset");
        auto send = [&](QEvent::Type type, QPointF scenePos, Qt::MouseButton b,
                        Qt::MouseButtons bs) {
            const QPointF local = view.mapFromScene(scenePos);
            QMouseEvent ev(type, local, view.viewport()->mapToGlobal(local), b, bs, Qt::NoModifier);
            QApplication::sendEvent(view.viewport(), &ev);
        };
        const QPointF from = scene.portScenePos(data, "labels", true);
        send(QEvent::MouseButtonPress, from, Qt::LeftButton, Qt::LeftButton);
        send(QEvent::MouseMove, from + QPointF(200, 280), Qt::NoButton, Qt::LeftButton);
        QVERIFY(scene.isConnecting());
        const QString dragPath = QDir::temp().filePath("distillery-canvas-drag.png");
        QVERIFY(view.grab().save(dragPath));
        qInfo("screenshot: %s", qPrintable(dragPath));
        send(QEvent::MouseButtonRelease, from + QPointF(200, 280), Qt::LeftButton, Qt::NoButton);
        QVERIFY(!scene.isConnecting());
    }
};

QTEST_MAIN(tst_GraphScene)
#include "tst_graphscene.moc"
