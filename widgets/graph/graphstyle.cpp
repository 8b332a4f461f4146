#include "graph/graphstyle.h"

#include <cmath>

namespace distillery::widgets::graphstyle {

QColor kindColor(const std::string &kind)
{
    if (kind == "Dataset")
        return QColor(0x2a, 0x9d, 0x8f); // teal
    if (kind == "Teacher")
        return QColor(0x7e, 0x57, 0xc2); // violet
    if (kind == "Student")
        return QColor(0x35, 0x7a, 0xd0); // blue
    if (kind == "Projection")
        return QColor(0x3f, 0x8f, 0xa8); // steel cyan
    if (kind == "Loss")
        return QColor(0xd9, 0x6c, 0x2f); // orange
    if (kind == "Combine")
        return QColor(0xb8, 0x8a, 0x12); // amber
    if (kind == "Optimizer")
        return QColor(0xc2, 0x41, 0x5b); // raspberry
    if (kind == "Settings")
        return QColor(0x60, 0x6b, 0x7a); // slate
    return QColor(0x80, 0x80, 0x80);
}

QColor portColor(core::PortType type)
{
    switch (type) {
    case core::PortType::Tokens:
        return QColor(0x4c, 0xb8, 0x6a); // green
    case core::PortType::Labels:
        return QColor(0xd6, 0xb4, 0x2a); // yellow
    case core::PortType::Logits:
        return QColor(0x45, 0x9c, 0xf0); // sky blue
    case core::PortType::Hidden:
        return QColor(0xb0, 0x6a, 0xe0); // purple
    case core::PortType::Scalar:
        return QColor(0xf0, 0x7e, 0x3e); // orange
    }
    return QColor(0x90, 0x90, 0x90);
}

QColor invalidColor()
{
    return QColor(0xe5, 0x39, 0x35);
}

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128;
}

QColor canvasColor(const QPalette &palette)
{
    return isDark(palette) ? QColor(0x1e, 0x20, 0x24) : QColor(0xee, 0xef, 0xf2);
}

QColor cardColor(const QPalette &palette)
{
    return isDark(palette) ? QColor(0x2c, 0x2f, 0x36) : QColor(0xfd, 0xfd, 0xfe);
}

QColor cardTextColor(const QPalette &palette)
{
    return isDark(palette) ? QColor(0xe6, 0xe8, 0xec) : QColor(0x22, 0x25, 0x2b);
}

QColor mutedTextColor(const QPalette &palette)
{
    return isDark(palette) ? QColor(0x9a, 0xa1, 0xad) : QColor(0x6b, 0x72, 0x7e);
}

QString compactNumber(double value)
{
    if (value == 0.0)
        return QStringLiteral("0");
    const double a = std::abs(value);
    if (a < 1e-2 || a >= 1e6) {
        // 3e-3 rather than 0.003; keep one decimal of mantissa when it matters.
        int exponent = int(std::floor(std::log10(a)));
        double mantissa = value / std::pow(10.0, exponent);
        QString m = QString::number(mantissa, 'g', 2);
        return m + QStringLiteral("e") + QString::number(exponent);
    }
    return QString::number(value, 'g', 4);
}

} // namespace distillery::widgets::graphstyle
