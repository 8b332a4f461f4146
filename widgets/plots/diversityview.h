#pragma once

// What the student generates, and whether distillation drifts away from the truth.
//
// Left, the sample browser (samplebrowser.h) at one evaluation of the first selected run that
// has samples; right, the teacher-hacking plot (hackingplot.h) of every selected run. The
// store is read by diversitydata.h.
//
// csv() is one table, "run,series,step,index,value,text", run being the id and step the stored
// step:
//   series = sample:             index and text of each sample at the selected step, value empty;
//   series = kl_oracle_student,
//            kl_teacher_student: one row per evaluation, value = the KL in nats, index and text
//                                empty.

#include "plots/diagnosticview.h"
#include "plots/diversitydata.h"

#include <QString>

#include <map>
#include <string>
#include <vector>

class QCustomPlot;
class QLabel;
class QSplitter;
class QStackedWidget;

namespace distillery::widgets {

class HackingPlot;
class SampleBrowser;

class DiversityView : public DiagnosticView
{
    Q_OBJECT

public:
    explicit DiversityView(QWidget *parent = nullptr);
    ~DiversityView() override;

    // Reads only the rows added since the last call, and the samples of a step when the
    // selected step changes.
    void refresh(const QList<core::RunId> &runs, const QHash<core::RunId, QString> &names) override;
    void clear() override;
    bool hasData() const override;
    QString csv() const override;
    QString exportName() const override { return QStringLiteral("diversity"); }
    // The teacher-hacking plot when it has KL series, the whole view otherwise.
    bool savePng(const QString &path) override;
    bool savePdf(const QString &path) override;

    StepSelector *stepSelector() const;
    QCustomPlot *hackingPlot() const;
    QSplitter *splitter() const { return m_splitter; }
    // The run whose samples are shown (0 when none).
    core::RunId sampleRun() const { return m_sampleRun; }
    int sampleCount() const;
    // The samples as shown: "1  text↵more" per line.
    QString samplesText() const;
    // The selected step's diversity measures as shown, in plain text ("" when none).
    QString statsText() const;

    // series: "oracle" (KL(oracle‖student)) or "teacher" (KL(teacher‖student)).
    // The fit drawn for a run's series (valid false when there is none).
    core::PowerLawFit powerLawFit(core::RunId run, const QString &series) const;
    // Its exponent b (NaN without a valid fit).
    double fitExponent(core::RunId run, const QString &series) const;
    // The fit's legend text ("" when not drawn).
    QString fitLegendText(core::RunId run, const QString &series) const;
    // Points of a run's KL series.
    int klPointCount(core::RunId run, const QString &series) const;
    // The teacher-hacking marker's x (steps done), -1 when the run has none.
    std::int64_t hackingMarkerStep(core::RunId run) const;
    // The plot's empty-state text ("" when it shows KL(oracle‖student) data).
    QString hackingEmptyText() const;
    // The message shown instead of both parts ("" while they show).
    QString emptyText() const;

    // \n → ↵, \t → ⇥, \r → ␍, other C0 controls → U+2400 + c, DEL → ␡.
    static QString visibleControls(const QString &text);

protected:
    void applyTheme() override;

private:
    // Reads the samples of the selected step unless they are loaded; true when it did.
    bool loadSamples();
    void updateStats();
    void rebuildPlot();
    void updateEmptyState();
    QString runName(core::RunId run) const;
    const DiversityRunData *state(core::RunId run) const;

    SampleBrowser *m_browser = nullptr;
    HackingPlot *m_plot = nullptr;
    QSplitter *m_splitter = nullptr;
    QLabel *m_empty = nullptr;
    QStackedWidget *m_stack = nullptr;

    QList<core::RunId> m_runs;
    QHash<core::RunId, QString> m_names;
    std::map<core::RunId, DiversityRunData> m_state;
    core::RunId m_sampleRun = 0;
    std::int64_t m_samplesStep = -1; // step of the samples shown (-1: none loaded)
};

} // namespace distillery::widgets
