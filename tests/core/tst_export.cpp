// Exporting a trained student: the Hugging Face folder and TorchScript file checked in
// consumers that are not Distillery (export_reference.py: an independent NumPy GPT2LMHeadModel
// over its own safetensors parser, and torch.jit.load), the files and their record in the
// store, the TorchScript export as a teacher of another run, and every bad input.

#include "distillery/core/errors.h"
#include "distillery/core/export.h"
#include "distillery/core/store.h"
#include "distillery/core/trainer.h"
#include "export/writers.h"
#include "models/causallm.h"

#include "core/clirunner.h"
#include "core/testgraphs.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>

#include <atomic>

#include <utime.h>

using namespace distillery::core;
using distillery::core::testing::cli;
using distillery::core::testing::describe;
using distillery::core::testing::setAll;
using distillery::core::testing::tiny;

namespace {

QStringList leftovers(const QString &folder)
{
    QStringList found;
    QDirIterator it(folder, QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString f = it.next();
        if (f.contains(".tmp-") || f.contains(".old-"))
            found << f;
    }
    return found;
}

QJsonArray nested(const torch::Tensor &t)
{
    QJsonArray out;
    if (t.dim() == 1) {
        auto c = t.to(torch::kDouble).contiguous();
        for (std::int64_t i = 0; i < c.size(0); ++i)
            out.append(c[i].item<double>());
        return out;
    }
    for (std::int64_t i = 0; i < t.size(0); ++i)
        out.append(nested(t[i]));
    return out;
}

} // namespace

class tst_Export : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_store;
    RunId m_oracleRun = 0, m_bytesRun = 0, m_tiedRun = 0, m_llamaRun = 0;

    QString path(const QString &name) const { return m_dir.filePath(name); }

    RunId train(Graph g, const std::string &name)
    {
        RunOptions o;
        o.storePath = m_store;
        o.name = name;
        auto r = runExperiment(g, o);
        if (!r.ok() || r.value().status != RunStatus::Finished)
            qFatal("training failed: %s", r.ok() ? r.value().error.c_str() : r.error().message.c_str());
        return r.value().runId;
    }

    std::string modelPath(RunId run)
    {
        for (const auto &c : StoreReader::open(m_store).value()->checkpoints(run).value())
            if (c.kind == "model")
                return c.path;
        return {};
    }

    ExportRequest request(RunId run, const QString &out, const std::string &format = "hf",
                          const std::string &dtype = "f32")
    {
        ExportRequest r;
        r.storePath = m_store;
        r.run = run;
        r.out = out.toStdString();
        r.format = format;
        r.dtype = dtype;
        return r;
    }

    // Distillery's logits for `tokens`, with the weights rounded to `dtype` first.
    QJsonArray logits(RunId run, const torch::Tensor &tokens, const std::string &dtype)
    {
        auto model = models::loadCheckpoint(modelPath(run));
        if (!model.ok())
            qFatal("%s", model.error().message.c_str());
        torch::NoGradGuard noGrad;
        model.value()->setTraining(false);
        if (dtype != "f32")
            for (auto &p : model.value()->parameters())
                p.copy_(p.to(dtype == "f16" ? torch::kHalf : torch::kBFloat16).to(torch::kFloat));
        return nested(model.value()->forward(tokens).logits);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_store = path("runs.sqlite").toStdString();
        m_oracleRun = train(tiny("classic-kd", 8), "oracle");
        // A byte-level student on a text corpus.
        QFile corpus(path("corpus.txt"));
        QVERIFY(corpus.open(QIODevice::WriteOnly));
        for (int i = 0; i < 200; ++i)
            corpus.write(QString("line %1: the quick brown fox, déjà vu \xe2\x82\xac\n").arg(i).toUtf8());
        corpus.close();
        Graph g = tiny("classic-kd", 8);
        setAll(g, "Dataset", {{"source", std::string("text")}, {"path", path("corpus.txt").toStdString()}});
        m_bytesRun = train(g, "bytes");
        // A student whose head is its token embedding (tie_word_embeddings: true, no lm_head).
        Graph tied = tiny("classic-kd", 8);
        setAll(tied, "Student", {{"tie_embeddings", true}});
        m_tiedRun = train(tied, "tied");
        // A Llama-style student: 2 query heads over 1 key/value head, an untied head.
        Graph llama = tiny("classic-kd", 8);
        setAll(llama, "Student", {{"architecture", std::string("llama")}, {"kv_heads", std::int64_t(1)},
                                  {"rope_theta", 500.0}});
        m_llamaRun = train(llama, "llama");
    }

    // Every format and dtype against its consumer, at one token and at the longest input.
    void logitsAgreeInOtherConsumers()
    {
        QJsonArray cases;
        torch::manual_seed(5);
        for (RunId run : {m_oracleRun, m_bytesRun, m_tiedRun, m_llamaRun}) {
            const std::int64_t vocab = run == m_bytesRun ? 256 : 16;
            const QString tokenizer = run == m_bytesRun ? "bytes" : "words";
            for (const auto &[format, dtype] : std::vector<std::pair<std::string, std::string>>{
                     {"hf", "f32"}, {"hf", "f16"}, {"hf", "bf16"}, {"torchscript", "f32"}, {"onnx", "f32"}}) {
                const QString out = path(QString("export-%1-%2-%3").arg(run).arg(QString::fromStdString(format),
                                                                           QString::fromStdString(dtype)));
                auto exported = exportStudent(request(run, out, format, dtype));
                QVERIFY2(exported.ok(), exported.ok() ? "" : exported.error().message.c_str());
                for (const std::int64_t T : {std::int64_t(1), std::int64_t(16)}) {
                    const auto tokens = torch::randint(0, vocab, {2, T}, torch::kLong);
                    QJsonObject c;
                    c["kind"] = QString::fromStdString(format);
                    c["path"] = out;
                    c["tokens"] = nested(tokens);
                    c["logits"] = logits(run, tokens, dtype);
                    // Tight enough to tell exact GELU from its tanh form (about 1e-4 apart here).
                    c["tolerance"] = 1e-5;
                    c["tokenizer"] = tokenizer;
                    c["vocab"] = double(vocab);
                    cases.append(c);
                }
            }
        }
        // The ONNX writer's external data (used above 1.8 GB), forced on for a small model.
        {
            const QString out = path("export-external");
            QVERIFY(QDir().mkpath(out));
            auto model = models::loadCheckpoint(modelPath(m_bytesRun));
            QVERIFY(model.ok());
            exports::ExportFacts facts;
            facts.run.id = m_bytesRun;
            QVERIFY(exports::writeOnnx((out + "/model.onnx").toStdString(), *model.value(), facts, 0).ok());
            // The embeddings and the head (8 KiB each) move out; small tensors stay inline.
            QVERIFY(QFileInfo(out + "/model.onnx.data").size() >= 2 * 256 * 8 * 4);
            const auto tokens = torch::randint(0, 256, {2, 16}, torch::kLong);
            QJsonObject c;
            c["kind"] = "onnx";
            c["path"] = out;
            c["tokens"] = nested(tokens);
            c["logits"] = logits(m_bytesRun, tokens, "f32");
            c["tolerance"] = 1e-5;
            c["tokenizer"] = "bytes";
            c["vocab"] = 256.0;
            c["external"] = true;
            cases.append(c);
        }
        // onnxruntime-node, installed by packaging/install-deps.sh (ctest passes where).
        const QString node = qEnvironmentVariable("DISTILLERY_NODE");
        const QString modules = qEnvironmentVariable("DISTILLERY_NODE_MODULES");
        QVERIFY2(!node.isEmpty() && QFileInfo::exists(modules + "/onnxruntime-node/package.json"),
                 qPrintable("no onnxruntime-node in '" + modules + "' (node '" + node
                            + "'): run packaging/install-deps.sh, or set DISTILLERY_NODE and "
                              "DISTILLERY_NODE_MODULES"));
        QFile f(path("reference.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QJsonDocument(QJsonObject{{"cases", cases}, {"node", node}, {"node_modules", modules}})
                    .toJson(QJsonDocument::Compact));
        f.close();
        QProcess py;
        py.start(DISTILLERY_PYTHON, {QString(DISTILLERY_SOURCE_DIR) + "/tests/core/export_reference.py",
                                     path("reference.json")});
        QVERIFY(py.waitForFinished(300000));
        const QString said = QString::fromUtf8(py.readAllStandardOutput() + py.readAllStandardError());
        QVERIFY2(py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0, qPrintable(said));
        QCOMPARE(said.count("max |Δ|"), cases.size());
    }

    void folderHoldsWhatItSays()
    {
        const QString out = path("layout");
        auto exported = exportStudent(request(m_oracleRun, out));
        QVERIFY2(exported.ok(), exported.ok() ? "" : exported.error().message.c_str());
        const ExportResult &r = exported.value();
        QCOMPARE(QString::fromStdString(r.path), QDir(out).absolutePath());
        QCOMPARE(r.step, std::int64_t(8));
        QCOMPARE(r.files, (std::vector<std::string>{"README.md", "config.json", "curves-evaluation.png",
                                                    "curves-evaluation.svg", "curves-kl.png", "curves-kl.svg",
                                                    "curves-loss.png", "curves-loss.svg", "distillery-graph.json",
                                                    "generation_config.json", "model.safetensors",
                                                    "tokenizer.json", "tokenizer_config.json"}));
        // The card's plots: well-formed SVG, one point per stored row, linked from the card.
        for (const auto &[file, series, rows] : std::vector<std::tuple<QString, int, int>>{
                 {"curves-loss.svg", 1, 8}, {"curves-evaluation.svg", 3, 2}, {"curves-kl.svg", 2, 2}}) {
            QFile svg(out + "/" + file);
            QVERIFY(svg.open(QIODevice::ReadOnly));
            QXmlStreamReader xml(&svg);
            int lines = 0;
            while (!xml.atEnd()) {
                if (xml.readNext() == QXmlStreamReader::StartElement && xml.name() == QStringLiteral("polyline")) {
                    ++lines;
                    QCOMPARE(int(xml.attributes().value("points").split(' ').size()), rows);
                }
            }
            QVERIFY2(!xml.hasError(), qPrintable(file + ": " + xml.errorString()));
            QCOMPARE(lines, series);
            // The PNG the card shows, decoded by Qt: twice the SVG's 720×350, white, with the
            // first series' colour (#1f77b4) and dark text drawn on it.
            QString pngFile = file;
            pngFile.replace(".svg", ".png");
            QImage png(out + "/" + pngFile);
            QVERIFY2(!png.isNull(), qPrintable(pngFile));
            QCOMPARE(png.size(), QSize(1440, 700));
            QCOMPARE(png.pixelColor(5, 5), QColor(Qt::white));
            int blue = 0, dark = 0;
            for (int y = 0; y < png.height(); ++y)
                for (int x = 0; x < png.width(); ++x) {
                    const QColor c = png.pixelColor(x, y);
                    blue += std::abs(c.red() - 0x1f) < 24 && std::abs(c.green() - 0x77) < 24 && std::abs(c.blue() - 0xb4) < 24;
                    dark += c.lightness() < 60;
                }
            QVERIFY2(blue > 200 && dark > 500, qPrintable(QString("%1: %2 series pixels, %3 text pixels").arg(pngFile).arg(blue).arg(dark)));
        }
        QVERIFY(r.bytes > 10000);
        // The graph beside the card is the run's.
        QFile graphFile(out + "/distillery-graph.json");
        QVERIFY(graphFile.open(QIODevice::ReadOnly));
        QVERIFY(graphFromJson(graphFile.readAll().toStdString()).ok());
        QFile card(out + "/README.md");
        QVERIFY(card.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(card.readAll());
        for (const char *needle : {"---\nlibrary_name: transformers\npipeline_tag: text-generation\n",
                                   "- distillation", "model-index:", "type: nll", "forward-kl",
                                   "τ²·KL(p_T^τ ‖ p_S^τ)", "| steps | 8 of 8 |", "distillery-graph.json",
                                   "AutoModelForCausalLM", "![Training loss (the objective)](curves-loss.png)"})
            QVERIFY2(text.contains(QString::fromUtf8(needle)), needle);
        // The card's metrics are the run's.
        const auto latest = StoreReader::open(m_store).value()->latest(m_oracleRun).value();
        QVERIFY(text.contains(QString::number(latest.at("eval/student_nll").value, 'f', 4)));
        // Recorded in the store.
        auto list = StoreReader::open(m_store).value()->exports(m_oracleRun).value();
        QVERIFY(std::any_of(list.begin(), list.end(), [&](const ExportInfo &e) {
            return e.path == r.path && e.format == "hf" && e.step == 8 && e.bytes == r.bytes;
        }));
        QCOMPARE(leftovers(m_dir.path()), QStringList{});
    }

    // An earlier checkpoint: its step, and the card shows the evaluation of that step.
    void anEarlierStep()
    {
        ExportRequest r = request(m_oracleRun, path("step4"), "torchscript");
        r.step = 4;
        auto exported = exportStudent(r);
        QVERIFY2(exported.ok(), exported.ok() ? "" : exported.error().message.c_str());
        QCOMPARE(exported.value().step, std::int64_t(4));
        QFile card(path("step4/README.md"));
        QVERIFY(card.open(QIODevice::ReadOnly));
        QVERIFY(QString::fromUtf8(card.readAll()).contains("Final evaluation (validation split, step 4)"));
        r.step = 5;
        r.out = path("step5").toStdString();
        auto missing = exportStudent(r);
        QVERIFY(!missing.ok());
        QCOMPARE(missing.error().code, std::string(errc::kExportNoCheckpoint));
        QVERIFY2(missing.error().message.find("it has steps 4, 8") != std::string::npos,
                 missing.error().message.c_str());
        QVERIFY(!QFileInfo::exists(path("step5")));
    }

    // The TorchScript export is a teacher in another graph.
    void torchscriptExportTeachesAnotherRun()
    {
        const QString out = path("as-teacher");
        QVERIFY(exportStudent(request(m_oracleRun, out, "torchscript")).ok());
        Graph g = tiny("classic-kd", 4);
        setAll(g, "Teacher", {{"source", std::string("torchscript")},
                              {"path", (out + "/model.pt").toStdString()}});
        RunOptions o;
        o.storePath = path("second.sqlite").toStdString();
        auto r = runExperiment(g, o);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QCOMPARE(r.value().status, RunStatus::Finished);
        QVERIFY(r.value().finalMetrics.count("eval/teacher_nll"));
    }

    // The Hugging Face export read back by Distillery's own GPT-2 loader: the same logits, and
    // as the teacher of a run on the same data its validation NLL is the student's.
    void hfExportTeachesAnotherRun()
    {
        const QString out = path("hf-as-teacher");
        QVERIFY(exportStudent(request(m_oracleRun, out, "hf")).ok());
        auto loaded = models::loadHfModel(out.toStdString());
        QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
        QCOMPARE(loaded.value()->info().tiedHead, false);
        auto student = models::loadCheckpoint(modelPath(m_oracleRun));
        QVERIFY(student.ok());
        QCOMPARE(loaded.value()->parameterCount(), student.value()->parameterCount());
        {
            torch::NoGradGuard noGrad; // this thread runs the experiment below
            student.value()->setTraining(false);
            const auto tokens = torch::randint(0, 16, {3, 16}, torch::kLong);
            const double diff = (loaded.value()->forward(tokens).logits - student.value()->forward(tokens).logits)
                                    .abs().max().item<double>();
            QVERIFY2(diff < 1e-5, qPrintable(QString("max |diff| = %1").arg(diff)));
        }

        Graph g = tiny("classic-kd", 8);
        setAll(g, "Teacher", {{"source", std::string("hf")}, {"path", out.toStdString()}});
        QVERIFY(validateGraph(g).empty());
        RunOptions o;
        o.storePath = path("hf-second.sqlite").toStdString();
        auto r = runExperiment(g, o);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QCOMPARE(r.value().status, RunStatus::Finished);
        const auto first = StoreReader::open(m_store).value()->latest(m_oracleRun);
        QVERIFY(first.ok() && first.value().count("eval/student_nll"));
        const double studentNll = first.value().at("eval/student_nll").value;
        const double teacherNll = r.value().finalMetrics.at("eval/teacher_nll");
        QVERIFY2(std::abs(studentNll - teacherNll) < 1e-4,
                 qPrintable(QString("student %1, as teacher %2").arg(studentNll).arg(teacherNll)));
    }

    void badInput()
    {
        auto expectError = [&](const ExportRequest &r, const char *code, const char *needle) {
            auto result = exportStudent(r);
            QVERIFY2(!result.ok(), needle);
            QVERIFY2(result.error().code == code, result.error().code.c_str());
            QVERIFY2(result.error().message.find(needle) != std::string::npos, result.error().message.c_str());
            QVERIFY(isInputError(result.error()) == (std::string(code) != errc::kIoWrite));
        };
        expectError(request(99, path("x")), "store.no_such_run", "no run with id 99");
        expectError(request(m_oracleRun, path("x"), "onnx2"), errc::kBadOption, "unknown export format");
        expectError(request(m_oracleRun, path("x"), "hf", "f8"), errc::kBadOption, "unknown dtype");
        expectError(request(m_oracleRun, path("x"), "onnx", "f16"), errc::kBadOption, "float32");
        expectError(request(m_oracleRun, QString()), errc::kBadOption, "--out");
        // A run that never saved a checkpoint.
        RunId empty = 0;
        {
            auto writer = RunWriter::open(m_store).value();
            NewRun nr;
            nr.name = "nothing saved";
            nr.graphJson = graphToJson(tiny("classic-kd", 8));
            nr.stepsTotal = 8;
            empty = writer->createRun(nr).value();
            QVERIFY(writer->finishRun(empty, RunStatus::Cancelled).ok());
        }
        expectError(request(empty, path("x")), errc::kExportNoCheckpoint, "has no student checkpoint");
        // A folder that is not empty: refused, then replaced with force.
        QVERIFY(QDir().mkpath(path("full")));
        QFile other(path("full/mine.txt"));
        QVERIFY(other.open(QIODevice::WriteOnly));
        other.write("keep me");
        other.close();
        expectError(request(m_oracleRun, path("full")), errc::kExportOutExists, "--force");
        QVERIFY(QFileInfo::exists(path("full/mine.txt")));
        ExportRequest forced = request(m_oracleRun, path("full"));
        forced.force = true;
        QVERIFY(exportStudent(forced).ok());
        QVERIFY(!QFileInfo::exists(path("full/mine.txt")));
        QVERIFY(QFileInfo::exists(path("full/model.safetensors")));
        // An empty folder is fine.
        QVERIFY(QDir().mkpath(path("empty-folder")));
        QVERIFY(exportStudent(request(m_oracleRun, path("empty-folder"))).ok());
        // A folder that cannot be made (its parent is a file).
        QFile plain(path("a-file"));
        QVERIFY(plain.open(QIODevice::WriteOnly));
        plain.close();
        expectError(request(m_oracleRun, path("a-file/sub")), errc::kIoWrite, "cannot create");
        // Cancelled: nothing is left.
        std::atomic<bool> cancel{true};
        auto cancelled = exportStudent(request(m_oracleRun, path("cancelled")), {}, &cancel);
        QVERIFY(!cancelled.ok());
        QCOMPARE(cancelled.error().code, std::string(errc::kExportCancelled));
        QVERIFY(!QFileInfo::exists(path("cancelled")));
        QCOMPARE(leftovers(m_dir.path()), QStringList{});
    }

    // A killed export leaves `<out>.tmp-XXXXXX`: the next export to that folder removes it once
    // it is ten minutes old, and leaves a younger one (an export that may still be going).
    void staleTemporaryFoldersAreRemoved()
    {
        const QString stale = path("again.tmp-abcdef"), young = path("again.tmp-123456");
        QVERIFY(QDir().mkpath(stale + "/inside"));
        QVERIFY(QDir().mkpath(young));
        const QDateTime old = QDateTime::currentDateTime().addSecs(-3600);
        struct utimbuf times{time_t(old.toSecsSinceEpoch()), time_t(old.toSecsSinceEpoch())};
        QCOMPARE(::utime(stale.toLocal8Bit().constData(), &times), 0);
        QVERIFY(exportStudent(request(m_oracleRun, path("again"), "torchscript")).ok());
        QVERIFY(!QFileInfo::exists(stale));
        QVERIFY(QFileInfo::exists(young));
        QVERIFY(QDir().rmdir(young));
    }

    void fromTheCommandLine()
    {
        const QString store = QString::fromStdString(m_store);
        const QString run = QString::number(m_oracleRun);
        auto ok = cli({"export", run, "--store", store, "--format", "torchscript", "--out", path("cli-ts")});
        QVERIFY2(ok.code == 0 && ok.out.contains("model.pt") && ok.out.contains("exported as torchscript"),
                 qPrintable(describe(ok)));
        auto again = cli({"export", run, "--store", store, "--format", "torchscript", "--out", path("cli-ts")});
        QVERIFY2(again.code == 2 && again.err.contains("--force"), qPrintable(describe(again)));
        auto badFormat = cli({"export", "1", "--store", store, "--format", "zip", "--out", path("z")});
        QCOMPARE(badFormat.code, 2);
        auto noRun = cli({"export", "42", "--store", store, "--out", path("z")});
        QVERIFY2(noRun.code == 2 && noRun.err.contains("no run with id 42"), qPrintable(describe(noRun)));
        // The exported model used on its own: the same numbers as the run's student.pt, and
        // as a teacher-forced NLL computed here from Distillery's logits.
        const QString studentPt = QString::fromStdString(modelPath(m_oracleRun));
        auto inspect = cli({"model", "inspect", path("cli-ts")});
        QVERIFY2(inspect.code == 0 && inspect.out.contains("TorchScript") && inspect.out.contains("vocabulary    16")
                     && inspect.out.contains("max length    16") && inspect.out.contains("words ("),
                 qPrintable(describe(inspect)));
        const QString text = "t1 t5 t2 t9 t0 t3 t3 t7";
        auto scoreExport = cli({"model", "score", path("cli-ts"), "--text", text});
        auto scoreStudent = cli({"model", "score", studentPt, "--tokens", "1,5,2,9,0,3,3,7"});
        QVERIFY2(scoreExport.code == 0 && scoreStudent.code == 0, qPrintable(describe(scoreExport)));
        QCOMPARE(scoreExport.out, scoreStudent.out);
        {
            auto model = models::loadCheckpoint(modelPath(m_oracleRun)).value();
            torch::NoGradGuard noGrad;
            model->setTraining(false);
            const auto ids = torch::tensor({1, 5, 2, 9, 0, 3, 3, 7}, torch::kLong);
            auto lp = torch::log_softmax(model->forward(ids.slice(0, 0, 7).unsqueeze(0)).logits[0], -1);
            const double nll = -lp.gather(1, ids.slice(0, 1).unsqueeze(1)).mean().item<double>();
            QVERIFY2(scoreExport.out.contains(QString("7 tokens scored: NLL %1 ").arg(nll, 0, 'f', 4)),
                     qPrintable(scoreExport.out + " vs " + QString::number(nll, 'f', 6)));
        }
        auto generated = cli({"model", "generate", path("cli-ts"), "--prompt", "t1 t2", "--tokens", "5", "--seed", "4"});
        QVERIFY2(generated.code == 0 && generated.out.startsWith("t1 t2 t") && generated.out.trimmed().count(' ') == 6,
                 qPrintable(describe(generated)));
        QCOMPARE(cli({"model", "generate", path("cli-ts"), "--prompt", "t1 t2", "--tokens", "5", "--seed", "4"}).out,
                 generated.out);
        auto logits = cli({"model", "logits", studentPt, "--tokens", "1,2", "--top", "3"});
        QVERIFY2(logits.code == 0 && QJsonDocument::fromJson(logits.out.toUtf8()).array().size() == 2,
                 qPrintable(describe(logits)));
        QCOMPARE(cli({"model", "tokenize", path("cli-ts"), "--text", "t5 t7", "--json"}).out.trimmed(), QString("[5,7]"));
        auto unknownWord = cli({"model", "score", path("cli-ts"), "--text", "t1 hello"});
        QVERIFY2(unknownWord.code == 2 && unknownWord.err.contains("'hello' is not a word"), qPrintable(describe(unknownWord)));
        // The Hugging Face export, with the tokenizer.json it carries: the same NLL again.
        auto hfFolder = cli({"model", "inspect", path("export-1-hf-f32")});
        QVERIFY2(hfFolder.code == 0 && hfFolder.out.contains("Hugging Face folder") && hfFolder.out.contains("words ("),
                 qPrintable(describe(hfFolder)));
        auto scoreHf = cli({"model", "score", path("export-1-hf-f32"), "--text", text});
        QVERIFY2(scoreHf.code == 0, qPrintable(describe(scoreHf)));
        QCOMPARE(scoreHf.out, scoreStudent.out);
        QVERIFY(exportStudent(request(m_oracleRun, path("cli-onnx"), "onnx")).ok());
        auto onnxFolder = cli({"model", "inspect", path("cli-onnx")});
        QVERIFY2(onnxFolder.code == 2 && onnxFolder.err.contains("an ONNX folder"), qPrintable(describe(onnxFolder)));
        auto notAModel = cli({"model", "inspect", path("corpus.txt")});
        QVERIFY2(notAModel.code == 2 && notAModel.err.contains("neither a built-in checkpoint"), qPrintable(describe(notAModel)));
        auto outOfVocab = cli({"model", "logits", studentPt, "--tokens", "1,99"});
        QVERIFY2(outOfVocab.code == 2 && outOfVocab.err.contains("outside the vocabulary"), qPrintable(describe(outOfVocab)));

        auto timed = cli({"model", "time", path("cli-ts"), "--batch", "2", "--length", "8", "--repeat", "3"});
        QVERIFY2(timed.code == 0 && timed.out.startsWith("median ") && timed.out.count(" ms") == 1,
                 qPrintable(describe(timed)));
        auto tooLong = cli({"model", "time", studentPt, "--length", "17"});
        QVERIFY2(tooLong.code == 2 && tooLong.err.contains("at most 16"), qPrintable(describe(tooLong)));

        auto shown = cli({"show", run, "--store", store});
        QVERIFY2(shown.code == 0 && shown.out.contains("exports:") && shown.out.contains(path("cli-ts")),
                 qPrintable(describe(shown)));
    }
};

QTEST_GUILESS_MAIN(tst_Export)
#include "tst_export.moc"
