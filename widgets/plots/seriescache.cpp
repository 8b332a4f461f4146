#include "plots/seriescache.h"

#include "distillery/core/graph.h"

#include <QFileInfo>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace distillery::widgets {

double xValue(XAxisMode mode, std::int64_t step, double wallTime, double startTime,
              double tokensPerStep)
{
    switch (mode) {
    case XAxisMode::WallTime:
        return wallTime - startTime;
    case XAxisMode::Tokens:
        return tokensPerStep > 0 ? static_cast<double>(step) * tokensPerStep
                                 : static_cast<double>(step);
    case XAxisMode::Step:
        break;
    }
    return static_cast<double>(step);
}

std::vector<double> xValues(XAxisMode mode, const SeriesData &data, double startTime,
                            double tokensPerStep)
{
    std::vector<double> xs(data.size());
    for (std::size_t i = 0; i < data.size(); ++i)
        xs[i] = xValue(mode, data.steps[i], data.wallTimes[i], startTime, tokensPerStep);
    return xs;
}

double tokensPerStepFromGraphJson(const std::string &graphJson)
{
    if (graphJson.empty())
        return 0.0;
    auto graph = core::graphFromJson(graphJson, "<run graph>");
    if (!graph.ok())
        return 0.0;
    const auto settings = graph->nodesOfKind("Settings");
    if (settings.empty())
        return 0.0;
    const core::NodeId id = settings.front()->id;
    return static_cast<double>(graph->paramInt(id, "batch_size")) *
           static_cast<double>(graph->paramInt(id, "seq_len"));
}

SeriesCache::~SeriesCache() = default;

void SeriesCache::setStorePath(const QString &path)
{
    m_reader.reset();
    m_path = path;
    m_lastError.clear();
    clear();
}

bool SeriesCache::ensureOpen()
{
    if (m_reader)
        return true;
    if (m_path.isEmpty()) {
        m_lastError = QStringLiteral("No run store chosen.");
        return false;
    }
    // A read-only open of a missing file fails; the trainer may simply not have created it yet.
    if (!QFileInfo::exists(m_path)) {
        m_lastError = QStringLiteral("%1: the run store does not exist yet.").arg(m_path);
        return false;
    }
    auto reader = core::StoreReader::open(m_path.toStdString());
    if (!reader.ok()) {
        m_lastError = QString::fromStdString(reader.error().message);
        return false;
    }
    m_reader = std::move(reader).value();
    m_lastError.clear();
    return true;
}

void SeriesCache::track(core::RunId run, const std::string &key)
{
    m_series.try_emplace(SeriesKey{run, key});
}

void SeriesCache::retainRuns(const std::vector<core::RunId> &runs)
{
    const std::set<core::RunId> keep(runs.begin(), runs.end());
    for (auto it = m_series.begin(); it != m_series.end();)
        it = keep.count(it->first.first) ? std::next(it) : m_series.erase(it);
    for (auto it = m_runs.begin(); it != m_runs.end();)
        it = keep.count(it->first) ? std::next(it) : m_runs.erase(it);
    for (auto it = m_tokensPerStep.begin(); it != m_tokensPerStep.end();)
        it = keep.count(it->first) ? std::next(it) : m_tokensPerStep.erase(it);
}

void SeriesCache::clear()
{
    m_series.clear();
    m_runs.clear();
    m_tokensPerStep.clear();
    m_lastFetchCount = 0;
}

int SeriesCache::refresh(std::vector<SeriesKey> *changed)
{
    m_lastFetchCount = 0;
    if (!ensureOpen())
        return 0;
    // The latest-value table says, without scanning history, which series have new rows.
    std::map<core::RunId, std::map<std::string, core::ScalarPoint>> latestByRun;
    for (const auto &entry : m_series) {
        const core::RunId run = entry.first.first;
        if (latestByRun.count(run))
            continue;
        auto latest = m_reader->latest(run);
        if (!latest.ok()) {
            m_lastError = QString::fromStdString(latest.error().message);
            latestByRun[run] = {};
            continue;
        }
        latestByRun[run] = std::move(latest).value();
    }
    int added = 0;
    for (auto &[id, data] : m_series) {
        const auto &latest = latestByRun[id.first];
        const auto found = latest.find(id.second);
        if (found == latest.end())
            continue;
        const std::int64_t storedLast = found->second.step;
        if (storedLast == data.lastStep())
            continue;
        bool reread = false;
        if (storedLast < data.lastStep()) { // steps were discarded (resume): read it again
            data = SeriesData{};
            reread = true;
        }
        auto rows = m_reader->scalars(id.first, id.second, data.lastStep());
        if (!rows.ok()) {
            m_lastError = QString::fromStdString(rows.error().message);
            continue;
        }
        const auto &points = rows.value();
        for (const core::ScalarPoint &p : points) {
            data.steps.push_back(p.step);
            data.wallTimes.push_back(p.wallTime);
            data.values.push_back(p.value);
        }
        added += static_cast<int>(points.size());
        if ((!points.empty() || reread) && changed)
            changed->push_back(id);
    }
    m_lastFetchCount = added;
    return added;
}

std::vector<std::string> SeriesCache::keys(core::RunId run)
{
    if (!ensureOpen())
        return {};
    auto keys = m_reader->keys(run);
    if (!keys.ok()) {
        m_lastError = QString::fromStdString(keys.error().message);
        return {};
    }
    return std::move(keys).value();
}

std::optional<core::RunInfo> SeriesCache::runInfo(core::RunId run)
{
    const auto found = m_runs.find(run);
    if (found != m_runs.end())
        return found->second;
    return reloadRunInfo(run);
}

std::optional<core::RunInfo> SeriesCache::reloadRunInfo(core::RunId run)
{
    if (!ensureOpen())
        return std::nullopt;
    auto info = m_reader->run(run);
    if (!info.ok()) {
        m_lastError = QString::fromStdString(info.error().message);
        return std::nullopt;
    }
    m_runs[run] = info.value();
    return info.value();
}

const SeriesData *SeriesCache::series(core::RunId run, const std::string &key) const
{
    const auto found = m_series.find(SeriesKey{run, key});
    return found == m_series.end() ? nullptr : &found->second;
}

double SeriesCache::startTime(core::RunId run) const
{
    double start = std::numeric_limits<double>::infinity();
    for (auto it = m_series.lower_bound(SeriesKey{run, std::string()});
         it != m_series.end() && it->first.first == run; ++it) {
        if (!it->second.wallTimes.empty())
            start = std::min(start, it->second.wallTimes.front());
    }
    return std::isfinite(start) ? start : 0.0;
}

double SeriesCache::tokensPerStep(core::RunId run)
{
    const auto cached = m_tokensPerStep.find(run);
    if (cached != m_tokensPerStep.end())
        return cached->second;
    const auto info = runInfo(run);
    if (!info)
        return 0.0;
    const double tokens = tokensPerStepFromGraphJson(info->graphJson);
    m_tokensPerStep[run] = tokens;
    return tokens;
}

std::vector<double> SeriesCache::xValues(core::RunId run, const std::string &key, XAxisMode mode)
{
    const SeriesData *data = series(run, key);
    if (!data)
        return {};
    return widgets::xValues(mode, *data, startTime(run), tokensPerStep(run));
}

} // namespace distillery::widgets
