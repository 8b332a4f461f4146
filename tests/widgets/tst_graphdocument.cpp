// GraphDocument: every edit is one undo entry that succeeds whole or changes nothing; the
// signals a scene mirrors; validation after every change; clipboard and files.

#include "document/graphdocument.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QUndoStack>
#include <QtTest>

using namespace distillery;
using core::Edge;
using core::NodeId;
using widgets::GraphDocument;

namespace {

NodeId firstOf(const GraphDocument &doc, const char *kind)
{
    auto nodes = doc.graph().nodesOfKind(kind);
    return nodes.empty() ? core::kInvalidNode : nodes.front()->id;
}

bool hasEdge(const GraphDocument &doc, const Edge &e)
{
    const auto &all = doc.graph().edges();
    return std::find(all.begin(), all.end(), e) != all.end();
}

} // namespace

class tst_GraphDocument : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void addUndoRedo()
    {
        GraphDocument doc;
        QSignalSpy added(&doc, &GraphDocument::nodeAdded);
        QSignalSpy removed(&doc, &GraphDocument::nodeRemoved);
        QSignalSpy modified(&doc, &GraphDocument::modifiedChanged);
        auto id = doc.requestAddNode("Student", {10, 20});
        QVERIFY(id.ok());
        QCOMPARE(added.count(), 1);
        QCOMPARE(added.at(0).at(0).value<NodeId>(), id.value());
        QCOMPARE(doc.undoStack()->count(), 1);
        QVERIFY(doc.isModified());
        QCOMPARE(modified.count(), 1);
        QCOMPARE(doc.graph().node(id.value())->x, 10.0);

        doc.undoStack()->undo();
        QCOMPARE(removed.count(), 1);
        QVERIFY(!doc.graph().node(id.value()));
        QVERIFY(!doc.isModified());
        doc.undoStack()->redo();
        QCOMPARE(added.count(), 2);
        QVERIFY(doc.graph().node(id.value())); // the same id comes back
    }

    void refusedEditsChangeNothing()
    {
        GraphDocument doc;
        QVERIFY(doc.requestAddNode("Settings", {}).ok());
        QSignalSpy added(&doc, &GraphDocument::nodeAdded);
        auto second = doc.requestAddNode("Settings", {});
        QVERIFY(!second.ok());
        QVERIFY2(second.error().message.find("Settings") != std::string::npos,
                 second.error().message.c_str());
        auto unknown = doc.requestAddNode("Teachr", {});
        QVERIFY(!unknown.ok());
        QVERIFY(unknown.error().message.find("Teachr") != std::string::npos);
        QCOMPARE(added.count(), 0);
        QCOMPARE(doc.undoStack()->count(), 1);

        const NodeId settings = firstOf(doc, "Settings");
        auto bad = doc.requestSetParam(settings, "steps", std::string("many"));
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().message.find("steps") != std::string::npos, bad.error().message.c_str());
        QVERIFY(!doc.requestSetParam(settings, "no_such_param", 1.0).ok());
        QVERIFY(!doc.requestSetParam(999, "steps", std::int64_t(5)).ok());
        QCOMPARE(doc.undoStack()->count(), 1);
    }

    void connectChecksPortsAndUndoes()
    {
        GraphDocument doc;
        const NodeId data = doc.requestAddNode("Dataset", {}).value();
        const NodeId student = doc.requestAddNode("Student", {}).value();
        const NodeId loss = doc.requestAddNode("Loss", {}).value();
        QSignalSpy edgeAdded(&doc, &GraphDocument::edgeAdded);
        QSignalSpy edgeRemoved(&doc, &GraphDocument::edgeRemoved);

        // Labels into a Logits port: refused with the reason, nothing changes.
        auto wrong = doc.requestConnect({data, "labels", loss, "student"});
        QVERIFY(!wrong.ok());
        QVERIFY2(wrong.error().message.find("Logits") != std::string::npos, wrong.error().message.c_str());
        QCOMPARE(edgeAdded.count(), 0);

        const Edge e{student, "logits", loss, "student"};
        QVERIFY(doc.requestConnect({data, "tokens", student, "tokens"}).ok());
        QVERIFY(doc.requestConnect(e).ok());
        QCOMPARE(edgeAdded.count(), 2);
        QCOMPARE(edgeAdded.last().at(0).value<Edge>(), e);
        // A second edge into the single-input port is refused.
        const NodeId other = doc.requestAddNode("Teacher", {}).value();
        QVERIFY(!doc.requestConnect({other, "logits", loss, "student"}).ok());

        const int entries = doc.undoStack()->count();
        QVERIFY(doc.requestDisconnect(e).ok());
        QCOMPARE(doc.undoStack()->count(), entries + 1);
        QVERIFY(!hasEdge(doc, e));
        QCOMPARE(edgeRemoved.count(), 1);
        doc.undoStack()->undo();
        QVERIFY(hasEdge(doc, e));
        QCOMPARE(edgeAdded.count(), 3);
        QVERIFY(!doc.requestDisconnect({data, "tokens", loss, "student"}).ok());
    }

    // Deleting a node removes its edges in the same undo entry; undo restores all of it.
    void deleteIsOneMacro()
    {
        GraphDocument doc;
        doc.reset(core::loadTemplate("classic-kd").value());
        const NodeId student = firstOf(doc, "Student");
        const auto edgesBefore = doc.graph().edges();
        const auto touching = doc.graph().edgesInto(student).size() + doc.graph().edgesFrom(student).size();
        QVERIFY(touching >= 3);

        QStringList order;
        connect(&doc, &GraphDocument::edgeRemoved, this, [&](const Edge &) { order << "edge"; });
        connect(&doc, &GraphDocument::nodeRemoved, this, [&](NodeId) { order << "node"; });
        QVERIFY(doc.requestRemoveNodes({student}).ok());
        QCOMPARE(doc.undoStack()->count(), 1);
        QVERIFY(!doc.graph().node(student));
        QCOMPARE(order.size(), int(touching) + 1);
        QCOMPARE(order.last(), QString("node")); // views never see an edge to a missing node

        doc.undoStack()->undo();
        QVERIFY(doc.graph().node(student));
        QCOMPARE(doc.graph().edges().size(), edgesBefore.size());
        for (const auto &e : edgesBefore)
            QVERIFY(hasEdge(doc, e));
        doc.undoStack()->redo();
        QVERIFY(!doc.graph().node(student));
    }

    void dragIsOneUndoEntry()
    {
        GraphDocument doc;
        const NodeId a = doc.requestAddNode("Student", {0, 0}).value();
        const NodeId b = doc.requestAddNode("Dataset", {100, 0}).value();
        QSignalSpy moved(&doc, &GraphDocument::nodeMoved);
        for (int i = 1; i <= 10; ++i)
            QVERIFY(doc.requestMoveNodes({{a, QPointF(i, 2 * i)}, {b, QPointF(100 + i, 0)}}, 7).ok());
        QCOMPARE(doc.undoStack()->count(), 3);
        QCOMPARE(moved.count(), 20);
        QCOMPARE(doc.graph().node(a)->x, 10.0);
        doc.undoStack()->undo();
        QCOMPARE(doc.graph().node(a)->x, 0.0);
        QCOMPARE(doc.graph().node(b)->x, 100.0);
        doc.undoStack()->redo();
        QCOMPARE(doc.graph().node(a)->y, 20.0);
        // Another drag is another entry.
        QVERIFY(doc.requestMoveNodes({{a, QPointF(50, 50)}}, 8).ok());
        QCOMPARE(doc.undoStack()->count(), 4);
        // Not moving is not an edit.
        QVERIFY(doc.requestMoveNodes({{a, QPointF(50, 50)}}, 9).ok());
        QCOMPARE(doc.undoStack()->count(), 4);
    }

    void paramsAndTitles()
    {
        GraphDocument doc;
        const NodeId loss = doc.requestAddNode("Loss", {}).value();
        QSignalSpy changed(&doc, &GraphDocument::nodeChanged);
        QVERIFY(doc.requestSetParam(loss, "temperature", 3.0).ok());
        QCOMPARE(doc.graph().paramFloat(loss, "temperature"), 3.0);
        QCOMPARE(changed.count(), 1);
        // Setting the same value again is no edit.
        QVERIFY(doc.requestSetParam(loss, "temperature", 3.0).ok());
        QCOMPARE(doc.undoStack()->count(), 2);
        doc.undoStack()->undo();
        // Back to "unset": the default applies and the file will not mention it.
        QVERIFY(!doc.graph().node(loss)->params.count("temperature"));
        QCOMPARE(doc.graph().paramFloat(loss, "temperature"), 1.0);

        QVERIFY(doc.requestSetParam(loss, "kind", std::string("reverse-kl")).ok());
        QVERIFY(doc.requestResetParam(loss, "kind").ok());
        QCOMPARE(doc.graph().paramString(loss, "kind"), std::string("forward-kl"));
        doc.undoStack()->undo();
        QCOMPARE(doc.graph().paramString(loss, "kind"), std::string("reverse-kl"));

        QVERIFY(doc.requestRename(loss, "kd").ok());
        QCOMPARE(doc.graph().node(loss)->title, std::string("kd"));
        doc.undoStack()->undo();
        QCOMPARE(doc.graph().node(loss)->title, std::string());
    }

    void validationFollowsEveryEdit()
    {
        GraphDocument doc;
        QVERIFY(!doc.isValid()); // empty graph: no Dataset, Student, ...
        QSignalSpy validation(&doc, &GraphDocument::validationChanged);
        doc.reset(core::loadTemplate("classic-kd").value());
        QVERIFY(doc.isValid());
        QVERIFY(validation.count() >= 1);

        const NodeId optimizer = firstOf(doc, "Optimizer");
        QVERIFY(doc.requestRemoveNodes({optimizer}).ok());
        QVERIFY(!doc.isValid());
        bool named = false;
        for (const auto &issue : doc.issues())
            named = named || issue.message.find("Optimizer") != std::string::npos;
        QVERIFY(named);
        doc.undoStack()->undo();
        QVERIFY(doc.isValid());

        // An out-of-range value is kept (the inspector shows it) and reported on its parameter.
        const NodeId settings = firstOf(doc, "Settings");
        QVERIFY(doc.requestSetParam(settings, "steps", std::int64_t(-5)).ok());
        QVERIFY(!doc.isValid());
        QCOMPARE(doc.issuesOf(settings).front().param, std::string("steps"));
        doc.undoStack()->undo();
        QVERIFY(doc.isValid());

        // A port left open is reported on its node.
        const NodeId kd = [&] {
            for (const auto *n : doc.graph().nodesOfKind("Loss"))
                if (n->title == "kd")
                    return n->id;
            return core::kInvalidNode;
        }();
        const Edge teacherEdge = doc.graph().edgesInto(kd, "teacher").front();
        QVERIFY(doc.requestDisconnect(teacherEdge).ok());
        auto issues = doc.issuesOf(kd);
        QVERIFY(!issues.empty());
        QCOMPARE(issues.front().port, std::string("teacher"));
    }

    void copyPasteWithFreshIds()
    {
        GraphDocument doc;
        doc.reset(core::loadTemplate("classic-kd").value());
        QList<NodeId> all;
        for (const auto &n : doc.graph().nodes())
            all << n.id;
        QList<NodeId> losses;
        for (const auto *n : doc.graph().nodesOfKind("Loss"))
            losses << n->id;
        const NodeId combine = firstOf(doc, "Combine");
        const std::string clip = doc.copyFragment(losses + QList<NodeId>{combine});
        const auto nodesBefore = doc.graph().nodes().size();
        const auto edgesBefore = doc.graph().edges().size();

        auto pasted = doc.requestPaste(clip, {40, 40});
        QVERIFY2(pasted.ok(), pasted.ok() ? "" : pasted.error().message.c_str());
        QCOMPARE(pasted.value().size(), 3);
        for (NodeId id : pasted.value())
            QVERIFY(!all.contains(id));
        QCOMPARE(doc.graph().nodes().size(), nodesBefore + 3);
        // The two loss -> combine edges come along; edges to nodes not copied do not.
        QCOMPARE(doc.graph().edges().size(), edgesBefore + 2);
        const auto *copy = doc.graph().node(pasted.value().front());
        const auto *original = doc.graph().node(losses.front());
        QCOMPARE(copy->x, original->x + 40);
        QCOMPARE(copy->params, original->params);
        QCOMPARE(doc.undoStack()->count(), 1);
        doc.undoStack()->undo();
        QCOMPARE(doc.graph().nodes().size(), nodesBefore);
        QCOMPARE(doc.graph().edges().size(), edgesBefore);

        // Pasting the whole graph skips the kinds a graph takes once.
        auto whole = doc.requestPaste(doc.copyFragment(all), {0, 300});
        QVERIFY(whole.ok());
        QCOMPARE(doc.graph().nodesOfKind("Settings").size(), std::size_t(1));
        QCOMPARE(doc.graph().nodesOfKind("Teacher").size(), std::size_t(2));

        QVERIFY(!doc.requestPaste("not json", {}).ok());
    }

    void filesAndModifiedState()
    {
        QTemporaryDir dir;
        GraphDocument doc;
        QSignalSpy modified(&doc, &GraphDocument::modifiedChanged);
        QSignalSpy reset(&doc, &GraphDocument::graphReset);
        doc.reset(core::loadTemplate("gkd").value());
        QCOMPARE(reset.count(), 1);
        QVERIFY(doc.requestAddNode("Projection", {}).ok());
        QVERIFY(doc.isModified());
        const QString path = dir.filePath("g.json");
        QVERIFY(doc.save(path).ok());
        QVERIFY(!doc.isModified());
        QCOMPARE(doc.filePath(), path);

        GraphDocument other;
        QVERIFY(other.open(path).ok());
        QCOMPARE(other.graph().nodes().size(), doc.graph().nodes().size());
        QCOMPARE(other.undoStack()->count(), 0);

        // A malformed file opens nothing and says which file.
        QFile bad(dir.filePath("bad.json"));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("{\"format\": \"distillery.graph\", \"version\": 99, \"nodes\": []}");
        bad.close();
        auto st = other.open(bad.fileName());
        QVERIFY(!st.ok());
        QVERIFY2(st.error().message.find("bad.json") != std::string::npos, st.error().message.c_str());
        QCOMPARE(other.filePath(), path);
        QCOMPARE(other.graph().nodes().size(), doc.graph().nodes().size());
    }
};

QTEST_GUILESS_MAIN(tst_GraphDocument)
#include "tst_graphdocument.moc"
