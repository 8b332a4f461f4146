#include "inspector/lossinspectorwidget.h"

#include "inspector/barchart.h"

#include "distillery/core/losses.h"

#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>

namespace distillery::widgets {

namespace {

QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}

std::vector<double> parseNumbers(const QString &text, bool *ok)
{
    std::vector<double> out;
    *ok = true;
    for (const QString &part : text.split(',', Qt::SkipEmptyParts)) {
        bool good = false;
        const double v = part.trimmed().toDouble(&good);
        if (!good) {
            *ok = false;
            return {};
        }
        out.push_back(v);
    }
    return out;
}

} // namespace

LossInspectorWidget::LossInspectorWidget(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QFormLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_formula = new QLabel(this);
    m_formula->setWordWrap(true);
    m_teacher = new QLineEdit(QStringLiteral("2, 1, 0, -1"), this);
    m_student = new QLineEdit(QStringLiteral("0, 0, 0, 0"), this);
    m_label = new QLineEdit(QStringLiteral("0"), this);
    m_teacher->setToolTip(tr("Teacher logits (or hidden vector), comma-separated"));
    m_student->setToolTip(tr("Student logits (or hidden vector), comma-separated"));
    m_label->setToolTip(tr("Index of the true token (cross-entropy)"));
    m_result = new QLabel(this);
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_chart = new BarChart(this);
    layout->addRow(m_formula);
    layout->addRow(tr("Teacher"), m_teacher);
    layout->addRow(tr("Student"), m_student);
    layout->addRow(tr("Label"), m_label);
    layout->addRow(m_result);
    layout->addRow(m_chart);
    for (auto *edit : {m_teacher, m_student, m_label})
        connect(edit, &QLineEdit::textChanged, this, [this] { evaluate(); });
}

void LossInspectorWidget::setLoss(const std::string &kind, const std::map<std::string, double> &params)
{
    m_kind = kind;
    m_params = params;
    const core::LossKind *d = core::findLossKind(kind);
    if (d)
        m_formula->setText(QStringLiteral("<b>%1</b>: %2<br><i>%3</i>")
                               .arg(qs(d->name), qs(d->formula).toHtmlEscaped(),
                                    qs(d->reference).toHtmlEscaped()));
    m_label->setEnabled(d && d->needsLabels);
    evaluate();
}

void LossInspectorWidget::setLogits(const QString &teacher, const QString &student)
{
    m_teacher->setText(teacher);
    m_student->setText(student);
}

QString LossInspectorWidget::resultText() const
{
    return m_result->text();
}

void LossInspectorWidget::evaluate()
{
    bool okT = false, okS = false;
    const auto teacher = parseNumbers(m_teacher->text(), &okT);
    const auto student = parseNumbers(m_student->text(), &okS);
    if (!okT || !okS) {
        m_result->setText(tr("<span style='color:#d04040'>Logits must be numbers separated by commas.</span>"));
        m_chart->setData({}, {}, {});
        return;
    }
    auto params = m_params;
    if (const core::LossKind *k = core::findLossKind(m_kind); k && k->needsLabels)
        params["label"] = m_label->text().toDouble();
    auto r = core::inspectLoss(m_kind, params, teacher, student);
    if (!r.ok()) {
        m_result->setText(QStringLiteral("<span style='color:#d04040'>%1</span>")
                              .arg(qs(r.error().message).toHtmlEscaped()));
        m_chart->setData({}, {}, {});
        m_gradient.clear();
        return;
    }
    const auto &v = r.value();
    m_gradient = v.gradient;
    QStringList grad;
    for (double g : v.gradient)
        grad << QString::number(g, 'g', 4);
    m_result->setText(tr("loss <b>%1</b><br>gradient [%2]")
                          .arg(QString::number(v.value, 'g', 6), grad.join(QStringLiteral(", "))));
    m_chart->setData(v.teacherProbs, v.studentProbs, v.gradient);
}

} // namespace distillery::widgets
