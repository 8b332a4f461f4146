#include "plots/charttheme.h"

#include <qcustomplot.h>

namespace distillery::widgets {

void styleChart(QCustomPlot *plot, const QWidget *from)
{
    const QPalette pal = from->palette();
    const QColor bg = pal.color(QPalette::Base);
    const QColor fg = pal.color(QPalette::Text);
    QColor axisColor = fg;
    axisColor.setAlpha(150);
    QColor gridColor = fg;
    gridColor.setAlpha(bg.lightness() < 128 ? 45 : 32);
    plot->setBackground(bg);
    const auto rects = plot->axisRects();
    for (QCPAxisRect *rect : rects) {
        for (QCPAxis *axis : rect->axes()) {
            axis->setBasePen(QPen(axisColor, 1));
            axis->setTickPen(QPen(axisColor, 1));
            axis->setSubTickPen(QPen(axisColor, 1));
            axis->setTickLabelColor(fg);
            axis->setLabelColor(fg);
            axis->setTickLabelFont(from->font());
            axis->setLabelFont(from->font());
            axis->setTickLengthIn(0);
            axis->setTickLengthOut(4);
            axis->setSubTickLengthIn(0);
            axis->setSubTickLengthOut(2);
            axis->grid()->setPen(QPen(gridColor, 1, Qt::SolidLine));
            axis->grid()->setZeroLinePen(QPen(gridColor, 1, Qt::SolidLine));
        }
    }
    QColor legendBg = bg;
    legendBg.setAlpha(215);
    plot->legend->setBrush(legendBg);
    QColor legendBorder = fg;
    legendBorder.setAlpha(50);
    plot->legend->setBorderPen(QPen(legendBorder));
    plot->legend->setTextColor(fg);
    plot->legend->setFont(from->font());
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i)
        if (auto *text = qobject_cast<QCPTextElement *>(plot->plotLayout()->elementAt(i)))
            text->setTextColor(fg);
    plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace distillery::widgets
