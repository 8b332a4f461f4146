#pragma once

// Median of a sample (0 when empty), for the benchmarks.

#include <algorithm>
#include <vector>

namespace distillery::core::train {

inline double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

} // namespace distillery::core::train
