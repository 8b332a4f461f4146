#pragma once

// Histogram of the per-token gradient alignment (cosine between the objective's and the ideal
// logit gradient) over every position of every probe sequence at the selected step, split by
// tokens the student predicts right and wrong, with each group's mean.

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

    void refresh(const core::StoreReader *reader, const QList<core::RunId> &runs,
                 const QHash<core::RunId, QString> &names) override;
    void clear() override;
    bool hasData() const override { return m_correctCount + m_incorrectCount > 0; }
    QString csv() const override;
    QString exportName() const override { return QStringLiteral("alignment-histogram"); }
    bool savePng(const QString &path) override;
    bool savePdf(const QString &path) override;

    StepSelector *stepSelector() const { return m_steps; }
    // Counts per bin at the shown step, and the group means (NaN when a group is empty).
    const std::vector<int> &correctCounts() const { return m_correct; }
    const std::vector<int> &incorrectCounts() const { return m_incorrect; }
    double correctMean() const { return m_correctMean; }
    double incorrectMean() const { return m_incorrectMean; }
    QCustomPlot *chart() const { return m_plot; }

protected:
    void applyTheme() override;

private:
    void load();
    void redraw();

    const core::StoreReader *m_reader = nullptr;
    core::RunId m_run = 0;
    QString m_runName;
    std::int64_t m_loadedStep = -1;
    std::vector<int> m_correct, m_incorrect;
    int m_correctCount = 0, m_incorrectCount = 0;
    double m_correctMean = 0, m_incorrectMean = 0;

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
