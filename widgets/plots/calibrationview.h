#pragma once

// Reliability diagram of the student (and the teacher, when the run has one) at one evaluation.
//
// The trainer stores, at every evaluation, 15 equal-width confidence bins (b/15, (b+1)/15] as
// three token_diagnostics arrays (sample 0): calibration/<who>/count, .../confidence (mean
// max-probability of the bin's tokens) and .../accuracy (share of them whose argmax was the
// label), <who> = student | teacher. The diagram plots accuracy against confidence for the
// non-empty bins; a curve below the diagonal is over-confident, above it under-confident.
// The reference run's bins also show as faint bars: the share of the evaluation's tokens in
// each bin, so that a large gap in a nearly empty bin reads as such.
//
// ECE = Σ_b (n_b / N) |acc_b − conf_b| (Guo et al. 2017, "On Calibration of Modern Neural
// Networks"); the legend takes it from the scalar eval/calibration/<who>/ece of that step, or
// computes it from the bins when the scalar is missing.
//
// The step selector runs over the evaluations of the reference run: the first selected run
// that has calibration bins. Other runs are overlaid at their latest evaluation at or before
// the selected step.

#include "plots/calibrationdata.h"
#include "plots/diagnosticview.h"

#include <QString>

#include <map>
#include <vector>

class QCustomPlot;
class QLabel;
class QStackedWidget;

namespace distillery::widgets {

class CalibrationView : public DiagnosticView
{
    Q_OBJECT

public:
    static constexpr int kBins = kCalibrationViewBins;

    explicit CalibrationView(QWidget *parent = nullptr);
    ~CalibrationView() override;

    void refresh(const QList<core::RunId> &runs, const QHash<core::RunId, QString> &names) override;
    void clear() override;
    bool hasData() const override;
    // "run,who,step,bin,lower,upper,count,confidence,accuracy": all 15 bins of every curve
    // shown (empty bins included, with confidence and accuracy 0 as stored); run is the id.
    QString csv() const override;
    QString exportName() const override { return QStringLiteral("calibration"); }
    bool savePng(const QString &path) override;
    bool savePdf(const QString &path) override;

    StepSelector *stepSelector() const { return m_steps; }
    QCustomPlot *customPlot() const { return m_plot; }
    // The run whose evaluations the step selector lists; 0 when none.
    core::RunId referenceRun() const { return m_reference; }
    // Reliability curves drawn now (one per run and who).
    int curveCount() const;
    // who: "student" or "teacher".
    bool hasCurve(core::RunId run, const QString &who) const;
    // The step whose bins a curve shows (-1 when not shown).
    std::int64_t curveStep(core::RunId run, const QString &who) const;
    // The ECE in the curve's legend entry (NaN when not shown).
    double curveEce(core::RunId run, const QString &who) const;
    // The curve's legend text ("" when not shown).
    QString curveLegendText(core::RunId run, const QString &who) const;
    // The empty-state message shown instead of the chart ("" while the chart shows).
    QString emptyText() const;

protected:
    void applyTheme() override;

private:
    struct Curve : ReliabilityBins
    {
        QString legend;
    };
    struct RunState
    {
        std::vector<std::int64_t> steps; // evaluations with student bins, ascending
        Curve student, teacher;
    };

    // Loads every run's curves for the selected step; true when any changed.
    bool loadCurves();
    // Loads the bins of (run, who) at `step` unless they are loaded already; true if changed.
    bool loadCurve(core::RunId run, const QString &who, std::int64_t step, Curve &curve);
    void rebuildChart();
    void placeLegend();
    QString emptyMessage() const;
    const Curve *curve(core::RunId run, const QString &who) const;
    QString runName(core::RunId run) const;

    StepSelector *m_steps = nullptr;
    QCustomPlot *m_plot = nullptr;
    QLabel *m_empty = nullptr;
    QStackedWidget *m_stack = nullptr;

    QList<core::RunId> m_runs;                   // selected runs, in order
    QHash<core::RunId, QString> m_names;
    std::map<core::RunId, RunState> m_state;
    core::RunId m_reference = 0;
};

} // namespace distillery::widgets
