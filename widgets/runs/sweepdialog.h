#pragma once

// Sweep… : parameters of the graph to vary (a list of values, a linear or a log range each),
// the seeds every point runs with, grid or N random draws, and the sweep's name (the group its
// runs belong to). The plan is recomputed and checked as the user types (core::planSweep, the
// graph's own validation) and listed run by run; Queue starts nothing itself: the window
// queues the graphs on the training controller.

#include "distillery/core/compare.h"
#include "distillery/core/graph.h"

#include <QDialog>
#include <QList>

#include <vector>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QRadioButton;
class QSpinBox;
class QVBoxLayout;

namespace distillery::widgets {

class SweepDialog : public QDialog
{
    Q_OBJECT
public:
    explicit SweepDialog(const core::Graph &graph, QWidget *parent = nullptr);

    // A parameter to vary (`kd.temperature`) and its values as typed ("1, 2, 4", "lin:1:4:4",
    // "log:1e-4:1e-2:3"); empty values start from the graph's current value.
    void addAxis(const QString &param, const QString &values = {});
    int axisCount() const { return int(m_axes.size()); }
    void setAxisValues(int axis, const QString &values);
    // Seeds each point runs with ("1, 2, 3"); empty: the graph's own seed only.
    void setSeeds(const QString &seeds);
    // 0: every combination; N > 0: N random draws of the parameters, each with every seed.
    void setRandom(int draws);
    void setName(const QString &name);
    QString name() const;

    // The plan as it stands (empty when problem() says why).
    const std::vector<core::SweepPoint> &plan() const { return m_plan; }
    QString problem() const { return m_problem; }
    // The graph of every point, in plan order (valid when problem() is empty).
    const std::vector<core::Graph> &graphs() const { return m_graphs; }
    QListWidget *planList() const { return m_planList; }
    QPushButton *queueButton() const { return m_queue; }

private:
    struct Axis
    {
        QWidget *row = nullptr;
        QComboBox *param = nullptr;
        QLineEdit *values = nullptr;
    };
    void replan();
    void removeAxis(QWidget *row);

    core::Graph m_graph;
    std::vector<Axis> m_axes;
    QVBoxLayout *m_axesLayout = nullptr;
    QStringList m_paramNames;
    QLineEdit *m_seeds = nullptr;
    QRadioButton *m_grid = nullptr;
    QRadioButton *m_randomMode = nullptr;
    QSpinBox *m_draws = nullptr;
    QLineEdit *m_name = nullptr;
    QListWidget *m_planList = nullptr;
    QLabel *m_status = nullptr;
    QPushButton *m_queue = nullptr;
    std::vector<core::SweepPoint> m_plan;
    std::vector<core::Graph> m_graphs;
    QString m_problem;
};

} // namespace distillery::widgets
