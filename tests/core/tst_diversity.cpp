#include "distillery/core/diversity.h"

#include <QtTest>

#include <cmath>
#include <map>
#include <random>
#include <sstream>
#include <string>

using namespace distillery::core;

using Samples = std::vector<TokenSequence>;
using Series = std::vector<double>;
using Steps = std::vector<std::int64_t>;
using Probs = std::vector<std::vector<double>>;
Q_DECLARE_METATYPE(Samples)
Q_DECLARE_METATYPE(Series)
Q_DECLARE_METATYPE(Steps)
Q_DECLARE_METATYPE(Probs)

// Compares doubles with an absolute tolerance and prints both values when they differ.
#define CHECK_NEAR(actual, expected, tol)                                                          \
    do {                                                                                           \
        const double a_ = (actual);                                                                \
        const double e_ = (expected);                                                              \
        QVERIFY2(std::abs(a_ - e_) <= (tol),                                                       \
                 qPrintable(QStringLiteral("%1 = %2, expected %3 (tolerance %4)")                  \
                                .arg(#actual)                                                      \
                                .arg(a_, 0, 'g', 17)                                               \
                                .arg(e_, 0, 'g', 17)                                               \
                                .arg(double(tol))));                                               \
    } while (false)

namespace {

// Words to token ids in order of first appearance, shared across calls so that the same word
// gets the same id in a hypothesis and its references.
class Vocab
{
public:
    TokenSequence encode(const std::string &text)
    {
        TokenSequence ids;
        std::istringstream in(text);
        std::string word;
        while (in >> word) {
            const auto it = m_ids.emplace(word, static_cast<std::int64_t>(m_ids.size())).first;
            ids.push_back(it->second);
        }
        return ids;
    }

private:
    std::map<std::string, std::int64_t> m_ids;
};

Samples uniformSamples(std::int64_t vocab, int count, int length, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::int64_t> token(0, vocab - 1);
    Samples samples(count, TokenSequence(length));
    for (auto &s : samples)
        for (auto &t : s)
            t = token(rng);
    return samples;
}

} // namespace

class TestDiversity : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void distinctN_data();
    void distinctN();
    void bleu4_data();
    void bleu4();
    void bleu4MatchesNltkExamples();
    void selfBleu4_data();
    void selfBleu4();
    void selfBleu4EqualsAverageOfLeaveOneOutBleu();
    void uniqueFraction_data();
    void uniqueFraction();
    void lengthStats();
    void meanTokenEntropy_data();
    void meanTokenEntropy();
    void uniformSamplesDistinct1_data();
    void uniformSamplesDistinct1();
    void oneTokenDistribution();
    void diversityStatsCollectsAll();
    void powerLawFit_data();
    void powerLawFit();
    void powerLawFitEdgeCases();
    void teacherHacking_data();
    void teacherHacking();
    void teacherHackingFits();
    void teacherHackingErrors();
};

void TestDiversity::distinctN_data()
{
    QTest::addColumn<Samples>("samples");
    QTest::addColumn<int>("n");
    QTest::addColumn<double>("expected");

    // {1,2,3,1}, {1,2,4}: unigrams 1 2 3 1 | 1 2 4 → 7, distinct {1,2,3,4}; bigrams 12 23 31 | 12
    // 24 → 5, distinct 4; trigrams 123 231 | 124 → 3, all distinct; one 4-gram (1231).
    const Samples two = {{1, 2, 3, 1}, {1, 2, 4}};
    QTest::newRow("distinct-1") << two << 1 << 4.0 / 7.0;
    QTest::newRow("distinct-2") << two << 2 << 4.0 / 5.0;
    QTest::newRow("distinct-3") << two << 3 << 1.0;
    QTest::newRow("distinct-4, one sample too short") << two << 4 << 1.0;
    QTest::newRow("repeated token, bigrams") << Samples{{1, 1, 1, 1}} << 2 << 1.0 / 3.0;
    // n-grams do not cross samples: {1,2},{1,2} has bigrams 12, 12 only.
    QTest::newRow("no cross-sample n-grams") << Samples{{1, 2}, {1, 2}} << 2 << 0.5;
    QTest::newRow("no samples") << Samples{} << 1 << 0.0;
    QTest::newRow("all shorter than n") << Samples{{1, 2}, {3}} << 3 << 0.0;
    QTest::newRow("empty samples") << Samples{{}, {}} << 1 << 0.0;
    QTest::newRow("n = 0") << two << 0 << 0.0;
}

void TestDiversity::distinctN()
{
    QFETCH(Samples, samples);
    QFETCH(int, n);
    QFETCH(double, expected);
    CHECK_NEAR(distillery::core::distinctN(samples, n), expected, 1e-15);
}

void TestDiversity::bleu4_data()
{
    QTest::addColumn<TokenSequence>("hypothesis");
    QTest::addColumn<Samples>("references");
    QTest::addColumn<double>("expected");

    // p1 = 3/4, p2 = 2/3, p3 = 1/2, p4 = 0 → ε/1 = 0.1 (method 1); equal lengths, BP = 1.
    QTest::newRow("smoothed 4-gram") << TokenSequence{1, 2, 3, 4} << Samples{{1, 2, 3, 5}}
                                     << std::pow(0.75 * (2.0 / 3.0) * 0.5 * 0.1, 0.25);
    // A 3-token hypothesis has no 4-grams: p4 = ε / max(1, 0) = 0.1; BP = exp(1 − 5/3).
    QTest::newRow("short hypothesis") << TokenSequence{1, 2, 3} << Samples{{1, 2, 3, 4, 5}}
                                      << std::exp(1.0 - 5.0 / 3.0) * std::pow(0.1, 0.25);
    // References of length 3 and 5 are equally close to 4: the shorter (3) wins, c > r, BP = 1.
    // Every n-gram of 1 2 3 4 occurs in 1 2 3 4 9, so p1..p4 = 1 (a closest length of 5 would
    // give BP = exp(1 − 5/4) instead).
    QTest::newRow("closest length tie goes to shorter")
        << TokenSequence{1, 2, 3, 4} << Samples{{1, 2, 3}, {1, 2, 3, 4, 9}} << 1.0;
    // Clipping: 7 7 7 7 against 7 7: p1 = 2/4, p2 = 1/3, p3 = ε/2, p4 = ε/1; c = 4 > r = 2.
    QTest::newRow("clipped counts") << TokenSequence{7, 7, 7, 7} << Samples{{7, 7}}
                                    << std::pow(0.5 * (1.0 / 3.0) * 0.05 * 0.1, 0.25);
    // Multi-reference clipping takes the max count over references, not the sum.
    QTest::newRow("max over references, not sum")
        << TokenSequence{7, 7} << Samples{{7, 8}, {8, 7}}
        << std::pow(0.5 * 0.1 * 0.1 * 0.1, 0.25); // p1 = 1/2, p2 = p3 = p4 = ε/1, BP = 1
    QTest::newRow("no unigram match") << TokenSequence{1, 2, 3, 4} << Samples{{5, 6, 7, 8}} << 0.0;
    QTest::newRow("empty hypothesis") << TokenSequence{} << Samples{{1, 2}} << 0.0;
    QTest::newRow("no references") << TokenSequence{1, 2} << Samples{} << 0.0;
    QTest::newRow("identical") << TokenSequence{4, 5, 6, 7, 8} << Samples{{4, 5, 6, 7, 8}} << 1.0;
}

void TestDiversity::bleu4()
{
    QFETCH(TokenSequence, hypothesis);
    QFETCH(Samples, references);
    QFETCH(double, expected);
    CHECK_NEAR(distillery::core::bleu4(hypothesis, references), expected, 1e-14);
}

// The examples in NLTK's bleu_score.py docstrings: sentence_bleu([r1, r2, r3], h1) = 0.5045
// (no zero counts, so method 1 changes nothing) and the SmoothingFunction example
// sentence_bleu([r1], h1, method1) = 0.4118. For h2 the docstrings give the modified precisions
// p1 = 8/14 (0.5714) and p2 = 1/13 (0.07692); it has no trigram or 4-gram match (p3 = ε/12,
// p4 = ε/11), and the closest reference length to 14 is 16.
void TestDiversity::bleu4MatchesNltkExamples()
{
    Vocab v;
    const auto h1 = v.encode("It is a guide to action which ensures that the military always "
                             "obeys the commands of the party");
    const auto h2 = v.encode("It is to insure the troops forever hearing the activity guidebook "
                             "that party direct");
    const auto r1 = v.encode("It is a guide to action that ensures that the military will "
                             "forever heed Party commands");
    const auto r2 = v.encode("It is the guiding principle which guarantees the military forces "
                             "always being under the command of the Party");
    const auto r3 = v.encode("It is the practical guide for the army always to heed the "
                             "directions of the party");
    CHECK_NEAR(distillery::core::bleu4(h1, {r1, r2, r3}), 0.5045, 1e-4);
    CHECK_NEAR(distillery::core::bleu4(h2, {r1, r2, r3}),
               std::exp(1.0 - 16.0 / 14.0) *
                   std::pow((8.0 / 14.0) * (1.0 / 13.0) * (0.1 / 12.0) * (0.1 / 11.0), 0.25),
               1e-15);
    CHECK_NEAR(distillery::core::bleu4(h1, {r1}), 0.4118, 1e-4);
}

void TestDiversity::selfBleu4_data()
{
    QTest::addColumn<Samples>("samples");
    QTest::addColumn<double>("expected");

    QTest::newRow("identical samples")
        << Samples{{1, 2, 3, 4, 5}, {1, 2, 3, 4, 5}, {1, 2, 3, 4, 5}} << 1.0;
    // No unigram in common: every BLEU is exactly 0, the smoothing never applies.
    QTest::newRow("disjoint vocabularies") << Samples{{1, 2, 3, 4}, {5, 6, 7, 8}} << 0.0;
    // A vs {B, C}: p = 3/4, 2/3, 1/2, ε; closest reference length 4, BP = 1. B likewise.
    // C = {9, 9} matches nothing: 0. Mean = 2·0.025^¼ / 3.
    QTest::newRow("hand-computed, three samples")
        << Samples{{1, 2, 3, 4}, {1, 2, 3, 5}, {9, 9}} << 2.0 * std::pow(0.025, 0.25) / 3.0;
    // A = 7777 vs B = 77: p = 2/4, 1/3, ε/2, ε/1, BP = 1 → (1/1200)^¼.
    // B vs A: p = 1, 1, ε/1, ε/1, BP = exp(1 − 4/2) → e⁻¹·√0.1.
    QTest::newRow("hand-computed, clipping and brevity")
        << Samples{{7, 7, 7, 7}, {7, 7}}
        << (std::pow(1.0 / 1200.0, 0.25) + std::exp(-1.0) * std::sqrt(0.1)) / 2.0;
    QTest::newRow("one sample") << Samples{{1, 2, 3}} << 0.0;
    QTest::newRow("no samples") << Samples{} << 0.0;
}

void TestDiversity::selfBleu4()
{
    QFETCH(Samples, samples);
    QFETCH(double, expected);
    CHECK_NEAR(distillery::core::selfBleu4(samples), expected, 1e-14);
}

// selfBleu4 uses a per-n-gram best/second-best table; check it against the direct definition.
void TestDiversity::selfBleu4EqualsAverageOfLeaveOneOutBleu()
{
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<std::int64_t> token(0, 5);
    std::uniform_int_distribution<int> length(0, 12);
    Samples samples(30);
    for (auto &s : samples) {
        s.resize(length(rng));
        for (auto &t : s)
            t = token(rng);
    }
    double sum = 0;
    for (std::size_t i = 0; i < samples.size(); ++i) {
        Samples others = samples;
        others.erase(others.begin() + static_cast<std::ptrdiff_t>(i));
        sum += distillery::core::bleu4(samples[i], others);
    }
    const double expected = sum / static_cast<double>(samples.size());
    QVERIFY(expected > 0.05 && expected < 0.999); // a non-trivial case
    CHECK_NEAR(distillery::core::selfBleu4(samples), expected, 1e-12);
}

void TestDiversity::uniqueFraction_data()
{
    QTest::addColumn<Samples>("samples");
    QTest::addColumn<double>("expected");
    QTest::newRow("one duplicate") << Samples{{1, 2}, {1, 2}, {3}} << 2.0 / 3.0;
    QTest::newRow("all distinct") << Samples{{1, 2}, {2, 1}, {1}, {}} << 1.0;
    QTest::newRow("prefix is a different sample") << Samples{{1, 2}, {1, 2, 3}} << 1.0;
    QTest::newRow("two empty samples") << Samples{{}, {}} << 0.5;
    QTest::newRow("all the same") << Samples{{5}, {5}, {5}, {5}} << 0.25;
    QTest::newRow("no samples") << Samples{} << 0.0;
}

void TestDiversity::uniqueFraction()
{
    QFETCH(Samples, samples);
    QFETCH(double, expected);
    CHECK_NEAR(distillery::core::uniqueFraction(samples), expected, 1e-15);
}

void TestDiversity::lengthStats()
{
    // Lengths 4, 3, 0, 1: mean 2, population variance (4 + 1 + 4 + 1) / 4 = 2.5.
    const LengthStats s = distillery::core::lengthStats({{1, 2, 3, 1}, {1, 2, 4}, {}, {5}});
    CHECK_NEAR(s.mean, 2.0, 1e-15);
    CHECK_NEAR(s.min, 0.0, 0.0);
    CHECK_NEAR(s.max, 4.0, 0.0);
    CHECK_NEAR(s.std, std::sqrt(2.5), 1e-15);

    const LengthStats one = distillery::core::lengthStats({{1, 2, 3}});
    CHECK_NEAR(one.mean, 3.0, 0.0);
    CHECK_NEAR(one.std, 0.0, 0.0);

    const LengthStats none = distillery::core::lengthStats({});
    QCOMPARE(none.mean, 0.0);
    QCOMPARE(none.min, 0.0);
    QCOMPARE(none.max, 0.0);
    QCOMPARE(none.std, 0.0);
}

void TestDiversity::meanTokenEntropy_data()
{
    QTest::addColumn<Probs>("probs");
    QTest::addColumn<double>("expected");
    for (const int vocab : {1, 2, 10, 50257}) {
        QTest::addRow("uniform over %d", vocab)
            << Probs{std::vector<double>(vocab, 1.0 / vocab)} << std::log(double(vocab));
    }
    QTest::newRow("one-hot") << Probs{{0.0, 1.0, 0.0, 0.0}} << 0.0;
    QTest::newRow("zero entries contribute nothing") << Probs{{0.5, 0.0, 0.5}} << std::log(2.0);
    // Mean over positions: (ln 4 + 0) / 2.
    QTest::newRow("mean over positions")
        << Probs{{0.25, 0.25, 0.25, 0.25}, {1.0, 0.0}} << std::log(4.0) / 2.0;
    // −(0.5 ln 0.5 + 0.25 ln 0.25 · 2) = 1.5 ln 2.
    QTest::newRow("skewed") << Probs{{0.5, 0.25, 0.25}} << 1.5 * std::log(2.0);
    QTest::newRow("no positions") << Probs{} << 0.0;
}

void TestDiversity::meanTokenEntropy()
{
    QFETCH(Probs, probs);
    QFETCH(double, expected);
    // Summing 50257 terms loses a few digits.
    CHECK_NEAR(distillery::core::meanTokenEntropy(probs), expected, 1e-10);
}

void TestDiversity::uniformSamplesDistinct1_data()
{
    QTest::addColumn<qint64>("vocab");
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("length");
    QTest::addColumn<double>("tolerance");

    // T = count·length tokens i.i.d. uniform over V: E[distinct-1] = V(1 − (1 − 1/V)^T) / T,
    // which tends to min(1, V/T) when V ≪ T or V ≫ T.
    QTest::newRow("V << T") << qint64(10) << 50 << 40 << 1e-12; // every token seen: exactly 10/T
    QTest::newRow("V >> T") << qint64(10000000) << 20 << 10 << 0.01;
    QTest::newRow("V = T") << qint64(2000) << 40 << 50 << 0.03;
}

void TestDiversity::uniformSamplesDistinct1()
{
    QFETCH(qint64, vocab);
    QFETCH(int, count);
    QFETCH(int, length);
    QFETCH(double, tolerance);

    const double total = double(count) * length;
    const double expectation =
        double(vocab) * (1.0 - std::pow(1.0 - 1.0 / double(vocab), total)) / total;
    for (const std::uint64_t seed : {1ull, 2ull, 3ull}) {
        const Samples samples = uniformSamples(vocab, count, length, seed);
        const double d1 = distillery::core::distinctN(samples, 1);
        CHECK_NEAR(d1, expectation, tolerance);
        if (double(vocab) <= total / 100.0 || double(vocab) >= total * 100.0)
            CHECK_NEAR(d1, std::min(1.0, double(vocab) / total), tolerance);
    }
}

void TestDiversity::oneTokenDistribution()
{
    const int count = 16, length = 9;
    const Samples samples(count, TokenSequence(length, 42));
    const double total = double(count) * length;
    CHECK_NEAR(distillery::core::distinctN(samples, 1), 1.0 / total, 1e-15);
    CHECK_NEAR(distillery::core::distinctN(samples, 2), 1.0 / (count * (length - 1)), 1e-15);
    CHECK_NEAR(distillery::core::uniqueFraction(samples), 1.0 / count, 1e-15);
    CHECK_NEAR(distillery::core::selfBleu4(samples), 1.0, 1e-14);
}

void TestDiversity::diversityStatsCollectsAll()
{
    const Samples samples = {{1, 2, 3, 1}, {1, 2, 4}, {1, 2, 4}};
    const DiversityStats s = diversityStats(samples, {{0.5, 0.5}, {1.0}});
    CHECK_NEAR(s.distinct1, distillery::core::distinctN(samples, 1), 0.0);
    CHECK_NEAR(s.distinct1, 4.0 / 10.0, 1e-15);
    CHECK_NEAR(s.distinct2, 4.0 / 7.0, 1e-15);
    CHECK_NEAR(s.distinct3, 3.0 / 4.0, 1e-15);
    CHECK_NEAR(s.selfBleu4, distillery::core::selfBleu4(samples), 0.0);
    CHECK_NEAR(s.uniqueFraction, 2.0 / 3.0, 1e-15);
    CHECK_NEAR(s.meanLength, 10.0 / 3.0, 1e-15);
    CHECK_NEAR(s.minLength, 3.0, 0.0);
    CHECK_NEAR(s.maxLength, 4.0, 0.0);
    CHECK_NEAR(s.stdLength, std::sqrt(2.0) / 3.0, 1e-15);
    CHECK_NEAR(s.meanTokenEntropy, std::log(2.0) / 2.0, 1e-15);
    QCOMPARE(diversityStats(samples).meanTokenEntropy, 0.0);
}

void TestDiversity::powerLawFit_data()
{
    QTest::addColumn<double>("a");
    QTest::addColumn<double>("b");
    QTest::addRow("2 x^-0.5") << 2.0 << -0.5;
    QTest::addRow("0.3 x^1.7") << 0.3 << 1.7;
    QTest::addRow("5 x^0") << 5.0 << 0.0;
}

void TestDiversity::powerLawFit()
{
    QFETCH(double, a);
    QFETCH(double, b);
    std::vector<double> x, y;
    for (int i = 1; i <= 100; ++i) {
        x.push_back(10.0 * i);
        y.push_back(a * std::pow(10.0 * i, b));
    }
    // Points that a log–log fit cannot use are skipped.
    x.insert(x.end(), {0.0, -1.0, 5.0, 7.0});
    y.insert(y.end(), {1.0, 1.0, 0.0, -2.0});

    const auto fit = fitPowerLaw(x, y);
    QVERIFY(fit.ok());
    QVERIFY(fit->valid);
    QCOMPARE(fit->points, 100);
    CHECK_NEAR(fit->a, a, 1e-12 * a);
    CHECK_NEAR(fit->b, b, 1e-12);
    CHECK_NEAR(fit->r2, 1.0, 1e-12);
}

void TestDiversity::powerLawFitEdgeCases()
{
    // Noisy points: r² = 1 − SS_res/SS_tot on the logs. ln y = 0, 1, 0 at ln x = 0, 1, 2 (y = 1,
    // e, 1): slope 0, intercept 1/3, SS_res = 1/9 + 4/9 + 1/9 = 2/3 = SS_tot → r² = 0.
    const double e = std::exp(1.0);
    const auto flat = fitPowerLaw({1.0, e, e * e}, {1.0, e, 1.0});
    QVERIFY(flat.ok() && flat->valid);
    CHECK_NEAR(flat->b, 0.0, 1e-14);
    CHECK_NEAR(flat->a, std::exp(1.0 / 3.0), 1e-14);
    CHECK_NEAR(flat->r2, 0.0, 1e-14);

    const auto one = fitPowerLaw({10.0}, {1.0});
    QVERIFY(one.ok());
    QVERIFY(!one->valid);
    QCOMPARE(one->points, 1);

    const auto sameX = fitPowerLaw({3.0, 3.0, 3.0}, {1.0, 2.0, 3.0});
    QVERIFY(sameX.ok());
    QVERIFY(!sameX->valid);

    const auto mismatch = fitPowerLaw({1.0, 2.0}, {1.0});
    QVERIFY(!mismatch.ok());
    QCOMPARE(QString::fromStdString(mismatch.error().code), QStringLiteral("input.invalid"));
}

void TestDiversity::teacherHacking_data()
{
    QTest::addColumn<Series>("oracle");
    QTest::addColumn<Series>("teacher");
    QTest::addColumn<int>("window");
    QTest::addColumn<bool>("flagged");
    QTest::addColumn<qint64>("flaggedStep");
    QTest::addColumn<qint64>("detectedStep");

    // Steps are 100, 200, ... (index i → step 100·(i+1)).
    const Series falling = {1.0, 0.8, 0.65, 0.55, 0.48, 0.42, 0.37, 0.33, 0.3, 0.28, 0.26, 0.25};
    // Oracle minimum at index 4 (step 500), above it from index 5 on.
    const Series uTurn = {1.0, 0.8, 0.6, 0.5, 0.45, 0.47, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75};

    QTest::newRow("down then up, K = 3")
        << uTurn << falling << 3 << true << qint64(500) << qint64(800);
    QTest::newRow("down then up, K = 5")
        << uTurn << falling << 5 << true << qint64(500) << qint64(1000);
    QTest::newRow("down then up, K = 1")
        << uTurn << falling << 1 << true << qint64(500) << qint64(600);
    QTest::newRow("both fall") << falling << falling << 3 << false << qint64(-1) << qint64(-1);
    QTest::newRow("both turn up") << uTurn << uTurn << 3 << false << qint64(-1) << qint64(-1);
    // The teacher stalls at index 6 (step 700): runs restart, the rule holds at index 9.
    Series stall = falling;
    stall[6] = stall[5];
    QTest::newRow("teacher stalls inside the window")
        << uTurn << stall << 3 << true << qint64(500) << qint64(1000);
    // A plateau at the minimum is not a turn upward.
    const Series plateau = {1.0, 0.8, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    QTest::newRow("oracle plateau") << plateau << falling << 3 << false << qint64(-1) << qint64(-1);
    // Two evaluations up, then a new minimum, then up for good: flagged from the second turn.
    const Series bump = {1.0, 0.8, 0.85, 0.9, 0.6, 0.5, 0.55, 0.6, 0.7, 0.75, 0.8, 0.85};
    QTest::newRow("bump shorter than K")
        << bump << falling << 3 << true << qint64(600) << qint64(900);
    // Up twice, then back to the minimum exactly: a tie is not above the minimum, so it restarts
    // the count and becomes the latest minimum (step 500).
    const Series tie = {1.0, 0.5, 0.6, 0.7, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2};
    QTest::newRow("return to the minimum")
        << tie << falling << 3 << true << qint64(500) << qint64(800);
    QTest::newRow("too short for K")
        << Series{1.0, 0.5, 0.6} << Series{1.0, 0.9, 0.8} << 3 << false << qint64(-1) << qint64(-1);
}

void TestDiversity::teacherHacking()
{
    QFETCH(Series, oracle);
    QFETCH(Series, teacher);
    QFETCH(int, window);
    QFETCH(bool, flagged);
    QFETCH(qint64, flaggedStep);
    QFETCH(qint64, detectedStep);

    Steps steps;
    for (std::size_t i = 0; i < oracle.size(); ++i)
        steps.push_back(100 * std::int64_t(i + 1));
    const auto report = detectTeacherHacking(steps, oracle, teacher, window);
    QVERIFY2(report.ok(), report.ok() ? "" : report.error().message.c_str());
    QCOMPARE(report->flagged, flagged);
    QCOMPARE(qint64(report->flaggedStep), flaggedStep);
    QCOMPARE(qint64(report->detectedStep), detectedStep);
}

void TestDiversity::teacherHackingFits()
{
    // KL(teacher‖student) = 3·step^-0.4 and KL(oracle‖student) = 8·step^-0.25 fall as power laws.
    Steps steps;
    Series oracle, teacher;
    for (int i = 1; i <= 20; ++i) {
        steps.push_back(50 * i);
        oracle.push_back(8.0 * std::pow(50.0 * i, -0.25));
        teacher.push_back(3.0 * std::pow(50.0 * i, -0.4));
    }
    const auto report = detectTeacherHacking(steps, oracle, teacher);
    QVERIFY(report.ok());
    QVERIFY(!report->flagged);
    CHECK_NEAR(report->oracleFit.a, 8.0, 1e-10);
    CHECK_NEAR(report->oracleFit.b, -0.25, 1e-12);
    CHECK_NEAR(report->oracleFit.r2, 1.0, 1e-12);
    CHECK_NEAR(report->teacherFit.a, 3.0, 1e-10);
    CHECK_NEAR(report->teacherFit.b, -0.4, 1e-12);
    QCOMPARE(report->teacherFit.points, 20);
}

void TestDiversity::teacherHackingErrors()
{
    const Steps steps = {100, 200, 300};
    const Series ok = {1.0, 0.9, 0.8};
    QVERIFY(detectTeacherHacking(steps, ok, ok).ok());
    QVERIFY(detectTeacherHacking({}, {}, {}).ok());
    QVERIFY(!detectTeacherHacking(steps, {1.0, 0.9}, ok).ok());
    QVERIFY(!detectTeacherHacking(steps, ok, {1.0}).ok());
    QVERIFY(!detectTeacherHacking({100, 100, 300}, ok, ok).ok());
    QVERIFY(!detectTeacherHacking({300, 200, 100}, ok, ok).ok());
    QVERIFY(!detectTeacherHacking(steps, {1.0, std::nan(""), 0.8}, ok).ok());
    QVERIFY(!detectTeacherHacking(steps, ok, {1.0, HUGE_VAL, 0.8}).ok());
    QVERIFY(!detectTeacherHacking(steps, ok, ok, 0).ok());
    const auto error = detectTeacherHacking(steps, {1.0, std::nan(""), 0.8}, ok);
    QVERIFY2(error.error().message.find("step 200") != std::string::npos,
             error.error().message.c_str());
}

QTEST_GUILESS_MAIN(TestDiversity)
#include "tst_diversity.moc"
