#include "distillery/core/version.h"

class tst_Smoke : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void tensorMath()
    {
        auto a = torch::ones({2, 2});
        QCOMPARE(a.sum().item<float>(), 4.0f);
        QCOMPARE(QString(distillery::core::versionString()), QString("0.1.0"));
    }
};

QTEST_GUILESS_MAIN(tst_Smoke)
#include "tst_smoke.moc"
