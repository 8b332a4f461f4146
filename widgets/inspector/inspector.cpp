#include "inspector/inspector.h"

#include "distillery/core/compare.h"

#include "export/trydialog.h"
#include "graph/modelfactscache.h"

#include "document/graphdocument.h"

#include "distillery/core/losses.h"

#include <algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include <climits>
#include <cmath>

namespace distillery::widgets {

namespace {

QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}


} // namespace

// --- Inspector ------------------------------------------------------------------------------------

Inspector::Inspector(GraphDocument *document, QWidget *parent)
    : QWidget(parent), m_document(document)
{
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto *scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    outer->addWidget(scroll);
    auto *content = new QWidget(scroll);
    scroll->setWidget(content);
    m_layout = new QVBoxLayout(content);

    m_empty = new QLabel(tr("Select a node to edit its parameters."), content);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_header = new QLabel(content);
    QFont hf = m_header->font();
    hf.setPointSizeF(hf.pointSizeF() * 1.25);
    hf.setBold(true);
    m_header->setFont(hf);
    m_description = new QLabel(content);
    m_description->setWordWrap(true);
    m_title = new QLineEdit(content);
    m_title->setPlaceholderText(tr("Title (used in metric names)"));
    m_error = new QLabel(content);
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color:#d04040"));
    m_error->hide();
    m_form = new QWidget(content);
    m_rows = new QVBoxLayout(m_form);
    m_rows->setContentsMargins(0, 0, 0, 0);
    m_rows->setSpacing(6);
    m_loss = new LossInspectorWidget(content);
    m_model = new QWidget(content);
    {
        auto *modelLayout = new QVBoxLayout(m_model);
        modelLayout->setContentsMargins(0, 0, 0, 0);
        m_modelFacts = new QLabel(m_model);
        m_modelFacts->setWordWrap(true);
        m_modelFacts->setTextInteractionFlags(Qt::TextSelectableByMouse);
        m_tryModel = new QPushButton(tr("Try this model…"), m_model);
        m_tryModel->setToolTip(tr("Generate from a prompt and score it with the teacher's model"));
        modelLayout->addWidget(m_modelFacts);
        modelLayout->addWidget(m_tryModel, 0, Qt::AlignLeft);
    }
    connect(m_tryModel, &QPushButton::clicked, this, [this] {
        const QString path = modelPath();
        if (path.isEmpty())
            return;
        auto *dialog = new TryDialog(path, tr("Try %1").arg(QFileInfo(path).fileName()), this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->show();
    });
    connect(&ModelFactsCache::instance(), &ModelFactsCache::updated, this, [this](const QString &path) {
        if (path == modelPath())
            refreshModelFacts();
    });

    m_layout->addWidget(m_empty);
    m_layout->addWidget(m_header);
    m_layout->addWidget(m_description);
    m_layout->addWidget(m_title);
    m_layout->addWidget(m_error);
    m_layout->addWidget(m_model);
    m_layout->addWidget(m_form);
    m_layout->addWidget(m_loss);
    m_layout->addStretch(1);

    connect(m_title, &QLineEdit::editingFinished, this, [this] {
        if (m_node == core::kInvalidNode || m_updating)
            return;
        auto st = m_document->requestRename(m_node, m_title->text().trimmed().toStdString());
        if (!st.ok())
            showError(st.error().message);
    });
    connect(m_document, &GraphDocument::nodeChanged, this, [this](core::NodeId id) {
        if (id == m_node)
            refreshValues();
    });
    connect(m_document, &GraphDocument::nodeRemoved, this, [this](core::NodeId id) {
        if (id == m_node)
            setNode(core::kInvalidNode);
    });
    connect(m_document, &GraphDocument::graphReset, this, [this] { setNode(core::kInvalidNode); });
    connect(m_document, &GraphDocument::validationChanged, this, [this] { refreshIssues(); });
    rebuild();
}

QWidget *Inspector::editor(const std::string &param) const
{
    return m_editors.value(qs(param), nullptr);
}

void Inspector::setNode(core::NodeId node)
{
    if (node != core::kInvalidNode && !m_document->graph().node(node))
        node = core::kInvalidNode;
    m_node = node;
    rebuild();
}

void Inspector::rebuild()
{
    while (QLayoutItem *item = m_rows->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    m_editors.clear();
    m_issueLabels.clear();
    m_nameLabels.clear();
    m_error->hide();
    const core::Node *n = m_document->graph().node(m_node);
    const core::NodeKindSpec *spec = n ? core::findNodeKind(n->kind) : nullptr;
    m_empty->setVisible(!spec);
    for (QWidget *w : {static_cast<QWidget *>(m_header), static_cast<QWidget *>(m_description),
                       static_cast<QWidget *>(m_title), m_form})
        w->setVisible(spec != nullptr);
    m_loss->setVisible(spec && spec->kind == "Loss");
    m_model->hide();
    if (!spec)
        return;
    m_header->setText(tr("%1 · node %2").arg(qs(spec->kind)).arg(n->id));
    m_description->setText(qs(spec->description));
    for (const auto &param : spec->params) {
        auto *row = new QWidget(m_form);
        auto *rowLayout = new QVBoxLayout(row);
        rowLayout->setContentsMargins(0, 0, 0, 4);
        rowLayout->setSpacing(1);
        QWidget *editor = makeEditor(param);
        auto *line = new QHBoxLayout;
        line->addWidget(editor, 1);
        auto *reset = new QToolButton(row);
        reset->setText(QStringLiteral("↺"));
        reset->setToolTip(tr("Reset to the default (%1)").arg(qs(core::paramValueToString(param.defaultValue))));
        reset->setAutoRaise(true);
        const std::string name = param.name;
        connect(reset, &QToolButton::clicked, this, [this, name] {
            auto st = m_document->requestResetParam(m_node, name);
            if (!st.ok())
                showError(st.error().message);
        });
        line->addWidget(reset);
        if (param.type != core::ParamType::Path && param.type != core::ParamType::String) {
            auto *sweep = new QToolButton(row);
            sweep->setText(QStringLiteral("⋯"));
            sweep->setToolTip(tr("Sweep this parameter: run the graph with several values of it"));
            sweep->setAutoRaise(true);
            connect(sweep, &QToolButton::clicked, this, [this, name] {
                Q_EMIT sweepRequested(QString::fromStdString(core::nodeLabel(m_document->graph(), m_node) + "." + name));
            });
            line->addWidget(sweep);
        }
        rowLayout->addLayout(line);
        auto *issue = new QLabel(row);
        issue->setWordWrap(true);
        issue->setStyleSheet(QStringLiteral("color:#d04040"));
        issue->hide();
        rowLayout->addWidget(issue);
        auto *desc = new QLabel(qs(param.description), row);
        desc->setWordWrap(true);
        QFont f = desc->font();
        f.setPointSizeF(f.pointSizeF() * 0.88);
        desc->setFont(f);
        desc->setForegroundRole(QPalette::PlaceholderText);
        rowLayout->addWidget(desc);
        auto *label = new QLabel(qs(param.name), row);
        label->setToolTip(qs(param.description));
        rowLayout->insertWidget(0, label);
        m_rows->addWidget(row);
        m_editors.insert(qs(param.name), editor);
        m_issueLabels.insert(qs(param.name), issue);
        m_nameLabels.insert(qs(param.name), label);
    }
    refreshValues();
    refreshIssues();
}

QWidget *Inspector::makeEditor(const core::ParamSpec &spec)
{
    const std::string name = spec.name;
    const QString unit = spec.unit.empty() ? QString() : QStringLiteral(" ") + qs(spec.unit);
    switch (spec.type) {
    case core::ParamType::Int: {
        auto *box = new QSpinBox(m_form);
        box->setRange(spec.minimum ? int(std::max<double>(*spec.minimum, INT_MIN)) : INT_MIN,
                      spec.maximum ? int(std::min<double>(*spec.maximum, INT_MAX)) : INT_MAX);
        box->setSuffix(unit);
        box->setKeyboardTracking(false);
        box->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
        connect(box, &QSpinBox::valueChanged, this,
                [this, name](int v) { commit(name, std::int64_t(v)); });
        return box;
    }
    case core::ParamType::Float: {
        auto *box = new QDoubleSpinBox(m_form);
        box->setDecimals(6);
        box->setRange(spec.minimum ? *spec.minimum : -1e12, spec.maximum ? *spec.maximum : 1e12);
        box->setSuffix(unit);
        box->setKeyboardTracking(false);
        box->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
        connect(box, &QDoubleSpinBox::valueChanged, this, [this, name](double v) { commit(name, v); });
        return box;
    }
    case core::ParamType::Bool: {
        auto *box = new QCheckBox(m_form);
        connect(box, &QCheckBox::toggled, this, [this, name](bool v) { commit(name, v); });
        return box;
    }
    case core::ParamType::Enum: {
        auto *box = new QComboBox(m_form);
        for (const auto &c : spec.choices)
            box->addItem(qs(c));
        connect(box, &QComboBox::currentTextChanged, this,
                [this, name](const QString &v) { commit(name, v.toStdString()); });
        return box;
    }
    case core::ParamType::String:
    case core::ParamType::Path: {
        auto *holder = new QWidget(m_form);
        auto *layout = new QHBoxLayout(holder);
        layout->setContentsMargins(0, 0, 0, 0);
        auto *edit = new QLineEdit(holder);
        edit->setObjectName(QStringLiteral("edit"));
        layout->addWidget(edit, 1);
        connect(edit, &QLineEdit::editingFinished, this,
                [this, name, edit] { commit(name, edit->text().toStdString()); });
        if (spec.type == core::ParamType::Path) {
            auto *browse = new QToolButton(holder);
            browse->setText(QStringLiteral("…"));
            browse->setToolTip(tr("Choose a file"));
            layout->addWidget(browse);
            connect(browse, &QToolButton::clicked, this, [this, name, edit] {
                // A Hugging Face model is a folder.
                const bool folder = m_document->graph().paramString(m_node, "source") == "hf";
                const QString file =
                    folder ? QFileDialog::getExistingDirectory(
                                 this, tr("Choose the Hugging Face model folder for %1").arg(qs(name)), edit->text())
                           : QFileDialog::getOpenFileName(
                                 this, tr("Choose a file for %1").arg(qs(name)), edit->text(),
                                 tr("Models and corpora (*.pt *.txt *.jsonl *.json);;All files (*)"));
                if (file.isEmpty())
                    return;
                edit->setText(file);
                commit(name, file.toStdString());
            });
        }
        return holder;
    }
    }
    return new QWidget(m_form);
}

void Inspector::commit(const std::string &param, const core::ParamValue &value)
{
    if (m_updating || m_node == core::kInvalidNode)
        return;
    auto st = m_document->requestSetParam(m_node, param, value);
    if (!st.ok())
        showError(st.error().message);
    else
        m_error->hide();
}

void Inspector::showError(const std::string &message)
{
    m_error->setText(qs(message));
    m_error->show();
    refreshValues(); // the editors show what the graph holds
}

void Inspector::refreshValues()
{
    const core::Node *n = m_document->graph().node(m_node);
    if (!n)
        return;
    m_updating = true;
    {
        QSignalBlocker blockTitle(m_title);
        m_title->setText(qs(n->title));
    }
    const auto &graph = m_document->graph();
    for (auto it = m_editors.begin(); it != m_editors.end(); ++it) {
        const std::string name = it.key().toStdString();
        const core::ParamValue value = graph.param(m_node, name);
        QWidget *w = it.value();
        QSignalBlocker block(w);
        if (auto *box = qobject_cast<QSpinBox *>(w)) {
            if (auto *i = std::get_if<std::int64_t>(&value))
                box->setValue(int(*i));
        } else if (auto *box = qobject_cast<QDoubleSpinBox *>(w)) {
            if (auto *d = std::get_if<double>(&value))
                box->setValue(*d);
            else if (auto *i = std::get_if<std::int64_t>(&value))
                box->setValue(double(*i));
        } else if (auto *box = qobject_cast<QCheckBox *>(w)) {
            if (auto *b = std::get_if<bool>(&value))
                box->setChecked(*b);
        } else if (auto *box = qobject_cast<QComboBox *>(w)) {
            box->setCurrentText(qs(core::paramValueToString(value)));
        } else if (auto *edit = w->findChild<QLineEdit *>(QStringLiteral("edit"))) {
            QSignalBlocker blockEdit(edit);
            edit->setText(qs(core::paramValueToString(value)));
        }
        // Parameters set explicitly (not defaults) are shown in bold.
        if (QLabel *label = m_nameLabels.value(it.key())) {
            QFont f = label->font();
            f.setBold(n->params.count(name) > 0);
            label->setFont(f);
        }
    }
    m_updating = false;
    refreshModelFacts();

    if (n->kind == "Loss") {
        std::map<std::string, double> params;
        params["temperature"] = graph.paramFloat(m_node, "temperature");
        params["beta"] = graph.paramFloat(m_node, "beta");
        params["alpha"] = graph.paramFloat(m_node, "alpha");
        params["label_smoothing"] = graph.paramFloat(m_node, "label_smoothing");
        params["taid_t"] = graph.paramFloat(m_node, "taid_start");
        const std::string kind = graph.paramString(m_node, "kind");
        if (const auto *k = core::findLossKind(kind);
            k && std::count(k->params.begin(), k->params.end(), "top_k"))
            params["top_k"] = double(graph.paramInt(m_node, "top_k"));
        m_loss->setLoss(kind, params);
    }
}

QString Inspector::modelPath() const
{
    const auto &graph = m_document->graph();
    const core::Node *n = graph.node(m_node);
    if (!n || n->kind != "Teacher" || graph.paramString(m_node, "source") == "train")
        return {};
    const std::string path = graph.paramString(m_node, "path");
    return path.empty() ? QString() : qs(graph.resolvePath(path));
}

QString Inspector::modelFactsText() const
{
    return m_model->isHidden() ? QString() : m_modelFacts->text();
}

void Inspector::refreshModelFacts()
{
    const QString path = modelPath();
    m_model->setVisible(!path.isEmpty());
    if (path.isEmpty())
        return;
    const auto entry = ModelFactsCache::instance().lookup(path);
    m_tryModel->setEnabled(entry.state == ModelFactsCache::State::Ready);
    if (entry.state == ModelFactsCache::State::Reading) {
        m_modelFacts->setText(tr("Reading %1…").arg(QFileInfo(path).fileName()));
        return;
    }
    if (entry.state == ModelFactsCache::State::Failed) {
        m_modelFacts->setText(entry.error);
        return;
    }
    const core::ModelFacts &f = entry.facts;
    auto known = [](std::int64_t v) { return v < 0 ? QStringLiteral("?") : QString::number(v); };
    m_modelFacts->setText(tr("%1 (%2)\n%3 parameters · vocabulary %4 · %5 · d %6 · %7 heads · FFN %8 · "
                             "up to %9 tokens")
                              .arg(qs(f.kind), qs(f.architecture))
                              .arg(QLocale().toString(qlonglong(f.parameters)))
                              .arg(f.vocab)
                              .arg(f.layers == 1 ? tr("1 layer") : tr("%1 layers").arg(known(f.layers)),
                                   known(f.hidden), known(f.heads), known(f.ffn),
                                   f.maxLength > 0 ? QString::number(f.maxLength) : tr("any number of")));
}

void Inspector::refreshIssues()
{
    for (QLabel *label : m_issueLabels)
        label->hide();
    if (m_node == core::kInvalidNode)
        return;
    QStringList general;
    for (const auto &issue : m_document->issuesOf(m_node)) {
        if (QLabel *label = m_issueLabels.value(qs(issue.param))) {
            label->setText(qs(issue.message));
            label->show();
        } else {
            general << qs(issue.message);
        }
    }
    m_error->setText(general.join(QStringLiteral("\n")));
    m_error->setVisible(!general.isEmpty());
}

} // namespace distillery::widgets
