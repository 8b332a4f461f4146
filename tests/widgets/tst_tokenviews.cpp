// TokenView and AlignmentView on a store written by hand with what the trainer writes at an
// evaluation (per-position arrays, top-5 lists, probe tokens), read back through their API.
//
// Set DISTILLERY_TEST_RENDER_DIR to keep the heatmap rendered by heatmapHasAStepPerRow().

#include "ensure.h"
#include "plots/alignmentview.h"
#include "plots/tokenview.h"

#include "distillery/core/store.h"
#include "widgets/teststore.h"

#include <qcustomplot.h>

#include <QDir>
#include <QSlider>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace distillery;
using namespace distillery::widgets;

namespace {

constexpr int T = 6; // positions per probe

// Probe `sample` at `step`: kl[t] = step/100 + t, grad_cosine from `cosines`, correctness from
// `correct`, top-5 lists whose first teacher token is the true next token.
void writeProbe(core::RunWriter &w, core::RunId run, std::int64_t step, int sample,
                const std::vector<float> &cosines, const std::vector<float> &correct)
{
    std::vector<float> kl, tTok, tProb, sTok, sProb;
    for (int t = 0; t < T; ++t) {
        kl.push_back(float(step / 100.0 + t));
        for (int k = 0; k < 5; ++k) {
            tTok.push_back(float(k == 0 ? 11 + t : 40 + k)); // the truth is token 11 + t
            tProb.push_back(float(0.5 / (k + 1)));
            sTok.push_back(float(50 + k));
            sProb.push_back(float(0.4 / (k + 1)));
        }
    }
    w.addTokenDiagnostic(run, step, sample, "kl", kl);
    w.addTokenDiagnostic(run, step, sample, "grad_cosine", cosines);
    w.addTokenDiagnostic(run, step, sample, "student_correct", correct);
    w.addTokenDiagnostic(run, step, sample, "top5/teacher/token", tTok);
    w.addTokenDiagnostic(run, step, sample, "top5/teacher/prob", tProb);
    w.addTokenDiagnostic(run, step, sample, "top5/student/token", sTok);
    w.addTokenDiagnostic(run, step, sample, "top5/student/prob", sProb);
}

} // namespace

class tst_TokenViews : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_path;
    core::RunId m_run = 0, m_empty = 0;
    std::unique_ptr<core::RunWriter> m_writer;
    std::unique_ptr<core::StoreReader> m_reader;
    QHash<core::RunId, QString> m_names;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_path = m_dir.filePath(QStringLiteral("views.sqlite"));
        m_writer = testing::openWriter(m_path);
        core::NewRun r;
        r.name = "probe-run";
        m_run = m_writer->createRun(r).value();
        r.name = "no-diagnostics";
        m_empty = m_writer->createRun(r).value();
        // Token ids 10..16: position t predicts token 11 + t.
        ENSURE(m_writer->setRunMeta(m_run, "probe/0/tokens", "10,11,12,13,14,15,16"));
        ENSURE(m_writer->setRunMeta(m_run, "probe/1/tokens", "20,21,22,23,24,25,26"));
        ENSURE(m_writer->setRunMeta(m_run, "probe/token_format", "ids"));
        const std::vector<float> cos0{-0.95f, 0.05f, 0.99f, NAN, 0.5f, -0.25f};
        const std::vector<float> right0{1, 0, 1, 1, 0, 0};
        const std::vector<float> cos1{0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f};
        const std::vector<float> right1{0, 0, 0, 0, 0, 0};
        for (std::int64_t step : {9, 19}) {
            writeProbe(*m_writer, m_run, step, 0, cos0, right0);
            writeProbe(*m_writer, m_run, step, 1, cos1, right1);
        }
        QVERIFY(m_writer->flush().ok());
        m_reader = testing::openReader(m_path);
        m_names = {{m_run, QStringLiteral("probe-run")}, {m_empty, QStringLiteral("no-diagnostics")}};
    }

    void tokensAreColouredByThePredictionBeforeThem()
    {
        TokenView view;
        view.resize(900, 400);
        testing::refreshWith(view, m_reader.get(), {m_run}, m_names);
        QVERIFY(view.hasData());
        QCOMPARE(view.stepSelector()->steps(), (std::vector<std::int64_t>{9, 19}));
        QCOMPARE(view.stepSelector()->currentStep(), std::int64_t(19)); // follows the newest
        QCOMPARE(view.tokenLabels(),
                 (QStringList{"t10", "t11", "t12", "t13", "t14", "t15", "t16"}));
        QCOMPARE(view.quantity(), std::string("kl"));
        const auto values = view.tokenValues();
        QCOMPARE(int(values.size()), T + 1);
        QVERIFY(std::isnan(values[0])); // context only
        for (int j = 1; j <= T; ++j)
            QCOMPARE(values[std::size_t(j)], double(float(0.19 + (j - 1))));
        QCOMPARE(view.strip()->count(), T + 1);
        // The details pane starts on the token with the largest value; a click moves it.
        QCOMPARE(view.selectedToken(), T);
        QVERIFY(view.detailsText().contains(QStringLiteral("position %1").arg(T - 1)));
        QTest::mouseClick(view.strip(), Qt::LeftButton, {}, view.strip()->tokenRect(2).center());
        QCOMPARE(view.selectedToken(), 2);
        QVERIFY(view.detailsText().contains(QStringLiteral("position 1")));
        view.stepSelector()->setCurrentStep(9); // the user's choice survives a step change
        QCOMPARE(view.selectedToken(), 2);
        view.stepSelector()->setCurrentStep(19);

        // Another step and another probe.
        view.stepSelector()->setCurrentStep(9);
        QCOMPARE(view.tokenValues()[1], double(0.09f));
        view.setSample(1);
        QCOMPARE(view.tokenLabels().first(), QStringLiteral("t20"));
        view.setQuantity("grad_cosine");
        QCOMPARE(view.tokenValues()[3], double(0.3f));
        const TokenScale scale = TokenView::scaleFor("grad_cosine", view.tokenValues());
        QVERIFY(scale.kind == TokenScale::Kind::Diverging);
        QCOMPARE(scale.min, -1.0);
        // Agreeing and disagreeing gradients get different hues; NaN keeps the background.
        const QColor base(Qt::white);
        QVERIFY(scale.color(0.9, base).blue() > scale.color(0.9, base).red());
        QVERIFY(scale.color(-0.9, base).red() > scale.color(-0.9, base).blue());
        QCOMPARE(scale.color(NAN, base), base);
    }

    void textBytesAreShownReadably()
    {
        core::NewRun r;
        r.name = "text";
        const core::RunId run = m_writer->createRun(r).value();
        // "a b\n—x": space, newline, a three-byte UTF-8 character, and a stray byte 0xff.
        ENSURE(m_writer->setRunMeta(run, "probe/0/tokens", "97,32,98,10,226,128,148,120,255"));
        ENSURE(m_writer->setRunMeta(run, "probe/token_format", "bytes"));
        m_writer->addTokenDiagnostic(run, 5, 0, "kl", std::vector<float>(8, 0.5f));
        QVERIFY(m_writer->flush().ok());
        TokenView view;
        testing::refreshWith(view, m_reader.get(), {run}, m_names);
        QCOMPARE(view.tokenLabels(), (QStringList{"a", "␣", "b", "↵", "—", "·", "·", "x", "\\xff"}));
    }

    void hoverShowsTopFiveWithTheTruthMarked()
    {
        TokenView view;
        testing::refreshWith(view, m_reader.get(), {m_run}, m_names);
        QVERIFY(view.tokenToolTip(0).contains(QStringLiteral("not predicted")));
        // Token 3 (t13) was predicted at position 2; the teacher's top token there is the truth.
        const QString tip = view.tokenToolTip(3);
        QVERIFY2(tip.contains(QStringLiteral("position 2")), qPrintable(tip));
        QVERIFY(tip.contains(QStringLiteral("Teacher top 5")));
        QVERIFY(tip.contains(QStringLiteral("Student top 5")));
        QVERIFY2(tip.contains(QStringLiteral("<b><u>t13</u></b>")), qPrintable(tip));
        QVERIFY(tip.contains(QStringLiteral("50.0%"))); // teacher's first probability
        QVERIFY(tip.contains(QStringLiteral("t50")));   // student's first token
        QVERIFY(tip.contains(QStringLiteral("2.19")));  // kl at position 2, step 19
        QVERIFY(view.tokenToolTip(99).isEmpty());
    }

    void heatmapHasAStepPerRow()
    {
        TokenView view;
        testing::refreshWith(view, m_reader.get(), {m_run}, m_names);
        view.setMode(TokenView::Mode::Heatmap);
        QCOMPARE(view.heatmapSize(), QSize(T, 2));
        const QString csv = view.csv();
        QVERIFY(csv.startsWith(QStringLiteral("run,sample,quantity,step,position,value\n")));
        QVERIFY2(csv.contains(QStringLiteral("%1,0,kl,9,5,5.09").arg(m_run)), qPrintable(csv));
        // A new evaluation arrives while the view is open.
        writeProbe(*m_writer, m_run, 29, 0, std::vector<float>(T, 0.f), std::vector<float>(T, 0.f));
        QVERIFY(m_writer->flush().ok());
        testing::refreshWith(view, m_reader.get(), {m_run}, m_names);
        QCOMPARE(view.heatmapSize(), QSize(T, 3));
        QTemporaryDir fallback;
        QString outDir = qEnvironmentVariable("DISTILLERY_TEST_RENDER_DIR");
        if (outDir.isEmpty())
            outDir = fallback.path();
        view.resize(900, 400);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const QString png = QDir(outDir).filePath(QStringLiteral("tokens-heatmap.png"));
        QVERIFY(view.savePng(png));
        QVERIFY(QFileInfo(png).size() > 0);
    }

    void textCsvHasEveryQuantity()
    {
        TokenView view;
        testing::refreshWith(view, m_reader.get(), {m_run}, m_names);
        view.stepSelector()->setCurrentStep(19);
        const QStringList lines = view.csv().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 1 + T);
        QVERIFY(lines[0].startsWith(QStringLiteral("run,step,sample,position,predicted_token,kl,")));
        const QStringList first = lines[1].split(QLatin1Char(','));
        QCOMPARE(first[1], QStringLiteral("19"));
        QCOMPARE(first[4], QStringLiteral("11"));
        QVERIFY(std::abs(first[5].toDouble() - 0.19) < 1e-6);
        QTemporaryDir out;
        QVERIFY(view.saveCsv(out.filePath(QStringLiteral("tokens.csv"))));
    }

    void emptyStates()
    {
        TokenView view;
        testing::refreshWith(view, nullptr, {m_run}, m_names);
        QVERIFY(!view.hasData());
        testing::refreshWith(view, m_reader.get(), {m_empty}, m_names);
        QVERIFY(!view.hasData());
        QVERIFY(view.tokenValues().empty());
        testing::refreshWith(view, m_reader.get(), {}, m_names);
        QVERIFY(!view.hasData());
        AlignmentView align;
        testing::refreshWith(align, m_reader.get(), {m_empty}, m_names);
        QVERIFY(!align.hasData());
        testing::refreshWith(align, nullptr, {}, m_names);
        QVERIFY(!align.hasData());
    }

    void alignmentHistogramSplitsRightAndWrong()
    {
        AlignmentView view;
        view.resize(700, 400);
        testing::refreshWith(view, m_reader.get(), {m_run}, m_names);
        QVERIFY(view.hasData());
        view.stepSelector()->setCurrentStep(19);
        // Probe 0: right at −0.95 (bin 0), 0.99 (bin 19); NaN skipped; wrong at 0.05 (bin 10),
        // 0.5 (bin 15), −0.25 (bin 7). Probe 1: six wrong at 0.3 (bin 13).
        const auto &right = view.correctCounts();
        const auto &wrong = view.incorrectCounts();
        QCOMPARE(int(right.size()), AlignmentView::kBins);
        QCOMPARE(right[0], 1);
        QCOMPARE(right[19], 1);
        QCOMPARE(std::accumulate(right.begin(), right.end(), 0), 2);
        QCOMPARE(wrong[10], 1);
        QCOMPARE(wrong[15], 1);
        QCOMPARE(wrong[7], 1);
        QCOMPARE(wrong[13], 6);
        QCOMPARE(std::accumulate(wrong.begin(), wrong.end(), 0), 9);
        QVERIFY(std::abs(view.correctMean() - (-0.95 + 0.99) / 2) < 1e-6);
        QVERIFY(std::abs(view.incorrectMean() - (0.05 + 0.5 - 0.25 + 6 * 0.3) / 9) < 1e-6);
        const QString csv = view.csv();
        QVERIFY(csv.contains(QStringLiteral("%1,19,0.3,0.4,0,6").arg(m_run)));
        QTemporaryDir out;
        QVERIFY(view.savePng(out.filePath(QStringLiteral("a.png"))));
        QVERIFY(view.savePdf(out.filePath(QStringLiteral("a.pdf"))));
        QVERIFY(QFileInfo(out.filePath(QStringLiteral("a.pdf"))).size() > 0);
    }
};

QTEST_MAIN(tst_TokenViews)
#include "tst_tokenviews.moc"
