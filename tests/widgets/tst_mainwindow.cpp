// The workbench end to end, as a user drives it: build the classic-kd graph from an empty
// canvas by dropping palette entries and dragging between ports, set parameters in the
// inspector, run it, and see the plots receive points; Run is disabled while the graph is
// invalid; a malformed graph file opens nothing.

#include "document/graphdocument.h"
#include "graph/graphscene.h"
#include "graph/graphview.h"
#include "inspector/inspector.h"
#include "mainwindow/mainwindow.h"
#include "palette/nodepalette.h"
#include "plots/metricplot.h"
#include "plots/plotpanel.h"
#include "training/trainingcontroller.h"

#include <QAction>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QMimeData>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QUndoStack>
#include <QtTest>

using namespace distillery;
using core::NodeId;
using widgets::MainWindow;

class tst_MainWindow : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    // Drops the palette's entry for `kind` onto the canvas at a scene position.
    NodeId drop(MainWindow &w, const QString &kind, QPointF scenePos)
    {
        QTreeWidget *tree = w.palette()->tree();
        const auto found = tree->findItems(kind, Qt::MatchExactly | Qt::MatchRecursive);
        if (found.isEmpty())
            return core::kInvalidNode;
        QMimeData *mime = tree->model()->mimeData({tree->indexFromItem(found.front())});
        if (!mime)
            return core::kInvalidNode;
        QWidget *viewport = w.view()->viewport();
        const QPoint local = w.view()->mapFromScene(scenePos);
        QDragEnterEvent enter(local, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(viewport, &enter);
        QDropEvent dropEvent(QPointF(local), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(viewport, &dropEvent);
        delete mime;
        return w.scene()->selectedNode();
    }

    void mouse(MainWindow &w, QEvent::Type type, QPointF scenePos, Qt::MouseButton button,
               Qt::MouseButtons buttons)
    {
        QWidget *viewport = w.view()->viewport();
        const QPointF local = w.view()->mapFromScene(scenePos);
        QMouseEvent ev(type, local, viewport->mapToGlobal(local), button, buttons, Qt::NoModifier);
        QApplication::sendEvent(viewport, &ev);
    }

    // Drags from an output port to an input port with the mouse.
    void wire(MainWindow &w, NodeId from, const char *out, NodeId to, const char *in)
    {
        const QPointF a = w.scene()->portScenePos(from, out, true);
        const QPointF b = w.scene()->portScenePos(to, in, false);
        mouse(w, QEvent::MouseButtonPress, a, Qt::LeftButton, Qt::LeftButton);
        for (int i = 1; i <= 6; ++i)
            mouse(w, QEvent::MouseMove, a + (b - a) * (i / 6.0), Qt::NoButton, Qt::LeftButton);
        mouse(w, QEvent::MouseButtonRelease, b, Qt::LeftButton, Qt::NoButton);
    }

    // Selects a node and sets a parameter through its inspector editor. Returns what went
    // wrong (empty when it worked), for the test to check.
    QString set(MainWindow &w, NodeId node, const char *param, const QVariant &value)
    {
        w.scene()->selectNode(node);
        if (w.inspector()->node() != node)
            return QStringLiteral("the inspector does not show node %1").arg(node);
        QWidget *editor = w.inspector()->editor(param);
        if (!editor)
            return QStringLiteral("no editor for %1").arg(param);
        if (auto *spin = qobject_cast<QSpinBox *>(editor))
            spin->setValue(value.toInt());
        else if (auto *dspin = qobject_cast<QDoubleSpinBox *>(editor))
            dspin->setValue(value.toDouble());
        else if (auto *combo = qobject_cast<QComboBox *>(editor))
            combo->setCurrentText(value.toString());
        else
            return QStringLiteral("%1 has an editor of an unknown kind").arg(param);
        return {};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
    }

    void buildByHandThenRun()
    {
        MainWindow w;
        w.resize(1600, 1000);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setStorePath(m_dir.filePath("gui.sqlite"));
        w.document()->reset(core::Graph());
        QVERIFY(!w.runAction()->isEnabled());
        QVERIFY(!w.runAction()->toolTip().isEmpty());
        w.view()->setZoom(0.6);
        w.view()->centerOn(QPointF(550, 180));

        const NodeId data = drop(w, "Dataset", {0, 150});
        const NodeId teacher = drop(w, "Teacher", {280, 0});
        const NodeId student = drop(w, "Student", {280, 300});
        const NodeId ce = drop(w, "Loss", {600, -40});
        const NodeId kd = drop(w, "Loss", {600, 260});
        const NodeId sum = drop(w, "Combine", {900, 150});
        const NodeId opt = drop(w, "Optimizer", {1150, 150});
        const NodeId settings = drop(w, "Settings", {0, 450});
        for (NodeId id : {data, teacher, student, ce, kd, sum, opt, settings})
            QVERIFY(id != core::kInvalidNode);
        QCOMPARE(int(w.document()->graph().nodes().size()), 8);
        QCOMPARE(w.document()->undoStack()->count(), 8);

        wire(w, data, "tokens", teacher, "tokens");
        wire(w, data, "tokens", student, "tokens");
        wire(w, student, "logits", ce, "student");
        wire(w, data, "labels", ce, "labels");
        wire(w, student, "logits", kd, "student");
        wire(w, teacher, "logits", kd, "teacher");
        wire(w, ce, "loss", sum, "terms");
        wire(w, kd, "loss", sum, "terms");
        wire(w, sum, "loss", opt, "loss");
        QCOMPARE(int(w.document()->graph().edges().size()), 9);

        QCOMPARE(set(w, ce, "kind", "cross-entropy"), QString());
        QCOMPARE(set(w, kd, "temperature", 2.0), QString());
        QCOMPARE(set(w, settings, "steps", 20), QString());
        QCOMPARE(set(w, settings, "batch_size", 4), QString());
        QCOMPARE(set(w, settings, "seq_len", 16), QString());
        QCOMPARE(set(w, settings, "eval_interval", 10), QString());
        QCOMPARE(set(w, settings, "threads", 1), QString());
        QCOMPARE(set(w, data, "vocab", 16), QString());
        QCOMPARE(set(w, data, "hidden_states", 8), QString());
        QCOMPARE(set(w, data, "train_sequences", 64), QString());
        QCOMPARE(set(w, data, "validation_sequences", 8), QString());
        QCOMPARE(set(w, teacher, "train_steps", 5), QString());
        QCOMPARE(set(w, teacher, "d_model", 16), QString());
        QCOMPARE(set(w, teacher, "ffn", 32), QString());
        QCOMPARE(set(w, teacher, "heads", 2), QString());
        QCOMPARE(set(w, teacher, "layers", 1), QString());
        QCOMPARE(set(w, student, "d_model", 8), QString());
        QCOMPARE(set(w, student, "ffn", 16), QString());
        QCOMPARE(set(w, student, "heads", 2), QString());
        QCOMPARE(w.document()->graph().paramString(ce, "kind"), std::string("cross-entropy"));
        QCOMPARE(w.document()->graph().paramInt(settings, "steps"), std::int64_t(20));
        QVERIFY2(w.document()->isValid(),
                 w.document()->issues().empty() ? "" : w.document()->issues().front().message.c_str());
        QVERIFY(w.runAction()->isEnabled());

        QSignalSpy finished(w.controller(), &widgets::TrainingController::runFinished);
        QSignalSpy points(w.plots(), &widgets::PlotPanel::pointsAdded);
        w.runAction()->trigger();
        QVERIFY(finished.wait(180000));
        QCOMPARE(finished.front().at(1).toString(), QString("finished"));
        w.plots()->refresh();
        QVERIFY(points.count() > 0);
        QVERIFY(w.plots()->plot("loss")->seriesCount() > 0);
        QVERIFY(w.plots()->plot("eval")->seriesCount() > 0);

        const QString shot = m_dir.filePath("window.png");
        QVERIFY(w.saveScreenshot(shot));
        QVERIFY(QImage(shot).width() > 800);
    }

    // Until a store is chosen, runs go to a store beside the graph file.
    void storeFollowsTheGraphFile()
    {
        MainWindow w;
        const QString graph = m_dir.filePath("experiment.json");
        QVERIFY(core::saveGraphFile(core::loadTemplate("taid").value(), graph.toStdString()).ok());
        QString error;
        QVERIFY2(w.openGraph(graph, &error), qPrintable(error));
        QCOMPARE(w.storePath(), m_dir.filePath("experiment-runs.sqlite"));
        const QString chosen = m_dir.filePath("chosen.sqlite");
        w.setStorePath(chosen);
        QVERIFY(w.openGraph(graph, &error));
        QCOMPARE(w.storePath(), chosen);
    }

    void malformedFileOpensNothing()
    {
        MainWindow w;
        const auto before = w.document()->graph().nodes().size();
        QFile bad(m_dir.filePath("broken.json"));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("{\"format\": \"distillery.graph\", \"version\": 1, \"nodes\": [{\"id\": ");
        bad.close();
        QString error;
        QVERIFY(!w.openGraph(bad.fileName(), &error));
        QVERIFY2(error.contains("broken.json"), qPrintable(error));
        QCOMPARE(w.document()->graph().nodes().size(), before);
        QVERIFY(w.document()->filePath().isEmpty());
    }
};

QTEST_MAIN(tst_MainWindow)
#include "tst_mainwindow.moc"
