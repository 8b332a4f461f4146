#pragma once

// The inspector dock: edits the selected node's title and parameters with editors that fit
// their types and ranges, shows each parameter's description and its validation problem, and
// for a Loss node the loss inspector (value and gradient on two small distributions).

#include "distillery/core/graph.h"

#include <QMap>
#include <QPointer>
#include "inspector/lossinspectorwidget.h"

#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QVBoxLayout;

namespace distillery::widgets {

class GraphDocument;

class Inspector : public QWidget
{
    Q_OBJECT
public:
    explicit Inspector(GraphDocument *document, QWidget *parent = nullptr);

    core::NodeId node() const { return m_node; }
    // The editor widget of a parameter (tests drive it), or nullptr.
    QWidget *editor(const std::string &param) const;
    LossInspectorWidget *lossInspector() const { return m_loss; }
    // For a Teacher backed by a file: what the file holds, and "Try this model…".
    QString modelFactsText() const;
    QPushButton *tryModelButton() const { return m_tryModel; }

public Q_SLOTS:
    void setNode(distillery::core::NodeId node);

Q_SIGNALS:
    // "Sweep this…" beside a parameter: `param` as sweeps name it (kd.temperature).
    void sweepRequested(const QString &param);

private:
    void rebuild();
    void refreshValues();
    void refreshIssues();
    QWidget *makeEditor(const core::ParamSpec &spec);
    void commit(const std::string &param, const core::ParamValue &value);
    void showError(const std::string &message);
    void refreshModelFacts();
    QString modelPath() const; // the selected file-backed Teacher's file, resolved; empty otherwise

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
    QWidget *m_model = nullptr; // facts and "Try this model…" of a file-backed Teacher
    QLabel *m_modelFacts = nullptr;
    QPushButton *m_tryModel = nullptr;
    QMap<QString, QWidget *> m_editors;
    QMap<QString, QLabel *> m_issueLabels;
    QMap<QString, QLabel *> m_nameLabels;
    bool m_updating = false;
};

} // namespace distillery::widgets
