// What the diagnostics views read from the store, without a window: reliability bins and their
// ECE, the alignment histogram, probe tokens and per-token arrays, diversity measures, the
// KL series with their power-law fits and the hacking flag, and samples. Every expected value
// is computed here by hand from what the test writes.

#include "plots/alignmentdata.h"
#include "plots/calibrationdata.h"
#include "plots/diversitydata.h"
#include "plots/tokendata.h"

#include "teststore.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace distillery;
using namespace distillery::widgets;
using distillery::widgets::testing::createRun;
using distillery::widgets::testing::openReader;
using distillery::widgets::testing::openWriter;

class TestDiagnosticsData : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString path(const char *name) const { return m_dir.filePath(QString::fromLatin1(name)); }

private Q_SLOTS:
    void reliabilityBins()
    {
        auto writer = openWriter(path("calibration.sqlite"));
        const core::RunId run = createRun(*writer, "cal");
        std::vector<float> count(15, 0), confidence(15, 0), accuracy(15, 0);
        count[3] = 10; confidence[3] = 0.22f; accuracy[3] = 0.30f;
        count[12] = 30; confidence[12] = 0.85f; accuracy[12] = 0.75f;
        for (std::int64_t step : {4, 9}) {
            writer->addTokenDiagnostic(run, step, 0, "calibration/student/count", count);
            writer->addTokenDiagnostic(run, step, 0, "calibration/student/confidence", confidence);
            writer->addTokenDiagnostic(run, step, 0, "calibration/student/accuracy", accuracy);
        }
        writer->addScalar(run, "eval/calibration/student/ece", 9, 0.5);
        // A teacher curve of another layout (7 bins) is not a curve.
        writer->addTokenDiagnostic(run, 9, 0, "calibration/teacher/count", std::vector<float>(7, 1));
        QVERIFY(writer->flush().ok());
        auto reader = openReader(path("calibration.sqlite"));

        QCOMPARE(calibrationSteps(*reader, run), (std::vector<std::int64_t>{4, 9}));
        const auto computed = loadReliabilityBins(*reader, run, "student", 4);
        QVERIFY(computed.valid() && !computed.eceStored);
        // (10·|0.30 − 0.22| + 30·|0.75 − 0.85|) / 40
        QVERIFY(std::abs(computed.ece - (10 * 0.08 + 30 * 0.10) / 40.0) < 1e-6);
        QCOMPARE(computed.count[12], 30.0f);
        const auto stored = loadReliabilityBins(*reader, run, "student", 9);
        QVERIFY(stored.valid() && stored.eceStored);
        QCOMPARE(stored.ece, 0.5);
        QVERIFY(!loadReliabilityBins(*reader, run, "teacher", 9).valid());
        QVERIFY(!loadReliabilityBins(*reader, run, "student", 5).valid());
        QVERIFY(!loadReliabilityBins(*reader, run, "student", -1).valid());
        QVERIFY(calibrationSteps(*reader, run + 100).empty());
    }

    void alignmentHistogram()
    {
        auto writer = openWriter(path("alignment.sqlite"));
        const core::RunId run = createRun(*writer, "align");
        const float nan = std::numeric_limits<float>::quiet_NaN();
        // Probe 0: cosines −1, −0.05, 0.55, NaN with right/wrong 1, 0, 1, 1; probe 1: 1, 0.12.
        writer->addTokenDiagnostic(run, 3, 0, "grad_cosine", {-1.0f, -0.05f, 0.55f, nan});
        writer->addTokenDiagnostic(run, 3, 0, "student_correct", {1, 0, 1, 1});
        writer->addTokenDiagnostic(run, 3, 1, "grad_cosine", {1.0f, 0.12f});
        writer->addTokenDiagnostic(run, 3, 1, "student_correct", {0, 0});
        QVERIFY(writer->flush().ok());
        auto reader = openReader(path("alignment.sqlite"));

        QCOMPARE(alignmentSteps(*reader, run), (std::vector<std::int64_t>{3}));
        const auto h = loadAlignmentHistogram(reader.get(), run, 3, 20);
        QCOMPARE(h.correctCount, 2);
        QCOMPARE(h.incorrectCount, 3);
        // Bins of width 0.1 over [−1, 1]: −1 → 0, −0.05 → 9, 0.55 → 15, 1 → 19 (the last bin
        // holds its upper edge), 0.12 → 11.
        QCOMPARE(h.correct[0], 1);
        QCOMPARE(h.correct[15], 1);
        QCOMPARE(h.incorrect[9], 1);
        QCOMPARE(h.incorrect[19], 1);
        QCOMPARE(h.incorrect[11], 1);
        QVERIFY(std::abs(h.correctMean - (-1.0 + 0.55) / 2) < 1e-6);
        QVERIFY(std::abs(h.incorrectMean - (-0.05 + 1.0 + 0.12) / 3) < 1e-6);
        const auto none = loadAlignmentHistogram(nullptr, run, 3, 20);
        QCOMPARE(none.tokens(), 0);
        QVERIFY(std::isnan(none.correctMean));
        QCOMPARE(loadAlignmentHistogram(reader.get(), run, 4, 20).tokens(), 0);
    }

    void probeTokens()
    {
        auto writer = openWriter(path("tokens.sqlite"));
        const core::RunId text = createRun(*writer, "text");
        const core::RunId oracle = createRun(*writer, "oracle");
        // "a b\n—x" then a lone continuation byte: — is E2 80 94 in UTF-8.
        QVERIFY(writer->setRunMeta(text, "probe/0/tokens", "97,32,98,10,226,128,148,120,150").ok());
        QVERIFY(writer->setRunMeta(text, "probe/token_format", "bytes").ok());
        QVERIFY(writer->setRunMeta(oracle, "probe/0/tokens", "3,14").ok());
        QVERIFY(writer->setRunMeta(oracle, "probe/1/tokens", "15,9,2").ok());
        QVERIFY(writer->setRunMeta(oracle, "probe/token_format", "ids").ok());
        writer->addTokenDiagnostic(oracle, 7, 1, "kl", {0.5f, 0.25f});
        writer->addTokenDiagnostic(oracle, 7, 1, "top1_agree", {1, 0});
        QVERIFY(writer->flush().ok());
        auto reader = openReader(path("tokens.sqlite"));

        const ProbeTokens t = loadProbeTokens(*reader, text, 0);
        QCOMPARE(t.sampleCount, 1);
        QVERIFY(t.bytes);
        QCOMPARE(t.labels, (QStringList{"a", "␣", "b", "↵", "—", "·", "·", "x", "\\x96"}));
        QCOMPARE(t.newlines, (std::vector<bool>{false, false, false, true, false, false, false, false, false}));
        QCOMPARE(t.ids.size(), std::size_t(9));

        const ProbeTokens o = loadProbeTokens(*reader, oracle, 1);
        QCOMPARE(o.sampleCount, 2);
        QVERIFY(!o.bytes);
        QCOMPARE(o.labels, (QStringList{"t15", "t9", "t2"}));
        const ProbeTokens missing = loadProbeTokens(*reader, oracle, 5);
        QCOMPARE(missing.sampleCount, 2);
        QVERIFY(missing.ids.empty());

        QCOMPARE(tokenDiagnosticSteps(*reader, oracle), (std::vector<std::int64_t>{7}));
        const auto arrays = loadTokenArrays(*reader, oracle, 7, 1, {"kl", "top1_agree", "js"});
        QCOMPARE(arrays.size(), std::size_t(2)); // js was never stored
        QCOMPARE(arrays.at("kl"), (std::vector<float>{0.5f, 0.25f}));
        QVERIFY(loadTokenArrays(*reader, oracle, -1, 1, {"kl"}).empty());
    }

    void diversityIsReadIncrementally()
    {
        const QString file = path("diversity.sqlite");
        auto writer = openWriter(file);
        const core::RunId run = createRun(*writer, "div");
        auto kl = [](double a, double b, double x) { return a * std::pow(x, b); };
        for (std::int64_t step : {9, 19}) {
            writer->addScalar(run, "diag/diversity/distinct1", step, 0.1 * double(step));
            writer->addScalar(run, "diag/diversity/self_bleu4", step, 0.3);
            writer->addScalar(run, "eval/kl_oracle_student", step, kl(2.0, -0.5, double(step)));
        }
        writer->addSample(run, 19, 1, "second");
        writer->addSample(run, 19, 0, "first");
        QVERIFY(writer->flush().ok());
        auto reader = openReader(file);

        DiversityRunData data;
        DiversityUpdate u = updateDiversityRun(*reader, run, data);
        QVERIFY(u.measures && u.kl);
        QCOMPARE(data.steps(), (std::vector<std::int64_t>{9, 19}));
        QVERIFY(data.measureAt("diag/diversity/distinct1", 19));
        QCOMPARE(data.measureAt("diag/diversity/distinct1", 19)->value, 1.9);
        QVERIFY(!data.measureAt("diag/diversity/distinct1", 10));
        QVERIFY(!data.measureAt("diag/diversity/distinct2", 9));
        QVERIFY(data.oracleFit.valid);
        QVERIFY(std::abs(data.oracleFit.b + 0.5) < 1e-9 && std::abs(data.oracleFit.a - 2.0) < 1e-9);
        QCOMPARE(data.hackingStep, std::int64_t(-1));
        QCOMPARE(loadSamples(*reader, run, 19), (std::vector<std::string>{"first", "second"}));
        QVERIFY(loadSamples(*reader, run, 9).empty());

        // Nothing new: nothing read, nothing changed.
        u = updateDiversityRun(*reader, run, data);
        QVERIFY(!u.measures && !u.kl);
        // New rows and the flag arrive: only they are added.
        writer->addScalar(run, "diag/diversity/distinct1", 29, 2.9);
        writer->addScalar(run, "eval/kl_oracle_student", 29, kl(2.0, -0.5, 29.0));
        QVERIFY(writer->setRunMeta(run, "teacher_hacking_step", "30").ok());
        QVERIFY(writer->flush().ok());
        u = updateDiversityRun(*reader, run, data);
        QVERIFY(u.measures && u.kl);
        QCOMPARE(data.steps(), (std::vector<std::int64_t>{9, 19, 29}));
        QCOMPARE(int(data.oracle.size()), 3);
        QCOMPARE(data.hackingStep, std::int64_t(30));
        // A flag that is not a step count is not a flag.
        QVERIFY(writer->setRunMeta(run, "teacher_hacking_step", "soon").ok());
        writer->addScalar(run, "eval/kl_oracle_student", 39, kl(2.0, -0.5, 39.0));
        QVERIFY(writer->flush().ok());
        updateDiversityRun(*reader, run, data);
        QCOMPARE(data.hackingStep, std::int64_t(-1));
    }

    void logLogPointsDropWhatALogAxisCannotShow()
    {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        std::vector<core::ScalarPoint> points{{0, 0, 3.0}, {1, 0, 0.5}, {2, 0, 0.0}, {3, 0, -1.0}, {4, 0, nan}, {10, 0, 2.0}};
        std::vector<double> x, y;
        logLogPoints(points, x, y);
        QCOMPARE(x, (std::vector<double>{1.0, 10.0}));
        QCOMPARE(y, (std::vector<double>{0.5, 2.0}));
    }
};

QTEST_GUILESS_MAIN(TestDiagnosticsData)
#include "tst_diagnosticsdata.moc"
