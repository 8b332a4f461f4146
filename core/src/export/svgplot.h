#pragma once

// Line plots as SVG files for the model card: axes with round-number ticks, a light grid, one
// polyline per series, a legend and a title. Written as text, so they render headless and in
// any Markdown viewer. LibTorch-free.

#include <cstdint>
#include <string>
#include <vector>

namespace distillery::core::exports {

struct PlotSeries
{
    std::string label;
    std::vector<double> x, y; // non-finite points are skipped
};

// An SVG document; empty when no series has a finite point.
std::string lineChartSvg(const std::string &title, const std::string &xLabel, const std::string &yLabel,
                         const std::vector<PlotSeries> &series);

// Round-number ticks covering [lo, hi]: steps of 1, 2 or 5 times a power of ten, about `count`.
std::vector<double> niceTicks(double lo, double hi, int count);

} // namespace distillery::core::exports
