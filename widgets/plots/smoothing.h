#pragma once

// Pure functions that prepare a raw series for drawing: smoothing and down-sampling.
// They never touch stored data; views call them on copies, every time they draw.

#include <cstddef>
#include <limits>
#include <vector>

namespace distillery::widgets {

enum class SmoothingMode { None, Ema, MovingAverage };

// Bias-corrected exponential moving average, as TensorBoard draws it:
//   m_0 = 0,  m_t = w m_{t-1} + (1 - w) x_t,  s_t = m_t / (1 - w^t)
// where t counts the finite values seen so far. Non-finite values are skipped (they stay NaN in
// the output and do not advance t). `weight` is clamped to [0, 1); weight 0 returns the input.
std::vector<double> emaSmooth(const std::vector<double> &values, double weight);

// Centred moving average: s_i = mean of the finite x_j with |j - i| <= window / 2, cut at the
// ends of the series (so the ends average fewer points). An even window is treated as
// window + 1. A NaN x_i stays NaN (a gap stays a gap). window <= 1 returns the input.
std::vector<double> movingAverage(const std::vector<double> &values, int window);

// One slider value `strength` in [0, 1] for both modes: EMA weight = min(strength, 0.999);
// moving-average window = 1 + 2 * round(100 * strength) points.
double emaWeightForStrength(double strength);
int movingAverageWindowForStrength(double strength);
std::vector<double> smoothSeries(const std::vector<double> &values, SmoothingMode mode,
                                 double strength);

// Indices into (x, y) chosen for drawing.
struct DownsampledSeries
{
    std::vector<double> x;
    std::vector<double> y;
};

// Min/max down-sampling for drawing only. `x` must be ascending. Points with x in
// [xFrom, xTo] plus one neighbour on each side (so lines reach the edges of the view) are split
// into `buckets` equal x intervals; each bucket contributes its minimum and maximum y (in x
// order), so spikes survive. The first and last point of that range are always kept. A bucket
// that holds only NaN contributes one NaN so that gaps stay visible. If the range already has
// at most 2 * buckets + 2 points it is returned unchanged. Result size <= 2 * buckets + 2.
DownsampledSeries downsampleMinMax(const std::vector<double> &x, const std::vector<double> &y,
                                   int buckets,
                                   double xFrom = -std::numeric_limits<double>::infinity(),
                                   double xTo = std::numeric_limits<double>::infinity());

} // namespace distillery::widgets
