#pragma once

// Incremental reader of scalar series for the plots. One read-only StoreReader connection per
// cache (one cache per panel). For every (run, key) it keeps the points read so far; refresh()
// fetches only rows after the last step it has (the live tail).

#include "distillery/core/store.h"

#include <QString>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace distillery::widgets {

enum class XAxisMode { Step, WallTime, Tokens };

// The raw points of one series, in step order. Never down-sampled.
struct SeriesData
{
    std::vector<std::int64_t> steps;
    std::vector<double> wallTimes;
    std::vector<double> values;
    std::size_t size() const { return steps.size(); }
    std::int64_t lastStep() const { return steps.empty() ? -1 : steps.back(); }
};

// x of one point: the step; seconds since `startTime` (the run's first point); or tokens seen,
// step * tokensPerStep (falls back to the step when tokensPerStep is unknown, i.e. <= 0).
double xValue(XAxisMode mode, std::int64_t step, double wallTime, double startTime,
              double tokensPerStep);
std::vector<double> xValues(XAxisMode mode, const SeriesData &data, double startTime,
                            double tokensPerStep);

// batch_size * seq_len of the Settings node of a graph JSON (as stored in runs.graph_json);
// 0 when the JSON cannot be parsed.
double tokensPerStepFromGraphJson(const std::string &graphJson);

class SeriesCache
{
public:
    using SeriesKey = std::pair<core::RunId, std::string>;

    SeriesCache() = default;
    ~SeriesCache();
    SeriesCache(const SeriesCache &) = delete;
    SeriesCache &operator=(const SeriesCache &) = delete;

    // Drops the connection and every cached point. The file need not exist yet: the cache
    // (re)tries to open it on each refresh until it can.
    void setStorePath(const QString &path);
    QString storePath() const { return m_path; }
    bool isOpen() const { return m_reader != nullptr; }
    // Opens the reader if it is not open yet; false (and lastError()) if it cannot.
    bool ensureOpen();
    QString lastError() const { return m_lastError; }
    // The open connection (null until ensureOpen() succeeds), for views that read more than
    // scalar series.
    const core::StoreReader *reader() const { return m_reader.get(); }

    // Asks for a series; its points arrive with the next refresh().
    void track(core::RunId run, const std::string &key);
    // Forgets every series of runs not in `runs`.
    void retainRuns(const std::vector<core::RunId> &runs);
    void clear();

    // Fetches the rows after the last cached step of every tracked series. Returns the number
    // of points added; `changed` (optional) receives the series that got points or were
    // re-read. A series whose stored last step went below the cached one (a resumed run that
    // discarded steps) is read again from the start.
    int refresh(std::vector<SeriesKey> *changed = nullptr);
    // Points fetched by the last refresh() (0 if it fetched nothing or could not open the file).
    int lastFetchCount() const { return m_lastFetchCount; }

    // Keys stored for a run, read from the store now (empty if it cannot be read).
    std::vector<std::string> keys(core::RunId run);
    // The run's row, read once and then cached (nullopt when it cannot be read).
    std::optional<core::RunInfo> runInfo(core::RunId run);
    // Re-reads the run's row (status, name, last step).
    std::optional<core::RunInfo> reloadRunInfo(core::RunId run);

    const SeriesData *series(core::RunId run, const std::string &key) const;
    // Wall time of the earliest point cached for the run (0 when none).
    double startTime(core::RunId run) const;
    // batch_size * seq_len of the run's graph, 0 when unknown.
    double tokensPerStep(core::RunId run);
    // x coordinates of a cached series in the given mode (empty if not cached).
    std::vector<double> xValues(core::RunId run, const std::string &key, XAxisMode mode);

private:
    std::unique_ptr<core::StoreReader> m_reader;
    QString m_path;
    QString m_lastError;
    std::map<SeriesKey, SeriesData> m_series;
    std::map<core::RunId, core::RunInfo> m_runs;
    std::map<core::RunId, double> m_tokensPerStep;
    int m_lastFetchCount = 0;
};

} // namespace distillery::widgets
