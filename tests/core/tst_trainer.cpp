// End-to-end training through the public API: every template runs, the store receives what it
// should, resume equals an uninterrupted run, cancel/pause, failures and bad input.

#include "ensure.h"
#include "distillery/core/graph.h"
#include "distillery/core/modeltools.h"
#include "distillery/core/store.h"
#include "distillery/core/trainer.h"

#include "core/testgraphs.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <optional>
#include <set>
#include <thread>

using namespace distillery::core;
using distillery::core::testing::tiny;

namespace {

std::vector<ScalarPoint> series(const std::string &store, RunId run, const std::string &key)
{
    auto reader = StoreReader::open(store);
    if (!reader.ok())
        qFatal("%s", reader.error().message.c_str());
    return reader.value()->scalars(run, key).value();
}

bool sameValue(double a, double b)
{
    if (std::isnan(a) || std::isnan(b))
        return std::isnan(a) && std::isnan(b);
    return std::abs(a - b) <= 1e-6 * std::max(1.0, std::abs(a));
}

// Series that measure the machine rather than the run: they differ between any two runs.
bool timed(const std::string &key)
{
    return key == "train/tokens_per_s" || key.rfind("perf/", 0) == 0
           || key.rfind("diag/seconds/", 0) == 0;
}

// The first difference between what two runs stored: every scalar series but the timed ones,
// every token diagnostic at every step, the text samples and the teacher-hacking flag. Empty
// when they agree.
QString firstDifference(const std::string &store, RunId a, RunId b)
{
    auto opened = StoreReader::open(store);
    if (!opened.ok())
        return QString::fromStdString(opened.error().message);
    const StoreReader &r = *opened.value();
    const auto keysA = r.keys(a).value(), keysB = r.keys(b).value();
    if (keysA != keysB)
        return QString("the runs stored different series (%1 vs %2)").arg(keysA.size()).arg(keysB.size());
    std::set<std::string> quantities;
    for (const auto &key : keysA) {
        if (timed(key))
            continue;
        const auto sa = r.scalars(a, key).value(), sb = r.scalars(b, key).value();
        if (sa.size() != sb.size())
            return QString("%1: %2 rows vs %3").arg(QString::fromStdString(key)).arg(sa.size()).arg(sb.size());
        for (std::size_t i = 0; i < sa.size(); ++i)
            if (sa[i].step != sb[i].step || !sameValue(sa[i].value, sb[i].value))
                return QString("%1 at step %2: %3 vs %4")
                    .arg(QString::fromStdString(key)).arg(sa[i].step).arg(sa[i].value, 0, 'g', 10)
                    .arg(sb[i].value, 0, 'g', 10);
    }
    for (const char *q : {"kl", "grad_cosine", "student_entropy", "param_cosine",
                          "calibration/student/count", "top5/student/ids"}) {
        const auto stepsA = r.tokenDiagnosticSteps(a, q).value(), stepsB = r.tokenDiagnosticSteps(b, q).value();
        if (stepsA != stepsB)
            return QString("token diagnostic %1 stored at different steps").arg(q);
        for (auto step : stepsA) {
            const auto va = r.tokenDiagnostic(a, step, 0, q).value(), vb = r.tokenDiagnostic(b, step, 0, q).value();
            if (va.size() != vb.size())
                return QString("token diagnostic %1 at step %2: lengths differ").arg(q).arg(step);
            for (std::size_t i = 0; i < va.size(); ++i)
                if (!sameValue(va[i], vb[i]))
                    return QString("token diagnostic %1 at step %2, position %3: %4 vs %5")
                        .arg(q).arg(step).arg(i).arg(va[i]).arg(vb[i]);
        }
        for (auto step : stepsA)
            if (r.samples(a, step).value() != r.samples(b, step).value())
                return QString("text samples at step %1 differ").arg(step);
    }
    const auto metaA = r.runMeta(a).value(), metaB = r.runMeta(b).value();
    if (metaA.count("teacher_hacking_step") != metaB.count("teacher_hacking_step")
        || (metaA.count("teacher_hacking_step")
            && metaA.at("teacher_hacking_step") != metaB.at("teacher_hacking_step")))
        return "the teacher-hacking flag differs";
    return {};
}

} // namespace

class tst_Trainer : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::string store(const char *name) { return m_dir.filePath(name).toStdString(); }

private Q_SLOTS:
    // Student.init = teacher-layers with a teacher trained in the graph: the student takes the
    // teacher's architecture with every second layer, whatever its own parameters say.
    void studentStartsFromTheTeachersLayers()
    {
        Graph g = tiny("classic-kd", 4);
        using distillery::core::testing::setAll;
        setAll(g, "Teacher", {{"layers", std::int64_t(3)}, {"architecture", std::string("llama")},
                              {"kv_heads", std::int64_t(1)}});
        setAll(g, "Student", {{"init", std::string("teacher-layers")}, {"layers", std::int64_t(7)}});
        QVERIFY(validateGraph(g).empty());
        RunOptions o;
        o.storePath = store("teacher-layers.sqlite");
        auto r = runExperiment(g, o);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QVERIFY2(r.value().status == RunStatus::Finished, r.value().error.c_str());
        std::string model;
        for (const auto &c : StoreReader::open(o.storePath).value()->checkpoints(r.value().runId).value())
            if (c.kind == "model")
                model = c.path;
        auto facts = inspectModel(model);
        QVERIFY2(facts.ok(), facts.ok() ? "" : facts.error().message.c_str());
        QCOMPARE(facts.value().architecture, std::string("llama"));
        QCOMPARE(facts.value().layers, std::int64_t(2)); // layers 0 and 2 of 3
        QCOMPARE(facts.value().hidden, std::int64_t(16)); // the teacher's width, not the student's 8
        QCOMPARE(facts.value().kvHeads, std::int64_t(1));
    }

    void everyTemplateRuns_data()
    {
        QTest::addColumn<QString>("name");
        for (const auto &n : templateNames())
            QTest::newRow(n.c_str()) << QString::fromStdString(n);
    }
    void everyTemplateRuns()
    {
        QFETCH(QString, name);
        Graph g = tiny(name.toStdString());
        RunOptions o;
        o.storePath = store("templates.sqlite");
        std::vector<Progress> seen;
        auto r = runExperiment(g, o, [&](const Progress &p) { seen.push_back(p); });
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QVERIFY2(r.value().status == RunStatus::Finished, r.value().error.c_str());
        QCOMPARE(r.value().steps, std::int64_t(8));
        QVERIFY(r.value().finalMetrics.count("eval/student_nll"));
        QVERIFY(r.value().finalMetrics.count("eval/kl_oracle_student"));
        QVERIFY(!seen.empty());
        QCOMPARE(seen.back().step, std::int64_t(8));
        // Every report says which run it is about, teacher phase included.
        for (const Progress &p : seen)
            QCOMPARE(p.runId, r.value().runId);

        auto reader = StoreReader::open(o.storePath).value();
        auto info = reader->run(r.value().runId).value();
        QCOMPARE(info.status, RunStatus::Finished);
        QCOMPARE(info.templateName, name.toStdString());
        QCOMPARE(info.lastStep, std::int64_t(8));
        // Steps are numbered by the updates done: 1 to 8, evaluations after 4 and 8.
        auto loss = reader->scalars(r.value().runId, "train/loss").value();
        QCOMPARE(int(loss.size()), 8);
        for (int i = 0; i < 8; ++i)
            QCOMPARE(loss[std::size_t(i)].step, std::int64_t(i + 1));
        auto eval = reader->scalars(r.value().runId, "eval/student_nll").value();
        QCOMPARE(int(eval.size()), 2);
        QCOMPARE(eval[0].step, std::int64_t(4));
        QCOMPARE(eval[1].step, std::int64_t(8));
        auto cps = reader->checkpoints(r.value().runId).value();
        QVERIFY(std::count_if(cps.begin(), cps.end(),
                              [](const CheckpointInfo &c) { return c.kind == "student"; })
                == 2);
        // The stored graph is what ran and loads back.
        QVERIFY(graphFromJson(info.graphJson).ok());

        // Diagnostics at every evaluation: per-token arrays of the probe sequences, their means,
        // calibration scalars and reliability bins.
        auto steps = reader->tokenDiagnosticSteps(r.value().runId, "grad_cosine").value();
        QCOMPARE(steps, (std::vector<std::int64_t>{4, 8}));
        QCOMPARE(reader->tokenDiagnostic(r.value().runId, 8, 0, "kl").value().size(), std::size_t(16));
        QCOMPARE(reader->tokenDiagnostic(r.value().runId, 8, 3, "top1_agree").value().size(), std::size_t(16));
        QCOMPARE(reader->tokenDiagnostic(r.value().runId, 8, 0, "calibration/student/count").value().size(),
                 std::size_t(15));
        QCOMPARE(int(series(o.storePath, r.value().runId, "diag/align/kl").size()), 2);
        const auto ece = series(o.storePath, r.value().runId, "eval/calibration/student/ece");
        QCOMPARE(int(ece.size()), 2);
        QVERIFY(ece.back().value >= 0 && ece.back().value <= 1);
        QVERIFY(reader->runMeta(r.value().runId).value().count("probe/0/tokens"));
        // Diversity of the student's samples of 8 validation prompts, and their text.
        QCOMPARE(reader->samples(r.value().runId, 8).value().size(), std::size_t(8));
        const auto distinct = series(o.storePath, r.value().runId, "diag/diversity/distinct1");
        QCOMPARE(int(distinct.size()), 2);
        QVERIFY(distinct.back().value > 0 && distinct.back().value <= 1);
        QCOMPARE(int(series(o.storePath, r.value().runId, "diag/hacking/flag").size()), 2);
        // The teacher's and the student's five most probable next tokens at every position.
        const auto top = reader->tokenDiagnostic(r.value().runId, 8, 1, "top5/teacher/token").value();
        const auto topP = reader->tokenDiagnostic(r.value().runId, 8, 1, "top5/teacher/prob").value();
        QCOMPARE(top.size(), std::size_t(16 * 5));
        QCOMPARE(topP.size(), std::size_t(16 * 5));
        for (std::size_t t = 0; t < 16; ++t) {
            double sum = 0;
            for (std::size_t k = 0; k < 5; ++k) {
                QVERIFY(top[5 * t + k] >= 0 && top[5 * t + k] < 16);
                sum += topP[5 * t + k];
                if (k)
                    QVERIFY(topP[5 * t + k] <= topP[5 * t + k - 1]);
            }
            QVERIFY(sum > 0 && sum <= 1.0 + 1e-5);
        }
        // The parameter-space alignment of 8 positions of the first probe sequence.
        const auto param = reader->tokenDiagnostic(r.value().runId, 8, 0, "param_cosine").value();
        QCOMPARE(param.size(), std::size_t(16));
        QCOMPARE(std::count_if(param.begin(), param.end(), [](float c) { return std::isfinite(c); }), 8L);
        for (float c : param)
            QVERIFY(!std::isfinite(c) || (c >= -1.0001f && c <= 1.0001f));
        QCOMPARE(int(series(o.storePath, r.value().runId, "diag/align/param_cosine").size()), 2);
        // Student/teacher entropy ratio on the evaluation tokens.
        const auto ratio = series(o.storePath, r.value().runId, "diag/diversity/entropy_ratio");
        QCOMPARE(int(ratio.size()), 2);
        QVERIFY(ratio.back().value > 0);
    }

    void diagnosticsIntervalThinsTheProbes()
    {
        Graph g = tiny("classic-kd", 12);
        const NodeId d = g.addNode("Diagnostics");
        QVERIFY(g.setParam(d, "interval", std::int64_t(8)).ok());
        QVERIFY(g.setParam(d, "param_tokens", std::int64_t(0)).ok());
        RunOptions o;
        o.storePath = store("interval.sqlite");
        auto r = runExperiment(g, o);
        QVERIFY(r.ok() && r.value().status == RunStatus::Finished);
        auto reader = StoreReader::open(o.storePath).value();
        // Evaluations at steps 4, 8 and 12; alignment and diversity at 4 and then 8 steps later.
        QCOMPARE(reader->tokenDiagnosticSteps(r.value().runId, "kl").value(),
                 (std::vector<std::int64_t>{4, 12}));
        QCOMPARE(int(series(o.storePath, r.value().runId, "diag/diversity/distinct1").size()), 2);
        QCOMPARE(int(series(o.storePath, r.value().runId, "eval/calibration/student/ece").size()), 3);
        QVERIFY(series(o.storePath, r.value().runId, "diag/align/param_cosine").empty());
        QVERIFY(reader->tokenDiagnosticSteps(r.value().runId, "param_cosine").value().empty());
    }

    void severalTeachersAreAlignedOneByOne()
    {
        Graph g = tiny("classic-kd");
        const NodeId data = g.nodesOfKind("Dataset").front()->id;
        const NodeId student = g.nodesOfKind("Student").front()->id;
        const NodeId combine = g.nodesOfKind("Combine").front()->id;
        const NodeId second = g.addNode("Teacher", 0, 0, "second");
        const NodeId loss = g.addNode("Loss", 0, 0, "rkl");
        QVERIFY(g.setParam(second, "train_steps", std::int64_t(3)).ok());
        QVERIFY(g.setParam(second, "layers", std::int64_t(1)).ok());
        QVERIFY(g.setParam(second, "d_model", std::int64_t(16)).ok());
        QVERIFY(g.setParam(second, "heads", std::int64_t(2)).ok());
        QVERIFY(g.setParam(second, "ffn", std::int64_t(32)).ok());
        QVERIFY(g.setParam(loss, "kind", std::string("reverse-kl")).ok());
        QVERIFY(g.connect({data, "tokens", second, "tokens"}).ok());
        QVERIFY(g.connect({student, "logits", loss, "student"}).ok());
        QVERIFY(g.connect({second, "logits", loss, "teacher"}).ok());
        QVERIFY(g.connect({loss, "loss", combine, "terms"}).ok());
        RunOptions o;
        o.storePath = store("teachers.sqlite");
        auto r = runExperiment(g, o);
        QVERIFY2(r.ok() && r.value().status == RunStatus::Finished,
                 r.ok() ? r.value().error.c_str() : r.error().message.c_str());
        auto reader = StoreReader::open(o.storePath).value();
        std::vector<std::string> labels;
        const std::vector<std::string> keys = reader->keys(r.value().runId).value();
        for (const auto &key : keys)
            if (key.rfind("diag/align/teacher/", 0) == 0 && key.size() > 12 &&
                key.compare(key.size() - 12, 12, "/grad_cosine") == 0)
                labels.push_back(key);
        QCOMPARE(int(labels.size()), 2);
        QVERIFY(std::find(labels.begin(), labels.end(), "diag/align/teacher/second/grad_cosine") != labels.end());
        for (const auto &key : labels) {
            const auto cos = series(o.storePath, r.value().runId, key);
            QCOMPARE(int(cos.size()), 2);
            QVERIFY(cos.back().value >= -1.0001 && cos.back().value <= 1.0001);
        }
        // Each teacher's terms alone differ from the whole objective.
        const auto all = series(o.storePath, r.value().runId, "diag/align/grad_cosine");
        const auto one = series(o.storePath, r.value().runId, "diag/align/teacher/second/grad_cosine");
        QVERIFY(std::abs(all.back().value - one.back().value) > 1e-6);
    }

    void diagnosticsCanBeTurnedOff()
    {
        Graph g = tiny("classic-kd");
        const NodeId d = g.addNode("Diagnostics");
        QVERIFY(d != kInvalidNode);
        QVERIFY(g.setParam(d, "enabled", false).ok());
        RunOptions o;
        o.storePath = store("nodiag.sqlite");
        auto r = runExperiment(g, o);
        QVERIFY(r.ok() && r.value().status == RunStatus::Finished);
        auto reader = StoreReader::open(o.storePath).value();
        QVERIFY(reader->tokenDiagnosticSteps(r.value().runId, "kl").value().empty());
        QVERIFY(series(o.storePath, r.value().runId, "eval/calibration/student/ece").empty());
        QVERIFY(!series(o.storePath, r.value().runId, "eval/student_nll").empty());
    }

    void teacherTrainedInGraphIsSavedAndReusable()
    {
        Graph g = tiny("classic-kd");
        RunOptions o;
        o.storePath = store("teacher.sqlite");
        auto r = runExperiment(g, o);
        QVERIFY(r.ok() && r.value().status == RunStatus::Finished);
        auto reader = StoreReader::open(o.storePath).value();
        auto cps = reader->checkpoints(r.value().runId).value();
        std::string teacherPath;
        for (const auto &c : cps)
            if (c.kind == "teacher")
                teacherPath = c.path;
        QVERIFY(QFile::exists(QString::fromStdString(teacherPath)));
        QCOMPARE(int(series(o.storePath, r.value().runId, "teacher/teacher/loss").size()), 5);

        // A later run takes it as a checkpoint teacher and trains no teacher itself.
        Graph g2 = tiny("classic-kd");
        const NodeId teacher = g2.nodesOfKind("Teacher").front()->id;
        QVERIFY(g2.setParam(teacher, "source", std::string("checkpoint")).ok());
        QVERIFY(g2.setParam(teacher, "path", teacherPath).ok());
        auto r2 = runExperiment(g2, o);
        QVERIFY2(r2.ok(), r2.ok() ? "" : r2.error().message.c_str());
        QCOMPARE(r2.value().status, RunStatus::Finished);
        QVERIFY(series(o.storePath, r2.value().runId, "teacher/teacher/loss").empty());
        // Same teacher, same validation data: the same teacher NLL.
        QCOMPARE(r2.value().finalMetrics.at("eval/teacher_nll"),
                 r.value().finalMetrics.at("eval/teacher_nll"));
    }

    // Also with 2 threads, where the teacher pass of the next batch runs beside the student;
    // and with diagnostics thinned by an interval, whose schedule and the teacher-hacking fits
    // carry over evaluations and must survive the resume.
    void resumeEqualsUninterrupted_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("threads");
        QTest::addColumn<int>("interval");
        QTest::newRow("gkd, 1 thread") << "gkd" << 1 << 0;
        QTest::newRow("gkd, 2 threads") << "gkd" << 2 << 0;
        QTest::newRow("hidden-state, 2 threads") << "hidden-state" << 2 << 0;
        QTest::newRow("sparse-topk, 2 threads") << "sparse-topk" << 2 << 0;
        QTest::newRow("taid, 2 threads") << "taid" << 2 << 0;
        QTest::newRow("classic-kd, probe interval") << "classic-kd" << 1 << 8;
    }
    void resumeEqualsUninterrupted()
    {
        QFETCH(QString, name);
        QFETCH(int, threads);
        QFETCH(int, interval);
        const std::string path = store("resume.sqlite");
        Graph graph = tiny(name.toStdString(), 20);
        if (interval > 0) {
            const NodeId d = graph.addNode("Diagnostics");
            QVERIFY(graph.setParam(d, "interval", std::int64_t(interval)).ok());
        }
        RunOptions o;
        o.storePath = path;
        o.threads = threads;
        auto full = runExperiment(graph, o);
        QVERIFY(full.ok() && full.value().status == RunStatus::Finished);

        // Same run, cancelled after step 5 (a checkpoint is written on cancel), then resumed.
        RunControl control;
        auto partial = runExperiment(graph, o, [&](const Progress &p) {
            if (p.phase == "student" && p.step >= 6)
                control.requestCancel();
        }, &control);
        QVERIFY(partial.ok());
        QCOMPARE(partial.value().status, RunStatus::Cancelled);
        QVERIFY(partial.value().steps < 20);
        auto resumed = resumeRun(partial.value().runId, o);
        QVERIFY2(resumed.ok(), resumed.ok() ? "" : resumed.error().message.c_str());
        QCOMPARE(resumed.value().status, RunStatus::Finished);

        const QString difference = firstDifference(path, full.value().runId, partial.value().runId);
        QVERIFY2(difference.isEmpty(), qPrintable(difference));
        QCOMPARE(resumed.value().finalMetrics.at("eval/student_nll"),
                 full.value().finalMetrics.at("eval/student_nll"));
        if (interval > 0) {
            // The schedule did carry over: probes at steps 4, 12 and 20 only.
            auto reader = StoreReader::open(path).value();
            QCOMPARE(reader->tokenDiagnosticSteps(partial.value().runId, "kl").value(),
                     (std::vector<std::int64_t>{4, 12, 20}));
            QVERIFY(!series(path, partial.value().runId, "diag/hacking/oracle_exponent").empty());
        }
        // A finished run cannot be resumed.
        QVERIFY(!resumeRun(full.value().runId, o).ok());
    }

    // Cancelled while its teacher trains: the run says so, has done no student step, and a
    // resume continues the teacher from the state saved on cancel (not from zero), ending as
    // the uninterrupted run does.
    void cancelInTeacherPhaseResumesTheTeacher()
    {
        const std::string path = store("teacher-cancel.sqlite");
        Graph graph = tiny("classic-kd", 8);
        distillery::core::testing::setAll(graph, "Teacher", {{"train_steps", std::int64_t(12)}});
        RunOptions o;
        o.storePath = path;
        auto full = runExperiment(graph, o);
        QVERIFY(full.ok() && full.value().status == RunStatus::Finished);

        RunControl control;
        auto partial = runExperiment(graph, o, [&](const Progress &p) {
            if (p.phase.rfind("teacher", 0) == 0 && p.step >= 6)
                control.requestCancel();
        }, &control);
        QVERIFY(partial.ok());
        QCOMPARE(partial.value().status, RunStatus::Cancelled);
        QCOMPARE(partial.value().steps, std::int64_t(0));
        const std::string &why = partial.value().error;
        QVERIFY2(why.find("teacher 'teacher'") != std::string::npos
                     && why.find("at step 6 of 12") != std::string::npos,
                 why.c_str());
        {
            auto reader = StoreReader::open(path).value();
            const RunInfo info = reader->run(partial.value().runId).value();
            QCOMPARE(info.status, RunStatus::Cancelled);
            QCOMPARE(info.lastStep, std::int64_t(0)); // the teacher's steps are not the run's
            QCOMPARE(info.error, why);
            QCOMPARE(int(series(path, partial.value().runId, "teacher/teacher/loss").size()), 6);
        }

        std::vector<std::int64_t> teacherSteps;
        auto resumed = resumeRun(partial.value().runId, o, [&](const Progress &p) {
            if (p.phase.rfind("teacher", 0) == 0)
                teacherSteps.push_back(p.step);
        });
        QVERIFY2(resumed.ok(), resumed.ok() ? "" : resumed.error().message.c_str());
        QCOMPARE(resumed.value().status, RunStatus::Finished);
        QVERIFY(!teacherSteps.empty());
        QCOMPARE(teacherSteps.front(), std::int64_t(7)); // continued, not retrained
        const QString difference = firstDifference(path, full.value().runId, partial.value().runId);
        QVERIFY2(difference.isEmpty(), qPrintable(difference));
        // The frozen teacher replaced its training state.
        const QString artifacts = QString::fromStdString(path) + ".artifacts/run-"
                                  + QString::number(partial.value().runId);
        QVERIFY(QFileInfo::exists(artifacts + "/teacher-2.pt"));
        QVERIFY(!QFileInfo::exists(artifacts + "/teacher-2-state.pt"));
    }

    // The overlapped teacher pass changes when the teacher runs, not what it computes.
    void overlapComputesTheSameNumbers()
    {
        RunOptions o;
        o.storePath = store("overlap.sqlite");
        o.threads = 1;
        auto alone = runExperiment(tiny("hidden-state", 10), o);
        o.threads = 2;
        auto overlapped = runExperiment(tiny("hidden-state", 10), o);
        QVERIFY(alone.ok() && overlapped.ok());
        QCOMPARE(overlapped.value().status, RunStatus::Finished);
        for (const char *key : {"train/loss", "train/term/hidden", "eval/kl_teacher_student"}) {
            auto a = series(o.storePath, alone.value().runId, key);
            auto b = series(o.storePath, overlapped.value().runId, key);
            QVERIFY2(!a.empty() && a.size() == b.size(), key);
            for (std::size_t i = 0; i < a.size(); ++i)
                QVERIFY2(std::abs(a[i].value - b[i].value) <= 1e-5 * std::max(1.0, std::abs(a[i].value)),
                         qPrintable(QString("%1 step %2: %3 vs %4").arg(key).arg(a[i].step)
                                        .arg(a[i].value).arg(b[i].value)));
        }
        auto meta = StoreReader::open(o.storePath).value()->runMeta(overlapped.value().runId).value();
        QVERIFY2(meta.at("threads").find("overlapped") != std::string::npos, meta.at("threads").c_str());
    }

    // The run trains on a worker thread; every check is made here, on the test's thread, from
    // what the worker recorded (a failed check inside the worker would be lost). The worker is
    // cancelled and joined on every way out of the test.
    void pauseHoldsAndCancelEnds()
    {
        RunControl control;
        RunOptions o;
        o.storePath = store("pause.sqlite");
        std::atomic<std::int64_t> lastStep{0};
        std::atomic<bool> sawPaused{false};
        std::optional<Result<RunResult>> result;
        control.setPaused(true);
        std::thread worker([&] {
            result = runExperiment(tiny("reverse-kl", 200), o, [&](const Progress &p) {
                if (p.paused)
                    sawPaused = true;
                if (p.phase == "student")
                    lastStep = p.step;
            }, &control);
        });
        struct Joiner
        {
            RunControl &control;
            std::thread &worker;
            ~Joiner()
            {
                control.requestCancel();
                if (worker.joinable())
                    worker.join();
            }
        } joiner{control, worker};

        QTRY_VERIFY_WITH_TIMEOUT(sawPaused.load(), 10000);
        QTest::qWait(300);
        QCOMPARE(lastStep.load(), std::int64_t(0));
        control.setPaused(false);
        QTRY_VERIFY_WITH_TIMEOUT(lastStep.load() > 2, 20000);
        control.requestCancel();
        worker.join();
        QVERIFY(result.has_value());
        QVERIFY2(result->ok(), result->ok() ? "" : result->error().message.c_str());
        QCOMPARE(result->value().status, RunStatus::Cancelled);
        QVERIFY(result->value().steps > 2 && result->value().steps < 200);
        auto reader = StoreReader::open(o.storePath).value();
        auto runs = reader->runs().value();
        QCOMPARE(runs.front().status, RunStatus::Cancelled);
    }

    void nonFiniteLossFailsNamingTheTerm()
    {
        QProcess py;
        py.start(DISTILLERY_PYTHON,
                 {QString(DISTILLERY_SOURCE_DIR) + "/tests/core/make_torchscript_teachers.py",
                  m_dir.path(), "16"});
        QVERIFY2(py.waitForFinished(120000) && py.exitCode() == 0,
                 py.readAllStandardError().constData());
        const QString teacher = m_dir.filePath("nan.pt");
        Graph g = tiny("classic-kd");
        const NodeId t = g.nodesOfKind("Teacher").front()->id;
        QVERIFY(g.setParam(t, "source", std::string("torchscript")).ok());
        QVERIFY(g.setParam(t, "path", teacher.toStdString()).ok());
        RunOptions o;
        o.storePath = store("nan.sqlite");
        auto r = runExperiment(g, o);
        QVERIFY(r.ok());
        QCOMPARE(r.value().status, RunStatus::Failed);
        QVERIFY2(r.value().error.find("step 1:") != std::string::npos, r.value().error.c_str());
        QVERIFY2(r.value().error.find("'kd'") != std::string::npos, r.value().error.c_str());
        auto info = StoreReader::open(o.storePath).value()->run(r.value().runId).value();
        QCOMPARE(info.status, RunStatus::Failed);
        QCOMPARE(info.error, r.value().error);
    }

    void badInputIsAnErrorBeforeAnyRun_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("expect");
        QTest::newRow("missing teacher") << "missing-teacher" << "no-such-teacher.pt' does not exist";
        QTest::newRow("empty corpus") << "empty-corpus" << "empty";
        QTest::newRow("invalid graph") << "invalid" << "the graph is invalid";
        QTest::newRow("cuda without cuda") << "cuda" << "CUDA";
    }
    void badInputIsAnErrorBeforeAnyRun()
    {
        QFETCH(QString, what);
        QFETCH(QString, expect);
        Graph g = tiny("classic-kd");
        RunOptions o;
        o.storePath = store("bad.sqlite");
        if (what == "missing-teacher") {
            const NodeId t = g.nodesOfKind("Teacher").front()->id;
            ENSURE(g.setParam(t, "source", std::string("checkpoint")));
            ENSURE(g.setParam(t, "path", m_dir.filePath("no-such-teacher.pt").toStdString()));
        } else if (what == "empty-corpus") {
            QFile f(m_dir.filePath("empty.txt"));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.close();
            const NodeId d = g.nodesOfKind("Dataset").front()->id;
            ENSURE(g.setParam(d, "source", std::string("text")));
            ENSURE(g.setParam(d, "path", f.fileName().toStdString()));
            for (const Node *n : g.nodesOfKind("Teacher"))
                ENSURE(g.setParam(n->id, "vocab", std::int64_t(0)));
        } else if (what == "invalid") {
            ENSURE(g.removeNode(g.nodesOfKind("Optimizer").front()->id));
        } else if (what == "cuda") {
            if (cudaAvailable())
                QSKIP("this machine has CUDA");
            o.device = "cuda";
        }
        auto r = runExperiment(g, o);
        QVERIFY(!r.ok());
        QVERIFY2(QString::fromStdString(r.error().message).contains(expect),
                 r.error().message.c_str());
        if (QFile::exists(QString::fromStdString(o.storePath))) {
            auto runs = StoreReader::open(o.storePath).value()->runs().value();
            QVERIFY(runs.empty());
        }
    }

    // Titles that look like generated labels never make two loss terms share a series:
    // "kd", "kd#99" and a second "kd" that is node 99 give three series.
    void termLabelsAreUnique()
    {
        Graph g = tiny("reverse-kl");
        const Node *first = g.nodesOfKind("Loss").front();
        ENSURE(g.setTitle(first->id, "kd"));
        const NodeId firstId = first->id;
        const Edge into = *std::find_if(g.edges().begin(), g.edges().end(),
                                        [&](const Edge &e) { return e.fromNode == firstId; });
        auto addLoss = [&](NodeId id, const std::string &title) {
            Node n = *g.node(firstId);
            n.id = id;
            n.title = title;
            ENSURE(g.insertNode(n));
            for (const Edge &e : std::vector<Edge>(g.edges().begin(), g.edges().end()))
                if (e.toNode == firstId)
                    ENSURE(g.connect({e.fromNode, e.fromPort, id, e.toPort}));
            ENSURE(g.connect({id, into.fromPort, into.toNode, into.toPort}));
        };
        addLoss(50, "kd#99");
        addLoss(99, "kd");
        RunOptions o;
        o.storePath = store("labels.sqlite");
        auto r = runExperiment(g, o);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QCOMPARE(r.value().status, RunStatus::Finished);
        std::set<std::string> terms;
        for (const auto &key : StoreReader::open(o.storePath).value()->keys(r.value().runId).value())
            if (key.rfind("train/term/", 0) == 0)
                terms.insert(key);
        QCOMPARE(terms.size(), g.nodesOfKind("Loss").size()); // one series per term
        for (const char *key : {"train/term/kd", "train/term/kd#99", "train/term/kd#99.2"})
            QVERIFY2(terms.count(key), key);
    }

    // More threads than cores are capped at the cores, and the run says so.
    void threadsAreCappedAtTheCores()
    {
        Graph g = tiny("reverse-kl");
        distillery::core::testing::setAll(g, "Settings", {{"threads", std::int64_t(1024)}});
        RunOptions o;
        o.storePath = store("threads.sqlite");
        auto r = runExperiment(g, o);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        auto reader = StoreReader::open(o.storePath).value();
        const RunInfo info = reader->run(r.value().runId).value();
        QCOMPARE(info.threads, int(std::max(1u, std::thread::hardware_concurrency())));
        const auto meta = reader->runMeta(info.id).value();
        QVERIFY(meta.count("warning/setup"));
        QVERIFY2(QString::fromStdString(meta.at("warning/setup")).contains("Settings.threads = 1024"),
                 meta.at("warning/setup").c_str());
    }

    // No validation data: no eval/ metric is stored (not zeros), and the run says why.
    void noValidationDataNoMetrics_data()
    {
        QTest::addColumn<double>("fraction");
        QTest::addColumn<int>("bytes");
        QTest::newRow("validation_fraction = 0") << 0.0 << 4000;
        QTest::newRow("one window") << 0.5 << 20; // seq_len 16: one window of 17 bytes
    }
    void noValidationDataNoMetrics()
    {
        QFETCH(double, fraction);
        QFETCH(int, bytes);
        Graph g = tiny("reverse-kl");
        QFile f(m_dir.filePath(QString("corpus-%1.txt").arg(bytes)));
        QVERIFY(f.open(QIODevice::WriteOnly));
        for (int i = 0; i < bytes; ++i)
            f.putChar(char('a' + (i * 7 + i / 3) % 26));
        f.close();
        const NodeId d = g.nodesOfKind("Dataset").front()->id;
        ENSURE(g.setParam(d, "source", std::string("text")));
        ENSURE(g.setParam(d, "path", f.fileName().toStdString()));
        ENSURE(g.setParam(d, "validation_fraction", fraction));
        for (const Node *n : g.nodesOfKind("Teacher"))
            ENSURE(g.setParam(n->id, "vocab", std::int64_t(0)));
        RunOptions o;
        o.storePath = store(QString("noval-%1.sqlite").arg(bytes).toStdString().c_str());
        auto r = runExperiment(g, o);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QCOMPARE(r.value().status, RunStatus::Finished);
        QVERIFY(r.value().finalMetrics.empty());
        auto reader = StoreReader::open(o.storePath).value();
        for (const auto &key : reader->keys(r.value().runId).value())
            QVERIFY2(key.rfind("eval/", 0) != 0, key.c_str());
        const auto meta = reader->runMeta(r.value().runId).value();
        QVERIFY(meta.count("warning/evaluation"));
        QVERIFY(QString::fromStdString(meta.at("warning/evaluation")).contains("no validation data"));
    }
};

QTEST_GUILESS_MAIN(tst_Trainer)
#include "tst_trainer.moc"
