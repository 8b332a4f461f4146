#pragma once

#include <QString>
#include <QWidget>

#include <map>
#include <string>
#include <vector>

class QLabel;
class QLineEdit;

namespace distillery::widgets {

class BarChart;

// Value and gradient of one loss term on two editable logit vectors, with bars for p_T, p_S
// and the gradient (which way the student's logits are pushed).
class LossInspectorWidget : public QWidget
{
    Q_OBJECT
public:
    explicit LossInspectorWidget(QWidget *parent = nullptr);
    void setLoss(const std::string &kind, const std::map<std::string, double> &params);
    void setLogits(const QString &teacher, const QString &student);
    QString resultText() const;
    const std::vector<double> &gradient() const { return m_gradient; }

private:
    void evaluate();

    std::string m_kind;
    std::map<std::string, double> m_params;
    QLineEdit *m_teacher = nullptr;
    QLineEdit *m_student = nullptr;
    QLineEdit *m_label = nullptr;
    QLabel *m_formula = nullptr;
    QLabel *m_result = nullptr;
    BarChart *m_chart = nullptr;
    std::vector<double> m_gradient;
};

} // namespace distillery::widgets
