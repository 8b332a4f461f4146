#include "plots/smoothing.h"

#include <algorithm>
#include <cmath>

namespace distillery::widgets {

std::vector<double> emaSmooth(const std::vector<double> &values, double weight)
{
    const double w = std::clamp(weight, 0.0, 0.999999);
    std::vector<double> out(values.size(), std::numeric_limits<double>::quiet_NaN());
    double m = 0.0;
    double wPowT = 1.0; // w^t
    for (std::size_t i = 0; i < values.size(); ++i) {
        const double x = values[i];
        if (!std::isfinite(x))
            continue;
        m = w * m + (1.0 - w) * x;
        wPowT *= w;
        out[i] = m / (1.0 - wPowT);
    }
    return out;
}

std::vector<double> movingAverage(const std::vector<double> &values, int window)
{
    if (window <= 1)
        return values;
    const std::ptrdiff_t half = window / 2;
    const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(values.size());
    // Prefix sums over finite values, and how many there were.
    std::vector<double> sum(values.size() + 1, 0.0);
    std::vector<std::ptrdiff_t> count(values.size() + 1, 0);
    for (std::ptrdiff_t i = 0; i < n; ++i) {
        const bool finite = std::isfinite(values[i]);
        sum[i + 1] = sum[i] + (finite ? values[i] : 0.0);
        count[i + 1] = count[i] + (finite ? 1 : 0);
    }
    std::vector<double> out(values.size(), std::numeric_limits<double>::quiet_NaN());
    for (std::ptrdiff_t i = 0; i < n; ++i) {
        if (!std::isfinite(values[i]))
            continue;
        const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, i - half);
        const std::ptrdiff_t hi = std::min<std::ptrdiff_t>(n, i + half + 1);
        out[i] = (sum[hi] - sum[lo]) / static_cast<double>(count[hi] - count[lo]);
    }
    return out;
}

double emaWeightForStrength(double strength)
{
    return std::clamp(strength, 0.0, 0.999);
}

int movingAverageWindowForStrength(double strength)
{
    return 1 + 2 * static_cast<int>(std::lround(100.0 * std::clamp(strength, 0.0, 1.0)));
}

std::vector<double> smoothSeries(const std::vector<double> &values, SmoothingMode mode,
                                 double strength)
{
    switch (mode) {
    case SmoothingMode::Ema:
        return emaSmooth(values, emaWeightForStrength(strength));
    case SmoothingMode::MovingAverage:
        return movingAverage(values, movingAverageWindowForStrength(strength));
    case SmoothingMode::None:
        break;
    }
    return values;
}

DownsampledSeries downsampleMinMax(const std::vector<double> &x, const std::vector<double> &y,
                                   int buckets, double xFrom, double xTo)
{
    DownsampledSeries out;
    const std::size_t n = std::min(x.size(), y.size());
    if (n == 0)
        return out;
    // Visible range plus one neighbour on each side.
    std::size_t begin =
        static_cast<std::size_t>(std::lower_bound(x.begin(), x.begin() + n, xFrom) - x.begin());
    std::size_t end =
        static_cast<std::size_t>(std::upper_bound(x.begin(), x.begin() + n, xTo) - x.begin());
    if (begin > 0)
        --begin;
    if (end < n)
        ++end;
    if (end <= begin)
        return out;
    buckets = std::max(1, buckets);
    const std::size_t count = end - begin;
    if (count <= 2 * static_cast<std::size_t>(buckets) + 2) {
        out.x.assign(x.begin() + begin, x.begin() + end);
        out.y.assign(y.begin() + begin, y.begin() + end);
        return out;
    }

    out.x.reserve(2 * buckets + 2);
    out.y.reserve(2 * buckets + 2);
    auto emit = [&](std::size_t i) {
        out.x.push_back(x[i]);
        out.y.push_back(y[i]);
    };
    const double x0 = x[begin];
    const double span = x[end - 1] - x0;
    const double width = span > 0 ? span / buckets : 1.0;

    emit(begin);
    std::size_t i = begin + 1;
    const std::size_t last = end - 1;
    while (i < last) {
        const long bucket = std::min<long>(buckets - 1, static_cast<long>((x[i] - x0) / width));
        std::size_t minIdx = n, maxIdx = n, firstNan = n;
        for (; i < last; ++i) {
            const long b = std::min<long>(buckets - 1, static_cast<long>((x[i] - x0) / width));
            if (b != bucket)
                break;
            const double v = y[i];
            if (!std::isfinite(v)) {
                if (firstNan == n)
                    firstNan = i;
                continue;
            }
            if (minIdx == n || v < y[minIdx])
                minIdx = i;
            if (maxIdx == n || v > y[maxIdx])
                maxIdx = i;
        }
        if (minIdx == n) {
            if (firstNan != n)
                emit(firstNan);
        } else if (minIdx == maxIdx) {
            emit(minIdx);
        } else {
            emit(std::min(minIdx, maxIdx));
            emit(std::max(minIdx, maxIdx));
        }
    }
    emit(last);
    return out;
}

} // namespace distillery::widgets
