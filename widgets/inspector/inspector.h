#pragma once

// The inspector dock: edits the selected node's title and parameters with editors that fit
// their types and ranges, shows each parameter's description and its validation problem, and
// for a Loss node the loss inspector (value and gradient on two small distributions).

#include "distillery/core/graph.h"

#include <QMap>
#include <QPointer>
#include <QWidget>

class QLabel;
class QLineEdit;
class QVBoxLayout;

namespace distillery::widgets {

class GraphDocument;
class LossInspectorWidget;

class Inspector : public QWidget
{
    Q_OBJECT
public:
    explicit Inspector(GraphDocument *document, QWidget *parent = nullptr);

    core::NodeId node() const { return m_node; }
    // The editor widget of a parameter (tests drive it), or nullptr.
    QWidget *editor(const std::string &param) const;
    LossInspectorWidget *lossInspector() const { return m_loss; }

public Q_SLOTS:
    void setNode(distillery::core::NodeId node);

private:
    void rebuild();
    void refreshValues();
    void refreshIssues();
    QWidget *makeEditor(const core::ParamSpec &spec);
    void commit(const std::string &param, const core::ParamValue &value);
    void showError(const std::string &message);

    GraphDocument *m_document;
    core::NodeId m_node = core::kInvalidNode;
    QVBoxLayout *m_layout = nullptr;
    QLabel *m_header = nullptr;
    QLabel *m_description = nullptr;
    QLineEdit *m_title = nullptr;
    QWidget *m_form = nullptr;
    QVBoxLayout *m_rows = nullptr; // one widget per parameter
    QLabel *m_error = nullptr;
    QLabel *m_empty = nullptr;
    LossInspectorWidget *m_loss = nullptr;
    QMap<QString, QWidget *> m_editors;
    QMap<QString, QLabel *> m_issueLabels;
    QMap<QString, QLabel *> m_nameLabels;
    bool m_updating = false;
};

// Value and gradient of one loss term on two editable logit vectors, with bars for p_T, p_S
// and the gradient (which way the student's logits are pushed).
class LossInspectorWidget : public QWidget
{
    Q_OBJECT
public:
    explicit LossInspectorWidget(QWidget *parent = nullptr);
    void setLoss(const std::string &kind, const std::map<std::string, double> &params);
    void setLogits(const QString &teacher, const QString &student);
    QString resultText() const;
    const std::vector<double> &gradient() const { return m_gradient; }

private:
    void evaluate();

    std::string m_kind;
    std::map<std::string, double> m_params;
    QLineEdit *m_teacher = nullptr;
    QLineEdit *m_student = nullptr;
    QLineEdit *m_label = nullptr;
    QLabel *m_formula = nullptr;
    QLabel *m_result = nullptr;
    class BarChart *m_chart = nullptr;
    std::vector<double> m_gradient;
};

} // namespace distillery::widgets
