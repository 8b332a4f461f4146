// distillery-cli as a user runs it: commands, output, exit codes (0 ok, 1 run failed, 2 bad
// input) and Ctrl-C ending a run as cancelled.

#include "ensure.h"
#include "distillery/core/graph.h"
#include "distillery/core/store.h"

#include "core/clirunner.h"
#include "core/testgraphs.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <cmath>

using namespace distillery::core;
using distillery::core::testing::tiny;

using distillery::core::testing::cli;
using distillery::core::testing::CliResult;
using distillery::core::testing::describe;

class tst_Cli : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString path(const char *name) const { return m_dir.filePath(name); }
    QString writeGraph(const char *name, const Graph &g)
    {
        const QString p = path(name);
        if (!saveGraphFile(g, p.toStdString()).ok())
            qFatal("cannot write %s", qPrintable(p));
        return p;
    }

private Q_SLOTS:
    void helpForEveryCommand_data()
    {
        QTest::addColumn<QString>("command");
        for (const char *c : {"validate", "run", "resume", "runs", "show", "metrics", "loss",
                              "losses", "bench", "nodes", "templates", "sweep", "compare",
                              "report", "tag", "note"})
            QTest::newRow(c) << c;
    }
    void helpForEveryCommand()
    {
        QFETCH(QString, command);
        auto r = cli({command, "--help"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("Usage") || r.out.contains("usage"), qPrintable(describe(r)));
    }

    void nodesAndTemplates()
    {
        auto all = cli({"nodes"});
        QCOMPARE(all.code, 0);
        for (const char *k : {"Dataset", "Teacher", "Student", "Projection", "Loss", "Combine",
                              "Optimizer", "Settings"})
            QVERIFY2(all.out.contains(QString("\n") + k) || all.out.startsWith(k), k);
        auto loss = cli({"nodes", "Loss", "--markdown"});
        QCOMPARE(loss.code, 0);
        QVERIFY(loss.out.contains("| `temperature` | Float |"));
        QVERIFY(!loss.out.contains("## Teacher"));
        auto bad = cli({"nodes", "Teachr"});
        QCOMPARE(bad.code, 2);
        QVERIFY2(bad.err.contains("unknown node kind 'Teachr'"), qPrintable(describe(bad)));
        auto t = cli({"templates"});
        QCOMPARE(t.code, 0);
        for (const char *n : {"classic-kd", "reverse-kl", "gkd", "taid", "hidden-state", "sparse-topk"})
            QVERIFY2(t.out.contains(n), n);
    }

    void unknownCommandIsBadInput()
    {
        QCOMPARE(cli({"frobnicate"}).code, 2);
        QCOMPARE(cli({}).code, 2);
    }

    void validate()
    {
        auto ok = cli({"validate", QString(DISTILLERY_SOURCE_DIR) + "/resources/templates/classic-kd.json"});
        QVERIFY2(ok.code == 0 && ok.out.contains("valid"), qPrintable(describe(ok)));

        QFile bad(path("malformed.json"));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("{\"format\": \"distillery.graph\", \"version\": 1, \"nodes\": [");
        bad.close();
        auto r = cli({"validate", bad.fileName()});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("malformed.json"), qPrintable(describe(r)));
        auto runBad = cli({"run", bad.fileName(), "--store", path("malformed.sqlite")});
        QCOMPARE(runBad.code, 2);
        QVERIFY2(runBad.err.contains("malformed.json"), qPrintable(describe(runBad)));

        Graph g = tiny("classic-kd");
        ENSURE(g.removeNode(g.nodesOfKind("Optimizer").front()->id));
        auto invalid = cli({"validate", writeGraph("invalid.json", g)});
        QCOMPARE(invalid.code, 2);
        QVERIFY2(invalid.err.contains("Optimizer"), qPrintable(describe(invalid)));

        auto missing = cli({"validate", path("nope.json")});
        QCOMPARE(missing.code, 2);
        QVERIFY2(missing.err.contains("nope.json"), qPrintable(describe(missing)));
    }

    void runThenQueryTheStore()
    {
        const QString store = path("runs.sqlite");
        auto run = cli({"run", writeGraph("tiny.json", tiny("classic-kd")), "--store", store,
                        "--name", "cli-run", "--steps", "6", "--seed", "3"});
        QVERIFY2(run.code == 0, qPrintable(describe(run)));
        QVERIFY2(run.out.contains("finished"), qPrintable(describe(run)));
        QVERIFY2(run.err.contains("[student]"), qPrintable(describe(run))); // progress bar
        QVERIFY(run.err.contains("tok/s"));

        auto runs = cli({"runs", "--store", store});
        QVERIFY2(runs.code == 0 && runs.out.contains("cli-run") && runs.out.contains("finished"),
                 qPrintable(describe(runs)));

        auto show = cli({"show", "last", "--store", store});
        QVERIFY2(show.code == 0 && show.out.contains("eval/student_nll")
                     && show.out.contains("seed 3"),
                 qPrintable(describe(show)));
        // The trained student is registered, at the last step.
        QVERIFY2(show.out.contains(QRegularExpression("model +step 6 +\\S+/run-1/student.pt")),
                 qPrintable(describe(show)));

        auto csv = cli({"metrics", "1", "train/loss", "--store", store, "--csv"});
        QCOMPARE(csv.code, 0);
        const QStringList lines = csv.out.trimmed().split('\n');
        QCOMPARE(lines.front(), QString("step,wall_time,value"));
        QCOMPARE(lines.size(), 7); // header + 6 steps
        QVERIFY(lines[1].startsWith("1,")); // steps count the updates done
        auto tail = cli({"metrics", "1", "train/loss", "--store", store, "--after", "4"});
        QCOMPARE(tail.out.trimmed().split('\n').size(), 2);

        auto unknownKey = cli({"metrics", "1", "no/such", "--store", store});
        QCOMPARE(unknownKey.code, 2);
        QVERIFY(unknownKey.err.contains("train/loss")); // lists what exists
        QCOMPARE(cli({"show", "99", "--store", store}).code, 2);
        QCOMPARE(cli({"show", "abc", "--store", store}).code, 2);
        QCOMPARE(cli({"runs", "--store", path("missing.sqlite")}).code, 2);
    }

    // A 2×2 sweep run from the command line, compared, reported and tagged; the numbers the
    // comparison prints are the store's, averaged here independently.
    void sweepCompareReport()
    {
        const QString store = path("sweep.sqlite");
        const QString graph = writeGraph("sweep.json", tiny("classic-kd", 4));
        auto plan = cli({"sweep", graph, "--set", "kd.temperature=1,2", "--set", "run.seed=1,2", "--dry-run"});
        QVERIFY2(plan.code == 0, qPrintable(describe(plan)));
        QVERIFY2(plan.out.contains("4 runs, grid of kd.temperature (2) × run.seed (2)"), qPrintable(describe(plan)));
        QVERIFY(plan.out.contains("kd.temperature=2 run.seed=1"));
        QVERIFY(!QFile::exists(store));

        auto sweep = cli({"sweep", graph, "--store", store, "--set", "kd.temperature=1,2", "--set",
                          "Settings.seed=1,2", "--name", "temps"}, 600000);
        QVERIFY2(sweep.code == 0, qPrintable(describe(sweep)));
        QVERIFY2(sweep.out.contains("[4/4] kd.temperature=2 Settings.seed=2"), qPrintable(describe(sweep)));
        QVERIFY2(sweep.out.contains("4 of 4 runs made"), qPrintable(describe(sweep)));
        QVERIFY(sweep.out.contains("2 groups by kd.temperature"));

        auto reader = StoreReader::open(store.toStdString());
        QVERIFY(reader.ok());
        auto runs = reader.value()->runs();
        QVERIFY(runs.ok());
        QCOMPARE(int(runs.value().size()), 4);
        std::map<double, std::vector<double>> nllByT;
        for (const RunInfo &r : runs.value()) {
            QCOMPARE(r.group, std::string("temps"));
            auto graphOf = graphFromJson(r.graphJson);
            QVERIFY(graphOf.ok());
            double t = 0;
            for (const Node *n : graphOf.value().nodesOfKind("Loss"))
                if (n->title == "kd")
                    t = graphOf.value().paramFloat(n->id, "temperature");
            auto latest = reader.value()->latest(r.id);
            QVERIFY(latest.ok());
            nllByT[t].push_back(latest.value().at("eval/student_nll").value);
        }
        reader.value().reset();

        auto json = cli({"compare", "group:temps", "--store", store, "--json", "--metrics", "student_nll"});
        QVERIFY2(json.code == 0, qPrintable(describe(json)));
        const QJsonObject doc = QJsonDocument::fromJson(json.out.toUtf8()).object();
        QVERIFY2(!doc.isEmpty(), qPrintable(json.out));
        const QJsonArray config = doc["config"].toArray();
        QCOMPARE(config.size(), 2);
        QCOMPARE(config[0].toObject()["param"].toString(), QString("kd.temperature"));
        QCOMPARE(config[1].toObject()["param"].toString(), QString("run.seed"));
        QVERIFY(config[1].toObject()["seed"].toBool());
        const QJsonArray groups = doc["groups"].toArray();
        QCOMPARE(groups.size(), 2);
        for (int g = 0; g < 2; ++g) {
            const QJsonObject o = groups[g].toObject();
            const double t = g == 0 ? 1.0 : 2.0;
            QCOMPARE(o["label"].toString(), QString("kd.temperature=%1").arg(int(t)));
            const QJsonObject m = o["metrics"].toObject()["eval/student_nll:last"].toObject();
            QCOMPARE(m["n"].toInt(), 2);
            const auto &v = nllByT[t];
            const double mean = (v[0] + v[1]) / 2;
            const double sd = std::fabs(v[0] - v[1]) / std::sqrt(2.0);
            QVERIFY2(std::fabs(m["mean"].toDouble() - mean) < 1e-9, qPrintable(json.out));
            QVERIFY2(std::fabs(m["std"].toDouble() - sd) < 1e-9, qPrintable(json.out));
        }

        auto text = cli({"compare", "1-4", "--store", store});
        QVERIFY2(text.code == 0 && text.out.contains("kd.temperature=1") && text.out.contains("± "),
                 qPrintable(describe(text)));
        auto csv = cli({"compare", "1-4", "--store", store, "--csv", "--group-by", "none"});
        QVERIFY2(csv.code == 0 && csv.out.split('\n', Qt::SkipEmptyParts).size() == 5, qPrintable(describe(csv)));

        const QString html = path("report.html");
        auto report = cli({"report", "group:temps", "--store", store, "--out", html, "--scatter",
                           "kd.temperature,student_nll"});
        QVERIFY2(report.code == 0, qPrintable(describe(report)));
        QFile f(html);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString page = QString::fromUtf8(f.readAll());
        QVERIFY(page.contains("<svg"));
        QVERIFY(page.contains("kd.temperature=2 (n=2)"));
        QVERIFY(page.contains("student NLL against kd.temperature"));

        auto tag = cli({"tag", "1,3", "--store", store, "--add", "best"});
        QVERIFY2(tag.code == 0, qPrintable(describe(tag)));
        auto tagged = cli({"compare", "tag:best", "--store", store, "--json"});
        QCOMPARE(QJsonDocument::fromJson(tagged.out.toUtf8()).object()["runs"].toArray().size(), 2);
        auto note = cli({"note", "2", "seed 2 looked odd", "--store", store});
        QCOMPARE(note.code, 0);
        auto badTag = cli({"tag", "1", "--store", store, "--add", " spaced"});
        QCOMPARE(badTag.code, 2);
        QVERIFY(badTag.err.contains("tag ' spaced'"));

        for (const QStringList &bad : {QStringList{"sweep", graph, "--set", "kd.nope=1", "--dry-run"},
                                       QStringList{"sweep", graph, "--set", "kd.temperature=1,-2", "--dry-run"},
                                       QStringList{"sweep", graph, "--set", "kd.temperature=1", "--set",
                                                   "kd.temperature=2", "--dry-run"},
                                       QStringList{"sweep", graph, "--set", "run.seed=1,2", "--seed", "3", "--dry-run"},
                                       QStringList{"compare", "99", "--store", store},
                                       QStringList{"compare", "1", "--store", store, "--metrics", "no_such"},
                                       QStringList{"compare", "1", "--store", store, "--group-by", "kd.nope"},
                                       QStringList{"report", "1", "--store", store},
                                       QStringList{"report", "1", "--store", store, "--out", html, "--scatter", "x"}}) {
            auto r = cli(bad);
            QVERIFY2(r.code == 2, qPrintable(bad.join(' ') + "\n" + describe(r)));
            QVERIFY2(!r.err.trimmed().isEmpty(), qPrintable(describe(r)));
        }
    }

    // What a new user tries first: template names for GRAPH, writing a template out, JSON
    // run lists, the series of a run, an unknown run id, --help without a display.
    void everydayCommands()
    {
        auto valid = cli({"validate", "classic-kd"});
        QVERIFY2(valid.code == 0 && valid.out.contains("classic-kd: valid"), qPrintable(describe(valid)));
        auto unknown = cli({"validate", "classic-kdd"});
        QCOMPARE(unknown.code, 2);
        QVERIFY2(unknown.err.contains("no template of that name (templates: classic-kd"),
                 qPrintable(describe(unknown)));
        const QString written = path("gkd-out.json");
        auto tmpl = cli({"templates", "gkd", "--output", written});
        QVERIFY2(tmpl.code == 0, qPrintable(describe(tmpl)));
        QVERIFY(loadGraphFile(written.toStdString()).ok());
        QCOMPARE(cli({"templates", "nope"}).code, 2);

        const QString store = path("everyday.sqlite");
        auto run = cli({"run", writeGraph("everyday.json", tiny("reverse-kl", 6)), "--store", store});
        QVERIFY2(run.code == 0, qPrintable(describe(run)));
        auto json = cli({"runs", "--store", store, "--json"});
        QCOMPARE(json.code, 0);
        const QStringList lines = json.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 1);
        QJsonParseError error;
        const QJsonObject row = QJsonDocument::fromJson(lines.front().toUtf8(), &error).object();
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(lines.front()));
        QCOMPARE(row["status"].toString(), QString("finished"));
        QCOMPARE(row["steps_done"].toInt(), 6);
        QVERIFY(row["metrics"].toObject().contains("eval/student_nll"));

        auto series = cli({"metrics", "1", "--store", store});
        QVERIFY2(series.code == 0 && series.out.split('\n').contains("train/loss"), qPrintable(describe(series)));
        auto missing = cli({"metrics", "999", "train/loss", "--store", store});
        QCOMPARE(missing.code, 2);
        QVERIFY2(missing.err.contains("no run with id 999"), qPrintable(describe(missing)));

        const QString gui = QFileInfo(DISTILLERY_CLI).dir().filePath("distillery");
        if (QFileInfo::exists(gui)) {
            QProcess p;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.remove("DISPLAY");
            env.remove("WAYLAND_DISPLAY");
            env.remove("QT_QPA_PLATFORM");
            p.setProcessEnvironment(env);
            p.start(gui, {"--help"});
            QVERIFY(p.waitForFinished(30000));
            QCOMPARE(p.exitStatus(), QProcess::NormalExit);
            QCOMPARE(p.exitCode(), 0);
            QVERIFY(QString::fromUtf8(p.readAllStandardOutput()).contains("Usage: distillery"));
        }
    }

    // The diagnostics benchmark on a minimal schedule: both configurations run, and the report
    // has the overhead and the time of every diagnostic.
    void benchDiagnostics()
    {
        const auto r = cli({"bench", "--diagnostics", "--steps", "2", "--rounds", "1",
                            "--eval-interval", "1", "--threads", "1"});
        QVERIFY2(r.code == 0, qPrintable(describe(r)));
        for (const char *line : {"without (s)", "with (s)", "overhead", "measured in-run",
                                 "alignment", "calibration", "diversity", "param_alignment"})
            QVERIFY2(r.out.contains(QLatin1String(line)), qPrintable(describe(r)));
        QVERIFY2(r.out.contains(QLatin1String("(2 per run)")), qPrintable(describe(r)));
        const auto bad = cli({"bench", "--diagnostics", "--rounds", "0"});
        QCOMPARE(bad.code, 2);
        QVERIFY(bad.err.contains(QLatin1String("--rounds")));
    }

    void badInputExitsWithTwo_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("expect");
        QTest::newRow("missing teacher file") << "missing-teacher" << "no-such-teacher.pt";
        QTest::newRow("wrong-shape torchscript teacher") << "wrong-shape" << "expected logits of shape";
        QTest::newRow("empty corpus") << "empty-corpus" << "empty.txt";
    }
    void badInputExitsWithTwo()
    {
        QFETCH(QString, what);
        QFETCH(QString, expect);
        Graph g = tiny("classic-kd");
        const NodeId t = g.nodesOfKind("Teacher").front()->id;
        if (what == "missing-teacher") {
            ENSURE(g.setParam(t, "source", std::string("checkpoint")));
            ENSURE(g.setParam(t, "path", path("no-such-teacher.pt").toStdString()));
        } else if (what == "wrong-shape") {
            QProcess py;
            py.start(DISTILLERY_PYTHON,
                     {QString(DISTILLERY_SOURCE_DIR) + "/tests/core/make_torchscript_teachers.py",
                      m_dir.path(), "16"});
            QVERIFY2(py.waitForFinished(120000) && py.exitCode() == 0,
                     py.readAllStandardError().constData());
            ENSURE(g.setParam(t, "source", std::string("torchscript")));
            ENSURE(g.setParam(t, "path", path("wrong_rank.pt").toStdString()));
        } else {
            QFile f(path("empty.txt"));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.close();
            const NodeId d = g.nodesOfKind("Dataset").front()->id;
            ENSURE(g.setParam(d, "source", std::string("text")));
            ENSURE(g.setParam(d, "path", f.fileName().toStdString()));
        }
        auto r = cli({"run", writeGraph("bad.json", g), "--store", path("bad.sqlite")});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(expect), qPrintable(describe(r)));
    }

    void ctrlCCancelsCleanly()
    {
        const QString store = path("sigint.sqlite");
        QProcess p;
        p.start(DISTILLERY_CLI, {"run", writeGraph("long.json", tiny("reverse-kl", 100000)),
                                 "--store", store});
        QVERIFY(p.waitForStarted());
        QString err;
        QTRY_VERIFY_WITH_TIMEOUT((err += QString::fromUtf8(p.readAllStandardError()),
                                  err.contains("[student]")),
                                 60000);
        ::kill(pid_t(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 130); // 128 + SIGINT, as shells report it
        QVERIFY(QString::fromUtf8(p.readAllStandardOutput()).contains("cancelled"));
        auto reader = StoreReader::open(store.toStdString());
        QVERIFY(reader.ok());
        auto runs = reader.value()->runs().value();
        QCOMPARE(runs.size(), std::size_t(1));
        QCOMPARE(runs.front().status, RunStatus::Cancelled);
        QCOMPARE(reader.value()->integrityCheck().value(), std::string("ok"));
        // A cancelled run can be resumed (here for a few more steps' worth, then cancelled by
        // the finish: the run is long, so just check that it starts and resumes from a checkpoint).
        QVERIFY(!reader.value()->checkpoints(runs.front().id).value().empty());
    }

    // A writer killed with SIGKILL: the store stays consistent, the run is reported as
    // interrupted, and `resume` finishes it with the numbers of an uninterrupted run.
    void killedRunIsInterruptedThenResumed()
    {
        Graph g = tiny("classic-kd", 4000);
        distillery::core::testing::setAll(g, "Settings",
                                          {{"checkpoint_interval", std::int64_t(50)},
                                           {"eval_interval", std::int64_t(500)},
                                           {"threads", std::int64_t(2)}});
        const QString graph = writeGraph("killed.json", g);
        const QString store = path("killed.sqlite");
        QProcess p;
        p.start(DISTILLERY_CLI, {"run", graph, "--store", store});
        QVERIFY(p.waitForStarted());
        // Kill once a student checkpoint exists and training has gone on past it.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                auto reader = StoreReader::open(store.toStdString());
                if (!reader.ok())
                    return false;
                auto runs = reader.value()->runs();
                if (!runs.ok() || runs.value().empty())
                    return false;
                auto cps = reader.value()->checkpoints(runs.value().front().id).value();
                return std::count_if(cps.begin(), cps.end(), [](const CheckpointInfo &c) {
                           return c.kind == "student";
                       }) >= 2;
            }(),
            120000);
        ::kill(pid_t(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);

        auto reader = StoreReader::open(store.toStdString()).value();
        QCOMPARE(reader->integrityCheck().value(), std::string("ok"));
        const RunInfo killed = reader->runs().value().front();
        QCOMPARE(killed.status, RunStatus::Interrupted);
        QVERIFY(killed.lastStep < 4000);
        auto listed = cli({"runs", "--store", store});
        QVERIFY2(listed.out.contains("interrupted"), qPrintable(describe(listed)));

        auto resumed = cli({"resume", QString::number(killed.id), "--store", store}, 300000);
        QVERIFY2(resumed.code == 0, qPrintable(describe(resumed)));
        auto reference = cli({"run", graph, "--store", store}, 300000);
        QVERIFY2(reference.code == 0, qPrintable(describe(reference)));

        reader = StoreReader::open(store.toStdString()).value();
        const RunId referenceId = reader->runs().value().front().id;
        QCOMPARE(reader->run(killed.id).value().status, RunStatus::Finished);
        auto a = reader->scalars(killed.id, "train/loss").value();
        auto b = reader->scalars(referenceId, "train/loss").value();
        QCOMPARE(a.size(), std::size_t(4000));
        QCOMPARE(a.size(), b.size());
        for (std::size_t i = 0; i < a.size(); ++i)
            QVERIFY2(a[i].step == b[i].step
                         && std::abs(a[i].value - b[i].value) <= 1e-6 * std::max(1.0, std::abs(b[i].value)),
                     qPrintable(QString("step %1: %2 vs %3").arg(b[i].step).arg(a[i].value).arg(b[i].value)));
        // The teacher trained before the kill was reused, its curve kept whole.
        QCOMPARE(reader->scalars(killed.id, "teacher/teacher/loss").value().size(), std::size_t(5));
    }

    void lossInspector()
    {
        auto r = cli({"loss", "forward-kl", "--param", "temperature=1", "--teacher-logits",
                      "1,2,3", "--student-logits", "3,2,1"});
        QVERIFY2(r.code == 0, qPrintable(describe(r)));
        // KL(p||q) with p = softmax(1,2,3), q = its reverse: sum p (log p - log q).
        const double z = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
        double kl = 0;
        for (int i = 0; i < 3; ++i) {
            const double lp = (1.0 + i) - z, lq = (3.0 - i) - z;
            kl += std::exp(lp) * (lp - lq);
        }
        QRegularExpression re("loss\\s+([-0-9.e+]+)");
        auto m = re.match(r.out);
        QVERIFY2(m.hasMatch(), qPrintable(describe(r)));
        QVERIFY2(std::abs(m.captured(1).toDouble() - kl) < 1e-6, qPrintable(describe(r)));
        QVERIFY(r.out.contains("gradient"));

        QCOMPARE(cli({"loss", "nope", "--teacher-logits", "1,2", "--student-logits", "1,2"}).code, 2);
        QCOMPARE(cli({"loss", "forward-kl", "--teacher-logits", "1,x", "--student-logits", "1,2"}).code, 2);
        QCOMPARE(cli({"loss", "forward-kl", "--teacher-logits", "1,2,3", "--student-logits", "1,2"}).code, 2);
        QCOMPARE(cli({"loss", "forward-kl", "--param", "temperature", "--teacher-logits", "1,2",
                      "--student-logits", "1,2"}).code, 2);
        auto list = cli({"losses"});
        QVERIFY(list.code == 0 && list.out.contains("gjsd") && list.out.contains("topk-kl"));
    }
};

QTEST_GUILESS_MAIN(tst_Cli)
#include "tst_cli.moc"
