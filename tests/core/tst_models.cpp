// The built-in Transformer LMs (GPT-style and Llama-style): sizes, FLOPs, causality,
// checkpoints, an independent forward pass in PyTorch, and TorchScript teachers (good and bad
// ones). The Llama forward is checked against PyTorch in tst_HfModels.

#include "models/llama.h"
#include "models/transformer.h"

#include <QProcess>
#include <QTemporaryDir>

using namespace distillery::core;
using namespace distillery::core::models;

namespace {

bool runPython(const QStringList &args, QString *error)
{
    QProcess p;
    p.start(DISTILLERY_PYTHON, args);
    if (!p.waitForFinished(120000) || p.exitCode() != 0) {
        *error = QString::fromUtf8(p.readAllStandardError());
        return false;
    }
    return true;
}

bool pythonHasTorch()
{
    QProcess p;
    p.start(DISTILLERY_PYTHON, {"-c", "import torch"});
    return p.waitForFinished(60000) && p.exitCode() == 0;
}

} // namespace

class tst_Models : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parameterCountMatchesModule_data()
    {
        QTest::addColumn<int>("vocab");
        QTest::addColumn<int>("layers");
        QTest::addColumn<int>("dModel");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("ffn");
        QTest::addColumn<bool>("tied");
        QTest::newRow("tiny") << 11 << 1 << 8 << 2 << 16 << false;
        QTest::newRow("tiny, tied") << 11 << 1 << 8 << 2 << 16 << true;
        QTest::newRow("student") << 512 << 2 << 128 << 4 << 512 << false;
        QTest::newRow("teacher") << 512 << 4 << 256 << 4 << 1024 << false;
    }
    void parameterCountMatchesModule()
    {
        QFETCH(int, vocab);
        QFETCH(int, layers);
        QFETCH(int, dModel);
        QFETCH(int, heads);
        QFETCH(int, ffn);
        QFETCH(bool, tied);
        ModelShape s{vocab, layers, dModel, heads, ffn, 32, tied};
        TransformerLM m(s);
        std::int64_t n = 0;
        for (const auto &p : m->parameters())
            n += p.numel();
        QCOMPARE(parameterCount(s), n);
    }

    void flopsOfTheStandardWorkload()
    {
        // The benchmark workload is quoted at ~10.2 MFLOP per token: teacher forward + 3x student.
        ModelShape teacher{512, 4, 256, 4, 1024, 128}, student{512, 2, 128, 4, 512, 128};
        const double f = forwardFlopsPerToken(teacher, 128) + 3 * forwardFlopsPerToken(student, 128);
        QVERIFY2(std::abs(f / 1e6 - 10.2) < 0.1, qPrintable(QString::number(f / 1e6)));
        // Closed form for one layer: 2*(4d^2 + 2df + dV) + 4Td.
        ModelShape one{10, 1, 8, 2, 16, 4};
        QCOMPARE(forwardFlopsPerToken(one, 4), 2.0 * (4 * 64 + 2 * 8 * 16 + 8 * 10) + 4 * 4 * 8);
    }

    void forwardShapesAndHidden()
    {
        torch::manual_seed(0);
        TransformerLM m(ModelShape{17, 3, 16, 4, 32, 12});
        auto tokens = torch::randint(0, 17, {2, 9}, torch::kLong);
        ForwardOptions all;
        all.hidden = all.attention = true;
        auto out = m->forward(tokens, all);
        QCOMPARE(out.logits.sizes().vec(), (std::vector<std::int64_t>{2, 9, 17}));
        QCOMPARE(int(out.hidden.size()), 4); // embeddings + 3 blocks
        for (const auto &h : out.hidden)
            QCOMPARE(h.sizes().vec(), (std::vector<std::int64_t>{2, 9, 16}));
        auto plain = m->forward(tokens);
        QVERIFY(plain.hidden.empty() && plain.attention.empty());
        QVERIFY(torch::equal(plain.logits, out.logits));
        // Attention maps: one per block, [B,H,T,T], rows that are distributions over the past.
        QCOMPARE(int(out.attention.size()), 3);
        for (const auto &a : out.attention) {
            QCOMPARE(a.sizes().vec(), (std::vector<std::int64_t>{2, 4, 9, 9}));
            QVERIFY(torch::allclose(a.sum(-1), torch::ones({2, 4, 9}), 1e-5, 1e-6));
            QCOMPARE(a.triu(1).abs().max().item<float>(), 0.0f);
        }
    }

    void causal()
    {
        // Changing a future token never changes earlier positions' logits.
        torch::manual_seed(1);
        TransformerLM m(ModelShape{13, 2, 16, 2, 32, 10});
        m->eval();
        auto a = torch::randint(0, 13, {1, 10}, torch::kLong);
        auto b = a.clone();
        b[0][7] = (b[0][7].item<std::int64_t>() + 1) % 13;
        auto la = m->forward(a).logits, lb = m->forward(b).logits;
        QVERIFY(torch::allclose(la.slice(1, 0, 7), lb.slice(1, 0, 7)));
        QVERIFY(!torch::allclose(la.slice(1, 7, 10), lb.slice(1, 7, 10)));
    }

    void checkpointRoundTrip()
    {
        QTemporaryDir dir;
        torch::manual_seed(2);
        auto m = makeTransformer(ModelShape{19, 2, 16, 2, 24, 8});
        const std::string path = dir.filePath("m.pt").toStdString();
        QVERIFY(m->save(path).ok());
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".tmp")));
        auto loaded = loadCheckpoint(path);
        QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
        QCOMPARE(loaded.value()->info().hidden, std::int64_t(16));
        QCOMPARE(loaded.value()->info().architecture, std::string("gpt"));
        QCOMPARE(loaded.value()->parameterCount(), parameterCount(ModelShape{19, 2, 16, 2, 24, 8}));
        auto tokens = torch::randint(0, 19, {2, 8}, torch::kLong);
        QVERIFY(torch::equal(m->forward(tokens).logits, loaded.value()->forward(tokens).logits));

        auto missing = loadCheckpoint(dir.filePath("nope.pt").toStdString());
        QVERIFY(!missing.ok());
        QVERIFY(missing.error().message.find("nope.pt") != std::string::npos);
        QFile junk(dir.filePath("junk.pt"));
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write("not a checkpoint");
        junk.close();
        auto bad = loadCheckpoint(junk.fileName().toStdString());
        QVERIFY(!bad.ok());
        QVERIFY(bad.error().message.find("junk.pt") != std::string::npos);
    }

    // A checkpoint whose header disagrees with its tensors is refused before a model is built
    // from it (heads = 0 used to divide by zero; layers = -1 used to load and train).
    void corruptCheckpointHeadersAreRefused_data()
    {
        QTest::addColumn<int>("field");
        QTest::addColumn<qlonglong>("value");
        QTest::addColumn<QString>("expect");
        QTest::newRow("heads = 0") << 3 << 0LL << "heads = 0";
        QTest::newRow("layers = -1") << 1 << -1LL << "layers = -1";
        QTest::newRow("fewer layers") << 1 << 1LL << "more blocks";
        QTest::newRow("more layers") << 1 << 3LL << "block2";
        QTest::newRow("heads do not divide") << 3 << 3LL << "do not divide";
        QTest::newRow("wrong width") << 2 << 32LL << "shape";
        QTest::newRow("wrong vocab") << 0 << 20LL << "tok.weight";
        QTest::newRow("huge") << 4 << (1LL << 40) << "ffn";
    }
    void corruptCheckpointHeadersAreRefused()
    {
        QFETCH(int, field);
        QFETCH(qlonglong, value);
        QFETCH(QString, expect);
        QTemporaryDir dir;
        torch::manual_seed(4);
        TransformerLM m(ModelShape{19, 2, 16, 2, 24, 8});
        std::vector<std::int64_t> shape{19, 2, 16, 2, 24, 8};
        shape[std::size_t(field)] = value;
        torch::serialize::OutputArchive archive;
        archive.write("distillery_shape", torch::tensor(shape, torch::kLong));
        m->save(archive);
        const std::string path = dir.filePath("bad.pt").toStdString();
        archive.save_to(path);
        auto r = loadCheckpoint(path);
        QVERIFY(!r.ok());
        QVERIFY2(r.error().message.find("bad.pt") != std::string::npos, r.error().message.c_str());
        QVERIFY2(r.error().message.find(expect.toStdString()) != std::string::npos,
                 r.error().message.c_str());
    }

    // A tied head is the token embedding: one matrix, trained from both ends, saved and
    // loaded as such (a seventh header number), and in the head's parameter scope.
    void tiedHead()
    {
        QTemporaryDir dir;
        torch::manual_seed(3);
        const ModelShape shape{13, 1, 8, 2, 16, 6, true};
        auto m = makeTransformer(shape);
        QVERIFY(m->info().tiedHead);
        QCOMPARE(m->parameterCount(), parameterCount(ModelShape{13, 1, 8, 2, 16, 6}) - 13 * 8);
        auto tokens = torch::randint(0, 13, {2, 6}, torch::kLong);
        auto module = builtinModule(*m);
        QVERIFY(module);
        {
            // logits = lnf(h) tok^T: changing the embedding changes the head.
            torch::NoGradGuard noGrad;
            auto before = m->forward(tokens).logits.clone();
            module->named_parameters()["tok.weight"][5].add_(1.0);
            QVERIFY(!torch::allclose(before.select(2, 5), m->forward(tokens).logits.select(2, 5)));
        }
        m->forward(tokens).logits.sum().backward();
        QVERIFY(module->named_parameters()["tok.weight"].grad().defined());
        auto headScope = m->parameters(ParameterScope::Head);
        QCOMPARE(int(headScope.size()), 3); // lnf weight and bias, tok
        const std::string path = dir.filePath("tied.pt").toStdString();
        QVERIFY(m->save(path).ok());
        auto loaded = loadCheckpoint(path);
        QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
        QVERIFY(loaded.value()->info().tiedHead);
        QVERIFY(torch::equal(m->forward(tokens).logits, loaded.value()->forward(tokens).logits));
        // A flag that is neither 0 nor 1.
        torch::serialize::OutputArchive archive;
        archive.write("distillery_shape", torch::tensor(std::vector<std::int64_t>{13, 1, 8, 2, 16, 6, 7}, torch::kLong));
        module->save(archive);
        archive.save_to(dir.filePath("flag.pt").toStdString());
        auto bad = loadCheckpoint(dir.filePath("flag.pt").toStdString());
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().message.find("tied-head flag is 7") != std::string::npos, bad.error().message.c_str());
    }

    // A Llama-style student from scratch: its size by the closed form, causality, gradients,
    // scopes and the checkpoint round trip, and headers that cannot be.
    void llamaStudent()
    {
        QTemporaryDir dir;
        torch::manual_seed(4);
        ModelShape shape{29, 2, 16, 4, 24, 10};
        shape.family = ModelFamily::Llama;
        shape.kvHeads = 2;
        shape.ropeTheta = 1000.0;
        QVERIFY2(modelShapeProblem(shape, 1u << 30).empty(), modelShapeProblem(shape, 1u << 30).c_str());
        auto m = makeTransformer(shape);
        QCOMPARE(m->info().architecture, std::string("llama"));
        QCOMPARE(m->info().kvHeads, std::int64_t(2));
        // embed 29x16, per layer 2 norms + q,o 16x16 + k,v 16x8 + 3 x 16x24, final norm, head.
        const std::int64_t perLayer = 2 * 16 + 2 * 256 + 2 * 16 * 8 + 3 * 16 * 24;
        QCOMPARE(m->parameterCount(), 29 * 16 + 2 * perLayer + 16 + 29 * 16);
        QCOMPARE(parameterCount(shape), m->parameterCount());
        QCOMPARE(forwardFlopsPerToken(shape, 10), m->forwardFlopsPerToken(10));
        auto tokens = torch::randint(0, 29, {3, 10}, torch::kLong);
        {
            // Causal: changing the last token changes no earlier position.
            torch::NoGradGuard noGrad;
            auto a = m->forward(tokens).logits;
            auto changed = tokens.clone();
            changed.select(1, 9).fill_(0);
            changed.select(1, 9).add_(tokens.select(1, 9).add(1).remainder(29));
            auto b = m->forward(changed).logits;
            QVERIFY(torch::allclose(a.slice(1, 0, 9), b.slice(1, 0, 9)));
            QVERIFY(!torch::allclose(a.select(1, 9), b.select(1, 9)));
        }
        m->forward(tokens).logits.pow(2).mean().backward();
        for (const auto &p : m->parameters())
            QVERIFY(p.grad().defined() && p.grad().abs().sum().item<double>() > 0);
        auto count = [](const std::vector<torch::Tensor> &ps) {
            std::int64_t n = 0;
            for (const auto &p : ps)
                n += p.numel();
            return n;
        };
        QCOMPARE(count(m->parameters(ParameterScope::Head)), std::int64_t(16 + 29 * 16));
        QCOMPARE(count(m->parameters(ParameterScope::LastBlock)), 16 + 29 * 16 + perLayer);
        const std::string path = dir.filePath("llama.pt").toStdString();
        QVERIFY(m->save(path).ok());
        auto loaded = loadCheckpoint(path);
        QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
        QCOMPARE(loaded.value()->info().architecture, std::string("llama"));
        QCOMPARE(loaded.value()->info().kvHeads, std::int64_t(2));
        QVERIFY(torch::equal(m->forward(tokens).logits, loaded.value()->forward(tokens).logits));

        // Shapes the validator refuses, and checkpoint headers that cannot be.
        ModelShape bad = shape;
        bad.kvHeads = 3;
        QVERIFY(modelShapeProblem(bad, 1u << 30).find("3 key/value heads for 4 heads") != std::string::npos);
        bad = shape;
        bad.dModel = 12; // head size 3
        QVERIFY(modelShapeProblem(bad, 1u << 30).find("is odd") != std::string::npos);
        auto module = llamaModule(*m);
        QVERIFY(module);
        auto writeWith = [&](const std::string &name, const std::vector<double> &spec) {
            torch::serialize::OutputArchive archive;
            archive.write("distillery_shape", torch::tensor(std::vector<std::int64_t>{29, 2, 16, 4, 24, 10, 0}, torch::kLong));
            archive.write("distillery_llama", torch::tensor(spec, torch::kDouble));
            module->save(archive);
            const std::string file = dir.filePath(QString::fromStdString(name)).toStdString();
            archive.save_to(file);
            return loadCheckpoint(file);
        };
        auto r = writeWith("short.pt", {2, 4, 1000});
        QVERIFY(!r.ok() && r.error().message.find("holds 3 numbers, expected 9") != std::string::npos);
        r = writeWith("nan.pt", {2, 4, std::nan(""), 1e-5, 0, 0, 0, 0, 0});
        QVERIFY(!r.ok() && r.error().message.find("number 3 is out of range") != std::string::npos);
        r = writeWith("kv.pt", {3, 4, 1000, 1e-5, 0, 0, 0, 0, 0});
        QVERIFY(!r.ok() && r.error().message.find("kv_heads = 3 do not divide heads = 4") != std::string::npos);
        r = writeWith("bias.pt", {2, 4, 1000, 1e-5, 1, 0, 0, 0, 0});
        QVERIFY2(!r.ok() && r.error().message.find("tensor 'layer0.q_bias' is missing") != std::string::npos,
                 r.ok() ? "" : r.error().message.c_str());
        r = writeWith("fine.pt", {2, 4, 1000, 1e-5, 0, 0, 0, 0, 0});
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    }

    void parameterScopes()
    {
        auto m = makeTransformer(ModelShape{11, 3, 8, 2, 16, 6});
        auto count = [](const std::vector<torch::Tensor> &ps) {
            std::int64_t n = 0;
            for (const auto &p : ps)
                n += p.numel();
            return n;
        };
        const std::int64_t d = 8, f = 16, v = 11;
        const std::int64_t head = 2 * d + d * v; // final LayerNorm + untied head
        const std::int64_t block = 4 * d + 3 * d * d + 3 * d + d * d + d + d * f + f + f * d + d;
        QCOMPARE(count(m->parameters(ParameterScope::Head)), head);
        QCOMPARE(count(m->parameters(ParameterScope::LastBlock)), head + block);
        QCOMPARE(count(m->parameters(ParameterScope::All)), m->parameterCount());
        m->freeze();
        QVERIFY(!m->isTraining());
        for (const auto &p : m->parameters())
            QVERIFY(!p.requires_grad());
    }

    void forwardMatchesIndependentPyTorch()
    {
        if (!pythonHasTorch())
            QSKIP("no python3 with PyTorch");
        QTemporaryDir dir;
        torch::manual_seed(3);
        ModelShape s{23, 2, 16, 4, 40, 12};
        TransformerLM m(s);
        // Non-trivial LayerNorm parameters so that their use is checked too.
        {
            torch::NoGradGuard g;
            for (auto &p : m->named_parameters())
                if (p.key().find("ln") != std::string::npos)
                    p.value().add_(torch::randn_like(p.value()) * 0.1);
        }
        auto tokens = torch::randint(0, 23, {3, 12}, torch::kLong);
        auto logits = m->forward(tokens).logits;
        c10::Dict<std::string, torch::Tensor> dict;
        for (const auto &p : m->named_parameters())
            dict.insert(p.key(), p.value().detach().clone());
        dict.insert("shape", torch::tensor({s.vocab, s.layers, s.dModel, s.heads, s.ffn, s.maxLen}));
        dict.insert("tokens", tokens);
        dict.insert("logits", logits.detach());
        const auto bytes = torch::pickle_save(c10::IValue(dict));
        QFile f(dir.filePath("model.pt"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bytes.data(), qint64(bytes.size()));
        f.close();
        QString err;
        QVERIFY2(runPython({QString(DISTILLERY_SOURCE_DIR) + "/tests/core/models_reference.py",
                            f.fileName(), dir.filePath("out.txt")},
                           &err),
                 qPrintable(err));
        QFile out(dir.filePath("out.txt"));
        QVERIFY(out.open(QIODevice::ReadOnly));
        const double diff = out.readAll().trimmed().toDouble();
        QVERIFY2(diff < 1e-4, qPrintable(QString("max |diff| = %1").arg(diff)));
    }

    void torchScriptTeachers()
    {
        if (!pythonHasTorch())
            QSKIP("no python3 with PyTorch");
        QTemporaryDir dir;
        QString err;
        QVERIFY2(runPython({QString(DISTILLERY_SOURCE_DIR) + "/tests/core/make_torchscript_teachers.py",
                            dir.path(), "20"},
                           &err),
                 qPrintable(err));
        auto path = [&](const char *name) { return dir.filePath(name).toStdString(); };

        auto good = loadTorchScript(path("good.pt"), 20, 8);
        QVERIFY2(good.ok(), good.ok() ? "" : good.error().message.c_str());
        QCOMPARE(good.value()->info().vocab, std::int64_t(20));
        QCOMPARE(good.value()->info().hidden, std::int64_t(-1));
        QCOMPARE(good.value()->info().architecture, std::string("torchscript"));
        QVERIFY(std::isnan(good.value()->forwardFlopsPerToken(8)));
        QVERIFY(!good.value()->trainable());
        auto out = good.value()->forward(torch::zeros({3, 5}, torch::kLong));
        QCOMPARE(out.logits.sizes().vec(), (std::vector<std::int64_t>{3, 5, 20}));

        auto tuple = loadTorchScript(path("tuple.pt"), 20, 8);
        QVERIFY(tuple.ok());
        QCOMPARE(tuple.value()->info().hidden, std::int64_t(16));
        ForwardOptions hidden;
        hidden.hidden = true;
        QCOMPARE(int(tuple.value()->forward(torch::zeros({1, 4}, torch::kLong), hidden).hidden.size()), 1);
        // Saved and loaded back as a TorchScript teacher.
        QVERIFY(tuple.value()->save(path("tuple-again.pt")).ok());
        QVERIFY(loadTorchScript(path("tuple-again.pt"), 20, 8).ok());

        struct Case { const char *file; const char *expect; };
        for (const Case &c : {Case{"wrong_rank.pt", "expected logits of shape [B,T,V]"},
                              Case{"wrong_vocab.pt", "vocabulary is 23"},
                              Case{"int_logits.pt", "floating-point"},
                              Case{"raises.pt", "this teacher refuses to run"},
                              Case{"missing.pt", "not found"}}) {
            auto r = loadTorchScript(path(c.file), 20, 8);
            QVERIFY2(!r.ok(), c.file);
            QVERIFY2(r.error().message.find(c.file) != std::string::npos, r.error().message.c_str());
            QVERIFY2(r.error().message.find(c.expect) != std::string::npos, r.error().message.c_str());
        }
    }
};

QTEST_GUILESS_MAIN(tst_Models)
#include "tst_models.moc"
