#pragma once

// What the student generates, and whether distillation drifts away from the truth.
//
// Left, the sample browser: the student's continuations of the diversity prompts (temperature
// 1) at one evaluation of the first selected run that has them, one numbered entry per sample,
// with control characters made visible (\n as ↵, \t as ⇥, other C0 controls as their Control
// Pictures), under that evaluation's diversity measures (diag/diversity/...: distinct-1/2/3,
// self-BLEU-4, unique fraction, token entropy, mean length; diversity.h gives the formulas).
//
// Right, the teacher-hacking plot (Tiapkin et al. 2025, "On Teacher Hacking in Language Model
// Distillation"): KL(oracle‖student) and KL(teacher‖student) (eval/kl_oracle_student,
// eval/kl_teacher_student) against optimizer steps done (stored step + 1), both axes
// logarithmic, for every selected run. Each series carries its least-squares power law
// y = a·x^b (fitPowerLaw over all its points), a straight line on these axes whose exponent b
// is in the legend. A run whose trainer flagged teacher hacking (run meta teacher_hacking_step,
// in steps done) gets a vertical marker there. KL(oracle‖student) needs a dataset whose
// generating process is known (an HMM oracle), KL(teacher‖student) a teacher.
//
// csv() is one table, "run,series,step,index,value,text", run being the id and step the stored
// step:
//   series = sample:             index and text of each sample at the selected step, value empty;
//   series = kl_oracle_student,
//            kl_teacher_student: one row per evaluation, value = the KL in nats, index and text
//                                empty.

#include "plots/diagnosticview.h"

#include "distillery/core/diversity.h"

#include <QString>

#include <map>
#include <string>
#include <vector>

class QCustomPlot;
class QLabel;
class QSplitter;
class QStackedWidget;
class QTextEdit;

namespace distillery::widgets {

class DiversityView : public DiagnosticView
{
    Q_OBJECT

public:
    explicit DiversityView(QWidget *parent = nullptr);
    ~DiversityView() override;

    // Keeps `reader` for moves of the step selector until the next refresh() or clear(): the
    // caller keeps it alive that long (PlotPanel's SeriesCache does). Reads only the rows added
    // since the last call, and the samples of a step when the selected step changes.
    void refresh(const core::StoreReader *reader, const QList<core::RunId> &runs,
                 const QHash<core::RunId, QString> &names) override;
    void clear() override;
    bool hasData() const override;
    QString csv() const override;
    QString exportName() const override { return QStringLiteral("diversity"); }
    // The teacher-hacking plot when it has KL series, the whole view otherwise.
    bool savePng(const QString &path) override;
    bool savePdf(const QString &path) override;

    StepSelector *stepSelector() const { return m_steps; }
    QCustomPlot *hackingPlot() const { return m_plot; }
    QSplitter *splitter() const { return m_splitter; }
    // The run whose samples are shown (0 when none).
    core::RunId sampleRun() const { return m_sampleRun; }
    int sampleCount() const { return int(m_samples.size()); }
    // The samples as shown: "1  text↵more" per line.
    QString samplesText() const;
    // The selected step's diversity measures as shown, in plain text ("" when none).
    QString statsText() const { return m_statsPlain; }

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
    QString hackingEmptyText() const { return m_plotNote; }
    // The message shown instead of both parts ("" while they show).
    QString emptyText() const;

    // \n → ↵, \t → ⇥, \r → ␍, other C0 controls → U+2400 + c, DEL → ␡.
    static QString visibleControls(const QString &text);

protected:
    void applyTheme() override;

private:
    struct RunState
    {
        std::map<std::string, std::vector<core::ScalarPoint>> diversity; // by scalar key
        std::vector<core::ScalarPoint> oracle, teacher;
        core::PowerLawFit oracleFit, teacherFit;
        std::int64_t hackingStep = -1; // steps done
        bool metaRead = false;
    };

    // Reads the samples of the selected step unless they are loaded; true when it did.
    bool loadSamples();
    void renderSamples();
    void updateStats();
    void rebuildPlot();
    void updateEmptyState();
    QString runName(core::RunId run) const;
    const RunState *state(core::RunId run) const;

    StepSelector *m_steps = nullptr;
    QLabel *m_header = nullptr;
    QLabel *m_stats = nullptr;
    QTextEdit *m_text = nullptr;
    QLabel *m_samplesEmpty = nullptr;
    QStackedWidget *m_samplesStack = nullptr;
    QCustomPlot *m_plot = nullptr;
    QSplitter *m_splitter = nullptr;
    QLabel *m_empty = nullptr;
    QStackedWidget *m_stack = nullptr;

    const core::StoreReader *m_reader = nullptr; // of the last refresh()
    QList<core::RunId> m_runs;
    QHash<core::RunId, QString> m_names;
    std::map<core::RunId, RunState> m_state;
    core::RunId m_sampleRun = 0;
    std::int64_t m_samplesStep = -1; // step of m_samples (-1: none loaded)
    std::vector<std::string> m_samples;
    QString m_statsPlain;
    QString m_plotNote;
    std::map<std::pair<core::RunId, int>, QString> m_fitLegends; // (run, 0 oracle / 1 teacher)
};

} // namespace distillery::widgets
