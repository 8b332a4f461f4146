#pragma once

// Histogram of the per-token gradient alignment (cosine between the objective's and the ideal
// logit gradient) over every position of every probe sequence at the selected step, split by
// tokens the student predicts right and wrong, with each group's mean.

#include "plots/alignmentdata.h"
#include "plots/diagnosticview.h"

#include <vector>

class QCPBars;
class QCPItemStraightLine;
class QCPTextElement;
class QCustomPlot;
class QLabel;

namespace distillery::widgets {

class AlignmentView : public DiagnosticView
{
    Q_OBJECT

public:
    static constexpr int kBins = 20; // equal width over [−1, 1]

    explicit AlignmentView(QWidget *parent = nullptr);
    ~AlignmentView() override;

    void refresh(const QList<core::RunId> &runs, const QHash<core::RunId, QString> &names) override;
    void clear() override;
    bool hasData() const override { return m_histogram.tokens() > 0; }
    QString csv() const override;
    QString exportName() const override { return QStringLiteral("alignment-histogram"); }
    bool savePng(const QString &path) override;
    bool savePdf(const QString &path) override;

    StepSelector *stepSelector() const { return m_steps; }
    // Counts per bin at the shown step, and the group means (NaN when a group is empty).
    const std::vector<int> &correctCounts() const { return m_histogram.correct; }
    const std::vector<int> &incorrectCounts() const { return m_histogram.incorrect; }
    double correctMean() const { return m_histogram.correctMean; }
    double incorrectMean() const { return m_histogram.incorrectMean; }
    QCustomPlot *chart() const { return m_plot; }

protected:
    void applyTheme() override;

private:
    void load();
    void redraw();

    core::RunId m_run = 0;
    QString m_runName;
    AlignmentHistogram m_histogram; // at the shown step (step -1: none loaded)

    StepSelector *m_steps = nullptr;
    QLabel *m_empty = nullptr;
    QCustomPlot *m_plot = nullptr;
    QCPTextElement *m_title = nullptr;
    QCPBars *m_correctBars = nullptr;
    QCPBars *m_incorrectBars = nullptr;
    QCPItemStraightLine *m_correctLine = nullptr;
    QCPItemStraightLine *m_incorrectLine = nullptr;
};

} // namespace distillery::widgets
