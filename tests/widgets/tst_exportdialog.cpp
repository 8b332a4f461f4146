// Export student… from the run browser: the dialog's choices, an export on its own thread that
// lands in the folder and the store, a refusal that says what to do, and the Run menu's action
// following the selection.

#include "export/exportdialog.h"
#include "export/trydialog.h"
#include "runs/runbrowser.h"

#include "distillery/core/store.h"
#include "distillery/core/trainer.h"

#include "core/testgraphs.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

using namespace distillery;
using namespace distillery::widgets;

class tst_ExportDialog : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_store;
    qint64 m_run = 0;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_store = m_dir.filePath(QStringLiteral("runs.sqlite"));
        core::RunOptions o;
        o.storePath = m_store.toStdString();
        o.name = "kd baseline";
        auto r = core::runExperiment(core::testing::tiny("classic-kd", 8), o);
        QVERIFY(r.ok() && r.value().status == core::RunStatus::Finished);
        m_run = r.value().runId;
    }

    void exportsFromTheBrowser()
    {
        RunBrowser browser;
        browser.setStorePath(m_store);
        QSignalSpy available(&browser, &RunBrowser::exportAvailable);
        QVERIFY(!browser.exportCurrent()); // nothing selected
        browser.selectRuns({m_run});
        QCOMPARE(available.count(), 1);
        QCOMPARE(available.last().first().toBool(), true);
        ExportDialog *dialog = browser.exportCurrent();
        QVERIFY(dialog);
        QVERIFY(QTest::qWaitForWindowExposed(dialog));
        // The defaults: the newest checkpoint, a folder beside the store named after the run.
        QCOMPARE(dialog->stepBox()->currentData().toLongLong(), 8);
        QCOMPARE(dialog->stepBox()->count(), 2); // steps 8 and 4
        QCOMPARE(dialog->folderEdit()->text(), m_dir.filePath(QStringLiteral("kd-baseline-run%1-hf").arg(m_run)));
        dialog->formatBox()->setCurrentIndex(dialog->formatBox()->findData(QStringLiteral("torchscript")));
        QCOMPARE(dialog->folderEdit()->text(),
                 m_dir.filePath(QStringLiteral("kd-baseline-run%1-torchscript").arg(m_run)));
        dialog->formatBox()->setCurrentIndex(dialog->formatBox()->findData(QStringLiteral("hf")));
        dialog->dtypeBox()->setCurrentIndex(dialog->dtypeBox()->findData(QStringLiteral("bf16")));
        QSignalSpy finished(dialog, &ExportDialog::exportFinished);
        dialog->exportButton()->click();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QVERIFY2(finished.first().at(0).toBool(), qPrintable(dialog->resultText()));
        QVERIFY(dialog->resultText().contains(QStringLiteral("model.safetensors")));
        QCOMPARE(dialog->progressBar()->value(), 100);
        const QString out = dialog->folderEdit()->text();
        QVERIFY(QFileInfo::exists(out + QStringLiteral("/config.json")));
        if (const QByteArray dir = qgetenv("DISTILLERY_SCREENSHOT_DIR"); !dir.isEmpty())
            dialog->grab().save(QDir(QString::fromLocal8Bit(dir)).filePath(QStringLiteral("export-dialog.png")));
        auto exports = core::StoreReader::open(m_store.toStdString()).value()->exports(m_run).value();
        QCOMPARE(int(exports.size()), 1);
        QCOMPARE(exports[0].dtype, std::string("bf16"));

        // The same folder again: refused with what to do; with Replace it goes through.
        dialog->exportButton()->click();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 60000);
        QVERIFY(!finished.last().at(0).toBool());
        QVERIFY2(dialog->resultText().contains(QStringLiteral("Replace")), qPrintable(dialog->resultText()));
        dialog->replaceBox()->setChecked(true);
        dialog->exportButton()->click();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, 60000);
        QVERIFY2(finished.last().at(0).toBool(), qPrintable(dialog->resultText()));
        dialog->close();
    }

    void triesTheStudent()
    {
        RunBrowser browser;
        browser.setStorePath(m_store);
        browser.selectRuns({m_run});
        TryDialog *dialog = browser.tryCurrent();
        QVERIFY(dialog);
        QVERIFY(QTest::qWaitForWindowExposed(dialog));
        QTRY_VERIFY_WITH_TIMEOUT(!dialog->isBusy(), 30000); // the model loads on a thread
        QVERIFY2(dialog->factsText().contains(QStringLiteral("vocabulary 16")), qPrintable(dialog->factsText()));
        QVERIFY(dialog->factsText().contains(QStringLiteral("the words t0 … t15")));
        dialog->promptEdit()->setText(QStringLiteral("t1 t2"));
        dialog->tokensBox()->setValue(5);
        dialog->seedBox()->setValue(7);
        QSignalSpy done(dialog, &TryDialog::generated);
        dialog->generateButton()->click();
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 30000);
        QVERIFY2(done.first().at(0).toBool(), qPrintable(dialog->outputText()));
        const QString first = dialog->outputText();
        QVERIFY2(first.startsWith(QStringLiteral("t1 t2 t")) && first.count(QLatin1Char(' ')) == 6, qPrintable(first));
        if (const QByteArray dir = qgetenv("DISTILLERY_SCREENSHOT_DIR"); !dir.isEmpty())
            dialog->grab().save(QDir(QString::fromLocal8Bit(dir)).filePath(QStringLiteral("try-student.png")));
        // The same seed, the same text; a word the model does not have is said so.
        dialog->generateButton()->click();
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 2, 30000);
        QCOMPARE(dialog->outputText(), first);
        dialog->promptEdit()->setText(QStringLiteral("t1 hello"));
        dialog->generateButton()->click();
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 3, 30000);
        QVERIFY(!done.last().at(0).toBool());
        QVERIFY(dialog->outputText().contains(QStringLiteral("'hello' is not a word")));
        dialog->close();
    }

    void aRunWithoutCheckpointsCannotExport()
    {
        qint64 empty = 0;
        {
            auto writer = core::RunWriter::open(m_store.toStdString()).value();
            core::NewRun nr;
            nr.name = "nothing saved";
            nr.graphJson = core::graphToJson(core::testing::tiny("classic-kd", 8));
            empty = writer->createRun(nr).value();
            QVERIFY(writer->finishRun(empty, core::RunStatus::Cancelled).ok());
        }
        ExportDialog dialog(m_store, empty);
        QVERIFY(!dialog.exportButton()->isEnabled());
        QVERIFY(!dialog.stepBox()->isEnabled());
        QVERIFY(dialog.stepBox()->currentText().contains(QStringLiteral("no student checkpoint")));
    }
};

QTEST_MAIN(tst_ExportDialog)
#include "tst_exportdialog.moc"
