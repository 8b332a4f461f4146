#include "render/svgplot.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <limits>
#include <sstream>

namespace distillery::core::render {

namespace {

// A palette that stays apart in colour and in grey.
const char *const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

const char *colourOf(std::size_t k)
{
    return kColours[k % (sizeof kColours / sizeof *kColours)];
}

std::string label(double v)
{
    std::ostringstream s;
    s << std::setprecision(4) << (std::abs(v) < 1e-12 ? 0.0 : v);
    return s.str();
}

// The data ranges of a chart, padded, and the mapping to pixels of its plot area.
struct Frame
{
    double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
    double W = 720, H = 350, left = 70, right = 20, top = 40, bottom = 50;

    void include(double x, double y)
    {
        if (!std::isfinite(x) || !std::isfinite(y))
            return;
        x0 = std::min(x0, x);
        x1 = std::max(x1, x);
        y0 = std::min(y0, y);
        y1 = std::max(y1, y);
    }
    bool empty() const { return !std::isfinite(x0); }
    void pad(bool padX)
    {
        if (x1 <= x0)
            x0 -= 0.5, x1 += 0.5;
        else if (padX) {
            const double p = 0.06 * (x1 - x0);
            x0 -= p, x1 += p;
        }
        const double p = y1 > y0 ? 0.05 * (y1 - y0) : std::max(1e-3, 0.05 * std::abs(y0));
        y0 -= p, y1 += p;
    }
    double pw() const { return W - left - right; }
    double ph() const { return H - top - bottom; }
    double px(double x) const { return left + (x - x0) / (x1 - x0) * pw(); }
    double py(double y) const { return top + (1.0 - (y - y0) / (y1 - y0)) * ph(); }

    // The document's head: background, title, grid, ticks, axis labels.
    void open(std::ostringstream &svg, const std::string &title, const std::string &xLabel,
              const std::string &yLabel) const
    {
        svg << std::fixed << std::setprecision(1);
        svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
            << "\" viewBox=\"0 0 " << W << " " << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
            << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
            << "<text x=\"" << W / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">"
            << xmlEscaped(title) << "</text>\n";
        for (const double t : niceTicks(x0, x1, 6))
            svg << "<line x1=\"" << px(t) << "\" y1=\"" << top << "\" x2=\"" << px(t) << "\" y2=\""
                << top + ph() << "\" stroke=\"#e6e6e6\"/>\n<text x=\"" << px(t) << "\" y=\""
                << top + ph() + 16 << "\" text-anchor=\"middle\">" << label(t) << "</text>\n";
        for (const double t : niceTicks(y0, y1, 5))
            svg << "<line x1=\"" << left << "\" y1=\"" << py(t) << "\" x2=\"" << left + pw() << "\" y2=\""
                << py(t) << "\" stroke=\"#e6e6e6\"/>\n<text x=\"" << left - 6 << "\" y=\"" << py(t) + 4
                << "\" text-anchor=\"end\">" << label(t) << "</text>\n";
        svg << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw() << "\" height=\"" << ph()
            << "\" fill=\"none\" stroke=\"#444\"/>\n"
            << "<text x=\"" << left + pw() / 2 << "\" y=\"" << H - 10 << "\" text-anchor=\"middle\">"
            << xmlEscaped(xLabel) << "</text>\n"
            << "<text transform=\"translate(16," << top + ph() / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
            << xmlEscaped(yLabel) << "</text>\n";
    }
};

// "x,y x,y ..." of the finite points of one series; `count` gets how many.
std::string polylinePoints(const Frame &f, const std::vector<double> &x, const std::vector<double> &y,
                           std::size_t *count)
{
    std::ostringstream points;
    points << std::fixed << std::setprecision(1);
    std::size_t n = 0;
    for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i)
        if (std::isfinite(x[i]) && std::isfinite(y[i]))
            points << (n++ ? " " : "") << f.px(x[i]) << "," << f.py(y[i]);
    *count = n;
    return points.str();
}

void drawLine(std::ostringstream &svg, const Frame &f, const PlotSeries &s, const char *colour)
{
    std::size_t n = 0;
    const std::string points = polylinePoints(f, s.x, s.y, &n);
    if (n == 1) {
        const auto comma = points.find(',');
        svg << "<circle cx=\"" << points.substr(0, comma) << "\" cy=\"" << points.substr(comma + 1)
            << "\" r=\"3\" fill=\"" << colour << "\"/>\n";
    } else if (n > 1) {
        svg << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"1.8\" points=\""
            << points << "\"/>\n";
    }
}

// Legend text is cut to this many characters (the full label is the entry's tooltip).
std::string shortLabel(const std::string &text, std::size_t most)
{
    return text.size() <= most ? text : text.substr(0, most - 1) + "…";
}

} // namespace

std::string xmlEscaped(const std::string &text)
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
    Frame f;
    f.top = 56; // the legend is a row of its own between the title and the plot
    for (const auto &s : series)
        for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
            f.include(s.x[i], s.y[i]);
    if (f.empty())
        return {};
    f.pad(false);
    std::ostringstream svg;
    f.open(svg, title, xLabel, yLabel);
    double legendX = f.left;
    for (std::size_t k = 0; k < series.size(); ++k) {
        const auto &s = series[k];
        std::size_t n = 0;
        polylinePoints(f, s.x, s.y, &n);
        if (n == 0)
            continue;
        const char *colour = colourOf(k);
        drawLine(svg, f, s, colour);
        const double ly = f.top - 10;
        svg << "<line x1=\"" << legendX << "\" y1=\"" << ly - 4 << "\" x2=\"" << legendX + 20 << "\" y2=\""
            << ly - 4 << "\" stroke=\"" << colour << "\" stroke-width=\"2.5\"/>\n<text x=\"" << legendX + 26
            << "\" y=\"" << ly << "\">" << xmlEscaped(s.label) << "</text>\n";
        // About 7 px per character at 12 px, and a gap.
        legendX += 26 + 7.0 * double(s.label.size()) + 24;
    }
    svg << "</svg>\n";
    return svg.str();
}

std::string bandChartSvg(const std::string &title, const std::string &xLabel, const std::string &yLabel,
                         const std::vector<PlotSeries> &series)
{
    Frame f;
    f.W = 860;
    f.right = 200; // the legend column
    for (const auto &s : series)
        for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
            f.include(s.x[i], s.y[i]);
            if (i < s.lo.size() && i < s.hi.size()) {
                f.include(s.x[i], s.lo[i]);
                f.include(s.x[i], s.hi[i]);
            }
        }
    if (f.empty())
        return {};
    f.pad(false);
    std::ostringstream svg;
    f.open(svg, title, xLabel, yLabel);
    for (std::size_t k = 0; k < series.size(); ++k) {
        const auto &s = series[k];
        const std::size_t n = std::min({s.x.size(), s.lo.size(), s.hi.size()});
        if (n < 2)
            continue;
        // Upper edge left to right, lower edge back; a gap in the data ends one polygon.
        std::ostringstream upper, lower;
        upper << std::fixed << std::setprecision(1);
        std::vector<std::string> back;
        auto flush = [&] {
            if (back.size() >= 2) {
                std::string pts = upper.str();
                for (auto it = back.rbegin(); it != back.rend(); ++it)
                    pts += " " + *it;
                svg << "<polygon fill=\"" << colourOf(k) << "\" fill-opacity=\"0.18\" stroke=\"none\" points=\""
                    << pts << "\"/>\n";
            }
            upper.str({});
            back.clear();
        };
        for (std::size_t i = 0; i < n; ++i) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.lo[i]) || !std::isfinite(s.hi[i])) {
                flush();
                continue;
            }
            upper << (back.empty() ? "" : " ") << f.px(s.x[i]) << "," << f.py(s.hi[i]);
            std::ostringstream p;
            p << std::fixed << std::setprecision(1) << f.px(s.x[i]) << "," << f.py(s.lo[i]);
            back.push_back(p.str());
        }
        flush();
    }
    double ly = f.top + 12;
    const double lx = f.left + f.pw() + 14;
    for (std::size_t k = 0; k < series.size(); ++k) {
        const char *colour = colourOf(k);
        drawLine(svg, f, series[k], colour);
        if (ly > f.H - 20)
            continue; // more entries than fit: the report's table names them all
        svg << "<g><title>" << xmlEscaped(series[k].label) << "</title><line x1=\"" << lx << "\" y1=\"" << ly - 4
            << "\" x2=\"" << lx + 18 << "\" y2=\"" << ly - 4 << "\" stroke=\"" << colour
            << "\" stroke-width=\"2.5\"/><text x=\"" << lx + 24 << "\" y=\"" << ly << "\">"
            << xmlEscaped(shortLabel(series[k].label, 24)) << "</text></g>\n";
        ly += 18;
    }
    svg << "</svg>\n";
    return svg.str();
}

std::string scatterChartSvg(const std::string &title, const std::string &xLabel, const std::string &yLabel,
                            const std::vector<ScatterPoint> &points)
{
    Frame f;
    for (const auto &p : points)
        f.include(p.x, p.y);
    if (f.empty())
        return {};
    f.pad(true);
    std::ostringstream svg;
    f.open(svg, title, xLabel, yLabel);
    std::vector<const ScatterPoint *> front;
    for (const auto &p : points)
        if (p.highlighted && std::isfinite(p.x) && std::isfinite(p.y))
            front.push_back(&p);
    std::sort(front.begin(), front.end(), [](const ScatterPoint *a, const ScatterPoint *b) {
        return a->x < b->x || (a->x == b->x && a->y < b->y);
    });
    if (front.size() > 1) {
        svg << "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\" points=\"";
        for (std::size_t i = 0; i < front.size(); ++i)
            svg << (i ? " " : "") << f.px(front[i]->x) << "," << f.py(front[i]->y);
        svg << "\"/>\n";
    }
    for (const auto &p : points) {
        if (!std::isfinite(p.x) || !std::isfinite(p.y))
            continue;
        svg << "<g><title>" << xmlEscaped(p.label) << ": " << label(p.x) << ", " << label(p.y)
            << "</title><circle cx=\"" << f.px(p.x) << "\" cy=\"" << f.py(p.y) << "\" r=\"4.5\" "
            << (p.highlighted ? "fill=\"#d62728\" stroke=\"#d62728\"" : "fill=\"white\" stroke=\"#1f77b4\"")
            << " stroke-width=\"1.5\"/><text x=\"" << f.px(p.x) + 7 << "\" y=\"" << f.py(p.y) - 6
            << "\" font-size=\"10\" fill=\"#444\">" << xmlEscaped(shortLabel(p.label, 28)) << "</text></g>\n";
    }
    if (!front.empty())
        svg << "<text x=\"" << f.left + f.pw() << "\" y=\"" << f.top - 8
            << "\" text-anchor=\"end\" fill=\"#d62728\">● Pareto front</text>\n";
    svg << "</svg>\n";
    return svg.str();
}

} // namespace distillery::core::render
