#include "export/svgplot.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

namespace distillery::core::exports {

namespace {

// A palette that stays apart in colour and in grey.
const char *const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

std::string escaped(const std::string &text)
{
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string label(double v)
{
    std::ostringstream s;
    s << std::setprecision(4) << (std::abs(v) < 1e-12 ? 0.0 : v);
    return s.str();
}

} // namespace

std::vector<double> niceTicks(double lo, double hi, int count)
{
    std::vector<double> ticks;
    if (!(hi > lo) || count < 1)
        return ticks;
    const double raw = (hi - lo) / count;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    double step = power;
    for (const double m : {1.0, 2.0, 5.0, 10.0})
        if (m * power >= raw) {
            step = m * power;
            break;
        }
    for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
        ticks.push_back(t);
    return ticks;
}

std::string lineChartSvg(const std::string &title, const std::string &xLabel, const std::string &yLabel,
                         const std::vector<PlotSeries> &series)
{
    double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
    for (const auto &s : series)
        for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
            if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
                x0 = std::min(x0, s.x[i]);
                x1 = std::max(x1, s.x[i]);
                y0 = std::min(y0, s.y[i]);
                y1 = std::max(y1, s.y[i]);
            }
    if (!std::isfinite(x0))
        return {};
    if (x1 <= x0)
        x1 = x0 + 1;
    const double pad = y1 > y0 ? 0.05 * (y1 - y0) : std::max(1e-3, 0.05 * std::abs(y0));
    y0 -= pad;
    y1 += pad;
    // The legend is a row of its own between the title and the plot, never over a curve.
    const double W = 720, H = 350, left = 70, right = 20, top = 56, bottom = 50;
    const double pw = W - left - right, ph = H - top - bottom;
    auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
    auto py = [&](double y) { return top + (1.0 - (y - y0) / (y1 - y0)) * ph; };

    std::ostringstream svg;
    svg << std::fixed << std::setprecision(1);
    svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
        << "\" viewBox=\"0 0 " << W << " " << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
        << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        << "<text x=\"" << W / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" << escaped(title)
        << "</text>\n";
    for (const double t : niceTicks(x0, x1, 6))
        svg << "<line x1=\"" << px(t) << "\" y1=\"" << top << "\" x2=\"" << px(t) << "\" y2=\"" << top + ph
            << "\" stroke=\"#e6e6e6\"/>\n<text x=\"" << px(t) << "\" y=\"" << top + ph + 16
            << "\" text-anchor=\"middle\">" << label(t) << "</text>\n";
    for (const double t : niceTicks(y0, y1, 5))
        svg << "<line x1=\"" << left << "\" y1=\"" << py(t) << "\" x2=\"" << left + pw << "\" y2=\"" << py(t)
            << "\" stroke=\"#e6e6e6\"/>\n<text x=\"" << left - 6 << "\" y=\"" << py(t) + 4
            << "\" text-anchor=\"end\">" << label(t) << "</text>\n";
    svg << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
        << "\" fill=\"none\" stroke=\"#444\"/>\n"
        << "<text x=\"" << left + pw / 2 << "\" y=\"" << H - 10 << "\" text-anchor=\"middle\">" << escaped(xLabel)
        << "</text>\n"
        << "<text transform=\"translate(16," << top + ph / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
        << escaped(yLabel) << "</text>\n";
    double legendX = left;
    for (std::size_t k = 0; k < series.size(); ++k) {
        const auto &s = series[k];
        std::ostringstream points;
        points << std::fixed << std::setprecision(1);
        std::size_t n = 0;
        for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
            if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
                points << (n++ ? " " : "") << px(s.x[i]) << "," << py(s.y[i]);
            }
        if (n == 0)
            continue;
        const char *colour = kColours[k % (sizeof kColours / sizeof *kColours)];
        if (n == 1)
            svg << "<circle cx=\"" << points.str().substr(0, points.str().find(',')) << "\" cy=\""
                << points.str().substr(points.str().find(',') + 1) << "\" r=\"3\" fill=\"" << colour << "\"/>\n";
        else
            svg << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"1.8\" points=\""
                << points.str() << "\"/>\n";
        const double ly = top - 10;
        svg << "<line x1=\"" << legendX << "\" y1=\"" << ly - 4 << "\" x2=\"" << legendX + 20 << "\" y2=\"" << ly - 4
            << "\" stroke=\"" << colour << "\" stroke-width=\"2.5\"/>\n<text x=\"" << legendX + 26 << "\" y=\"" << ly
            << "\">" << escaped(s.label) << "</text>\n";
        // About 7 px per character at 12 px, and a gap.
        legendX += 26 + 7.0 * double(s.label.size()) + 24;
    }
    svg << "</svg>\n";
    return svg.str();
}

} // namespace distillery::core::exports
