// The distillation losses: values and gradients against an independent PyTorch computation
// (losses_reference.py), gradients against central finite differences, closed forms and bounds,
// masking, the loss inspector and its errors, and TAID's schedule for t.

#include "distillery/core/graph.h"
#include "distillery/core/losses.h"
#include "losses/losses.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <cmath>
#include <limits>
#include <set>

using namespace distillery::core;
using namespace distillery::core::losses;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// One evaluation of one loss: its kind, configuration and float64 inputs. `student` and
// `teacher` are logits [N,V], or hidden states [N,D] for the hidden losses.
struct Case
{
    QString name;
    std::string kind;
    LossConfig cfg;
    torch::Tensor student, teacher, labels, mask;
};

bool isHidden(const std::string &kind)
{
    return find(kind)->kind->needsHidden;
}

Case makeCase(const std::string &kind, const LossConfig &cfg, std::uint64_t seed,
              const std::vector<float> &mask, std::int64_t width = 7, double scale = 2.0)
{
    torch::manual_seed(seed);
    const auto n = static_cast<std::int64_t>(mask.size());
    Case c;
    c.kind = kind;
    c.cfg = cfg;
    c.name = QString::fromStdString(kind);
    c.student = scale * torch::randn({n, width}, torch::kFloat64);
    c.teacher = scale * torch::randn({n, width}, torch::kFloat64);
    c.mask = torch::tensor(mask, torch::kFloat32);
    c.labels = torch::randint(0, width, {n}, torch::kLong);
    // Padding positions carry the usual "ignore" label, which must not matter.
    c.labels = torch::where(c.mask > 0, c.labels, torch::full_like(c.labels, -100));
    return c;
}

LossInputs inputsFor(const Case &c, const torch::Tensor &student)
{
    LossInputs in;
    in.mask = c.mask;
    in.labels = c.labels;
    const auto *e = find(c.kind);
    if (e->kind->needsHidden) {
        in.studentHidden = student;
        in.teacherHidden = c.teacher;
    } else {
        in.studentLogits = student;
        in.teacherLogits = c.teacher;
    }
    if (e->kind->needsTopk) {
        auto [lp, ix] = topkFromLogits(c.teacher, c.cfg.topK, c.cfg.temperature);
        in.topkLogProbs = lp;
        in.topkIndices = ix;
    }
    return in;
}

double valueOf(const Case &c, const torch::Tensor &student)
{
    torch::NoGradGuard noGrad;
    return find(c.kind)->fn(inputsFor(c, student), c.cfg).item<double>();
}

double valueOf(const Case &c)
{
    return valueOf(c, c.student);
}

std::pair<double, torch::Tensor> valueAndGradient(const Case &c)
{
    auto s = c.student.detach().clone().requires_grad_(true);
    auto loss = find(c.kind)->fn(inputsFor(c, s), c.cfg);
    loss.backward();
    return {loss.item<double>(), s.grad().defined() ? s.grad() : torch::zeros_like(s)};
}

std::vector<std::string> allKinds()
{
    std::vector<std::string> names;
    for (const auto &e : registry())
        names.push_back(e.name);
    return names;
}

// The divergences between teacher and student distributions (zero when they are equal).
std::vector<std::string> divergences()
{
    return {"forward-kl", "reverse-kl", "gjsd",    "skew-kl",    "skew-reverse-kl", "tvd",
            "logit-mse",  "taid",       "topk-kl", "hidden-mse", "hidden-cosine"};
}

LossConfig config(double tau = 1, double beta = 0.5, double alpha = 0.1, double eps = 0,
                  double taidT = 0.5, int topK = 3)
{
    LossConfig c;
    c.temperature = tau;
    c.beta = beta;
    c.alpha = alpha;
    c.labelSmoothing = eps;
    c.taidT = taidT;
    c.topK = topK;
    return c;
}

// The cases checked against the Python reference (and by finite differences): every loss,
// several temperatures, beta in {0, .1, .5, .9, 1}, alpha, k in {1, 3, V}, a mask with zeros.
std::vector<Case> referenceCases()
{
    const std::vector<float> mask = {1, 0, 1, 1, 0, 1};
    const int v = 7;
    std::vector<Case> cases;
    std::uint64_t seed = 100;
    auto add = [&](const std::string &kind, const LossConfig &cfg, const QString &detail) {
        Case c = makeCase(kind, cfg, ++seed, mask, isHidden(kind) ? 5 : v);
        c.name = QString::fromStdString(kind) + " " + detail;
        cases.push_back(c);
    };
    for (double eps : {0.0, 0.1, 0.3})
        add("cross-entropy", config(1, 0.5, 0.1, eps), QString("eps=%1").arg(eps));
    for (double tau : {1.0, 2.0, 0.5}) {
        const QString t = QString("tau=%1").arg(tau);
        add("forward-kl", config(tau), t);
        add("reverse-kl", config(tau), t);
        add("tvd", config(tau), t);
        add("logit-mse", config(tau), t);
        add("hidden-mse", config(tau), t);
        add("hidden-cosine", config(tau), t);
    }
    for (double tau : {1.0, 2.0}) {
        for (double beta : {0.0, 0.1, 0.5, 0.9, 1.0})
            add("gjsd", config(tau, beta), QString("tau=%1 beta=%2").arg(tau).arg(beta));
        for (double alpha : {0.0, 0.1, 0.5, 1.0}) {
            const QString d = QString("tau=%1 alpha=%2").arg(tau).arg(alpha);
            add("skew-kl", config(tau, 0.5, alpha), d);
            add("skew-reverse-kl", config(tau, 0.5, alpha), d);
        }
        for (double t : {0.0, 0.3, 1.0})
            add("taid", config(tau, 0.5, 0.1, 0, t), QString("tau=%1 t=%2").arg(tau).arg(t));
        for (int k : {1, 3, v})
            add("topk-kl", config(tau, 0.5, 0.1, 0, 0.5, k),
                QString("tau=%1 k=%2").arg(tau).arg(k));
    }
    return cases;
}

QJsonArray toJson(const torch::Tensor &t)
{
    QJsonArray a;
    if (!t.defined())
        return a;
    auto c = t.detach().to(torch::kFloat64).contiguous().reshape({-1});
    for (std::int64_t i = 0; i < c.numel(); ++i)
        a.append(c.data_ptr<double>()[i]);
    return a;
}

QJsonObject toJson(const Case &c)
{
    QJsonObject o;
    o["name"] = c.name;
    o["kind"] = QString::fromStdString(c.kind);
    o["config"] = QJsonObject{
        {"temperature", c.cfg.temperature},        {"beta", c.cfg.beta},    {"alpha", c.cfg.alpha},
        {"label_smoothing", c.cfg.labelSmoothing}, {"taid_t", c.cfg.taidT}, {"top_k", c.cfg.topK}};
    o["N"] = double(c.student.size(0));
    if (isHidden(c.kind)) {
        o["D"] = double(c.student.size(1));
        o["student_hidden"] = toJson(c.student);
        o["teacher_hidden"] = toJson(c.teacher);
    } else {
        o["V"] = double(c.student.size(1));
        o["student"] = toJson(c.student);
        o["teacher"] = toJson(c.teacher);
    }
    QJsonArray labels;
    for (std::int64_t i = 0; i < c.labels.numel(); ++i)
        labels.append(double(c.labels[i].item<std::int64_t>()));
    o["labels"] = labels;
    o["mask"] = toJson(c.mask);
    return o;
}

bool pythonHasTorch(QString *why)
{
    QProcess p;
    p.start(DISTILLERY_PYTHON, {"-c", "import torch"});
    if (!p.waitForFinished(60000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        *why = QString("%1 cannot import torch: %2")
                   .arg(DISTILLERY_PYTHON, QString::fromUtf8(p.readAllStandardError()).trimmed());
        return false;
    }
    return true;
}

bool close(double a, double b, double rtol, double atol)
{
    return std::abs(a - b) <= atol + rtol * std::abs(b);
}

// Explicit KL(P || Q) of one row of logits at temperature tau, in plain doubles.
double rowKl(const std::vector<double> &zp, const std::vector<double> &zq, double tau)
{
    auto logSoftmax = [tau](const std::vector<double> &z) {
        double m = -INFINITY;
        for (double x : z)
            m = std::max(m, x / tau);
        double s = 0;
        for (double x : z)
            s += std::exp(x / tau - m);
        std::vector<double> out;
        for (double x : z)
            out.push_back(x / tau - m - std::log(s));
        return out;
    };
    const auto lp = logSoftmax(zp), lq = logSoftmax(zq);
    double kl = 0;
    for (std::size_t i = 0; i < lp.size(); ++i)
        kl += std::exp(lp[i]) * (lp[i] - lq[i]);
    return kl;
}

std::vector<double> rowOf(const torch::Tensor &t, std::int64_t i)
{
    auto r = t[i].contiguous();
    return std::vector<double>(r.data_ptr<double>(), r.data_ptr<double>() + r.numel());
}

std::vector<double> softmax(const std::vector<double> &z, double tau)
{
    auto t = torch::softmax(torch::tensor(z, torch::kFloat64) / tau, 0);
    return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

} // namespace

class tst_Losses : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void registryHasEveryLoss()
    {
        const std::vector<std::string> expected = {
            "cross-entropy", "forward-kl",      "reverse-kl",    "gjsd",
            "skew-kl",       "skew-reverse-kl", "tvd",           "logit-mse",
            "taid",          "hidden-mse",      "hidden-cosine", "topk-kl"};
        QCOMPARE(allKinds(), expected);
        QVERIFY(find("nope") == nullptr);
        // The registry and the loss-kind table hold the same kinds in the same order.
        QCOMPARE(registry().size(), lossKinds().size());
        for (std::size_t i = 0; i < registry().size(); ++i) {
            const auto &e = registry()[i];
            QCOMPARE(e.name, lossKinds()[i].name);
            QCOMPARE(e.kind, &lossKinds()[i]);
            QVERIFY2(e.fn && !e.kind->formula.empty() && !e.kind->reference.empty()
                         && !e.kind->cardFormula.empty(),
                     e.name.c_str());
            QCOMPARE(find(e.name), &e);
        }
        QVERIFY(findLossKind("nope") == nullptr);
        QVERIFY(find("cross-entropy")->kind->needsLabels);
        QVERIFY(find("forward-kl")->kind->needsTeacherLogits);
        QVERIFY(find("hidden-cosine")->kind->needsHidden);
        QVERIFY(find("topk-kl")->kind->needsTopk && !find("topk-kl")->kind->needsTeacherLogits);
    }

    // The table tells the truth about every kind: the function runs on exactly the inputs the
    // table says it needs, fails without any one of them, and depends on the temperature only
    // when the table says it uses one.
    void tableMatchesWhatEachLossReads_data()
    {
        QTest::addColumn<QString>("kind");
        for (const auto &k : lossKinds())
            QTest::newRow(k.name.c_str()) << QString::fromStdString(k.name);
    }
    void tableMatchesWhatEachLossReads()
    {
        QFETCH(QString, kind);
        const LossEntry *e = find(kind.toStdString());
        QVERIFY(e);
        const LossKind &k = *e->kind;
        Case c = makeCase(kind.toStdString(), config(2.0), 5, {1, 1, 1, 0});
        // Only what the table names.
        LossInputs needed;
        needed.mask = c.mask;
        if (k.needsLabels)
            needed.labels = c.labels;
        if (k.needsHidden) {
            needed.studentHidden = c.student;
            needed.teacherHidden = c.teacher;
        } else {
            needed.studentLogits = c.student;
        }
        if (k.needsTeacherLogits)
            needed.teacherLogits = c.teacher;
        if (k.needsTopk) {
            auto [lp, ix] = topkFromLogits(c.teacher, c.cfg.topK, c.cfg.temperature);
            needed.topkLogProbs = lp;
            needed.topkIndices = ix;
        }
        double value = kNaN;
        try {
            value = e->fn(needed, c.cfg).item<double>();
        } catch (const std::exception &ex) {
            QFAIL(qPrintable(kind + ": fails on the inputs the table names: " + ex.what()));
        }
        QVERIFY(std::isfinite(value));
        // Without any one of them it cannot run.
        struct Drop
        {
            bool applies;
            torch::Tensor LossInputs::*field;
            const char *what;
        };
        for (const Drop &d : {Drop{k.needsLabels, &LossInputs::labels, "labels"},
                              Drop{k.needsTeacherLogits, &LossInputs::teacherLogits, "teacher logits"},
                              Drop{k.needsTopk, &LossInputs::topkLogProbs, "top-k"},
                              Drop{k.needsHidden, &LossInputs::teacherHidden, "hidden states"}}) {
            if (!d.applies)
                continue;
            LossInputs missing = needed;
            missing.*d.field = torch::Tensor();
            bool threw = false;
            try {
                (void)e->fn(missing, c.cfg);
            } catch (const std::exception &) {
                threw = true;
            }
            QVERIFY2(threw, qPrintable(kind + " runs without " + d.what + ", which the table says it needs"));
        }
        // The temperature matters exactly when the table says so.
        LossConfig other = c.cfg;
        other.temperature = 3.5;
        const double hotter = e->fn(needed, other).item<double>();
        if (k.usesTemperature)
            QVERIFY2(std::abs(hotter - value) > 1e-9, qPrintable(kind));
        else
            QCOMPARE(hotter, value);
        // Parameters the table lists exist on the Loss node.
        for (const auto &param : k.params)
            QVERIFY2(findNodeKind("Loss")->param(param), param.c_str());
    }

    // (a) value and gradient against losses_reference.py (plain PyTorch), float64.
    void matchesPythonReference()
    {
        QString why;
        if (!pythonHasTorch(&why)) {
            qWarning("%s", qPrintable(why));
            QSKIP("the Python used for reference values has no PyTorch");
        }
        const auto cases = referenceCases();
        std::set<std::string> covered;
        QJsonArray array;
        for (const auto &c : cases) {
            array.append(toJson(c));
            covered.insert(c.kind);
        }
        QCOMPARE(covered.size(), registry().size());

        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString in = dir.filePath("in.json"), out = dir.filePath("out.json");
        QFile f(in);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QJsonDocument(QJsonObject{{"cases", array}}).toJson(QJsonDocument::Compact));
        f.close();

        QProcess p;
        p.start(DISTILLERY_PYTHON,
                {QString(DISTILLERY_SOURCE_DIR) + "/tests/core/losses_reference.py", in, out});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        QFile g(out);
        QVERIFY(g.open(QIODevice::ReadOnly));
        const auto results = QJsonDocument::fromJson(g.readAll()).object()["results"].toArray();
        QCOMPARE(results.size(), qsizetype(cases.size()));

        QStringList failures;
        for (std::size_t i = 0; i < cases.size(); ++i) {
            const auto r = results[int(i)].toObject();
            QCOMPARE(r["name"].toString(), cases[i].name);
            const auto [value, grad] = valueAndGradient(cases[i]);
            const double ref = r["value"].toDouble();
            if (!close(value, ref, 1e-8, 1e-11))
                failures << QString("%1: value %2, reference %3")
                                .arg(cases[i].name)
                                .arg(value, 0, 'g', 15)
                                .arg(ref, 0, 'g', 15);
            const auto refGrad = r["grad"].toArray();
            auto flat = grad.contiguous().reshape({-1});
            if (refGrad.size() != flat.numel()) {
                failures << cases[i].name + ": gradient size differs";
                continue;
            }
            for (int j = 0; j < refGrad.size(); ++j) {
                const double a = flat[j].item<double>(), b = refGrad[j].toDouble();
                if (!close(a, b, 1e-7, 1e-10)) {
                    failures << QString("%1: gradient[%2] %3, reference %4")
                                    .arg(cases[i].name)
                                    .arg(j)
                                    .arg(a, 0, 'g', 15)
                                    .arg(b, 0, 'g', 15);
                    break;
                }
            }
        }
        QVERIFY2(failures.isEmpty(), qPrintable(failures.join("\n")));
    }

    // (b) autograd against central finite differences in float64.
    void gradientMatchesFiniteDifferences_data()
    {
        QTest::addColumn<int>("index");
        const auto cases = referenceCases();
        for (std::size_t i = 0; i < cases.size(); ++i)
            QTest::newRow(qPrintable(cases[i].name)) << int(i);
    }
    void gradientMatchesFiniteDifferences()
    {
        QFETCH(int, index);
        const Case c = referenceCases()[std::size_t(index)];
        const auto [value, grad] = valueAndGradient(c);
        QVERIFY(std::isfinite(value));
        // TAID's target holds the student's logits under a stop-gradient, so its gradient is that
        // of the loss with the target frozen at the current student: t = 1 with those logits.
        Case probe = c;
        if (c.kind == "taid") {
            probe.teacher = (1 - c.cfg.taidT) * c.student + c.cfg.taidT * c.teacher;
            probe.cfg.taidT = 1.0;
            QVERIFY(close(valueOf(probe), value, 1e-12, 1e-15));
        }
        const double h = 1e-6;
        auto flat = c.student.reshape({-1});
        for (std::int64_t j = 0; j < flat.numel(); ++j) {
            auto plus = flat.clone(), minus = flat.clone();
            plus[j] += h;
            minus[j] -= h;
            const double fd = (valueOf(probe, plus.view_as(c.student)) -
                               valueOf(probe, minus.view_as(c.student))) /
                              (2 * h);
            const double g = grad.reshape({-1})[j].item<double>();
            QVERIFY2(close(g, fd, 1e-5, 1e-7),
                     qPrintable(QString("d/dx[%1]: autograd %2, finite differences %3")
                                    .arg(j)
                                    .arg(g, 0, 'g', 12)
                                    .arg(fd, 0, 'g', 12)));
        }
    }

    // (c) closed forms and bounds.
    void zeroWhenStudentEqualsTeacher_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<double>("tau");
        for (const auto &k : divergences())
            for (double tau : {1.0, 3.0})
                QTest::newRow(qPrintable(QString("%1 tau=%2").arg(k.c_str()).arg(tau)))
                    << QString::fromStdString(k) << tau;
    }
    void zeroWhenStudentEqualsTeacher()
    {
        QFETCH(QString, kind);
        QFETCH(double, tau);
        Case c = makeCase(kind.toStdString(), config(tau, 0.3, 0.2, 0, 0.6, 4), 7, {1, 1, 0, 1});
        c.teacher = c.student.clone();
        const auto [value, grad] = valueAndGradient(c);
        QVERIFY2(std::abs(value) < 1e-12, qPrintable(QString::number(value)));
        QVERIFY2(grad.abs().max().item<double>() < 1e-12,
                 qPrintable(QString::number(grad.abs().max().item<double>())));
    }

    void forwardKlIsTauSquaredKl()
    {
        for (double tau : {0.5, 1.0, 2.0, 4.0}) {
            Case c = makeCase("forward-kl", config(tau), 11, {1, 1, 0, 1, 1});
            double sum = 0;
            for (std::int64_t i : {0, 1, 3, 4})
                sum += rowKl(rowOf(c.teacher, i), rowOf(c.student, i), tau);
            QVERIFY(close(valueOf(c), tau * tau * sum / 4, 1e-12, 1e-14));
            Case r = c;
            r.kind = "reverse-kl";
            double rsum = 0;
            for (std::int64_t i : {0, 1, 3, 4})
                rsum += rowKl(rowOf(c.student, i), rowOf(c.teacher, i), tau);
            QVERIFY(close(valueOf(r), tau * tau * rsum / 4, 1e-12, 1e-14));
        }
    }

    void gjsdEndsAreForwardAndReverseKl()
    {
        for (double tau : {1.0, 2.0}) {
            Case c = makeCase("gjsd", config(tau, 0.0), 21, {1, 0, 1, 1});
            Case fwd = c, rev = c;
            fwd.kind = "forward-kl";
            rev.kind = "reverse-kl";
            QCOMPARE(valueOf(c), valueOf(fwd));
            c.cfg.beta = 1.0;
            QCOMPARE(valueOf(c), valueOf(rev));
            // The ends are the normalised limits JSD_beta / beta and JSD_beta / (1 - beta).
            const double b = 1e-6;
            c.cfg.beta = b;
            QVERIFY(close(valueOf(c) / b, valueOf(fwd), 1e-4, 0));
            c.cfg.beta = 1 - b;
            QVERIFY(close(valueOf(c) / (1 - c.cfg.beta), valueOf(rev), 1e-4, 0));
        }
    }

    void gjsdHalfIsSymmetricAndAtMostLn2()
    {
        for (double scale : {1.0, 5.0, 40.0}) {
            Case c = makeCase("gjsd", config(1.0, 0.5), 31, {1, 1, 1, 1, 1, 1}, 9, scale);
            for (std::int64_t i = 0; i < 6; ++i) {
                Case one = c;
                one.mask = torch::zeros({6});
                one.mask[i] = 1;
                Case swapped = one;
                std::swap(swapped.student, swapped.teacher);
                const double v = valueOf(one);
                QVERIFY(close(v, valueOf(swapped), 1e-12, 1e-15));
                QVERIFY2(v >= 0 && v <= M_LN2 + 1e-12, qPrintable(QString::number(v)));
            }
        }
        // Disjoint supports reach ln 2.
        Case c = makeCase("gjsd", config(1.0, 0.5), 32, {1}, 2);
        c.teacher = torch::tensor({{60.0, -60.0}}, torch::kFloat64);
        c.student = torch::tensor({{-60.0, 60.0}}, torch::kFloat64);
        QVERIFY(close(valueOf(c), M_LN2, 1e-9, 0));
    }

    void topkKlBoundsForwardKl()
    {
        const int v = 9;
        for (double tau : {1.0, 2.0}) {
            Case fwd = makeCase("forward-kl", config(tau), 41, {1, 0, 1, 1, 1}, v);
            const double full = valueOf(fwd);
            Case c = fwd;
            c.kind = "topk-kl";
            double previous = 0;
            for (int k = 1; k <= v; ++k) {
                c.cfg.topK = k;
                const double value = valueOf(c);
                // Coarse-grainings: KL grows as the partition is refined (k -> k+1).
                QVERIFY2(value >= previous - 1e-12,
                         qPrintable(QString("k=%1: %2 < %3").arg(k).arg(value).arg(previous)));
                if (k < v)
                    QVERIFY(value <= full + 1e-12);
                previous = value;
            }
            QVERIFY(close(previous, full, 1e-12, 1e-14));
            // A k larger than V is clamped to V when building the cache.
            c.cfg.topK = v + 5;
            QVERIFY(close(valueOf(c), full, 1e-12, 1e-14));
        }
    }

    void topkFromLogitsIsTheTemperedTopK()
    {
        auto z = torch::tensor({{0.5, 3.0, -1.0, 2.0}}, torch::kFloat64);
        auto [lp, ix] = topkFromLogits(z, 2, 2.0);
        QCOMPARE(lp.sizes().vec(), (std::vector<std::int64_t>{1, 2}));
        QCOMPARE(ix[0][0].item<std::int64_t>(), std::int64_t(1));
        QCOMPARE(ix[0][1].item<std::int64_t>(), std::int64_t(3));
        auto full = torch::log_softmax(z / 2.0, -1);
        QVERIFY(close(lp[0][0].item<double>(), full[0][1].item<double>(), 1e-15, 0));
        QVERIFY(close(lp[0][1].item<double>(), full[0][3].item<double>(), 1e-15, 0));
        QVERIFY(!lp.requires_grad());
    }

    void topkKlWithAllTeacherMassInTopK()
    {
        // r_T = 0 (the rest underflows): 0 log 0 = 0, no NaN in value or gradient.
        Case c = makeCase("topk-kl", config(1.0, 0.5, 0.1, 0, 0.5, 1), 45, {1, 1}, 4);
        c.teacher =
            torch::tensor({{800.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 900.0, 0.0}}, torch::kFloat64);
        const auto [value, grad] = valueAndGradient(c);
        QVERIFY(std::isfinite(value));
        QVERIFY(torch::isfinite(grad).all().item<bool>());
        Case fwd = c;
        fwd.kind = "forward-kl";
        QVERIFY(close(value, valueOf(fwd), 1e-9, 1e-12));
    }

    void tvdIsWithinZeroAndOne()
    {
        for (double scale : {0.1, 2.0, 50.0}) {
            Case c = makeCase("tvd", config(1.0), 51, {1, 1, 1, 1}, 6, scale);
            for (std::int64_t i = 0; i < 4; ++i) {
                Case one = c;
                one.mask = torch::zeros({4});
                one.mask[i] = 1;
                const double v = valueOf(one);
                QVERIFY2(v >= 0 && v <= 1, qPrintable(QString::number(v)));
            }
        }
        Case c = makeCase("tvd", config(1.0), 52, {1}, 2);
        c.teacher = torch::tensor({{50.0, -50.0}}, torch::kFloat64);
        c.student = torch::tensor({{-50.0, 50.0}}, torch::kFloat64);
        QVERIFY(close(valueOf(c), 1.0, 1e-12, 0));
    }

    void maskedPositionsDoNotCount_data()
    {
        QTest::addColumn<QString>("kind");
        for (const auto &k : allKinds())
            QTest::newRow(k.c_str()) << QString::fromStdString(k);
    }
    void maskedPositionsDoNotCount()
    {
        QFETCH(QString, kind);
        Case c = makeCase(kind.toStdString(), config(2.0, 0.3, 0.2, 0.1, 0.4, 2), 61,
                          {1, 0, 1, 0, 2}, isHidden(kind.toStdString()) ? 4 : 6);
        const auto [value, grad] = valueAndGradient(c);
        // Garbage (huge, NaN, out-of-range labels) at the padding positions changes nothing.
        Case d = c;
        d.student = c.student.clone();
        d.teacher = c.teacher.clone();
        d.labels = c.labels.clone();
        d.student[1] = 1e6;
        d.student[3].fill_(kNaN);
        d.teacher[1].fill_(kNaN);
        d.teacher[3] = -1e6;
        d.labels[1] = 12345;
        const auto [value2, grad2] = valueAndGradient(d);
        QCOMPARE(value2, value);
        for (std::int64_t i : {1, 3})
            QCOMPARE(grad2[i].abs().max().item<double>(), 0.0);
        for (std::int64_t i : {0, 2, 4})
            QVERIFY(torch::equal(grad2[i], grad[i]));
        // A mask of weights: row 4 counts twice, the denominator is the sum of weights (4).
        Case twice = c;
        twice.mask = torch::tensor({1.0f, 0.0f, 1.0f, 0.0f, 1.0f});
        Case row4 = c;
        row4.mask = torch::tensor({0.0f, 0.0f, 0.0f, 0.0f, 1.0f});
        QVERIFY(close(value, (3 * valueOf(twice) + valueOf(row4)) / 4, 1e-12, 1e-14));
        // No position counts: the loss is 0 with a zero gradient, not NaN.
        Case none = c;
        none.mask = torch::zeros({5});
        const auto [zero, zeroGrad] = valueAndGradient(none);
        QCOMPARE(zero, 0.0);
        QCOMPARE(zeroGrad.abs().max().item<double>(), 0.0);
    }

    // A teacher that produces NaN at a counted position must not look like a perfect match:
    // the loss is NaN, so the trainer stops the run and names the term.
    void nanTeacherGivesNan_data() { maskedPositionsDoNotCount_data(); }
    void nanTeacherGivesNan()
    {
        QFETCH(QString, kind);
        const auto *entry = find(kind.toStdString());
        if (!entry->kind->needsTeacherLogits && !entry->kind->needsTopk)
            QSKIP("the loss does not read teacher logits");
        Case c = makeCase(kind.toStdString(), config(2.0), 73, {1, 1, 0});
        c.teacher = c.teacher.clone();
        c.teacher[1].fill_(kNaN);
        QVERIFY2(std::isnan(valueOf(c)), qPrintable(QString::number(valueOf(c))));
    }

    void teacherReceivesNoGradient_data() { maskedPositionsDoNotCount_data(); }
    void teacherReceivesNoGradient()
    {
        QFETCH(QString, kind);
        Case c = makeCase(kind.toStdString(), config(2.0), 71, {1, 1, 0});
        c.teacher = c.teacher.clone().requires_grad_(true);
        auto s = c.student.clone().requires_grad_(true);
        auto loss = find(c.kind)->fn(inputsFor(c, s), c.cfg);
        loss.backward();
        QVERIFY(!c.teacher.grad().defined());
        QVERIFY(s.grad().defined());
    }

    void float32MatchesFloat64_data() { maskedPositionsDoNotCount_data(); }
    void float32MatchesFloat64()
    {
        QFETCH(QString, kind);
        Case c = makeCase(kind.toStdString(), config(2.0, 0.3, 0.2, 0.1, 0.4, 3), 81, {1, 0, 1, 1});
        Case f = c;
        f.student = c.student.to(torch::kFloat32);
        f.teacher = c.teacher.to(torch::kFloat32);
        auto s = f.student.clone().requires_grad_(true);
        auto loss = find(f.kind)->fn(inputsFor(f, s), f.cfg);
        QCOMPARE(loss.scalar_type(), torch::kFloat32);
        QCOMPARE(loss.dim(), int64_t(0));
        loss.backward();
        QVERIFY(close(loss.item<double>(), valueOf(c), 1e-5, 1e-6));
        const auto [value, grad] = valueAndGradient(c);
        QVERIFY((s.grad().to(torch::kFloat64) - grad).abs().max().item<double>() < 1e-5);
    }

    void acceptsBatchTimeShapes()
    {
        // [B,T,V] logits with a [B,T] mask are flattened to [B*T,V].
        Case c = makeCase("forward-kl", config(1.5), 91, {1, 0, 1, 1, 1, 0});
        Case b = c;
        b.student = c.student.reshape({2, 3, -1});
        b.teacher = c.teacher.reshape({2, 3, -1});
        b.mask = c.mask.reshape({2, 3});
        QCOMPARE(valueOf(b, b.student), valueOf(c));
    }

    void invalidInputsThrow()
    {
        Case c = makeCase("forward-kl", config(1.0), 95, {1, 1});
        Case wrong = c;
        wrong.teacher = torch::randn({2, 5}, torch::kFloat64);
        QVERIFY_THROWS_EXCEPTION(c10::Error, valueOf(wrong));
        Case ce = makeCase("cross-entropy", config(1.0), 96, {1, 1});
        ce.labels[0] = 7;
        QVERIFY_THROWS_EXCEPTION(c10::Error, valueOf(ce));
        Case tau = c;
        tau.cfg.temperature = 0;
        QVERIFY_THROWS_EXCEPTION(c10::Error, valueOf(tau));
        Case beta = makeCase("gjsd", config(1.0, 1.5), 97, {1});
        QVERIFY_THROWS_EXCEPTION(c10::Error, valueOf(beta));
    }

    // (d) the loss inspector.
    void inspectForwardKl()
    {
        const std::vector<double> t = {1, 2, 3}, s = {3, 1, 0};
        for (double tau : {1.0, 2.0}) {
            auto r = inspectLoss("forward-kl", {{"temperature", tau}}, t, s);
            QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
            QVERIFY(close(r->value, tau * tau * rowKl(t, s, tau), 1e-12, 1e-15));
            // d/dz_S tau^2 KL(p_T || p_S) = tau (p_S - p_T).
            const auto pt = softmax(t, tau), ps = softmax(s, tau);
            QCOMPARE(r->gradient.size(), std::size_t(3));
            for (int i = 0; i < 3; ++i) {
                QVERIFY(close(r->gradient[i], tau * (ps[i] - pt[i]), 1e-12, 1e-15));
                QVERIFY(close(r->studentProbs[i], ps[i], 1e-12, 0));
                QVERIFY(close(r->teacherProbs[i], pt[i], 1e-12, 0));
            }
        }
    }

    void inspectCrossEntropyAndHidden()
    {
        const std::vector<double> s = {0.5, -1, 2};
        auto r = inspectLoss("cross-entropy", {{"label", 2}}, {}, s);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        const auto p = softmax(s, 1);
        QVERIFY(close(r->value, -std::log(p[2]), 1e-12, 0));
        for (int i = 0; i < 3; ++i)
            QVERIFY(close(r->gradient[i], p[i] - (i == 2 ? 1 : 0), 1e-12, 1e-15));
        QVERIFY(r->teacherProbs.empty());
        QCOMPARE(r->studentProbs.size(), std::size_t(3));

        auto h = inspectLoss("hidden-mse", {}, {1, 2}, {0, 4});
        QVERIFY(h.ok());
        QVERIFY(close(h->value, (1 + 4) / 2.0, 1e-12, 0));
        QVERIFY(close(h->gradient[0], -1, 1e-12, 0) && close(h->gradient[1], 2, 1e-12, 0));
        QVERIFY(h->studentProbs.empty() && h->teacherProbs.empty());

        // topk-kl with k = V is forward KL; with k < V it is below.
        const std::vector<double> t = {0.1, 2, -1, 0.7}, st = {1, 0, 0.5, -0.3};
        auto fwd = inspectLoss("forward-kl", {{"temperature", 2}}, t, st);
        auto all = inspectLoss("topk-kl", {{"temperature", 2}, {"top_k", 4}}, t, st);
        auto two = inspectLoss("topk-kl", {{"temperature", 2}, {"top_k", 2}}, t, st);
        QVERIFY(fwd.ok() && all.ok() && two.ok());
        QVERIFY(close(all->value, fwd->value, 1e-12, 1e-15));
        QVERIFY(two->value < fwd->value);
    }

    void inspectErrors_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QStringList>("params"); // name=value
        QTest::addColumn<QVector<double>>("teacher");
        QTest::addColumn<QVector<double>>("student");
        QTest::addColumn<QString>("expected"); // in the message
        const QVector<double> v3 = {1, 2, 3};
        QTest::newRow("unknown kind") << "kl" << QStringList{} << v3 << v3 << "'kl' is unknown";
        QTest::newRow("unknown param")
            << "forward-kl" << QStringList{"gamma=1"} << v3 << v3 << "'gamma' is unknown";
        QTest::newRow("lengths") << "forward-kl" << QStringList{} << QVector<double>{1, 2} << v3
                                 << "teacher logits: expected 3 values";
        QTest::newRow("empty student")
            << "forward-kl" << QStringList{} << v3 << QVector<double>{} << "student logits";
        QTest::newRow("empty teacher")
            << "forward-kl" << QStringList{} << QVector<double>{} << v3 << "teacher logits";
        QTest::newRow("empty teacher hidden")
            << "hidden-cosine" << QStringList{} << QVector<double>{} << v3 << "teacher hidden";
        QTest::newRow("missing label")
            << "cross-entropy" << QStringList{} << v3 << v3 << "'label' is missing";
        QTest::newRow("label out of range")
            << "cross-entropy" << QStringList{"label=3"} << v3 << v3 << "'label' = 3";
        QTest::newRow("negative label")
            << "cross-entropy" << QStringList{"label=-1"} << v3 << v3 << "'label' = -1";
        QTest::newRow("fractional label")
            << "cross-entropy" << QStringList{"label=1.5"} << v3 << v3 << "'label' = 1.5";
        QTest::newRow("nan logit") << "forward-kl" << QStringList{} << v3
                                   << QVector<double>{1, kNaN, 3} << "student logits[1]";
        QTest::newRow("inf logit") << "tvd" << QStringList{} << QVector<double>{INFINITY, 1, 2}
                                   << v3 << "teacher logits[0]";
        QTest::newRow("zero temperature")
            << "forward-kl" << QStringList{"temperature=0"} << v3 << v3 << "'temperature'";
        QTest::newRow("nan temperature")
            << "forward-kl" << QStringList{"temperature=nan"} << v3 << v3 << "'temperature'";
        QTest::newRow("beta") << "gjsd" << QStringList{"beta=1.5"} << v3 << v3 << "'beta' = 1.5";
        QTest::newRow("alpha") << "skew-kl" << QStringList{"alpha=-0.1"} << v3 << v3 << "'alpha'";
        QTest::newRow("label_smoothing")
            << "cross-entropy" << QStringList{"label=0", "label_smoothing=2"} << v3 << v3
            << "'label_smoothing'";
        QTest::newRow("taid_t") << "taid" << QStringList{"taid_t=2"} << v3 << v3 << "'taid_t'";
        QTest::newRow("top_k zero")
            << "topk-kl" << QStringList{"top_k=0"} << v3 << v3 << "'top_k' = 0";
        QTest::newRow("top_k above V")
            << "topk-kl" << QStringList{"top_k=4"} << v3 << v3 << "[1, 3]";
    }
    void inspectErrors()
    {
        QFETCH(QString, kind);
        QFETCH(QStringList, params);
        QFETCH(QVector<double>, teacher);
        QFETCH(QVector<double>, student);
        QFETCH(QString, expected);
        std::map<std::string, double> p;
        for (const auto &kv : params) {
            const auto parts = kv.split('=');
            p[parts[0].toStdString()] = parts[1] == "nan" ? kNaN : parts[1].toDouble();
        }
        auto r =
            inspectLoss(kind.toStdString(), p, std::vector<double>(teacher.begin(), teacher.end()),
                        std::vector<double>(student.begin(), student.end()));
        QVERIFY(!r.ok());
        const QString message = QString::fromStdString(r.error().message);
        QVERIFY2(message.contains(expected), qPrintable(message));
    }

    // (e) TAID's schedule for t.
    void taidScheduleIsMonotoneAndBounded_data()
    {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<double>("alpha");
        for (const char *pattern : {"decreasing", "increasing", "noisy", "with-nan", "zero"})
            for (double alpha : {0.0, 5e-4, 0.05})
                QTest::newRow(qPrintable(QString("%1 alpha=%2").arg(pattern).arg(alpha)))
                    << QString(pattern) << alpha;
    }
    void taidScheduleIsMonotoneAndBounded()
    {
        QFETCH(QString, pattern);
        QFETCH(double, alpha);
        const double tStart = 0.2, tEnd = 0.9;
        const std::int64_t total = 200;
        TaidState state; // t = 0 below tStart: the first update lifts it into range
        double previous = tStart;
        bool ahead = false;
        for (std::int64_t step = 0; step < total; ++step) {
            double loss = 5.0;
            if (pattern == "decreasing")
                loss = 5.0 * std::exp(-0.05 * double(step));
            else if (pattern == "increasing")
                loss = 1.0 + 0.01 * double(step);
            else if (pattern == "noisy" || pattern == "with-nan")
                loss = 2.0 + std::sin(1.7 * double(step));
            else if (pattern == "zero")
                loss = 0.0;
            if (pattern == "with-nan" && step % 7 == 3)
                loss = kNaN;
            const double t = taidUpdate(state, loss, step, total, tStart, tEnd, alpha, 0.9);
            QVERIFY(std::isfinite(t));
            QVERIFY2(t >= previous,
                     qPrintable(QString("step %1: %2 < %3").arg(step).arg(t).arg(previous)));
            QVERIFY(t >= tStart && t <= tEnd);
            const double linear = tStart + (tEnd - tStart) * double(step + 1) / double(total);
            QVERIFY(t >= linear - 1e-15);
            if (alpha == 0)
                QVERIFY(close(t, linear, 1e-12, 1e-15));
            ahead = ahead || t > linear + 1e-3;
            previous = t;
        }
        QCOMPARE(previous, tEnd);
        QCOMPARE(state.t, tEnd);
        // A quickly falling loss with a large alpha moves t ahead of the linear schedule.
        if (pattern == "decreasing" && alpha == 0.05)
            QVERIFY(ahead);
    }

    void taidEdgeCases()
    {
        TaidState s;
        QCOMPARE(taidUpdate(s, 1.0, 0, 0, 0.1, 0.7, 0.01, 0.9), 0.7); // no steps: tEnd
        TaidState first;
        const double t = taidUpdate(first, 3.0, 0, 10, 0.4, 0.8, 0.0, 0.9);
        QVERIFY(close(t, 0.44, 1e-12, 0));
        QCOMPARE(first.previousLoss, 3.0);
        QCOMPARE(first.momentum, 0.0); // the first loss only sets the reference
        taidUpdate(first, 1.5, 1, 10, 0.4, 0.8, 0.0, 0.9);
        QVERIFY(close(first.momentum, 0.1 * 0.5, 1e-12, 0)); // delta = (3 - 1.5) / 3
    }

    void taidLossUsesTheInterpolatedTarget()
    {
        // t = 1 is forward KL; the target's student part is detached.
        Case c = makeCase("taid", config(1.5, 0.5, 0.1, 0, 1.0), 101, {1, 1, 0, 1});
        Case fwd = c;
        fwd.kind = "forward-kl";
        QVERIFY(close(valueOf(c), valueOf(fwd), 1e-12, 1e-15));
        QVERIFY(torch::allclose(valueAndGradient(c).second, valueAndGradient(fwd).second, 1e-12,
                                1e-15));
        // At t in (0,1): the value is tau^2 KL(p_t || p_S) with p_t from the mixed logits.
        c.cfg.taidT = 0.3;
        double sum = 0;
        for (std::int64_t i : {0, 1, 3}) {
            auto mixed = (0.7 * c.student[i] + 0.3 * c.teacher[i]).contiguous();
            std::vector<double> zt(mixed.data_ptr<double>(),
                                   mixed.data_ptr<double>() + mixed.numel());
            sum += rowKl(zt, rowOf(c.student, i), 1.5);
        }
        QVERIFY(close(valueOf(c), 1.5 * 1.5 * sum / 3, 1e-12, 1e-15));
    }
};

QTEST_GUILESS_MAIN(tst_Losses)
#include "tst_losses.moc"
