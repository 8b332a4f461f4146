#pragma once

// Colours and metrics of the graph canvas, shared by the node, port and edge items. Header
// colours are mid-tone so that white titles read well and the cards sit well on both dark and
// light palettes.

#include "distillery/core/graph.h"

#include <QColor>
#include <QPalette>
#include <QString>

namespace distillery::widgets::graphstyle {

constexpr double kGrid = 20.0;       // grid spacing of the canvas and of snapping
constexpr double kNodeWidth = 220.0; // width of every node card
constexpr double kHeaderHeight = 28.0;
constexpr double kPortRow = 18.0; // vertical distance between ports
constexpr double kPortRadius = 5.5;
constexpr double kCornerRadius = 7.0;
constexpr double kSnapDistance = 20.0; // a dragged edge end snaps to a valid port this close

QColor kindColor(const std::string &kind);
QColor portColor(core::PortType type);
QColor invalidColor();

// True when the palette's window is dark: the canvas picks its card and grid shades from it.
bool isDark(const QPalette &palette);
QColor canvasColor(const QPalette &palette);
QColor cardColor(const QPalette &palette);
QColor cardTextColor(const QPalette &palette);
QColor mutedTextColor(const QPalette &palette);

// Compact numbers for small cards: 0.003 -> "3e-3", 1000 -> "1000", 0.9 -> "0.9".
QString compactNumber(double value);

} // namespace distillery::widgets::graphstyle
