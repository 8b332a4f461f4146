#include "runs/sweepdialog.h"

#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace distillery::widgets {

using namespace distillery::core;

namespace {

QString qs(const std::string &text)
{
    return QString::fromStdString(text);
}

// Parameters worth sweeping: numbers, switches and choices (not paths or free text).
bool sweepable(const FlatParam &p)
{
    const NodeKindSpec *kind = findNodeKind(p.kind);
    const ParamSpec *spec = kind ? kind->param(p.param) : nullptr;
    return spec && spec->type != ParamType::Path && spec->type != ParamType::String && !isSeedParam(p);
}

} // namespace

SweepDialog::SweepDialog(const Graph &graph, QWidget *parent)
    : QDialog(parent)
    , m_graph(graph)
{
    setWindowTitle(tr("Sweep"));
    for (const FlatParam &p : flattenParams(graph))
        if (sweepable(p))
            m_paramNames << qs(p.name);
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("Vary parameters of this graph; each combination runs once per seed, one run after "
                                "another, as one group. Values: a list <tt>1, 2, 4</tt>, a linear range "
                                "<tt>lin:0.1:0.9:5</tt> or a log range <tt>log:1e-4:1e-2:3</tt> (low, high, count)."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    m_axesLayout = new QVBoxLayout;
    layout->addLayout(m_axesLayout);
    auto *add = new QPushButton(tr("Add parameter"), this);
    auto *addRow = new QHBoxLayout;
    addRow->addWidget(add);
    addRow->addStretch(1);
    layout->addLayout(addRow);

    auto *form = new QFormLayout;
    m_seeds = new QLineEdit(this);
    const auto seed = findParam(graph, "Settings.seed");
    m_seeds->setPlaceholderText(seed.ok() ? tr("the graph's seed (%1)").arg(qs(paramValueToString(seed.value().value)))
                                          : tr("the graph's seed"));
    m_seeds->setToolTip(tr("Seeds every point runs with, e.g. 1, 2, 3: runs that differ only in the seed form a "
                           "group (mean ± std, bands)"));
    form->addRow(tr("Seeds:"), m_seeds);
    auto *modeRow = new QHBoxLayout;
    m_grid = new QRadioButton(tr("Grid (every combination)"), this);
    m_randomMode = new QRadioButton(tr("Random draws:"), this);
    m_grid->setChecked(true);
    m_draws = new QSpinBox(this);
    m_draws->setRange(1, 10000);
    m_draws->setValue(8);
    m_draws->setEnabled(false);
    modeRow->addWidget(m_grid);
    modeRow->addWidget(m_randomMode);
    modeRow->addWidget(m_draws);
    modeRow->addStretch(1);
    form->addRow(tr("Search:"), modeRow);
    m_name = new QLineEdit(this);
    const auto tmpl = graph.meta.find("template");
    m_name->setText((tmpl == graph.meta.end() || tmpl->second.empty() ? tr("sweep") : qs(tmpl->second) + tr(" sweep")) +
                    QStringLiteral(" ") + QDateTime::currentDateTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")));
    m_name->setToolTip(tr("The group of the sweep's runs; each run is named after it and its point"));
    form->addRow(tr("Name:"), m_name);
    layout->addLayout(form);

    m_planList = new QListWidget(this);
    m_planList->setMinimumHeight(160);
    layout->addWidget(m_planList, 1);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    layout->addWidget(m_status);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_queue = buttons->addButton(tr("Queue runs"), QDialogButtonBox::AcceptRole);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(add, &QPushButton::clicked, this, [this] { addAxis({}); });
    connect(m_seeds, &QLineEdit::textChanged, this, &SweepDialog::replan);
    connect(m_name, &QLineEdit::textChanged, this, &SweepDialog::replan);
    connect(m_randomMode, &QRadioButton::toggled, this, [this](bool on) {
        m_draws->setEnabled(on);
        replan();
    });
    connect(m_draws, &QSpinBox::valueChanged, this, &SweepDialog::replan);
    resize(620, 560);
    replan();
}

void SweepDialog::addAxis(const QString &param, const QString &values)
{
    Axis axis;
    axis.row = new QWidget(this);
    auto *line = new QHBoxLayout(axis.row);
    line->setContentsMargins(0, 0, 0, 0);
    axis.param = new QComboBox(axis.row);
    axis.param->setEditable(true);
    axis.param->addItems(m_paramNames);
    axis.param->setMinimumContentsLength(22);
    axis.values = new QLineEdit(axis.row);
    axis.values->setPlaceholderText(tr("1, 2, 4  or  lin:1:4:4  or  log:1e-4:1e-2:3"));
    auto *remove = new QToolButton(axis.row);
    remove->setText(QStringLiteral("✕"));
    remove->setToolTip(tr("Remove this parameter"));
    remove->setAutoRaise(true);
    line->addWidget(axis.param);
    line->addWidget(axis.values, 1);
    line->addWidget(remove);
    const QString name = param.isEmpty() && !m_paramNames.isEmpty() ? m_paramNames.front() : param;
    axis.param->setCurrentText(name);
    QString start = values;
    if (start.isEmpty())
        if (auto found = findParam(m_graph, name.toStdString()); found.ok())
            start = qs(paramValueToString(found.value().value));
    axis.values->setText(start);
    m_axesLayout->addWidget(axis.row);
    QWidget *row = axis.row;
    connect(axis.param, &QComboBox::currentTextChanged, this, &SweepDialog::replan);
    connect(axis.values, &QLineEdit::textChanged, this, &SweepDialog::replan);
    connect(remove, &QToolButton::clicked, this, [this, row] { removeAxis(row); });
    m_axes.push_back(axis);
    axis.values->setFocus();
    replan();
}

void SweepDialog::removeAxis(QWidget *row)
{
    for (auto it = m_axes.begin(); it != m_axes.end(); ++it)
        if (it->row == row) {
            m_axes.erase(it);
            break;
        }
    row->deleteLater();
    replan();
}

void SweepDialog::setAxisValues(int axis, const QString &values)
{
    if (axis >= 0 && axis < int(m_axes.size()))
        m_axes[std::size_t(axis)].values->setText(values);
}

void SweepDialog::setSeeds(const QString &seeds)
{
    m_seeds->setText(seeds);
}

void SweepDialog::setRandom(int draws)
{
    if (draws > 0) {
        m_draws->setValue(draws);
        m_randomMode->setChecked(true);
    } else {
        m_grid->setChecked(true);
    }
    replan();
}

void SweepDialog::setName(const QString &name)
{
    m_name->setText(name);
}

QString SweepDialog::name() const
{
    return m_name->text().trimmed();
}

void SweepDialog::replan()
{
    m_plan.clear();
    m_graphs.clear();
    m_problem.clear();
    m_planList->clear();
    std::vector<SweepAxis> axes;
    auto fail = [this](const QString &why) {
        m_problem = why;
        m_status->setText(QStringLiteral("<span style='color:#c62828'>%1</span>").arg(why.toHtmlEscaped()));
        m_queue->setEnabled(false);
        m_queue->setText(tr("Queue runs"));
    };
    if (m_axes.empty() && m_seeds->text().trimmed().isEmpty())
        return fail(tr("Add a parameter to vary, or seeds to repeat the graph with."));
    for (const Axis &a : m_axes) {
        QString values = a.values->text();
        values.remove(QLatin1Char(' '));
        auto axis = parseSweepAxis(m_graph, (a.param->currentText().trimmed() + QLatin1Char('=') + values).toStdString());
        if (!axis.ok())
            return fail(qs(axis.error().message));
        axes.push_back(std::move(axis).value());
    }
    QString seeds = m_seeds->text();
    seeds.remove(QLatin1Char(' '));
    if (!seeds.isEmpty()) {
        // Named as the graph names it (run.seed in the templates, whose Settings node is "run").
        const auto seedParam = findParam(m_graph, "Settings.seed");
        const std::string seedName = seedParam.ok() ? seedParam.value().name : "Settings.seed";
        auto axis = parseSweepAxis(m_graph, seedName + "=" + seeds.toStdString());
        if (!axis.ok())
            return fail(tr("Seeds: %1").arg(qs(axis.error().message)));
        axes.push_back(std::move(axis).value());
    }
    if (name().isEmpty())
        return fail(tr("Give the sweep a name: its runs are grouped under it."));
    auto plan = planSweep(axes, m_randomMode->isChecked() ? m_draws->value() : 0, 0);
    if (!plan.ok())
        return fail(qs(plan.error().message));
    for (const SweepPoint &p : plan.value()) {
        auto g = applySweepPoint(m_graph, p);
        if (!g.ok())
            return fail(qs(g.error().message));
        if (auto issues = validateGraph(g.value()); !issues.empty())
            return fail(tr("%1: %2").arg(qs(p.label()), qs(issues.front().message)));
        m_graphs.push_back(std::move(g).value());
    }
    m_plan = std::move(plan).value();
    for (std::size_t i = 0; i < m_plan.size(); ++i)
        m_planList->addItem(QStringLiteral("%1  %2").arg(i + 1, 3).arg(qs(m_plan[i].label())));
    const int n = int(m_plan.size());
    m_status->setText((n == 1 ? tr("1 run") : tr("%1 runs").arg(n)) +
                      tr(", trained one after another in the background. Run ▸ Stop All cancels the ones not started "
                         "yet."));
    m_queue->setEnabled(true);
    m_queue->setText(n == 1 ? tr("Queue 1 run") : tr("Queue %1 runs").arg(n));
}

} // namespace distillery::widgets
