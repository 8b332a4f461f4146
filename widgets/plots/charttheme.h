#pragma once

// The look of every QCustomPlot chart: colours and font from a widget's palette (Base
// background, Text for labels, faint grid), so charts follow the light and dark themes.

class QCustomPlot;
class QWidget;

namespace distillery::widgets {

// Axes of every axis rect, legend and text elements of `plot` in the colours and font of
// `from`; queues a replot.
void styleChart(QCustomPlot *plot, const QWidget *from);

} // namespace distillery::widgets
