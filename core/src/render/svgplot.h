#pragma once

// Charts as SVG text: axes with round-number ticks, a light grid, a title and a legend that
// never covers the data. Line charts for the model card; band charts (a mean with a shaded
// spread) and scatter plots (with a Pareto front) for comparison reports. They render headless
// and in any browser or Markdown viewer. LibTorch-free.

#include <cstdint>
#include <string>
#include <vector>

namespace distillery::core::render {

struct PlotSeries
{
    std::string label;
    std::vector<double> x, y;  // non-finite points are skipped
    std::vector<double> lo, hi; // a band around y (same length as x), or empty
};

// An SVG document; empty when no series has a finite point. The legend is one row above the plot.
std::string lineChartSvg(const std::string &title, const std::string &xLabel, const std::string &yLabel,
                         const std::vector<PlotSeries> &series);
// Lines with their bands shaded; the legend is a column right of the plot (any number of entries).
std::string bandChartSvg(const std::string &title, const std::string &xLabel, const std::string &yLabel,
                         const std::vector<PlotSeries> &series);

struct ScatterPoint
{
    std::string label; // written beside the point
    double x = 0, y = 0;
    bool highlighted = false; // drawn filled and joined by the front line (a Pareto front)
};
std::string scatterChartSvg(const std::string &title, const std::string &xLabel, const std::string &yLabel,
                            const std::vector<ScatterPoint> &points);

// Round-number ticks covering [lo, hi]: steps of 1, 2 or 5 times a power of ten, about `count`.
std::vector<double> niceTicks(double lo, double hi, int count);

// Text for SVG and HTML: & < > " escaped.
std::string xmlEscaped(const std::string &text);

} // namespace distillery::core::render
