#include "plots/tokenstrip.h"

#include <QEvent>
#include <QFontDatabase>
#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery::widgets {

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

QColor mix(const QColor &a, const QColor &b, double t)
{
    t = std::clamp(t, 0.0, 1.0);
    return QColor::fromRgbF(float(a.redF() + (b.redF() - a.redF()) * t),
                            float(a.greenF() + (b.greenF() - a.greenF()) * t),
                            float(a.blueF() + (b.blueF() - a.blueF()) * t));
}

const QColor kNegative(0xd6, 0x60, 0x4d); // disagreeing gradients
const QColor kPositive(0x43, 0x93, 0xc3); // agreeing gradients
const QColor kSequential(0xe6, 0x55, 0x0d);
const QColor kProbability(0x1b, 0x9e, 0x77);

} // namespace

QColor TokenScale::color(double value, const QColor &base) const
{
    if (!std::isfinite(value))
        return base;
    switch (kind) {
    case Kind::Diverging: {
        const double t = std::clamp(value / std::max(std::abs(min), std::abs(max)), -1.0, 1.0);
        return t < 0 ? mix(base, kNegative, -t) : mix(base, kPositive, t);
    }
    case Kind::Probability:
        return mix(base, kProbability, (value - min) / std::max(1e-12, max - min));
    case Kind::Sequential:
        break;
    }
    return mix(base, kSequential, std::pow(std::clamp((value - min) / std::max(1e-12, max - min), 0.0, 1.0), 0.8));
}

TokenStrip::TokenStrip(QWidget *parent)
    : QWidget(parent)
{
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Preferred);
}

void TokenStrip::setTokens(const QStringList &labels, const std::vector<double> &values,
                           const std::vector<bool> &newline, const TokenScale &scale)
{
    m_labels = labels;
    m_values = values;
    m_newline = newline;
    m_values.resize(std::size_t(labels.size()), kNaN);
    m_newline.resize(std::size_t(labels.size()), false);
    m_scale = scale;
    m_rects = layoutFor(width());
    updateGeometry();
    update();
}

std::vector<QRect> TokenStrip::layoutFor(int width) const
{
    const QFontMetrics fm(font());
    const int pad = 3, gapX = 2, gapY = 4, margin = 6;
    const int h = fm.height() + 4;
    std::vector<QRect> rects;
    int x = margin, y = margin;
    for (int j = 0; j < m_labels.size(); ++j) {
        const int w = fm.horizontalAdvance(m_labels[j]) + 2 * pad;
        if (x > margin && x + w > width - margin) {
            x = margin;
            y += h + gapY;
        }
        rects.emplace_back(x, y, w, h);
        x += w + gapX;
        if (m_newline[std::size_t(j)]) {
            x = margin;
            y += h + gapY;
        }
    }
    return rects;
}

int TokenStrip::heightForWidth(int width) const
{
    const auto rects = layoutFor(width);
    return rects.empty() ? 40 : rects.back().bottom() + 8;
}

QSize TokenStrip::sizeHint() const
{
    return QSize(600, heightForWidth(600));
}

void TokenStrip::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    m_rects = layoutFor(width());
    const int wanted = heightForWidth(width());
    if (minimumHeight() != wanted)
        setMinimumHeight(wanted);
}

int TokenStrip::tokenAt(const QPoint &pos) const
{
    for (std::size_t j = 0; j < m_rects.size(); ++j)
        if (m_rects[j].contains(pos))
            return int(j);
    return -1;
}

QRect TokenStrip::tokenRect(int token) const
{
    return token >= 0 && token < int(m_rects.size()) ? m_rects[std::size_t(token)] : QRect();
}

void TokenStrip::setSelected(int token)
{
    if (token != m_selected) {
        m_selected = token;
        update();
    }
}

void TokenStrip::mousePressEvent(QMouseEvent *event)
{
    const int j = tokenAt(event->pos());
    if (j >= 0)
        emit tokenClicked(j);
    QWidget::mousePressEvent(event);
}

bool TokenStrip::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const int j = tokenAt(help->pos());
        if (j >= 0 && m_toolTip)
            QToolTip::showText(help->globalPos(), m_toolTip(j), this, tokenRect(j));
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(event);
}

void TokenStrip::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing, true);
    const QColor base = palette().color(QPalette::Base);
    p.fillRect(rect(), base);
    QColor border = palette().color(QPalette::Text);
    border.setAlpha(40);
    for (std::size_t j = 0; j < m_rects.size(); ++j) {
        const QRect r = m_rects[j];
        const QColor fill = m_scale.color(m_values[j], base);
        QPainterPath path;
        path.addRoundedRect(QRectF(r).adjusted(0.5, 0.5, -0.5, -0.5), 3, 3);
        p.fillPath(path, fill);
        if (int(j) == m_selected)
            p.setPen(QPen(palette().color(QPalette::Highlight), 2.5));
        else
            p.setPen(QPen(border, 1));
        p.drawPath(path);
        QColor text = qGray(fill.rgb()) < 120 ? QColor(Qt::white) : QColor(20, 20, 20);
        if (!std::isfinite(m_values[j]))
            text = palette().color(QPalette::PlaceholderText);
        p.setPen(text);
        p.drawText(r, Qt::AlignCenter, m_labels[int(j)]);
    }
}

} // namespace distillery::widgets
