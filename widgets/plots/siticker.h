#pragma once

// Axis tick labels with SI suffixes, for token counts: 500k, 1.5M, 2G.

#include <qcustomplot.h>

namespace distillery::widgets {

class SiTicker : public QCPAxisTicker
{
protected:
    QString getTickLabel(double tick, const QLocale &locale, QChar formatChar, int precision) override;
};

} // namespace distillery::widgets
