#pragma once

// The comparison of two or more runs (core/compare.h), as tabs:
//   Config    one column per run, one row per graph parameter ("only differences" on by
//             default), cells that differ from the chosen reference run highlighted, and the
//             structural differences (nodes added or removed, edges rewired) listed below;
//   Metrics   rows = groups (or runs), columns = chosen metrics at last / best / min / max,
//             groups as mean ± std (n), sortable, Copy / Save CSV;
//   Curves    one line per group (its mean) with a band (std, min–max or standard error), the
//             individual runs on demand, x by step, time or tokens, and a side list with
//             checkboxes as the legend (it never covers the data);
//   Trade-off a scatter of any two quantities over the runs (parameters, student size, metrics)
//             with the Pareto front marked and each point named on hover;
//   Parallel  parallel coordinates for sweeps: one vertical axis per differing parameter and
//             one for a metric, each run a line across them coloured by that metric.
// Groups follow "Group by" (auto: the parameters that differ except the seed). Series are read
// on a worker thread with a connection of its own; Export report… writes one HTML file.

#include "distillery/core/compare.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <atomic>
#include <memory>
#include <vector>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QLabel;
class QListWidget;
class QListWidgetItem;
class QMouseEvent;
class QTabWidget;
class QTableWidget;
class QToolButton;

namespace distillery::widgets {

class ComparisonView : public QWidget
{
    Q_OBJECT
public:
    explicit ComparisonView(QWidget *parent = nullptr);
    ~ComparisonView() override;

    // Reads the runs' graphs and summaries (fast: no history); the curves follow on a worker.
    // False, with the reason, when the store or a run cannot be read.
    bool setRuns(const QString &storePath, const QList<qint64> &runIds, QString *error = nullptr);
    QList<qint64> runIds() const;
    QString storePath() const { return m_storePath; }
    const std::vector<core::ComparedRun> &comparedRuns() const { return m_runs; }
    QTabWidget *tabs() const { return m_tabs; }
    // Selects a tab by its name (case-insensitive); false if there is none.
    bool showTab(const QString &name);

    // "auto", "none", "template", "tag", "group", "status" or a parameter name.
    void setGroupBy(const QString &field);
    QString groupBy() const;
    const std::vector<core::RunGroup> &groups() const { return m_groups; }

    // Config tab.
    QTableWidget *configTable() const { return m_configTable; }
    QListWidget *structureList() const { return m_structure; }
    QCheckBox *onlyDifferences() const { return m_onlyDiff; }
    void setReferenceRun(qint64 runId);
    const core::ConfigDiff &configDiff() const { return m_config; }

    // Metrics tab: columns as "KEY:reduce" ("eval/student_nll:best").
    void setMetricColumns(const QStringList &columns);
    QStringList metricColumns() const;
    const core::MetricTable &metricTable() const { return m_table; }
    QTableWidget *metricTableWidget() const { return m_metricTable; }
    QString metricCsv() const { return QString::fromStdString(m_table.csv()); }

    // Curves tab.
    void setCurveMetric(const QString &key);
    QString curveMetric() const;
    void setBand(core::BandKind band);
    void setShowRuns(bool show);
    enum class XAxis { Step, Time, Tokens };
    void setXAxis(XAxis axis);
    struct Curve
    {
        QString label;     // the group's label, or "run N" for an individual run
        bool isRun = false;
        int runs = 0;      // runs in the group
        std::vector<double> x, mean, lo, hi; // lo/hi empty without a band
    };
    // What the Curves tab draws (after the worker delivered; see curvesReady()).
    const std::vector<Curve> &curves() const { return m_curves; }
    bool curvesLoading() const { return m_loading; }
    QCustomPlot *curvePlot() const { return m_curvePlot; }
    QListWidget *curveLegend() const { return m_legend; }
    // "curve,step,mean,low,high" and one line per point of every curve (Copy CSV).
    QString curvesCsv() const;

    // Trade-off tab: quantities as core::runQuantity names them.
    void setScatter(const QString &x, const QString &y);
    struct ScatterPoint
    {
        qint64 run = 0;
        double x = 0, y = 0;
        bool pareto = false;
    };
    const std::vector<ScatterPoint> &scatterPoints() const { return m_points; }
    QString scatterNote() const;
    QCustomPlot *scatterPlot() const { return m_scatterPlot; }
    // The hover text of the scatter point nearest `pixel` (scatter plot coordinates), or "".
    QString scatterHoverText(const QPoint &pixel) const;

    // Parallel tab: the metric the lines end on and are coloured by; the axes as drawn.
    void setParallelMetric(const QString &quantity);
    struct ParallelAxis
    {
        QString name;
        double lo = 0, hi = 0;        // the range the axis spans
        std::vector<double> values;   // one per run (NaN where a run lacks it)
    };
    const std::vector<ParallelAxis> &parallelAxes() const { return m_parallel; }
    QCustomPlot *parallelPlot() const { return m_parallelPlot; }

    // One self-contained HTML file: runs, metric table, config diff, curves and trade-off plot.
    bool exportReport(const QString &path, QString *error = nullptr);

Q_SIGNALS:
    // The curves of the current metric were read and drawn.
    void curvesReady();
    void errorOccurred(const QString &message);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

public:
    struct CurveData; // what the worker read for one metric (comparisonview.cpp)

private:
    void buildConfigTab();
    void buildMetricsTab();
    void buildCurvesTab();
    void buildScatterTab();
    void buildParallelTab();
    void drawParallel();
    void regroup();
    void fillGroupBy();
    void fillConfig();
    void fillMetrics();
    void fillQuantities();
    void loadCurves();
    void drawCurves();
    void drawScatter();
    void onLegendChanged(QListWidgetItem *item);
    void chooseColumns();
    void saveMetricCsv();
    void exportReportInteractive();
    void savePlot(QCustomPlot *plot, const QString &what);

    QString m_storePath;
    std::unique_ptr<core::StoreReader> m_reader;
    std::vector<core::ComparedRun> m_runs;
    std::vector<core::RunGroup> m_groups;
    core::ConfigDiff m_config;
    core::MetricTable m_table;
    std::vector<core::MetricColumn> m_columns;
    std::vector<Curve> m_curves;
    std::vector<ScatterPoint> m_points;
    QString m_scatterNote;
    bool m_loading = false;
    std::string m_curveKey;                // the metric m_curveData holds
    std::unique_ptr<CurveData> m_curveData; // kept for redrawing with other band, x or smoothing
    std::shared_ptr<std::atomic<int>> m_generation; // the worker's result is dropped when stale

    QLabel *m_summary = nullptr;
    QComboBox *m_groupBy = nullptr;
    QTabWidget *m_tabs = nullptr;
    QTableWidget *m_configTable = nullptr;
    QCheckBox *m_onlyDiff = nullptr;
    QComboBox *m_reference = nullptr;
    QListWidget *m_structure = nullptr;
    QTableWidget *m_metricTable = nullptr;
    QComboBox *m_reduce = nullptr;
    QToolButton *m_columnsButton = nullptr;
    QComboBox *m_curveMetric = nullptr;
    QComboBox *m_band = nullptr;
    QComboBox *m_xAxis = nullptr;
    QCheckBox *m_showRuns = nullptr;
    QCheckBox *m_smooth = nullptr;
    QCustomPlot *m_curvePlot = nullptr;
    QListWidget *m_legend = nullptr;
    QLabel *m_curveStatus = nullptr;
    QComboBox *m_scatterX = nullptr;
    QComboBox *m_scatterY = nullptr;
    QCustomPlot *m_scatterPlot = nullptr;
    QLabel *m_scatterStatus = nullptr;
    QStringList m_hiddenCurves;
    QComboBox *m_parallelMetric = nullptr;
    QCustomPlot *m_parallelPlot = nullptr;
    QLabel *m_parallelStatus = nullptr;
    std::vector<ParallelAxis> m_parallel;
};

} // namespace distillery::widgets
