#pragma once

// The live plots of one or more runs: tabs of MetricPlots fed by one SeriesCache (one
// read-only store connection), refreshed incrementally by a timer while the panel is visible.
// The Calibration, Alignment, Tokens and Diversity tabs add the diagnostics views
// (diagnosticview.h), refreshed from the same connection.

#include "plots/diagnosticview.h"
#include "plots/metricplot.h"
#include "plots/seriescache.h"
#include "plots/smoothing.h"

#include <QList>
#include <QString>
#include <QWidget>

#include <string>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QTabWidget;
class QTimer;

namespace distillery::widgets {
class AlignmentView;
class CalibrationView;
class DiversityView;
class TokenView;
} // namespace distillery::widgets

namespace distillery::widgets {

class PlotPanel : public QWidget
{
    Q_OBJECT

public:
    explicit PlotPanel(QWidget *parent = nullptr);
    ~PlotPanel() override;

    // The run store to read; it need not exist yet (the panel keeps trying on refresh).
    void setStorePath(const QString &path);
    QString storePath() const;
    // The runs to overlay (stable colour per run id). Reads their points at once.
    void setRuns(const QList<core::RunId> &runs);
    QList<core::RunId> runs() const { return m_runs; }

    // Live: refresh every refreshInterval() ms while the panel is visible.
    void setLive(bool live);
    bool isLive() const { return m_live; }
    void setRefreshInterval(int milliseconds);
    int refreshInterval() const;

    void setSmoothing(SmoothingMode mode, double strength);
    void setLogScale(bool on);
    void setXAxisMode(XAxisMode mode);

    // Plots by name: "loss", "teacher", "eval", "accuracy", "lr", "grad_norm", "throughput",
    // "schedules", "calibration", "brier", "alignment", "agreement", "diversity", "entropy".
    MetricPlot *plot(const QString &name) const;
    QList<MetricPlot *> plots() const;
    QTabWidget *tabs() const { return m_tabs; }
    CalibrationView *calibrationView() const { return m_calibrationView; }
    AlignmentView *alignmentView() const { return m_alignmentView; }
    TokenView *tokenView() const { return m_tokenView; }
    DiversityView *diversityView() const { return m_diversityView; }
    QList<DiagnosticView *> diagnosticViews() const;
    // Which plot shows a metric key ("" if none).
    static QString plotForKey(const std::string &key);
    // Whether the smoothing controls apply to a plot (per-step training series only).
    static bool isSmoothedPlot(const QString &name);

public slots:
    // Reads the rows added since the last refresh, and keys that appeared. Returns the number
    // of points added (pointsAdded is emitted when it is > 0).
    int refresh();

signals:
    void pointsAdded(int count);

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    struct PlotEntry
    {
        QString name;
        MetricPlot *plot = nullptr;
        bool optional = false; // hidden until it has a series
    };

    MetricPlot *addPlot(const QString &name, const QString &title, bool optional);
    void updateTimer();
    void updateStrengthLabel();
    void applySmoothingFromControls();
    void setStatus(const QString &text);
    void refreshViews();

    SeriesCache m_cache;
    QList<core::RunId> m_runs;
    std::vector<PlotEntry> m_plots;
    std::map<core::RunId, double> m_startTimes;
    QTabWidget *m_tabs = nullptr;
    QComboBox *m_smoothingCombo = nullptr;
    QSlider *m_strengthSlider = nullptr;
    QLabel *m_strengthLabel = nullptr;
    QCheckBox *m_logCheck = nullptr;
    QComboBox *m_xAxisCombo = nullptr;
    QLabel *m_statusLabel = nullptr;
    QTimer *m_timer = nullptr;
    bool m_live = false;
    CalibrationView *m_calibrationView = nullptr;
    AlignmentView *m_alignmentView = nullptr;
    TokenView *m_tokenView = nullptr;
    DiversityView *m_diversityView = nullptr;
};

} // namespace distillery::widgets
