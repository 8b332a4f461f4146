#pragma once

// One QCustomPlot chart of several scalar series, possibly from several runs. The raw points
// are kept whole; what QCustomPlot draws is smoothed and then min/max down-sampled to about two
// points per pixel of the visible x range (re-done when the range changes), so a series of
// 100k points draws as fast as one of 2k.

#include "plots/seriescache.h"
#include "plots/smoothing.h"

#include <QColor>
#include <QHash>
#include <QString>
#include <QWidget>

#include <memory>
#include <vector>

class QCustomPlot;
class QCPGraph;
class QCPItemTracer;
class QCPTextElement;
class QCPAbstractLegendItem;
class QCPLegend;
class QMouseEvent;

namespace distillery::widgets {

class MetricPlot : public QWidget
{
    Q_OBJECT

public:
    explicit MetricPlot(const QString &title = {}, QWidget *parent = nullptr);
    ~MetricPlot() override;

    void setTitle(const QString &title);
    QString title() const { return m_title; }

    // Display name of a run in the legend and the tooltip ("run <id>" until set).
    void setRunName(core::RunId run, const QString &name);
    // Replaces the raw points of series (run, key), adding the series if it is new. x is
    // computed from steps, wall times (seconds since `startTime`) or tokens (step *
    // `tokensPerStep`) according to xAxisMode().
    void setSeriesData(core::RunId run, const QString &key, const SeriesData &data,
                       double startTime = 0.0, double tokensPerStep = 0.0);
    void removeRun(core::RunId run);
    void clearSeries();
    int seriesCount() const { return static_cast<int>(m_series.size()); }
    bool hasSeries(core::RunId run, const QString &key) const;

    // Hidden series stay in the legend, greyed; clicking a legend entry toggles this.
    void setSeriesVisible(core::RunId run, const QString &key, bool visible);
    bool isSeriesVisible(core::RunId run, const QString &key) const;

    // strength in [0, 1]: EMA weight, or the moving-average window (smoothing.h).
    void setSmoothing(SmoothingMode mode, double strength);
    SmoothingMode smoothingMode() const { return m_smoothing; }
    double smoothingStrength() const { return m_strength; }
    void setLogScale(bool on);
    bool logScale() const { return m_logScale; }
    void setXAxisMode(XAxisMode mode);
    XAxisMode xAxisMode() const { return m_xMode; }

    // "run,key,step,wall_time,value" then one row per raw point of every series (run = run id).
    QString valuesCsv() const;
    void copyValuesCsv() const;
    bool savePng(const QString &path, int width = 0, int height = 0);
    bool savePdf(const QString &path, int width = 0, int height = 0);
    // Fits the axes to the data and follows new data again (until the user zooms or pans).
    void resetZoom();

    // Points currently handed to QCustomPlot for the series' main line (-1 if no such series).
    int drawnPointCount(core::RunId run, const QString &key) const;
    // The hover text for the point nearest to `pixel` (widget coordinates of customPlot()),
    // or an empty string when no point is within reach.
    QString hoverText(const QPoint &pixel) const;
    QCustomPlot *customPlot() const { return m_plot; }

    // Stable colour of a run: a fixed palette indexed by run id.
    static QColor runColor(core::RunId run);

protected:
    void changeEvent(QEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    struct Series
    {
        core::RunId run = 0;
        QString key;
        SeriesData data;
        double startTime = 0.0;
        double tokensPerStep = 0.0;
        std::vector<double> x;
        std::vector<double> smoothed;
        QCPGraph *raw = nullptr;  // faint raw values, shown when smoothing
        QCPGraph *line = nullptr; // smoothed (or raw when not smoothing); in the legend
        bool visible = true;
        double yMin = 0.0, yMax = 0.0; // finite raw values
        double yMinPositive = 0.0;     // smallest raw value > 0 (log scale); 0 if none
        bool hasFinite = false;
    };
    struct Nearest
    {
        const Series *series = nullptr;
        std::size_t index = 0;
        double distance = 0.0;
    };

    Series *find(core::RunId run, const QString &key);
    const Series *find(core::RunId run, const QString &key) const;
    void recomputeX(Series &s);
    void recomputeSmoothing(Series &s);
    void applyStyle(Series &s);
    void updateLegendNames();
    void updateDrawnData();
    void fitRanges();
    void placeLegend();
    void setLegendOutside(bool outside);
    void applyTheme();
    void applyXAxis();
    void scheduleReplot();
    Nearest nearest(const QPoint &pixel) const;
    QString runName(core::RunId run) const;
    void onMouseMove(QMouseEvent *event);
    void onLegendClick(QCPLegend *legend, QCPAbstractLegendItem *item, QMouseEvent *event);
    void onContextMenu(const QPoint &pos);
    void onXRangeChanged();

    QCustomPlot *m_plot = nullptr;
    QCPTextElement *m_titleElement = nullptr;
    QCPItemTracer *m_tracer = nullptr;
    QString m_title;
    std::vector<std::unique_ptr<Series>> m_series;
    QHash<core::RunId, QString> m_runNames;
    QStringList m_keyOrder; // line style per key: index in this list
    SmoothingMode m_smoothing = SmoothingMode::Ema;
    double m_strength = 0.6;
    bool m_logScale = false;
    XAxisMode m_xMode = XAxisMode::Step;
    bool m_followData = true; // autoscale on new data until the user zooms or pans
    bool m_settingRange = false;
    bool m_legendOutside = false; // in a column right of the axis rect instead of inside it
};

} // namespace distillery::widgets
