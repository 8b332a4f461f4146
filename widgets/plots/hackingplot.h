#pragma once

// The teacher-hacking plot (Tiapkin et al. 2025, "On Teacher Hacking in Language Model
// Distillation"): KL(oracle‖student) and KL(teacher‖student) against optimizer steps done
// (the stored step), both axes logarithmic, for every run given. Each series carries its
// least-squares power law y = a·x^b, a straight line on these axes whose exponent is in the
// legend; a run the trainer flagged gets a vertical marker at that step. KL(oracle‖student)
// needs a dataset with an oracle (HMM), KL(teacher‖student) a teacher.

#include "plots/diversitydata.h"

#include <qcustomplot.h>

#include <QHash>
#include <QList>
#include <QString>

#include <map>
#include <utility>

namespace distillery::widgets {

class HackingPlot : public QCustomPlot
{
    Q_OBJECT

public:
    explicit HackingPlot(QWidget *parent = nullptr);

    // Draws the runs, in this order, with their names.
    void setRuns(const QList<core::RunId> &runs, const QHash<core::RunId, QString> &names,
                 const std::map<core::RunId, DiversityRunData> &data);
    // A fit's legend text ("" when not drawn); series 0 = KL(oracle‖student), 1 = teacher.
    QString fitLegendText(core::RunId run, int series) const;
    // The note shown instead of KL(oracle‖student) ("" when that is drawn).
    QString note() const { return m_plotNote; }

protected:
    // Redrawn in the new colours when the palette or font changes.
    void changeEvent(QEvent *event) override;

private:
    QString runName(core::RunId run) const;
    void rebuild();

    QCustomPlot *const m_plot = this;
    QList<core::RunId> m_runs;
    QHash<core::RunId, QString> m_names;
    std::map<core::RunId, DiversityRunData> m_data;
    QString m_plotNote;
    std::map<std::pair<core::RunId, int>, QString> m_fitLegends; // (run, 0 oracle / 1 teacher)
};

} // namespace distillery::widgets
