#include "data/data.h"

#include <QTemporaryDir>

#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include <sys/stat.h>

using namespace distillery::core::data;

namespace {

void writeFile(const std::string &path, const std::string &bytes)
{
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

std::vector<std::int64_t> toVector(const torch::Tensor &t)
{
    auto c = t.to(torch::kLong).contiguous();
    return std::vector<std::int64_t>(c.data_ptr<std::int64_t>(),
                                     c.data_ptr<std::int64_t>() + c.numel());
}

// p(x_1..x_n) by summing over every hidden path s_1..s_n (S^n terms), independent of filtering.
double bruteForceProbability(const OracleHmm &hmm, const std::vector<std::int64_t> &x)
{
    const auto pi = hmm.initial().accessor<double, 1>();
    const auto a = hmm.transitions().accessor<double, 2>();
    const auto b = hmm.emissions().accessor<double, 2>();
    const int s = hmm.states();
    const std::size_t n = x.size();
    std::int64_t paths = 1;
    for (std::size_t i = 0; i < n; ++i)
        paths *= s;
    double total = 0;
    for (std::int64_t code = 0; code < paths; ++code) {
        std::vector<int> path(n);
        std::int64_t c = code;
        for (std::size_t i = 0; i < n; ++i) {
            path[i] = int(c % s);
            c /= s;
        }
        double p = pi[path[0]] * b[path[0]][x[0]];
        for (std::size_t i = 1; i < n; ++i)
            p *= a[path[i - 1]][path[i]] * b[path[i]][x[i]];
        total += p;
    }
    return total;
}

double chiSquare(const std::vector<double> &observed, const std::vector<double> &probabilities)
{
    double total = 0, chi = 0;
    for (double o : observed)
        total += o;
    for (std::size_t i = 0; i < observed.size(); ++i) {
        const double e = total * probabilities[i];
        chi += (observed[i] - e) * (observed[i] - e) / e;
    }
    return chi;
}

} // namespace

class tst_Data : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void hmmRowsAreDistributions()
    {
        OracleHmm hmm(64, 32, 0.05, 7);
        QCOMPARE(hmm.vocab(), 64);
        QCOMPARE(hmm.states(), 32);
        QCOMPARE(hmm.initial().sizes(), torch::IntArrayRef({32}));
        QCOMPARE(hmm.transitions().sizes(), torch::IntArrayRef({32, 32}));
        QCOMPARE(hmm.emissions().sizes(), torch::IntArrayRef({32, 64}));
        QVERIFY(std::abs(hmm.initial().sum().item<double>() - 1.0) < 1e-12);
        QVERIFY(
            torch::allclose(hmm.transitions().sum(1), torch::ones({32}, torch::kDouble), 0, 1e-12));
        QVERIFY(
            torch::allclose(hmm.emissions().sum(1), torch::ones({32}, torch::kDouble), 0, 1e-12));
        QVERIFY(hmm.transitions().min().item<double>() > 0);
        QVERIFY(hmm.emissions().min().item<double>() > 0);
        // The rows follow Dirichlet(c): for a symmetric Dirichlet over n entries the expected
        // entropy is ψ(nc + 1) − ψ(c + 1), 1.809 nats for n = 64, c = 0.05 (standard deviation
        // of one row's entropy ≈ 0.34, so the mean of 256 rows lies within 0.1 of it).
        double entropy = 0;
        for (std::uint64_t seed = 0; seed < 8; ++seed) {
            const auto e = OracleHmm(64, 32, 0.05, seed).emissions();
            entropy += (-(e * e.log()).sum(1)).mean().item<double>() / 8;
        }
        QVERIFY2(std::abs(entropy - 1.809) < 0.1, qPrintable(QString::number(entropy)));
        // Same seed, same language; another seed, another one.
        OracleHmm same(64, 32, 0.05, 7), other(64, 32, 0.05, 8);
        QVERIFY(torch::equal(hmm.emissions(), same.emissions()));
        QVERIFY(!torch::equal(hmm.emissions(), other.emissions()));
    }

    // Every sequence of length 4 over V=3 with S=2: filtering equals the ratio of path sums
    // p(x_1..t+1) / p(x_1..t).
    void filteringMatchesBruteForce()
    {
        OracleHmm hmm(3, 2, 0.7, 42);
        const int v = 3, t = 4;
        std::vector<std::vector<std::int64_t>> sequences;
        for (int code = 0; code < 81; ++code) {
            std::vector<std::int64_t> x(t);
            int c = code;
            for (int i = 0; i < t; ++i) {
                x[std::size_t(i)] = c % v;
                c /= v;
            }
            sequences.push_back(x);
        }
        auto inputs = torch::empty({81, t}, torch::kLong);
        for (int i = 0; i < 81; ++i)
            for (int j = 0; j < t; ++j)
                inputs[i][j] = sequences[std::size_t(i)][std::size_t(j)];
        auto dist = hmm.nextTokenDistributions(inputs);
        QCOMPARE(dist.scalar_type(), torch::kFloat);
        QCOMPARE(dist.sizes(), torch::IntArrayRef({81, t, v}));
        QVERIFY(torch::allclose(dist.sum(-1), torch::ones({81, t}), 0, 1e-5));
        auto acc = dist.accessor<float, 3>();
        double worst = 0;
        for (int i = 0; i < 81; ++i) {
            for (int j = 0; j < t; ++j) {
                std::vector<std::int64_t> prefix(sequences[std::size_t(i)].begin(),
                                                 sequences[std::size_t(i)].begin() + j + 1);
                const double denominator = bruteForceProbability(hmm, prefix);
                for (int next = 0; next < v; ++next) {
                    auto extended = prefix;
                    extended.push_back(next);
                    const double expected = bruteForceProbability(hmm, extended) / denominator;
                    worst = std::max(worst, std::abs(expected - double(acc[i][j][next])));
                }
            }
        }
        QVERIFY2(worst < 1e-6, qPrintable(QString("max deviation %1").arg(worst)));

        // oracleNll is the mean of -log p(target) from the same distributions.
        auto targets = inputs.roll(-1, 1);
        const double nll = hmm.oracleNll(inputs, targets);
        const double direct = -dist.gather(2, targets.unsqueeze(2)).log().mean().item<double>();
        QVERIFY(std::abs(nll - direct) < 1e-5);
    }

    // Sampled continuations of a fixed prefix follow the oracle's distribution.
    void samplesFollowTheOracle()
    {
        OracleHmm hmm(4, 3, 0.6, 3);
        const std::int64_t n = 30000;
        auto samples = hmm.sample(n, 3, 99);
        QCOMPARE(samples.sizes(), torch::IntArrayRef({n, 3}));
        QVERIFY(samples.min().item<std::int64_t>() >= 0 && samples.max().item<std::int64_t>() < 4);
        auto acc = samples.accessor<std::int64_t, 2>();
        std::map<std::pair<std::int64_t, std::int64_t>, std::vector<double>> counts;
        std::vector<double> first(4, 0.0);
        for (std::int64_t i = 0; i < n; ++i) {
            auto &c = counts[{acc[i][0], acc[i][1]}];
            c.resize(4, 0.0);
            c[std::size_t(acc[i][2])] += 1;
            first[std::size_t(acc[i][0])] += 1;
        }
        // The most frequent prefix (x1, x2).
        auto best = counts.begin();
        double bestTotal = 0;
        for (auto it = counts.begin(); it != counts.end(); ++it) {
            double total = 0;
            for (double c : it->second)
                total += c;
            if (total > bestTotal) {
                bestTotal = total;
                best = it;
            }
        }
        QVERIFY(bestTotal > 2000);
        auto prefix =
            torch::tensor({best->first.first, best->first.second}, torch::kLong).unsqueeze(0);
        auto p = hmm.nextTokenDistributions(prefix)[0][1].to(torch::kDouble);
        std::vector<double> probabilities(p.data_ptr<double>(), p.data_ptr<double>() + 4);
        // 99.9% quantile of chi-square with 3 degrees of freedom: 16.27.
        const double chi = chiSquare(best->second, probabilities);
        QVERIFY2(chi < 16.27, qPrintable(QString("chi-square %1").arg(chi)));

        // First-token marginal: π B.
        auto marginal = hmm.initial().unsqueeze(0).mm(hmm.emissions())[0];
        std::vector<double> m(marginal.data_ptr<double>(), marginal.data_ptr<double>() + 4);
        const double chiFirst = chiSquare(first, m);
        QVERIFY2(chiFirst < 16.27, qPrintable(QString("chi-square %1").arg(chiFirst)));

        // A wrong distribution is rejected by the same statistic (the test can fail).
        std::vector<double> uniform(4, 0.25);
        QVERIFY(chiSquare(first, uniform) > 16.27);

        // Deterministic per seed; row i depends only on (seed, i).
        QVERIFY(torch::equal(hmm.sample(50, 3, 99), samples.slice(0, 0, 50)));
        QVERIFY(!torch::equal(hmm.sample(50, 3, 100), samples.slice(0, 0, 50)));
    }

    void oracleIsLearnable()
    {
        auto dataset = makeDataset(DatasetConfig{});
        QVERIFY2(dataset.ok(), dataset.ok() ? "" : dataset.error().message.c_str());
        const auto &d = *dataset.value();
        QVERIFY(d.hasOracle());
        QCOMPARE(d.describe(), std::string("oracle-hmm V=64 S=32 (2048 train / 128 validation "
                                           "sequences of 65 tokens)"));
        auto batch = d.batchFromRows(d.validationSequences());
        const double oracle = d.oracle()->oracleNll(batch.inputs, batch.targets);
        auto counts = torch::bincount(d.trainSequences().reshape({-1}), {}, 64).to(torch::kDouble);
        auto freq = counts / counts.sum();
        const double unigram = -(freq * freq.clamp_min(1e-300).log()).sum().item<double>();
        const double uniform = std::log(64.0);
        qInfo("oracle NLL %.3f nats, unigram entropy %.3f, uniform log V %.3f", oracle, unigram,
              uniform);
        // Structure to learn: the context is worth a lot over unigram statistics, yet the
        // language is not deterministic.
        QVERIFY(oracle < unigram - 0.5);
        QVERIFY(oracle > 0.3);
        QVERIFY(unigram < uniform);
    }

    void oracleDatasetDeterminism()
    {
        DatasetConfig config;
        config.trainSequences = 64;
        config.validationSequences = 16;
        config.seqLen = 16;
        auto a = makeDataset(config), b = makeDataset(config);
        QVERIFY(a.ok() && b.ok());
        QCOMPARE(a.value()->trainSequences().sizes(), torch::IntArrayRef({64, 17}));
        QCOMPARE(a.value()->validationSequences().sizes(), torch::IntArrayRef({16, 17}));
        QCOMPARE(a.value()->trainSequences().scalar_type(), torch::kLong);
        QVERIFY(torch::equal(a.value()->trainSequences(), b.value()->trainSequences()));
        QVERIFY(torch::equal(a.value()->validationSequences(), b.value()->validationSequences()));
        QVERIFY(!torch::equal(a.value()->trainSequences().slice(0, 0, 16),
                              a.value()->validationSequences()));
        config.seed = 4321;
        auto c = makeDataset(config);
        QVERIFY(c.ok());
        QVERIFY(!torch::equal(a.value()->trainSequences(), c.value()->trainSequences()));
        QVERIFY(!torch::equal(a.value()->oracle()->emissions(), c.value()->oracle()->emissions()));
        QCOMPARE(a.value()->decode({12, 3}), std::string("t12 t3"));
    }

    void invalidConfigs_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<int>("value");
        QTest::addColumn<QString>("expected");
        QTest::newRow("vocab") << "vocab" << 1 << "vocab must be in [2, 65536], got 1";
        QTest::newRow("states") << "states" << 0 << "hidden_states must be in [1, 4096], got 0";
        QTest::newRow("train") << "train" << 0 << "train_sequences must be at least 1, got 0";
        QTest::newRow("seqLen") << "seqLen" << 0 << "seq_len must be in [1, 1048576], got 0";
        QTest::newRow("source") << "source" << 0 << "unknown source 'csv'";
        QTest::newRow("huge") << "train" << 1000000000 << "exceed the limit";
    }
    void invalidConfigs()
    {
        QFETCH(QString, field);
        QFETCH(int, value);
        QFETCH(QString, expected);
        DatasetConfig config;
        if (field == "vocab")
            config.vocab = value;
        else if (field == "states")
            config.hiddenStates = value;
        else if (field == "train")
            config.trainSequences = value;
        else if (field == "seqLen")
            config.seqLen = value;
        else if (field == "source")
            config.source = "csv";
        auto result = makeDataset(config);
        QVERIFY(!result.ok());
        QVERIFY2(result.error().message.find(expected.toStdString()) != std::string::npos,
                 result.error().message.c_str());
    }

    void trainBatchesAreResumableEpochs()
    {
        DatasetConfig config;
        config.trainSequences = 100;
        config.validationSequences = 10;
        config.seqLen = 8;
        auto made = makeDataset(config);
        QVERIFY(made.ok());
        const auto &d = *made.value();
        const std::int64_t b = 7;

        std::vector<std::int64_t> stream;
        std::vector<Batch> batches;
        for (std::int64_t step = 0; step < 30; ++step) {
            batches.push_back(d.trainBatch(step, b, 5));
            const auto &batch = batches.back();
            QCOMPARE(batch.inputs.sizes(), torch::IntArrayRef({b, 8}));
            QCOMPARE(batch.mask.scalar_type(), torch::kFloat);
            QCOMPARE(batch.mask.sum().item<double>(), double(b * 8));
            auto rows = d.trainSequences().index_select(0, batch.indices);
            QVERIFY(torch::equal(batch.inputs, rows.slice(1, 0, 8)));
            QVERIFY(torch::equal(batch.targets, rows.slice(1, 1, 9)));
            for (auto i : toVector(batch.indices))
                stream.push_back(i);
        }
        // Each epoch (100 consecutive stream positions) visits every row exactly once, and
        // consecutive epochs use different orders.
        for (int epoch = 0; epoch < 2; ++epoch) {
            std::set<std::int64_t> seen(stream.begin() + epoch * 100,
                                        stream.begin() + (epoch + 1) * 100);
            QCOMPARE(seen.size(), std::size_t(100));
            QCOMPARE(*seen.begin(), std::int64_t(0));
            QCOMPARE(*seen.rbegin(), std::int64_t(99));
        }
        QVERIFY(!std::equal(stream.begin(), stream.begin() + 100, stream.begin() + 100));
        QVERIFY(stream[0] != 0 || stream[1] != 1 || stream[2] != 2); // shuffled

        // A fresh dataset resumed at step 17 (after the permutation cache saw other seeds)
        // continues the same stream.
        auto resumed = makeDataset(config);
        QVERIFY(resumed.ok());
        resumed.value()->trainBatch(3, b, 6);
        for (std::int64_t step = 17; step < 30; ++step) {
            auto batch = resumed.value()->trainBatch(step, b, 5);
            QVERIFY(torch::equal(batch.indices, batches[std::size_t(step)].indices));
            QVERIFY(torch::equal(batch.inputs, batches[std::size_t(step)].inputs));
        }
        // Another seed, another order.
        QVERIFY(!torch::equal(d.trainBatch(0, b, 6).indices, batches[0].indices));
        // A batch larger than the split spans several epochs and still works.
        QCOMPARE(d.trainBatch(1, 250, 5).indices.size(0), std::int64_t(250));
    }

    void validationBatchesAreFixed()
    {
        DatasetConfig config;
        config.trainSequences = 20;
        config.validationSequences = 10;
        config.seqLen = 5;
        auto made = makeDataset(config);
        QVERIFY(made.ok());
        const auto &d = *made.value();
        QCOMPARE(d.validationBatchCount(4), std::int64_t(3));
        QCOMPARE(d.validationBatchCount(10), std::int64_t(1));
        auto first = d.validationBatch(0, 4);
        QVERIFY(torch::equal(first.inputs, d.validationBatch(0, 4).inputs));
        QCOMPARE(toVector(first.indices), (std::vector<std::int64_t>{0, 1, 2, 3}));
        auto last = d.validationBatch(2, 4);
        QCOMPARE(toVector(last.indices), (std::vector<std::int64_t>{8, 9, 0, 1}));
        QCOMPARE(toVector(last.mask.select(1, 0)), (std::vector<std::int64_t>{1, 1, 0, 0}));
        QVERIFY(torch::equal(d.validationBatch(3, 4).indices, first.indices)); // wraps
        QVERIFY(torch::equal(last.targets,
                             d.validationSequences().index_select(0, last.indices).slice(1, 1, 6)));
        double counted = 0;
        for (std::int64_t i = 0; i < 3; ++i)
            counted += d.validationBatch(i, 4).mask.sum().item<double>();
        QCOMPARE(counted, 10.0 * 5);
        auto rows = d.batchFromRows(d.trainSequences().slice(0, 0, 2));
        QCOMPARE(toVector(rows.indices), (std::vector<std::int64_t>{-1, -1}));
    }

    void byteTokenizerRoundTrip_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("ascii") << QByteArray("hello, world\n");
        QTest::newRow("empty") << QByteArray("");
        QTest::newRow("multibyte")
            << QByteArray("h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x8E\x89");
        QTest::newRow("nul and high bytes") << QByteArray("a\0b\xFF\x80", 5);
    }
    void byteTokenizerRoundTrip()
    {
        QFETCH(QByteArray, text);
        const std::string s(text.constData(), std::size_t(text.size()));
        auto ids = encodeBytes(s);
        QCOMPARE(ids.size(), s.size());
        for (std::size_t i = 0; i < s.size(); ++i)
            QCOMPARE(ids[i], std::int64_t(static_cast<unsigned char>(s[i])));
        QCOMPARE(decodeBytes(ids), s);
    }

    void byteDecodingReplacesInvalid()
    {
        QCOMPARE(decodeBytes({104, 300, -1}), std::string("h\xEF\xBF\xBD\xEF\xBF\xBD"));
        QCOMPARE(sanitizeUtf8("a\xE2\x82"
                              "b"),
                 std::string("a\xEF\xBF\xBD"
                             "b"));
        QCOMPARE(sanitizeUtf8("\xC0\xAF"), std::string("\xEF\xBF\xBD\xEF\xBF\xBD"));
        QCOMPARE(sanitizeUtf8("\xC3\xA9"), std::string("\xC3\xA9"));
    }

    void utf8Validation_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<int>("offset");
        QTest::newRow("empty") << QByteArray("") << true << 0;
        QTest::newRow("ascii") << QByteArray("plain text") << true << 0;
        QTest::newRow("2-byte") << QByteArray("caf\xC3\xA9") << true << 0;
        QTest::newRow("3-byte") << QByteArray("\xE2\x82\xAC") << true << 0;
        QTest::newRow("4-byte") << QByteArray("\xF0\x9F\x98\x80") << true << 0;
        QTest::newRow("max code point") << QByteArray("\xF4\x8F\xBF\xBF") << true << 0;
        QTest::newRow("last before surrogates") << QByteArray("\xED\x9F\xBF") << true << 0;
        QTest::newRow("overlong 2") << QByteArray("ab\xC0\xAF") << false << 2;
        QTest::newRow("overlong 3") << QByteArray("\xE0\x80\xAF") << false << 0;
        QTest::newRow("overlong 4") << QByteArray("x\xF0\x80\x80\xAF") << false << 1;
        QTest::newRow("surrogate") << QByteArray("ok\xED\xA0\x80") << false << 2;
        QTest::newRow("above U+10FFFF") << QByteArray("\xF4\x90\x80\x80") << false << 0;
        QTest::newRow("truncated") << QByteArray("abc\xE2\x82") << false << 3;
        QTest::newRow("truncated then ascii") << QByteArray("\xF0\x9F\x98"
                                                            "a")
                                              << false << 0;
        QTest::newRow("lone continuation") << QByteArray("a\x80") << false << 1;
        QTest::newRow("FF") << QByteArray("\xC3\xA9\xFF") << false << 2;
    }
    void utf8Validation()
    {
        QFETCH(QByteArray, text);
        QFETCH(bool, valid);
        QFETCH(int, offset);
        std::size_t at = 12345;
        QCOMPARE(isValidUtf8(std::string(text.constData(), std::size_t(text.size())), &at), valid);
        if (!valid)
            QCOMPARE(at, std::size_t(offset));
        // Independent reference: QString's decoder agrees on validity.
        QCOMPARE(QString::fromUtf8(text).toUtf8() == text, valid);
    }

    void corpusErrors_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("file");
        QTest::addColumn<QByteArray>("content"); // "<missing>" = no file, "<dir>" = a directory
        QTest::addColumn<QStringList>("expected");
        const QByteArray big(200, 'x');
        QTest::newRow("missing") << "text"
                                 << "none.txt" << QByteArray("<missing>")
                                 << QStringList{"none.txt: no such file (expected a corpus file"};
        QTest::newRow("directory")
            << "text"
            << "folder" << QByteArray("<dir>") << QStringList{"folder: is a directory"};
        QTest::newRow("empty") << "text"
                               << "empty.txt" << QByteArray("")
                               << QStringList{"empty.txt: empty file (0 bytes), expected a corpus file"};
        QTest::newRow("whitespace") << "text"
                                    << "blank.txt" << QByteArray(" \n\t\n  ")
                                    << QStringList{"blank.txt: the corpus file contains only "
                                                   "whitespace"};
        QTest::newRow("invalid utf-8")
            << "text"
            << "bad.txt" << QByteArray("line one\nline two \xFF more" + big)
            << QStringList{"bad.txt:2: not valid UTF-8 (byte offset 18)"};
        QTest::newRow("too small")
            << "text"
            << "small.txt" << QByteArray("only 20 bytes here..")
            << QStringList{"small.txt: the corpus has 20 bytes", "seq_len + 1 = 65 bytes"};
        QTest::newRow("jsonl invalid json")
            << "jsonl"
            << "corpus.jsonl" << QByteArray("{\"text\": \"a\"}\n\n{\"text\": \"b\"\n")
            << QStringList{"corpus.jsonl:3: invalid JSON: parse error at column 13"};
        QTest::newRow("jsonl missing field")
            << "jsonl"
            << "corpus.jsonl" << QByteArray("{\"text\": \"a\"}\n{\"body\": \"b\"}\n")
            << QStringList{"corpus.jsonl:2: field 'text' missing"};
        QTest::newRow("jsonl number")
            << "jsonl"
            << "corpus.jsonl" << QByteArray("{\"text\": 17}\n")
            << QStringList{"corpus.jsonl:1: field 'text' is a number, expected a string"};
        QTest::newRow("jsonl array line")
            << "jsonl"
            << "corpus.jsonl" << QByteArray("{\"text\": \"a\"}\r\n[1, 2]\r\n")
            << QStringList{"corpus.jsonl:2: expected a JSON object, found an array"};
        QTest::newRow("jsonl invalid utf-8")
            << "jsonl"
            << "corpus.jsonl" << QByteArray("{\"text\": \"a\"}\n{\"text\": \"\xC0\xAF\"}\n")
            << QStringList{"corpus.jsonl:2: not valid UTF-8 (byte offset 24)"};
        QTest::newRow("jsonl too small") << "jsonl"
                                         << "corpus.jsonl" << QByteArray("{\"text\": \"short\"}\n")
                                         << QStringList{"corpus.jsonl: the corpus has 5 bytes"};
        QTest::newRow("fifo") << "text"
                              << "pipe.txt" << QByteArray("<fifo>")
                              << QStringList{"pipe.txt: is a named pipe (FIFO), expected a corpus file"};
        QTest::newRow("jsonl fifo") << "jsonl"
                                    << "pipe.jsonl" << QByteArray("<fifo>")
                                    << QStringList{"pipe.jsonl: is a named pipe (FIFO)"};
        QTest::newRow("symlink loop") << "text"
                                      << "loop.txt" << QByteArray("<loop>")
                                      << QStringList{"loop.txt: too many levels of symbolic links"};
        QTest::newRow("jsonl too deep")
            << "jsonl"
            << "deep.jsonl"
            << (QByteArray("{\"text\": \"a\"}\n{\"meta\": ") + QByteArray(100000, '[') + "\n")
            << QStringList{"deep.jsonl:2: meta[0][0]", "nested more than 32 levels deep"};
        QTest::newRow("jsonl out of range")
            << "jsonl"
            << "big.jsonl" << QByteArray("{\"text\": \"a\", \"score\": 1e999}\n")
            << QStringList{"big.jsonl:1: score: number 1e999 is out of range"};
    }

    // A device is not a corpus: refused at once instead of reading without end.
    void devicesAreRefused()
    {
        for (const char *device : {"/dev/zero", "/dev/urandom"}) {
            DatasetConfig config;
            config.source = "text";
            config.path = device;
            auto result = makeDataset(config);
            QVERIFY(!result.ok());
            QCOMPARE(QString::fromStdString(result.error().message),
                     QString(device) + ": is a device, expected a corpus file (UTF-8 text or JSON "
                                       "lines) (a regular file)");
        }
    }
    void corpusErrors()
    {
        QFETCH(QString, source);
        QFETCH(QString, file);
        QFETCH(QByteArray, content);
        QFETCH(QStringList, expected);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string path = dir.filePath(file).toStdString();
        if (content == "<dir>")
            QVERIFY(QDir(dir.path()).mkdir(file));
        else if (content == "<fifo>")
            QCOMPARE(::mkfifo(path.c_str(), 0600), 0);
        else if (content == "<loop>")
            QVERIFY(QFile::link(QString::fromStdString(path), QString::fromStdString(path)));
        else if (content != "<missing>")
            writeFile(path, std::string(content.constData(), std::size_t(content.size())));
        DatasetConfig config;
        config.source = source.toStdString();
        config.path = path;
        auto result = makeDataset(config);
        QVERIFY(!result.ok());
        const std::string &message = result.error().message;
        QVERIFY2(message.rfind(path, 0) == 0, message.c_str()); // starts with the path
        for (const auto &e : expected)
            QVERIFY2(message.find(e.toStdString()) != std::string::npos, message.c_str());
    }

    void textCorpus()
    {
        QTemporaryDir dir;
        std::string text;
        for (int i = 0; text.size() < 10000; ++i)
            text += "Line " + std::to_string(i) + ": caf\xC3\xA9 \xE4\xB8\x96\xE7\x95\x8C\n";
        const std::string path = dir.filePath("corpus.txt").toStdString();
        writeFile(path, text);
        DatasetConfig config;
        config.source = "text";
        config.path = path;
        config.seqLen = 31;
        config.validationFraction = 0.1;
        auto made = makeDataset(config);
        QVERIFY2(made.ok(), made.ok() ? "" : made.error().message.c_str());
        const auto &d = *made.value();
        QCOMPARE(d.vocab(), 256);
        QVERIFY(!d.hasOracle());
        const std::int64_t windows = std::int64_t(text.size()) / 32;
        QCOMPARE(d.trainSize() + d.validationSize(), windows);
        QVERIFY(d.validationSize() >= windows / 20 && d.validationSize() <= windows / 5);
        QVERIFY(d.describe().find(std::to_string(d.trainSize()) + " train / " +
                                  std::to_string(d.validationSize()) +
                                  " validation sequences of 32 tokens") != std::string::npos);
        // The rows are the windows of the file in order, each in exactly one split.
        auto train = d.trainSequences(), validation = d.validationSequences();
        std::int64_t nt = 0, nv = 0;
        for (std::int64_t w = 0; w < windows; ++w) {
            auto ids = encodeBytes(text.substr(std::size_t(w * 32), 32));
            auto window = torch::tensor(ids, torch::kLong);
            if (nt < d.trainSize() && torch::equal(train[nt], window))
                ++nt;
            else if (nv < d.validationSize() && torch::equal(validation[nv], window))
                ++nv;
            else
                QFAIL(qPrintable(QString("window %1 is in neither split").arg(w)));
        }
        // Decoding gives back the exact bytes (a window may cut a multibyte character: the
        // bytes stay as they are, and repairing them for display gives valid text).
        QCOMPARE(d.decode(encodeBytes(text.substr(0, 20))), text.substr(0, 20));
        const std::string window = d.decode(toVector(train[1]));
        QCOMPARE(encodeBytes(window), toVector(train[1]));
        QVERIFY(isValidUtf8(sanitizeUtf8(window)));

        // The split is a function of the seed.
        auto again = makeDataset(config);
        QVERIFY(torch::equal(again.value()->validationSequences(), validation));
        config.seed = 99;
        auto other = makeDataset(config);
        QVERIFY(!torch::equal(other.value()->validationSequences().slice(0, 0, 3),
                              validation.slice(0, 0, 3)));
    }

    void splitGuarantees_data()
    {
        QTest::addColumn<int>("bytes");
        QTest::addColumn<double>("fraction");
        QTest::addColumn<int>("train");
        QTest::addColumn<int>("validation");
        QTest::newRow("one window") << 70 << 0.5 << 1 << 0;
        QTest::newRow("two windows, most held out") << 130 << 0.99 << 1 << 1;
        QTest::newRow("two windows, tiny fraction") << 130 << 0.001 << 1 << 1;
        QTest::newRow("no validation") << 650 << 0.0 << 10 << 0;
    }
    void splitGuarantees()
    {
        QFETCH(int, bytes);
        QFETCH(double, fraction);
        QFETCH(int, train);
        QFETCH(int, validation);
        QTemporaryDir dir;
        const std::string path = dir.filePath("c.txt").toStdString();
        writeFile(path, std::string(std::size_t(bytes), 'a'));
        DatasetConfig config;
        config.source = "text";
        config.path = path;
        config.validationFraction = fraction;
        auto made = makeDataset(config);
        QVERIFY2(made.ok(), made.ok() ? "" : made.error().message.c_str());
        QCOMPARE(made.value()->trainSize(), std::int64_t(train));
        QCOMPARE(made.value()->validationSize(), std::int64_t(validation));
        QCOMPARE(made.value()->validationBatchCount(8), std::int64_t(validation > 0 ? 1 : 0));
    }

    void jsonlCorpus()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("docs.jsonl").toStdString();
        writeFile(path, "{\"id\": 1, \"body\": \"first document\"}\n"
                        "\n"
                        "   \n"
                        "{\"body\": \"second: \\u00e9t\\u00e9\", \"x\": [1]}\r\n"
                        "{\"body\": \"third\"}");
        const std::string joined = "first document\n\nsecond: \xC3\xA9t\xC3\xA9\n\nthird";
        DatasetConfig config;
        config.source = "jsonl";
        config.path = path;
        config.textField = "body";
        config.seqLen = 7;
        config.validationFraction = 0.2;
        auto made = makeDataset(config);
        QVERIFY2(made.ok(), made.ok() ? "" : made.error().message.c_str());
        const auto &d = *made.value();
        const std::int64_t windows = std::int64_t(joined.size()) / 8;
        QCOMPARE(d.trainSize() + d.validationSize(), windows);
        QVERIFY(d.trainSize() >= 1 && d.validationSize() >= 1);
        std::string rebuilt;
        std::int64_t nt = 0, nv = 0;
        for (std::int64_t w = 0; w < windows; ++w) {
            const std::string expected = joined.substr(std::size_t(w * 8), 8);
            const std::string fromTrain =
                nt < d.trainSize() ? decodeBytes(toVector(d.trainSequences()[nt])) : std::string();
            if (fromTrain == expected) {
                ++nt;
            } else {
                QVERIFY(nv < d.validationSize());
                QCOMPARE(decodeBytes(toVector(d.validationSequences()[nv++])), expected);
            }
        }
        QVERIFY(d.describe().rfind("jsonl " + path, 0) == 0);
    }

    void topKCacheRoundTrip()
    {
        QTemporaryDir dir;
        TopKCache cache;
        cache.logProbs = torch::randn({5, 4, 3});
        cache.indices = torch::randint(0, 64, {5, 4, 3}, torch::kLong);
        cache.k = 3;
        cache.temperature = 2.5;
        const std::string path = dir.filePath("cache.pt").toStdString();
        auto saved = saveTopKCache(cache, path);
        QVERIFY2(saved.ok(), saved.ok() ? "" : saved.error().message.c_str());
        auto loaded = loadTopKCache(path);
        QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
        QVERIFY(torch::equal(loaded.value().logProbs, cache.logProbs));
        QVERIFY(torch::equal(loaded.value().indices, cache.indices));
        QCOMPARE(loaded.value().k, 3);
        QCOMPARE(loaded.value().temperature, 2.5);

        auto [lp, ix] = gatherTopK(loaded.value(), torch::tensor({3, 0, 3}, torch::kLong));
        QCOMPARE(lp.sizes(), torch::IntArrayRef({3, 4, 3}));
        QVERIFY(torch::equal(lp[0], cache.logProbs[3]));
        QVERIFY(torch::equal(lp[1], cache.logProbs[0]));
        QVERIFY(torch::equal(ix[2], cache.indices[3]));
        QVERIFY_THROWS_EXCEPTION(c10::Error, gatherTopK(cache, torch::tensor({-1}, torch::kLong)));
    }

    void topKCacheErrors()
    {
        QTemporaryDir dir;
        const std::string garbage = dir.filePath("garbage.pt").toStdString();
        writeFile(garbage, "this is not an archive");
        auto bad = loadTopKCache(garbage);
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().message.rfind(garbage + ": not a readable top-k cache", 0) == 0,
                 bad.error().message.c_str());

        const std::string missing = dir.filePath("missing.pt").toStdString();
        auto none = loadTopKCache(missing);
        QVERIFY(!none.ok());
        QCOMPARE(none.error().message, missing + ": top-k cache file not found");

        // A valid archive of something else is refused by name.
        const std::string other = dir.filePath("other.pt").toStdString();
        torch::serialize::OutputArchive archive;
        archive.write("weights", torch::ones({2}));
        archive.save_to(other);
        auto foreign = loadTopKCache(other);
        QVERIFY(!foreign.ok());
        QVERIFY2(foreign.error().message.find("not a top-k cache") != std::string::npos,
                 foreign.error().message.c_str());

        TopKCache inconsistent;
        inconsistent.logProbs = torch::zeros({2, 3, 4});
        inconsistent.indices = torch::zeros({2, 3, 5}, torch::kLong);
        inconsistent.k = 4;
        auto refused = saveTopKCache(inconsistent, dir.filePath("x.pt").toStdString());
        QVERIFY(!refused.ok());
        QVERIFY2(refused.error().message.find("[2,3,4] and [2,3,5]") != std::string::npos,
                 refused.error().message.c_str());

        inconsistent.indices = torch::zeros({2, 3, 4}, torch::kLong);
        auto unwritable =
            saveTopKCache(inconsistent, dir.filePath("no/such/dir/x.pt").toStdString());
        QVERIFY(!unwritable.ok());
        QVERIFY2(unwritable.error().message.find("could not write the top-k cache") !=
                     std::string::npos,
                 unwritable.error().message.c_str());
    }
};

QTEST_GUILESS_MAIN(tst_Data)
#include "tst_data.moc"
