// The inspector: editors that follow the document (also through undo), type-fitting editors,
// and the loss inspector agreeing with core's inspectLoss.

#include "ensure.h"
#include "document/graphdocument.h"
#include "graph/modelfactscache.h"
#include "inspector/inspector.h"

#include "distillery/core/losses.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QPushButton>
#include <QTemporaryDir>
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

    // A Teacher backed by a file shows what the file holds and offers to try it.
    void fileTeacherShowsItsModel()
    {
        QTemporaryDir dir;
        QFile config(dir.filePath("config.json"));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write(R"({"model_type": "gpt2", "vocab_size": 300, "n_positions": 64, "n_embd": 32,
                         "n_layer": 2, "n_head": 4, "tie_word_embeddings": false})");
        config.close();
        GraphDocument doc;
        Inspector inspector(&doc);
        inspector.show();
        const auto teacher = doc.requestAddNode("Teacher", {}).value();
        inspector.setNode(teacher);
        QVERIFY(inspector.modelFactsText().isEmpty()); // source = train: nothing to read
        ENSURE(doc.requestSetParam(teacher, "source", std::string("hf")));
        ENSURE(doc.requestSetParam(teacher, "path", dir.path().toStdString()));
        widgets::ModelFactsCache::instance().waitForReads();
        const QString facts = inspector.modelFactsText();
        QVERIFY2(facts.contains("Hugging Face folder (gpt2)") && facts.contains("vocabulary 300")
                     && facts.contains("2 layers") && facts.contains("up to 64 tokens"),
                 qPrintable(facts));
        QVERIFY(inspector.tryModelButton()->isEnabled());
        ENSURE(doc.requestSetParam(teacher, "path", dir.filePath("missing").toStdString()));
        widgets::ModelFactsCache::instance().waitForReads();
        QVERIFY2(inspector.modelFactsText().contains("missing: no such model file"), qPrintable(inspector.modelFactsText()));
        QVERIFY(!inspector.tryModelButton()->isEnabled());
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
