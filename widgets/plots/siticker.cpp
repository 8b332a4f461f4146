#include "plots/siticker.h"

#include <cmath>

namespace distillery::widgets {

QString SiTicker::getTickLabel(double tick, const QLocale &, QChar, int)
{
    const double magnitude = std::abs(tick);
    if (magnitude >= 1e9)
        return QString::number(tick / 1e9, 'g', 4) + QLatin1Char('G');
    if (magnitude >= 1e6)
        return QString::number(tick / 1e6, 'g', 4) + QLatin1Char('M');
    if (magnitude >= 1e3)
        return QString::number(tick / 1e3, 'g', 4) + QLatin1Char('k');
    return QString::number(tick, 'g', 4);
}

} // namespace distillery::widgets
