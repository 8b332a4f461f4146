// The choice of OpenBLAS kernels: the decision for simulated CPUs (with and without AVX-512,
// with OpenBLAS's detection right or fallen back), and the real restart of distillery-cli on
// this machine, read back through `distillery-cli system`.

#include "distillery/core/blas.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <QtTest>

using namespace distillery::core;

namespace {

CpuFeatures sse42Only()
{
    CpuFeatures f;
    f.sse3 = f.ssse3 = f.sse41 = f.sse42 = true;
    return f;
}
CpuFeatures avx2Cpu()
{
    CpuFeatures f = sse42Only();
    f.avx = f.avx2 = f.fma = true;
    return f;
}
CpuFeatures avx512Cpu(bool bf16)
{
    CpuFeatures f = avx2Cpu();
    f.avx512f = f.avx512cd = f.avx512bw = f.avx512dq = f.avx512vl = true;
    f.avx512bf16 = bf16;
    return f;
}

struct Cli
{
    int code = -1;
    QString out, err;
};

Cli cliSystem(const QMap<QString, QString> &set, const QStringList &unset = {})
{
    QProcess p;
    auto env = QProcessEnvironment::systemEnvironment();
    for (const char *name : {"OPENBLAS_CORETYPE", "DISTILLERY_BLAS_CORETYPE", "DISTILLERY_BLAS_RESTARTED"})
        env.remove(name);
    for (const auto &name : unset)
        env.remove(name);
    for (auto it = set.begin(); it != set.end(); ++it)
        env.insert(it.key(), it.value());
    p.setProcessEnvironment(env);
    p.start(DISTILLERY_CLI, {"system"});
    Cli r;
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

// "BLAS kernels        SkylakeX (set by ...)" -> "SkylakeX", and the part in parentheses.
QPair<QString, QString> kernelsLine(const QString &out)
{
    for (const QString &line : out.split('\n')) {
        if (!line.startsWith("BLAS kernels"))
            continue;
        const QString rest = line.mid(QStringLiteral("BLAS kernels").size()).trimmed();
        const int paren = rest.indexOf('(');
        return {rest.left(paren).trimmed(), rest.mid(paren + 1).chopped(1)};
    }
    return {};
}

} // namespace

class tst_Blas : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void bestCoreFollowsTheFeatures_data()
    {
        QTest::addColumn<int>("level");
        QTest::addColumn<QString>("best");
        QTest::newRow("sse3 only") << 0 << "Prescott";
        QTest::newRow("sse4.2") << 1 << "Nehalem";
        QTest::newRow("avx2+fma") << 2 << "Haswell";
        QTest::newRow("avx-512") << 3 << "SkylakeX";
        QTest::newRow("avx-512 bf16") << 4 << "Cooperlake";
    }
    void bestCoreFollowsTheFeatures()
    {
        QFETCH(int, level);
        QFETCH(QString, best);
        CpuFeatures f;
        f.sse3 = true;
        if (level == 1)
            f = sse42Only();
        if (level == 2)
            f = avx2Cpu();
        if (level >= 3)
            f = avx512Cpu(level == 4);
        QCOMPARE(QString::fromStdString(bestBlasCore(f)), best);
        // AVX-512 without one of its five parts is not enough for the SkylakeX kernels.
        if (level == 3) {
            f.avx512vl = false;
            QCOMPARE(QString::fromStdString(bestBlasCore(f)), QStringLiteral("Haswell"));
        }
    }

    void decisions_data()
    {
        QTest::addColumn<int>("cpu"); // 0 avx2, 1 avx-512, 2 avx-512 + bf16
        QTest::addColumn<QString>("detected");
        QTest::addColumn<QString>("user");
        QTest::addColumn<QString>("mode");
        QTest::addColumn<QString>("chosen");
        QTest::addColumn<bool>("restart");
        QTest::addColumn<QString>("reasonPart");
        // The case this exists for: a new Xeon that OpenBLAS does not know.
        QTest::newRow("xeon fallen back") << 1 << "Prescott" << "" << "" << "SkylakeX" << true
                                          << "OpenBLAS detected Prescott";
        QTest::newRow("bf16 xeon fallen back") << 2 << "Prescott" << "" << "auto" << "Cooperlake"
                                               << true << "supports Cooperlake";
        // The fall-through on a CPU without AVX-512: the best it can run, never more.
        QTest::newRow("avx2 fallen back") << 0 << "Prescott" << "" << "" << "Haswell" << true
                                          << "supports Haswell";
        QTest::newRow("avx2 detected right") << 0 << "Haswell" << "" << "" << "Haswell" << false
                                             << "detected by OpenBLAS";
        QTest::newRow("zen on avx2 kept") << 0 << "Zen" << "" << "" << "Zen" << false
                                          << "detected by OpenBLAS";
        QTest::newRow("detected right") << 2 << "Cooperlake" << "" << "" << "Cooperlake" << false
                                        << "detected by OpenBLAS";
        QTest::newRow("newer than the ladder") << 2 << "SapphireRapids" << "" << "" << "SapphireRapids"
                                               << false << "detected by OpenBLAS";
        QTest::newRow("unknown name kept") << 1 << "Loongson3R4" << "" << "" << "Loongson3R4" << false
                                           << "does not rank";
        // The user's own variable always wins.
        QTest::newRow("user variable") << 1 << "Prescott" << "Prescott" << "" << "Prescott" << false
                                       << "OPENBLAS_CORETYPE=Prescott";
        QTest::newRow("off") << 1 << "Prescott" << "" << "off" << "Prescott" << false
                             << "DISTILLERY_BLAS_CORETYPE=off";
        QTest::newRow("asked for haswell") << 1 << "SkylakeX" << "" << "haswell" << "Haswell" << true
                                           << "DISTILLERY_BLAS_CORETYPE=haswell";
        QTest::newRow("asked for what the cpu lacks") << 0 << "Haswell" << "" << "SkylakeX"
                                                      << "Haswell" << false << "lacks";
        QTest::newRow("asked for nonsense") << 0 << "Haswell" << "" << "Pentium9" << "Haswell"
                                            << false << "not a kernel set";
        QTest::newRow("not openblas") << 1 << "" << "" << "" << "" << false << "not OpenBLAS";
    }
    void decisions()
    {
        QFETCH(int, cpu);
        QFETCH(QString, detected);
        QFETCH(QString, user);
        QFETCH(QString, mode);
        QFETCH(QString, chosen);
        QFETCH(bool, restart);
        QFETCH(QString, reasonPart);
        const CpuFeatures f = cpu == 0 ? avx2Cpu() : avx512Cpu(cpu == 2);
        const BlasDecision d = decideBlasKernels(f, detected.toStdString(), user.toStdString(),
                                                 mode.toStdString());
        QCOMPARE(QString::fromStdString(d.detected), detected);
        QCOMPARE(QString::fromStdString(d.chosen), chosen);
        QCOMPARE(d.restart, restart);
        QVERIFY2(QString::fromStdString(d.reason).contains(reasonPart),
                 qPrintable(QString::fromStdString(d.reason)));
    }

    void ranks()
    {
        QCOMPARE(blasCoreRank("prescott"), 0);
        QVERIFY(blasCoreRank("Haswell") < blasCoreRank("SkylakeX"));
        QVERIFY(blasCoreRank("SkylakeX") < blasCoreRank("COOPERLAKE"));
        QCOMPARE(blasCoreRank("Zen"), blasCoreRank("Haswell"));
        QCOMPARE(blasCoreRank("nonsense"), -1);
    }

    // The program on this machine: whatever it runs on is what the decision says for this CPU.
    void thisMachineRunsTheDecidedKernels()
    {
        const Cli plain = cliSystem({});
        QCOMPARE(plain.code, 0);
        const auto [core, how] = kernelsLine(plain.out);
        if (core.isEmpty() || core == "-")
            QSKIP("the BLAS here is not OpenBLAS");
        // What OpenBLAS detects by itself, seen with the choice switched off.
        const Cli off = cliSystem({{"DISTILLERY_BLAS_CORETYPE", "off"}});
        const auto [detected, offHow] = kernelsLine(off.out);
        QVERIFY2(offHow.contains("DISTILLERY_BLAS_CORETYPE=off"), qPrintable(off.out));
        const BlasDecision d = decideBlasKernels(detectCpuFeatures(), detected.toStdString(), "", "");
        QCOMPARE(core.toLower(), QString::fromStdString(d.chosen).toLower());
        QVERIFY2(how == QString::fromStdString(d.reason), qPrintable(plain.out));
        QVERIFY2(blasCoreRank(core.toStdString()) >= blasCoreRank(bestBlasCore(detectCpuFeatures()))
                     || blasCoreRank(core.toStdString()) < 0,
                 qPrintable(plain.out));
    }

    // The restart itself: asking for a smaller kernel set than the CPU's best makes the program
    // start again on it; the user's OPENBLAS_CORETYPE is left alone.
    void restartRunsTheChosenKernels()
    {
        const Cli plain = cliSystem({});
        if (kernelsLine(plain.out).first.isEmpty() || kernelsLine(plain.out).first == "-")
            QSKIP("the BLAS here is not OpenBLAS");
        if (blasCoreRank(bestBlasCore(detectCpuFeatures())) < blasCoreRank("Nehalem"))
            QSKIP("this CPU has no SSE4.2");
        const Cli asked = cliSystem({{"DISTILLERY_BLAS_CORETYPE", "Nehalem"}});
        QCOMPARE(asked.code, 0);
        QCOMPARE(kernelsLine(asked.out).first, QStringLiteral("Nehalem"));
        QVERIFY2(kernelsLine(asked.out).second.contains("DISTILLERY_BLAS_CORETYPE=Nehalem"),
                 qPrintable(asked.out));

        const Cli user = cliSystem({{"OPENBLAS_CORETYPE", "Prescott"}});
        QCOMPARE(kernelsLine(user.out).first, QStringLiteral("Prescott"));
        QVERIFY2(kernelsLine(user.out).second.contains("OPENBLAS_CORETYPE=Prescott"),
                 qPrintable(user.out));
    }
};

QTEST_GUILESS_MAIN(tst_Blas)
#include "tst_blas.moc"
