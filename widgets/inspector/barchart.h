#pragma once

// The loss inspector's chart: bars for p_T and p_S per token, and the signed gradient below
// the axis.

#include <QWidget>

#include <vector>

namespace distillery::widgets {

class BarChart : public QWidget
{
    Q_OBJECT

public:
    explicit BarChart(QWidget *parent = nullptr);
    void setData(std::vector<double> teacher, std::vector<double> student, std::vector<double> grad);

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    std::vector<double> m_teacher, m_student, m_grad;
};

} // namespace distillery::widgets
