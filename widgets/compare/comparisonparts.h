#pragma once

// Pieces the comparison view's files share (comparisonview.cpp, comparisoncurves.cpp,
// comparisonplots.cpp): colours, a numerically sorted table cell, labels of quantities.

#include "compare/comparisonview.h"

#include "distillery/core/compare.h"

#include <qcustomplot.h>

#include <QColor>
#include <QIcon>
#include <QString>
#include <QTableWidgetItem>

#include <cmath>
#include <limits>
#include <string>

namespace distillery::widgets::compareparts {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A table cell that sorts by a number (missing values first) instead of its text.
class NumberItem : public QTableWidgetItem
{
public:
    NumberItem(const QString &text, double value)
        : QTableWidgetItem(text)
    {
        setData(Qt::UserRole, std::isfinite(value) ? value : -std::numeric_limits<double>::infinity());
        setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    bool operator<(const QTableWidgetItem &other) const override
    {
        return data(Qt::UserRole).toDouble() < other.data(Qt::UserRole).toDouble();
    }
};

inline QColor groupColor(int index)
{
    static const QColor palette[] = {QColor(31, 119, 180), QColor(214, 39, 40), QColor(44, 160, 44),
                                     QColor(255, 127, 14), QColor(148, 103, 189), QColor(140, 86, 75),
                                     QColor(227, 119, 194), QColor(23, 190, 207), QColor(127, 127, 127),
                                     QColor(188, 189, 34)};
    return palette[index % int(sizeof palette / sizeof *palette)];
}

inline QString qs(const std::string &text)
{
    return QString::fromStdString(text);
}

inline QIcon swatch(const QColor &color)
{
    QPixmap pixmap(14, 14);
    pixmap.fill(color);
    return QIcon(pixmap);
}

// A plot on a hidden tab has no paint buffer to draw into: it is drawn when its tab is shown.
inline void replotIfShown(QCustomPlot *plot)
{
    if (plot->isVisible())
        plot->replot(QCustomPlot::rpQueuedReplot);
}


inline QString quantityLabel(const QString &name)
{
    if (name == QLatin1String("student.params"))
        return QObject::tr("student parameters");
    if (name == QLatin1String("student.flops"))
        return QObject::tr("student FLOPs/token");
    const int colon = name.lastIndexOf(QLatin1Char(':'));
    if (colon < 0)
        return name.contains(QLatin1Char('/')) ? qs(core::metricLabel(name.toStdString())) : name;
    return qs(core::metricLabel(name.left(colon).toStdString())) + QStringLiteral(" (") + name.mid(colon + 1) +
           QStringLiteral(")");
}


} // namespace distillery::widgets::compareparts

namespace distillery::widgets {

// What the worker reads for one metric: each group's aggregate and each run's points.
struct ComparisonView::CurveData
{
    std::vector<std::vector<core::BandPoint>> groups;
    std::vector<std::vector<core::ScalarPoint>> runs; // in the order of the compared runs
    QString error;
};

} // namespace distillery::widgets
