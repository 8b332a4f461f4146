#pragma once

// The student's continuations of the diversity prompts (temperature 1) at one evaluation, one
// numbered entry per sample with control characters made visible (\n as ↵, \t as ⇥, other C0
// controls as their Control Pictures), under that evaluation's diversity measures
// (diag/diversity/...; diversity.h gives the formulas). A step selector picks the evaluation;
// the owner loads its samples.

#include "plots/diagnosticview.h"
#include "plots/diversitydata.h"

#include <QString>
#include <QWidget>

#include <string>
#include <vector>

class QLabel;
class QStackedWidget;
class QTextEdit;

namespace distillery::widgets {

class SampleBrowser : public QWidget
{
    Q_OBJECT

public:
    explicit SampleBrowser(QWidget *parent = nullptr);

    StepSelector *stepSelector() const { return m_steps; }
    void setSamples(std::vector<std::string> samples);
    const std::vector<std::string> &samples() const { return m_samples; }
    // The measures of `data` at `step` (none when data is null or step < 0), under a header
    // naming the run.
    void setStats(const QString &runName, const DiversityRunData *data, std::int64_t step);
    // Step selector and measures show only when there are evaluations.
    void setHasSteps(bool hasSteps);

    // The samples as shown: "1  text↵more" per line ("" without samples).
    QString samplesText() const;
    // The measures as shown, in plain text ("" when none).
    QString statsText() const { return m_statsPlain; }

    // \n → ↵, \t → ⇥, \r → ␍, other C0 controls → U+2400 + c, DEL → ␡.
    static QString visibleControls(const QString &text);

protected:
    void changeEvent(QEvent *event) override;

private:
    void renderSamples();

    StepSelector *m_steps = nullptr;
    QLabel *m_header = nullptr;
    QLabel *m_stats = nullptr;
    QTextEdit *m_text = nullptr;
    QLabel *m_samplesEmpty = nullptr;
    QStackedWidget *m_samplesStack = nullptr;
    std::vector<std::string> m_samples;
    QString m_statsPlain;
    // What the measures show, to redraw them in another theme.
    QString m_statsRun;
    const DiversityRunData *m_statsData = nullptr;
    std::int64_t m_statsStep = -1;
};

} // namespace distillery::widgets
