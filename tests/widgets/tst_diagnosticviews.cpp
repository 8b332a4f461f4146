// CalibrationView and DiversityView on a store written by hand: the bins, samples, KL series
// and run meta a trainer would write, read back through the views' public API.
//
// Set DISTILLERY_TEST_RENDER_DIR to keep the views rendered by renderViews() (900×500 PNGs).

#include "plots/calibrationview.h"
#include "plots/diversityview.h"
#include "plots/metricplot.h"

#include "distillery/core/store.h"
#include "widgets/teststore.h"

#include <qcustomplot.h>

#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QSlider>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace distillery;
using namespace distillery::widgets;

using distillery::widgets::testing::createRun;
using distillery::widgets::testing::openReader;
using distillery::widgets::testing::openWriter;
using distillery::widgets::testing::refreshWith;

namespace {

// 15 reliability bins; bins 7..14 hold 10, 20, ..., 80 tokens at their centre's confidence,
// with accuracy = confidence − gap (a positive gap: over-confident).
struct Bins
{
    std::vector<float> count, confidence, accuracy;
};

Bins makeBins(double gap)
{
    Bins bins;
    for (int b = 0; b < 15; ++b) {
        const bool filled = b >= 7;
        const double conf = (b + 0.5) / 15.0;
        bins.count.push_back(filled ? float(10 * (b - 6)) : 0.f);
        bins.confidence.push_back(filled ? float(conf) : 0.f);
        bins.accuracy.push_back(filled ? float(std::clamp(conf - gap, 0.0, 1.0)) : 0.f);
    }
    return bins;
}

// Σ_b n_b/N |acc_b − conf_b|
double eceOf(const Bins &bins)
{
    double n = 0, sum = 0;
    for (std::size_t b = 0; b < bins.count.size(); ++b) {
        n += bins.count[b];
        sum += bins.count[b] * std::abs(double(bins.accuracy[b]) - double(bins.confidence[b]));
    }
    return sum / n;
}

void writeBins(core::RunWriter &writer, core::RunId run, std::int64_t step, const std::string &who,
               const Bins &bins)
{
    writer.addTokenDiagnostic(run, step, 0, "calibration/" + who + "/count", bins.count);
    writer.addTokenDiagnostic(run, step, 0, "calibration/" + who + "/confidence", bins.confidence);
    writer.addTokenDiagnostic(run, step, 0, "calibration/" + who + "/accuracy", bins.accuracy);
}

// The rows of a CSV text whose first fields equal `prefix`.
QList<QStringList> rowsStartingWith(const QString &csv, const QStringList &prefix)
{
    QList<QStringList> rows;
    for (const QString &line : csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        const QStringList fields = line.split(QLatin1Char(','));
        if (fields.mid(0, prefix.size()) == prefix)
            rows << fields;
    }
    return rows;
}

bool nonEmptyFile(const QString &path)
{
    const QFileInfo info(path);
    return info.exists() && info.size() > 0;
}

// Power laws of the teacher-hacking fixtures, x = steps done.
double oracleKl(double x)
{
    return 2.0 * std::pow(x, -0.5);
}
double teacherKl(double x)
{
    return 3.0 * std::pow(x, -0.8);
}

} // namespace

class TestDiagnosticViews : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void calibrationShowsBinsAtSelectedStep();
    void calibrationOverlaysRuns();
    void calibrationEmptyStates();
    void calibrationFollowsLiveSteps();
    void calibrationExports();

    void diversityShowsSamples();
    void diversityFitsPowerLaws();
    void diversityOverlaysRuns();
    void diversityEmptyStates();
    void diversityFollowsLiveRows();
    void diversityExports();
    void visibleControls_data();
    void visibleControls();

    void renderViews();

private:
    QTemporaryDir m_dir;
    QString m_path;
    std::unique_ptr<core::RunWriter> m_writer;
    std::unique_ptr<core::StoreReader> m_reader;
    core::RunId m_a = 0; // calibration with a teacher; diversity samples, both KL series, flag
    core::RunId m_b = 0; // calibration without a teacher; KL(teacher‖student) only
    core::RunId m_c = 0; // no diagnostics at all
    QHash<core::RunId, QString> m_names;
};

void TestDiagnosticViews::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_path = m_dir.filePath(QStringLiteral("runs.sqlite"));
    m_writer = openWriter(m_path);
    core::RunWriter &w = *m_writer;
    m_a = createRun(w, "run-a");
    m_b = createRun(w, "run-b");
    m_c = createRun(w, "run-c");
    m_names = {{m_a, QStringLiteral("run-a")},
               {m_b, QStringLiteral("run-b")},
               {m_c, QStringLiteral("run-c")}};

    // Calibration: A at 9, 19, 29 (gap 0.05, 0.10, 0.15; teacher under-confident by 0.02), the
    // ECE scalar only at 29; B at 10 and 25 without a teacher.
    const std::int64_t aSteps[] = {9, 19, 29};
    for (int i = 0; i < 3; ++i) {
        writeBins(w, m_a, aSteps[i], "student", makeBins(0.05 * (i + 1)));
        writeBins(w, m_a, aSteps[i], "teacher", makeBins(-0.02));
    }
    w.addScalar(m_a, "eval/calibration/student/ece", 29, 0.034);
    w.addScalar(m_a, "eval/calibration/teacher/ece", 29, 0.012);
    writeBins(w, m_b, 10, "student", makeBins(0.20));
    writeBins(w, m_b, 25, "student", makeBins(0.25));

    // Diversity: A's samples and measures at 99 and 199.
    w.addSample(m_a, 99, 0, "the cat\nsat");
    w.addSample(m_a, 99, 1, "a,b \"quoted\"");
    w.addSample(m_a, 199, 0, "one\ttwo");
    w.addSample(m_a, 199, 1, "three");
    w.addSample(m_a, 199, 2, std::string("four\x01", 5));
    const std::pair<std::int64_t, double> distinct1[] = {{99, 0.412}, {199, 0.5}};
    for (const auto &[step, d1] : distinct1) {
        w.addScalar(m_a, "diag/diversity/distinct1", step, d1);
        w.addScalar(m_a, "diag/diversity/distinct2", step, 0.83);
        w.addScalar(m_a, "diag/diversity/distinct3", step, 0.951);
        w.addScalar(m_a, "diag/diversity/self_bleu4", step, 0.213);
        w.addScalar(m_a, "diag/diversity/unique_fraction", step, 1.0);
        w.addScalar(m_a, "diag/diversity/token_entropy", step, 2.31);
        w.addScalar(m_a, "diag/diversity/mean_length", step, 40.0);
    }
    // Teacher hacking: y = 2·x^−0.5 and y = 3·x^−0.8 at x = step (steps done); flagged at 200.
    for (const double x : {10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0}) {
        w.addScalar(m_a, "eval/kl_oracle_student", std::int64_t(x), oracleKl(x));
        w.addScalar(m_a, "eval/kl_teacher_student", std::int64_t(x), teacherKl(x));
    }
    QVERIFY(w.setRunMeta(m_a, "teacher_hacking_step", "200").ok());
    for (const double x : {10.0, 100.0, 1000.0})
        w.addScalar(m_b, "eval/kl_teacher_student", std::int64_t(x), teacherKl(x));
    w.addScalar(m_c, "train/loss", 0, 1.0);
    QVERIFY(w.flush().ok());
    m_reader = openReader(m_path);
}

void TestDiagnosticViews::calibrationShowsBinsAtSelectedStep()
{
    CalibrationView view;
    refreshWith(view, m_reader.get(), {m_a}, m_names);
    QVERIFY(view.hasData());
    QVERIFY(view.emptyText().isEmpty());
    QCOMPARE(view.referenceRun(), m_a);
    QCOMPARE(view.stepSelector()->steps(), (std::vector<std::int64_t>{9, 19, 29}));
    QCOMPARE(view.stepSelector()->currentStep(), std::int64_t(29)); // follows the newest
    QCOMPARE(view.curveCount(), 2);
    QVERIFY(view.hasCurve(m_a, QStringLiteral("student")));
    QVERIFY(view.hasCurve(m_a, QStringLiteral("teacher")));

    // The stored ECE wins over the one computed from the bins.
    QVERIFY(std::abs(view.curveEce(m_a, QStringLiteral("student")) - 0.034) < 1e-12);
    QVERIFY(std::abs(view.curveEce(m_a, QStringLiteral("teacher")) - 0.012) < 1e-12);
    QCOMPARE(view.curveLegendText(m_a, QStringLiteral("student")),
             QStringLiteral("run-a student — ECE 0.034"));

    const QString csv = view.csv();
    QVERIFY(
        csv.startsWith(QStringLiteral("run,who,step,bin,lower,upper,count,confidence,accuracy\n")));
    QCOMPARE(csv.count(QLatin1Char('\n')), 1 + 2 * 15);
    const QString a = QString::number(m_a);
    const auto top = rowsStartingWith(
        csv, {a, QStringLiteral("student"), QStringLiteral("29"), QStringLiteral("14")});
    QCOMPARE(top.size(), 1);
    QVERIFY(std::abs(top[0][4].toDouble() - 14.0 / 15) < 1e-5);
    QCOMPARE(top[0][5].toDouble(), 1.0);
    QCOMPARE(top[0][6].toDouble(), 80.0);
    QVERIFY(std::abs(top[0][7].toDouble() - 14.5 / 15) < 1e-5);
    QVERIFY(std::abs(top[0][8].toDouble() - (14.5 / 15 - 0.15)) < 1e-5);
    const auto teacherTop = rowsStartingWith(
        csv, {a, QStringLiteral("teacher"), QStringLiteral("29"), QStringLiteral("14")});
    QCOMPARE(teacherTop.size(), 1);
    QVERIFY(std::abs(teacherTop[0][8].toDouble() - std::min(1.0, 14.5 / 15 + 0.02)) < 1e-5);
    const auto empty = rowsStartingWith(
        csv, {a, QStringLiteral("student"), QStringLiteral("29"), QStringLiteral("3")});
    QCOMPARE(empty.size(), 1);
    QCOMPARE(empty[0][6].toDouble(), 0.0);

    // The diagram draws the non-empty bins only.
    int drawn = -1;
    for (int g = 0; g < view.customPlot()->graphCount(); ++g)
        if (view.customPlot()->graph(g)->name().startsWith(QStringLiteral("run-a student")))
            drawn = view.customPlot()->graph(g)->dataCount();
    QCOMPARE(drawn, 8);

    // Another step: bins re-read, ECE from the bins (no scalar at 19).
    view.stepSelector()->setCurrentStep(19);
    QCOMPARE(view.curveStep(m_a, QStringLiteral("student")), std::int64_t(19));
    QVERIFY(std::abs(view.curveEce(m_a, QStringLiteral("student")) - eceOf(makeBins(0.10))) < 1e-6);
    QVERIFY(view.curveLegendText(m_a, QStringLiteral("student"))
                .endsWith(QString::number(eceOf(makeBins(0.10)), 'f', 3)));
    const auto mid = rowsStartingWith(
        view.csv(), {a, QStringLiteral("student"), QStringLiteral("19"), QStringLiteral("14")});
    QCOMPARE(mid.size(), 1);
    QVERIFY(std::abs(mid[0][8].toDouble() - (14.5 / 15 - 0.10)) < 1e-5);
    QVERIFY(!view.csv().contains(QStringLiteral(",29,")));
}

void TestDiagnosticViews::calibrationOverlaysRuns()
{
    CalibrationView view;
    refreshWith(view, m_reader.get(), {m_a, m_b}, m_names);
    QCOMPARE(view.referenceRun(), m_a);
    QCOMPARE(view.stepSelector()->steps(), (std::vector<std::int64_t>{9, 19, 29}));
    QCOMPARE(view.curveCount(), 3); // A's student and teacher, B's student
    QVERIFY(view.hasCurve(m_b, QStringLiteral("student")));
    QVERIFY(!view.hasCurve(m_b, QStringLiteral("teacher")));
    // B at its latest evaluation at or before the selected step.
    QCOMPARE(view.curveStep(m_b, QStringLiteral("student")), std::int64_t(25));
    QVERIFY(
        view.curveLegendText(m_b, QStringLiteral("student")).contains(QStringLiteral("(step 25)")));
    QVERIFY(std::abs(view.curveEce(m_b, QStringLiteral("student")) - eceOf(makeBins(0.25))) < 1e-6);
    // Two student curves, each in its run's colour.
    int studentCurves = 0;
    for (int g = 0; g < view.customPlot()->graphCount(); ++g) {
        QCPGraph *graph = view.customPlot()->graph(g);
        if (!graph->name().contains(QStringLiteral(" student — ECE")))
            continue;
        ++studentCurves;
        const core::RunId run = graph->name().startsWith(QStringLiteral("run-a")) ? m_a : m_b;
        QCOMPARE(graph->pen().color(), MetricPlot::runColor(run));
    }
    QCOMPARE(studentCurves, 2);

    view.stepSelector()->setCurrentStep(19);
    QCOMPARE(view.curveStep(m_b, QStringLiteral("student")), std::int64_t(10));
    view.stepSelector()->setCurrentStep(9);
    QVERIFY(!view.hasCurve(m_b, QStringLiteral("student"))); // B has nothing that early
    QCOMPARE(view.curveCount(), 2);

    // The first selected run with bins gives the steps.
    refreshWith(view, m_reader.get(), {m_b, m_a}, m_names);
    QCOMPARE(view.referenceRun(), m_b);
    QCOMPARE(view.stepSelector()->steps(), (std::vector<std::int64_t>{10, 25}));
    // The selection stays near step 9, where the user left it.
    QCOMPARE(view.stepSelector()->currentStep(), std::int64_t(10));
    QCOMPARE(view.curveStep(m_a, QStringLiteral("student")), std::int64_t(9));
    view.stepSelector()->setCurrentStep(25);
    QCOMPARE(view.curveStep(m_a, QStringLiteral("student")), std::int64_t(19));
    refreshWith(view, m_reader.get(), {m_c, m_a}, m_names);
    QCOMPARE(view.referenceRun(), m_a);
    QVERIFY(view.hasData());
}

void TestDiagnosticViews::calibrationEmptyStates()
{
    CalibrationView view;
    QVERIFY(!view.hasData());
    QVERIFY(!view.emptyText().isEmpty());
    QCOMPARE(view.csv(),
             QStringLiteral("run,who,step,bin,lower,upper,count,confidence,accuracy\n"));

    refreshWith(view, nullptr, {m_a}, m_names);
    QVERIFY(!view.hasData());
    QVERIFY(view.emptyText().contains(QStringLiteral("not open")));

    refreshWith(view, m_reader.get(), {}, m_names);
    QVERIFY(!view.hasData());
    QVERIFY(view.emptyText().contains(QStringLiteral("Select a run")));

    refreshWith(view, m_reader.get(), {m_c}, m_names);
    QVERIFY(!view.hasData());
    QVERIFY(view.stepSelector()->steps().empty());
    QCOMPARE(view.curveCount(), 0);
    QVERIFY(view.emptyText().contains(QStringLiteral("run-c")));

    // Data stays when the store cannot be read for a while; clear() forgets it.
    refreshWith(view, m_reader.get(), {m_a}, m_names);
    QVERIFY(view.hasData());
    refreshWith(view, nullptr, {m_a}, m_names);
    QVERIFY(view.hasData());
    QVERIFY(view.emptyText().isEmpty());
    view.stepSelector()->setCurrentStep(9); // no reader: nothing to read, nothing breaks
    view.clear();
    QVERIFY(!view.hasData());
    QVERIFY(view.stepSelector()->steps().empty());
    QCOMPARE(view.csv().count(QLatin1Char('\n')), 1);
}

void TestDiagnosticViews::calibrationFollowsLiveSteps()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("live.sqlite"));
    auto writer = openWriter(path);
    const core::RunId run = createRun(*writer, "live");
    writeBins(*writer, run, 0, "student", makeBins(0.1));
    QVERIFY(writer->flush().ok());
    auto reader = openReader(path);

    CalibrationView view;
    refreshWith(view, reader.get(), {run}, {{run, QStringLiteral("live")}});
    QCOMPARE(view.stepSelector()->currentStep(), std::int64_t(0));
    QCOMPARE(view.curveCount(), 1);

    writeBins(*writer, run, 10, "student", makeBins(0.3));
    QVERIFY(writer->flush().ok());
    refreshWith(view, reader.get(), {run}, {{run, QStringLiteral("live")}});
    QCOMPARE(view.stepSelector()->currentStep(), std::int64_t(10));
    QVERIFY(std::abs(view.curveEce(run, QStringLiteral("student")) - eceOf(makeBins(0.3))) < 1e-6);

    // A user who went back keeps their step.
    view.stepSelector()->setCurrentStep(0);
    writeBins(*writer, run, 20, "student", makeBins(0.2));
    QVERIFY(writer->flush().ok());
    refreshWith(view, reader.get(), {run}, {{run, QStringLiteral("live")}});
    QCOMPARE(view.stepSelector()->steps().size(), std::size_t(3));
    QCOMPARE(view.stepSelector()->currentStep(), std::int64_t(0));
    QCOMPARE(view.curveStep(run, QStringLiteral("student")), std::int64_t(0));
}

void TestDiagnosticViews::calibrationExports()
{
    CalibrationView view;
    view.resize(900, 500);
    refreshWith(view, m_reader.get(), {m_a, m_b}, m_names);
    QCOMPARE(view.exportName(), QStringLiteral("calibration"));
    QTemporaryDir dir;
    const QString png = dir.filePath(QStringLiteral("c.png"));
    const QString pdf = dir.filePath(QStringLiteral("c.pdf"));
    const QString csv = dir.filePath(QStringLiteral("c.csv"));
    QVERIFY(view.savePng(png));
    QVERIFY(view.savePdf(pdf));
    QVERIFY(view.saveCsv(csv));
    QVERIFY(nonEmptyFile(png));
    QVERIFY(nonEmptyFile(pdf));
    QVERIFY(nonEmptyFile(csv));
    QVERIFY(!QImage(png).isNull());
    QFile file(csv);
    QVERIFY(file.open(QIODevice::ReadOnly | QIODevice::Text));
    QCOMPARE(QString::fromUtf8(file.readAll()), view.csv());
}

void TestDiagnosticViews::diversityShowsSamples()
{
    DiversityView view;
    refreshWith(view, m_reader.get(), {m_a}, m_names);
    QVERIFY(view.hasData());
    QVERIFY(view.emptyText().isEmpty());
    QCOMPARE(view.sampleRun(), m_a);
    QCOMPARE(view.stepSelector()->steps(), (std::vector<std::int64_t>{99, 199}));
    QCOMPARE(view.stepSelector()->currentStep(), std::int64_t(199));
    QCOMPARE(view.sampleCount(), 3);
    QString text = view.samplesText();
    QVERIFY2(text.contains(QStringLiteral("1  one⇥two")), qPrintable(text));
    // ␁ where a font has it, caret notation otherwise.
    QVERIFY(text.contains(QStringLiteral("3  four␁")) ||
            text.contains(QStringLiteral("3  four^A")));
    QVERIFY(!text.contains(QLatin1Char('\t')));
    QVERIFY2(view.statsText().contains(QStringLiteral("distinct-1 0.500")),
             qPrintable(view.statsText()));
    QVERIFY(view.statsText().contains(QStringLiteral("self-BLEU-4 0.213")));
    QVERIFY(view.statsText().contains(QStringLiteral("mean length 40.0")));

    view.stepSelector()->setCurrentStep(99);
    QCOMPARE(view.sampleCount(), 2);
    text = view.samplesText();
    QVERIFY2(text.contains(QStringLiteral("1  the cat↵sat")), qPrintable(text));
    QVERIFY(text.contains(QStringLiteral("2  a,b \"quoted\"")));
    QVERIFY(view.statsText().contains(QStringLiteral("distinct-1 0.412")));

    const QString csv = view.csv();
    const QString a = QString::number(m_a);
    QVERIFY(csv.startsWith(QStringLiteral("run,series,step,index,value,text\n")));
    QVERIFY2(csv.contains(a + QStringLiteral(",sample,99,0,,\"the cat\nsat\"\n")), qPrintable(csv));
    QVERIFY(csv.contains(a + QStringLiteral(",sample,99,1,,\"a,b \"\"quoted\"\"\"\n")));
    QVERIFY(!csv.contains(QStringLiteral("one\ttwo")));
    QCOMPARE(csv.count(QStringLiteral(",kl_oracle_student,")), 7);
    QCOMPARE(csv.count(QStringLiteral(",kl_teacher_student,")), 7);
    const auto row =
        rowsStartingWith(csv, {a, QStringLiteral("kl_oracle_student"), QStringLiteral("100")});
    QCOMPARE(row.size(), 1);
    QVERIFY(std::abs(row[0][4].toDouble() - oracleKl(100)) < 1e-9);
}

void TestDiagnosticViews::diversityFitsPowerLaws()
{
    DiversityView view;
    refreshWith(view, m_reader.get(), {m_a}, m_names);
    QCOMPARE(view.klPointCount(m_a, QStringLiteral("oracle")), 7);
    QVERIFY(std::abs(view.fitExponent(m_a, QStringLiteral("oracle")) - (-0.5)) < 1e-6);
    QVERIFY(std::abs(view.fitExponent(m_a, QStringLiteral("teacher")) - (-0.8)) < 1e-6);
    QVERIFY(std::abs(view.powerLawFit(m_a, QStringLiteral("oracle")).a - 2.0) < 1e-6);
    QVERIFY(view.powerLawFit(m_a, QStringLiteral("oracle")).r2 > 0.999);
    QVERIFY2(view.fitLegendText(m_a, QStringLiteral("oracle")).contains(QStringLiteral("x^−0.50")),
             qPrintable(view.fitLegendText(m_a, QStringLiteral("oracle"))));
    QVERIFY(view.fitLegendText(m_a, QStringLiteral("teacher")).contains(QStringLiteral("x^−0.80")));
    QVERIFY(view.hackingEmptyText().isEmpty());
    QCOMPARE(view.hackingMarkerStep(m_a), std::int64_t(200));

    // The plot: both axes logarithmic, the marker as a vertical line at x = 200.
    QCustomPlot *plot = view.hackingPlot();
    QCOMPARE(plot->xAxis->scaleType(), QCPAxis::stLogarithmic);
    QCOMPARE(plot->yAxis->scaleType(), QCPAxis::stLogarithmic);
    QCOMPARE(plot->graphCount(), 4); // two series and their fits
    int markers = 0;
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto *line = qobject_cast<QCPItemStraightLine *>(plot->item(i)))
            markers += line->point1->coords().x() == 200.0 && line->point2->coords().x() == 200.0;
    QCOMPARE(markers, 1);
    bool labelled = false;
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto *text = qobject_cast<QCPItemText *>(plot->item(i)))
            labelled |= text->text() == QStringLiteral("teacher hacking");
    QVERIFY(labelled);
    // The oracle series at x = step.
    QCPGraph *oracle = plot->graph(0);
    QVERIFY(oracle->name().contains(QStringLiteral("KL(oracle‖student)")));
    QCOMPARE(oracle->data()->constBegin()->key, 10.0);

    // B has no oracle series: the plot says what it needs, and B gets no marker.
    refreshWith(view, m_reader.get(), {m_b}, m_names);
    QVERIFY(std::isnan(view.fitExponent(m_b, QStringLiteral("oracle"))));
    QVERIFY(std::abs(view.fitExponent(m_b, QStringLiteral("teacher")) - (-0.8)) < 1e-6);
    QCOMPARE(view.hackingEmptyText(),
             QStringLiteral("KL(oracle‖student) needs a dataset with an oracle (HMM)"));
    QCOMPARE(view.hackingMarkerStep(m_b), std::int64_t(-1));
    QVERIFY(view.fitLegendText(m_a, QStringLiteral("oracle")).isEmpty()); // A not selected
}

void TestDiagnosticViews::diversityOverlaysRuns()
{
    DiversityView view;
    refreshWith(view, m_reader.get(), {m_a, m_b}, m_names);
    QCOMPARE(view.sampleRun(), m_a);
    // A: oracle, teacher and their fits; B: teacher and its fit.
    QCOMPARE(view.hackingPlot()->graphCount(), 6);
    QCOMPARE(view.hackingMarkerStep(m_a), std::int64_t(200));
    QCOMPARE(view.hackingMarkerStep(m_b), std::int64_t(-1));
    QVERIFY(view.hackingEmptyText().isEmpty());
    // The legend: each run a block (oracle row, teacher row), blocks side by side, every fit in
    // the column right of its own series.
    QCPLegend *legend = view.hackingPlot()->legend;
    QCOMPARE(legend->rowCount(), 2);
    for (int row = 0; row < legend->rowCount(); ++row)
        for (int column = 0; column + 1 < legend->columnCount(); column += 2) {
            auto *data = qobject_cast<QCPPlottableLegendItem *>(legend->element(row, column));
            auto *fit = qobject_cast<QCPPlottableLegendItem *>(legend->element(row, column + 1));
            if (!data)
                continue;
            QVERIFY(fit);
            QCOMPARE(fit->plottable()->pen().color().rgb(), data->plottable()->pen().color().rgb());
            QVERIFY(fit->plottable()->name().startsWith(QStringLiteral("fit")));
        }
    QVERIFY(qobject_cast<QCPPlottableLegendItem *>(legend->element(1, 2))->plottable()->name().startsWith("run-b"));

    // Samples come from the first selected run that has them.
    refreshWith(view, m_reader.get(), {m_b, m_a}, m_names);
    QCOMPARE(view.sampleRun(), m_a);
    QCOMPARE(view.sampleCount(), 3);
    refreshWith(view, m_reader.get(), {m_b}, m_names);
    QCOMPARE(view.sampleRun(), core::RunId(0));
    QCOMPARE(view.sampleCount(), 0);
    QVERIFY(view.stepSelector()->steps().empty());
    QVERIFY(view.hasData()); // the KL(teacher‖student) series
    QVERIFY(view.statsText().isEmpty());
}

void TestDiagnosticViews::diversityEmptyStates()
{
    DiversityView view;
    QVERIFY(!view.hasData());
    QVERIFY(!view.emptyText().isEmpty());
    QCOMPARE(view.csv(), QStringLiteral("run,series,step,index,value,text\n"));

    refreshWith(view, nullptr, {m_a}, m_names);
    QVERIFY(!view.hasData());
    QVERIFY(view.emptyText().contains(QStringLiteral("not open")));

    refreshWith(view, m_reader.get(), {}, m_names);
    QVERIFY(view.emptyText().contains(QStringLiteral("Select a run")));

    refreshWith(view, m_reader.get(), {m_c}, m_names);
    QVERIFY(!view.hasData());
    QVERIFY(view.emptyText().contains(QStringLiteral("run-c")));
    QCOMPARE(view.sampleCount(), 0);
    QVERIFY(!view.hackingEmptyText().isEmpty());

    refreshWith(view, m_reader.get(), {m_a}, m_names);
    QVERIFY(view.hasData());
    refreshWith(view, nullptr, {m_a}, m_names);
    QVERIFY(view.hasData());
    QCOMPARE(view.sampleCount(), 3);
    view.stepSelector()->setCurrentStep(99); // no reader: read at the next refresh with one
    QCOMPARE(view.sampleCount(), 3);
    refreshWith(view, m_reader.get(), {m_a}, m_names);
    QCOMPARE(view.sampleCount(), 2);
    view.clear();
    QVERIFY(!view.hasData());
    QCOMPARE(view.hackingPlot()->graphCount(), 0);
    QCOMPARE(view.csv().count(QLatin1Char('\n')), 1);
}

void TestDiagnosticViews::diversityFollowsLiveRows()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("live.sqlite"));
    auto writer = openWriter(path);
    const core::RunId run = createRun(*writer, "live");
    const QHash<core::RunId, QString> names{{run, QStringLiteral("live")}};
    auto evaluate = [&](std::int64_t step) {
        const double x = double(step);
        writer->addScalar(run, "eval/kl_oracle_student", step, oracleKl(x));
        writer->addScalar(run, "eval/kl_teacher_student", step, teacherKl(x));
        writer->addScalar(run, "diag/diversity/distinct1", step, 0.001 * double(step));
        writer->addSample(run, step, 0, "sample at " + std::to_string(step));
        QVERIFY(writer->flush().ok());
    };
    evaluate(9);
    auto reader = openReader(path);
    DiversityView view;
    refreshWith(view, reader.get(), {run}, names);
    QCOMPARE(view.klPointCount(run, QStringLiteral("oracle")), 1);
    QVERIFY(std::isnan(view.fitExponent(run, QStringLiteral("oracle")))); // one point: no fit
    QVERIFY(view.samplesText().contains(QStringLiteral("sample at 9")));

    evaluate(99);
    evaluate(999);
    refreshWith(view, reader.get(), {run}, names);
    QCOMPARE(view.klPointCount(run, QStringLiteral("oracle")), 3);
    QVERIFY(std::abs(view.fitExponent(run, QStringLiteral("oracle")) - (-0.5)) < 1e-6);
    QCOMPARE(view.stepSelector()->currentStep(), std::int64_t(999));
    QVERIFY(view.samplesText().contains(QStringLiteral("sample at 999")));
    QVERIFY(view.statsText().contains(QStringLiteral("distinct-1 0.999")));
    QCOMPARE(view.hackingMarkerStep(run), std::int64_t(-1));

    // The flag arrives with an evaluation.
    QVERIFY(writer->setRunMeta(run, "teacher_hacking_step", "1000").ok());
    evaluate(1999);
    refreshWith(view, reader.get(), {run}, names);
    QCOMPARE(view.hackingMarkerStep(run), std::int64_t(1000));
    QCOMPARE(view.klPointCount(run, QStringLiteral("teacher")), 4);
}

void TestDiagnosticViews::diversityExports()
{
    DiversityView view;
    view.resize(900, 500);
    refreshWith(view, m_reader.get(), {m_a}, m_names);
    QCOMPARE(view.exportName(), QStringLiteral("diversity"));
    QTemporaryDir dir;
    const QString png = dir.filePath(QStringLiteral("d.png"));
    const QString pdf = dir.filePath(QStringLiteral("d.pdf"));
    const QString csv = dir.filePath(QStringLiteral("d.csv"));
    QVERIFY(view.savePng(png));
    QVERIFY(view.savePdf(pdf));
    QVERIFY(view.saveCsv(csv));
    QVERIFY(nonEmptyFile(png));
    QVERIFY(nonEmptyFile(pdf));
    QVERIFY(nonEmptyFile(csv));
    QVERIFY(!QImage(png).isNull());
}

void TestDiagnosticViews::visibleControls_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("shown");
    QTest::newRow("plain") << QStringLiteral("abc déf") << QStringLiteral("abc déf");
    QTest::newRow("newline") << QStringLiteral("a\nb") << QStringLiteral("a↵b");
    QTest::newRow("tab") << QStringLiteral("a\tb") << QStringLiteral("a⇥b");
    QTest::newRow("cr") << QStringLiteral("a\r\n") << QStringLiteral("a␍↵");
    QTest::newRow("nul") << QString(QChar(0)) << QStringLiteral("␀");
    QTest::newRow("esc, del") << QStringLiteral("\x1b\x7f") << QStringLiteral("␛␡");
}

void TestDiagnosticViews::visibleControls()
{
    QFETCH(QString, text);
    QFETCH(QString, shown);
    QCOMPARE(DiversityView::visibleControls(text), shown);
}

void TestDiagnosticViews::renderViews()
{
    // A realistic store: two runs, the first with a teacher that hacks after a while.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("render.sqlite"));
    auto writer = openWriter(path);
    const core::RunId first = createRun(*writer, "gkd-tiny");
    const core::RunId second = createRun(*writer, "kd-baseline");
    const core::RunId third = createRun(*writer, "no-oracle"); // a real-text dataset
    for (int e = 0; e < 12; ++e) {
        const std::int64_t step = 100 + 100 * e;
        const double x = double(step);
        for (int r = 0; r < 2; ++r) {
            const core::RunId run = r == 0 ? first : second;
            Bins student, teacher;
            for (int b = 0; b < 15; ++b) {
                const double conf = (b + 0.5) / 15.0;
                const double n = b < 2 ? 0 : 400.0 * std::exp(-std::pow((conf - 0.55) / 0.25, 2));
                student.count.push_back(float(n));
                student.confidence.push_back(n > 0 ? float(conf) : 0.f);
                const double gap = (r == 0 ? 0.10 : 0.16) * conf * (1.0 - 0.04 * e);
                student.accuracy.push_back(n > 0 ? float(std::max(0.0, conf - gap)) : 0.f);
                teacher.count.push_back(float(n));
                teacher.confidence.push_back(n > 0 ? float(conf) : 0.f);
                teacher.accuracy.push_back(n > 0 ? float(std::min(1.0, conf - 0.02 + 0.03 * conf))
                                                 : 0.f);
            }
            writeBins(*writer, run, step, "student", student);
            if (r == 0)
                writeBins(*writer, run, step, "teacher", teacher);
            const double turn = r == 0 ? 600.0 : 1e9;
            const double oracle =
                1.8 * std::pow(x, -0.35) * (x > turn ? std::pow(x / turn, 0.5) : 1.0);
            writer->addScalar(run, "eval/kl_oracle_student", step, oracle);
            writer->addScalar(run, "eval/kl_teacher_student", step, 2.5 * std::pow(x, -0.55));
        }
        writer->addScalar(third, "eval/kl_teacher_student", step, 1.9 * std::pow(x, -0.4));
        writer->addScalar(first, "diag/diversity/distinct1", step, 0.35 + 0.01 * e);
        writer->addScalar(first, "diag/diversity/distinct2", step, 0.71 + 0.01 * e);
        writer->addScalar(first, "diag/diversity/distinct3", step, 0.88);
        writer->addScalar(first, "diag/diversity/self_bleu4", step, 0.31 - 0.01 * e);
        writer->addScalar(first, "diag/diversity/unique_fraction", step, 1.0);
        writer->addScalar(first, "diag/diversity/token_entropy", step, 1.94);
        writer->addScalar(first, "diag/diversity/mean_length", step, 40.0);
        const char *texts[] = {
            "the river ran under the old stone bridge and the children\nwatched the boats",
            "once upon a time there was a little fox who lived in a hollow\ttree",
            "she said that the weather would turn by the evening, and it did",
            "in the morning the market opened early; the bakers were already tired",
            "a long way from home the traveller stopped to rest by the road",
            "he wrote: \"dear sir, the parcel arrived\" and then nothing more",
            "the the the cat sat on the mat on the mat on the mat",
            "numbers 1, 2, 3 and then\r\nsomething else entirely"};
        for (int i = 0; i < 8; ++i)
            writer->addSample(first, step, i, texts[(i + e) % 8]);
    }
    QVERIFY(writer->setRunMeta(first, "teacher_hacking_step", "600").ok());
    QVERIFY(writer->flush().ok());
    auto reader = openReader(path);
    const QHash<core::RunId, QString> names{{first, QStringLiteral("gkd-tiny")},
                                            {second, QStringLiteral("kd-baseline")},
                                            {third, QStringLiteral("no-oracle")}};

    QString outDir = qEnvironmentVariable("DISTILLERY_TEST_RENDER_DIR");
    QTemporaryDir fallback;
    if (outDir.isEmpty())
        outDir = fallback.path();
    QVERIFY(QDir().mkpath(outDir));

    CalibrationView calibration;
    calibration.resize(900, 500);
    calibration.show();
    QVERIFY(QTest::qWaitForWindowExposed(&calibration));
    refreshWith(calibration, reader.get(), {first, second}, names);
    calibration.stepSelector()->setCurrentStep(599);
    QTest::qWait(50);
    QVERIFY(calibration.hasData());
    QCOMPARE(calibration.curveCount(), 3);
    const QImage calibrationImage = calibration.grab().toImage();
    QVERIFY(!calibrationImage.isNull());
    QVERIFY(calibrationImage.save(QDir(outDir).filePath(QStringLiteral("calibration.png"))));

    DiversityView diversity;
    diversity.resize(900, 500);
    diversity.show();
    QVERIFY(QTest::qWaitForWindowExposed(&diversity));
    refreshWith(diversity, reader.get(), {first, second}, names);
    QTest::qWait(50);
    QVERIFY(diversity.hasData());
    QCOMPARE(diversity.sampleCount(), 8);
    QCOMPARE(diversity.hackingMarkerStep(first), std::int64_t(600));
    const QImage diversityImage = diversity.grab().toImage();
    QVERIFY(!diversityImage.isNull());
    QVERIFY(diversityImage.save(QDir(outDir).filePath(QStringLiteral("diversity.png"))));

    // A dark palette re-themes both views.
    QPalette dark;
    dark.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
    dark.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
    dark.setColor(QPalette::Text, QColor(0xe0, 0xe0, 0xe0));
    dark.setColor(QPalette::WindowText, QColor(0xe0, 0xe0, 0xe0));
    dark.setColor(QPalette::PlaceholderText, QColor(0x90, 0x90, 0x90));
    dark.setColor(QPalette::Link, QColor(0x6c, 0xb4, 0xee));
    calibration.setPalette(dark);
    diversity.setPalette(dark);
    QTest::qWait(50); // the queued replots
    QCOMPARE(calibration.customPlot()->xAxis->tickLabelColor(), QColor(0xe0, 0xe0, 0xe0));
    QCOMPARE(diversity.hackingPlot()->xAxis->tickLabelColor(), QColor(0xe0, 0xe0, 0xe0));
    QVERIFY(calibration.hasData());
    QVERIFY(calibration.grab().save(QDir(outDir).filePath(QStringLiteral("calibration-dark.png"))));
    QVERIFY(diversity.grab().save(QDir(outDir).filePath(QStringLiteral("diversity-dark.png"))));

    // Empty states, for a look.
    CalibrationView emptyCalibration;
    emptyCalibration.resize(900, 500);
    refreshWith(emptyCalibration, reader.get(), {third}, names);
    QVERIFY(!emptyCalibration.hasData());
    QVERIFY(emptyCalibration.grab().save(
        QDir(outDir).filePath(QStringLiteral("calibration-empty.png"))));
    DiversityView noOracle;
    noOracle.resize(900, 500);
    refreshWith(noOracle, reader.get(), {third}, names);
    QVERIFY(noOracle.hasData());
    QVERIFY(!noOracle.hackingEmptyText().isEmpty());
    QVERIFY(noOracle.grab().save(QDir(outDir).filePath(QStringLiteral("diversity-no-oracle.png"))));
}

QTEST_MAIN(TestDiagnosticViews)
#include "tst_diagnosticviews.moc"
