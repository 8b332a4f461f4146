// The inspector: editors that follow the document (also through undo), type-fitting editors,
// and the loss inspector agreeing with core's inspectLoss.

#include "ensure.h"
#include "document/graphdocument.h"
#include "inspector/inspector.h"

#include "distillery/core/losses.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QSpinBox>
#include <QUndoStack>
#include <QtTest>

using namespace distillery;
using widgets::GraphDocument;
using widgets::Inspector;

class tst_Inspector : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void editorsFitTypesAndFollowUndo()
    {
        GraphDocument doc;
        Inspector inspector(&doc);
        const auto settings = doc.requestAddNode("Settings", {}).value();
        const auto proj = doc.requestAddNode("Projection", {}).value();
        inspector.setNode(settings);
        auto *steps = qobject_cast<QSpinBox *>(inspector.editor("steps"));
        auto *device = qobject_cast<QComboBox *>(inspector.editor("device"));
        QVERIFY(steps && device);
        QCOMPARE(steps->minimum(), 1);
        QCOMPARE(device->count(), 3);
        steps->setValue(123);
        QCOMPARE(doc.graph().paramInt(settings, "steps"), std::int64_t(123));
        doc.undoStack()->undo();
        QCOMPARE(steps->value(), int(doc.graph().paramInt(settings, "steps")));
        QVERIFY(steps->value() != 123);
        device->setCurrentText("cpu");
        QCOMPARE(doc.graph().paramString(settings, "device"), std::string("cpu"));

        inspector.setNode(proj);
        QVERIFY(qobject_cast<QCheckBox *>(inspector.editor("bias")));
        QVERIFY(!inspector.editor("steps"));
        ENSURE(doc.requestRemoveNodes({proj}));
        QCOMPARE(inspector.node(), core::kInvalidNode);
    }

    void lossInspectorMatchesCore()
    {
        GraphDocument doc;
        Inspector inspector(&doc);
        const auto loss = doc.requestAddNode("Loss", {}).value();
        ENSURE(doc.requestSetParam(loss, "kind", std::string("gjsd")));
        ENSURE(doc.requestSetParam(loss, "beta", 0.3));
        ENSURE(doc.requestSetParam(loss, "temperature", 2.0));
        inspector.setNode(loss);
        auto *w = inspector.lossInspector();
        QVERIFY(w->isVisibleTo(&inspector));
        w->setLogits("1, 0.5, -1", "0, 0, 2");
        auto expected = core::inspectLoss("gjsd", {{"beta", 0.3}, {"temperature", 2.0}, {"alpha", 0.1},
                                                   {"label_smoothing", 0.0}, {"taid_t", 0.4}},
                                          {1, 0.5, -1}, {0, 0, 2});
        QVERIFY(expected.ok());
        QCOMPARE(int(w->gradient().size()), 3);
        for (int i = 0; i < 3; ++i)
            QVERIFY(std::abs(w->gradient()[std::size_t(i)] - expected.value().gradient[std::size_t(i)]) < 1e-12);
        QVERIFY(w->resultText().contains(QString::number(expected.value().value, 'g', 6)));

        // A parameter change in the document updates the inspector at once.
        ENSURE(doc.requestSetParam(loss, "beta", 0.9));
        auto after = core::inspectLoss("gjsd", {{"beta", 0.9}, {"temperature", 2.0}}, {1, 0.5, -1}, {0, 0, 2});
        QVERIFY(std::abs(w->gradient()[0] - after.value().gradient[0]) < 1e-12);

        w->setLogits("1, x", "0, 0");
        QVERIFY(w->resultText().contains("numbers"));
        w->setLogits("1, 2", "0, 0, 0");
        QVERIFY(w->gradient().empty()); // lengths differ: core's message is shown instead
        QVERIFY(!w->resultText().isEmpty());
    }
};

QTEST_MAIN(tst_Inspector)
#include "tst_inspector.moc"
