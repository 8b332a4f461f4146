#include "inspector/barchart.h"

#include <QPainter>

#include <algorithm>
#include <cmath>

namespace distillery::widgets {

BarChart::BarChart(QWidget *parent)
    : QWidget(parent)
{
    setMinimumHeight(120);
}

void BarChart::setData(std::vector<double> teacher, std::vector<double> student, std::vector<double> grad)
{
    m_teacher = std::move(teacher);
    m_student = std::move(student);
    m_grad = std::move(grad);
    update();
}

void BarChart::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const std::size_t n = std::max({m_teacher.size(), m_student.size(), m_grad.size()});
    if (n == 0)
        return;
    const QColor teacherColor(70, 130, 220), studentColor(235, 140, 50);
    const QColor push(60, 170, 90), pull(210, 70, 70);
    const QRectF area = rect().adjusted(4, 14, -4, -4);
    const double mid = area.top() + area.height() * 0.6;
    const double slot = area.width() / double(n);
    double gmax = 1e-12;
    for (double g : m_grad)
        gmax = std::max(gmax, std::abs(g));
    p.setPen(palette().color(QPalette::Mid));
    p.drawLine(QPointF(area.left(), mid), QPointF(area.right(), mid));
    p.setPen(Qt::NoPen);
    const double probHeight = mid - area.top();
    for (std::size_t i = 0; i < n; ++i) {
        const double x = area.left() + slot * double(i);
        const double w = slot * 0.35;
        if (i < m_teacher.size()) {
            p.setBrush(teacherColor);
            p.drawRect(QRectF(x + slot * 0.12, mid - probHeight * m_teacher[i], w, probHeight * m_teacher[i]));
        }
        if (i < m_student.size()) {
            p.setBrush(studentColor);
            p.drawRect(QRectF(x + slot * 0.5, mid - probHeight * m_student[i], w, probHeight * m_student[i]));
        }
        if (i < m_grad.size()) {
            // A gradient step moves logits along -gradient: green bars go up.
            const double h = (area.bottom() - mid) * std::abs(m_grad[i]) / gmax;
            p.setBrush(m_grad[i] <= 0 ? push : pull);
            p.drawRect(QRectF(x + slot * 0.3, mid, slot * 0.4, h));
        }
    }
    p.setPen(palette().color(QPalette::WindowText));
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 0.85);
    p.setFont(f);
    p.drawText(QPointF(area.left(), 11), tr("■ p_T  ■ p_S  ▼ −gradient (green: pushed up)"));
}

} // namespace distillery::widgets
