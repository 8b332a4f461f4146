#include "plots/alignmentview.h"

#include <qcustomplot.h>

#include <QLabel>
#include <QVBoxLayout>

#include <cmath>
#include <limits>

namespace distillery::widgets {

namespace {

const QColor kCorrect(0x1b, 0x9e, 0x77);
const QColor kIncorrect(0xd9, 0x5f, 0x02);

} // namespace

AlignmentView::AlignmentView(QWidget *parent)
    : DiagnosticView(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    m_steps = new StepSelector(this);
    layout->addWidget(m_steps);

    m_plot = new QCustomPlot(this);
    m_plot->setMinimumSize(240, 160);
    m_plot->plotLayout()->insertRow(0);
    QFont titleFont = font();
    titleFont.setBold(true);
    m_title = new QCPTextElement(m_plot, tr("Per-token gradient alignment"), titleFont);
    m_title->setMargins(QMargins(0, 6, 0, 0));
    m_plot->plotLayout()->addElement(0, 0, m_title);
    m_plot->xAxis->setLabel(tr("cos(objective gradient, ideal gradient) per token"));
    m_plot->yAxis->setLabel(tr("tokens"));
    m_plot->xAxis->setRange(-1.05, 1.05);

    auto *group = new QCPBarsGroup(m_plot);
    group->setSpacing(0);
    m_correctBars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_incorrectBars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    const double width = 2.0 / kBins / 2.2;
    for (auto [bars, color, name] :
         {std::tuple{m_correctBars, kCorrect, tr("student right")},
          std::tuple{m_incorrectBars, kIncorrect, tr("student wrong")}}) {
        QColor fill = color;
        fill.setAlpha(170);
        bars->setBrush(fill);
        bars->setPen(QPen(color.darker(115), 1));
        bars->setWidth(width);
        bars->setBarsGroup(group);
        bars->setName(name);
    }
    for (auto [line, color] : {std::pair{&m_correctLine, kCorrect}, std::pair{&m_incorrectLine, kIncorrect}}) {
        *line = new QCPItemStraightLine(m_plot);
        (*line)->setPen(QPen(color, 2, Qt::DashLine));
        (*line)->point1->setType(QCPItemPosition::ptPlotCoords);
        (*line)->point2->setType(QCPItemPosition::ptPlotCoords);
        (*line)->setVisible(false);
    }
    m_plot->legend->setVisible(true);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    layout->addWidget(m_plot, 1);

    m_empty = new QLabel(this);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setEnabled(false);
    layout->addWidget(m_empty, 1);

    connect(m_steps, &StepSelector::stepChanged, this, [this] { load(); });
    applyTheme();
    clear();
}

AlignmentView::~AlignmentView() = default;

void AlignmentView::applyTheme()
{
    styleChart(m_plot, this);
}

void AlignmentView::clear()
{
    m_run = 0;
    m_steps->setSteps({});
    m_histogram = loadAlignmentHistogram(nullptr, 0, -1, kBins);
    redraw();
}

void AlignmentView::refresh(const QList<core::RunId> &runs, const QHash<core::RunId, QString> &names)
{
    const core::RunId run = runs.isEmpty() ? 0 : runs.front();
    if (run != m_run) {
        m_run = run;
        m_histogram.step = -1;
        m_steps->setSteps({});
    }
    m_runName = names.value(run, tr("run %1").arg(run));
    const core::StoreReader *reader = store();
    if (!reader || run == 0) {
        if (run == 0)
            load();
        return;
    }
    m_steps->setSteps(alignmentSteps(*reader, run));
    if (m_histogram.step != m_steps->currentStep())
        load();
}

void AlignmentView::load()
{
    m_histogram = loadAlignmentHistogram(store(), m_run, m_steps->currentStep(), kBins);
    redraw();
}

void AlignmentView::redraw()
{
    const bool data = hasData();
    m_plot->setVisible(data);
    m_empty->setVisible(!data);
    m_empty->setText(m_run == 0 ? tr("Select a run to see its gradient alignment.")
                                : tr("No per-token alignment for this run yet: it is written at each "
                                     "evaluation of runs with a teacher (Diagnostics node)."));
    QVector<double> keys, right, wrong;
    int top = 1;
    const auto &h = m_histogram;
    for (int b = 0; b < kBins; ++b) {
        keys.append(-1.0 + (b + 0.5) * 2.0 / kBins);
        right.append(h.correct[std::size_t(b)]);
        wrong.append(h.incorrect[std::size_t(b)]);
        top = std::max({top, h.correct[std::size_t(b)], h.incorrect[std::size_t(b)]});
    }
    m_correctBars->setData(keys, right, true);
    m_incorrectBars->setData(keys, wrong, true);
    m_correctBars->setName(tr("student right (%1 tokens, mean %2)")
                               .arg(h.correctCount)
                               .arg(std::isfinite(h.correctMean) ? QString::number(h.correctMean, 'f', 3) : tr("–")));
    m_incorrectBars->setName(tr("student wrong (%1 tokens, mean %2)")
                                 .arg(h.incorrectCount)
                                 .arg(std::isfinite(h.incorrectMean) ? QString::number(h.incorrectMean, 'f', 3) : tr("–")));
    for (auto [line, mean] : {std::pair{m_correctLine, h.correctMean}, std::pair{m_incorrectLine, h.incorrectMean}}) {
        line->setVisible(std::isfinite(mean));
        if (std::isfinite(mean)) {
            line->point1->setCoords(mean, 0);
            line->point2->setCoords(mean, 1);
        }
    }
    m_plot->yAxis->setRange(0, top * 1.15);
    m_title->setText(data ? tr("Per-token gradient alignment — %1, step %2, all probe sequences")
                                .arg(m_runName)
                                .arg(h.step)
                          : tr("Per-token gradient alignment"));
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

QString AlignmentView::csv() const
{
    QString out = QStringLiteral("run,step,bin_lower,bin_upper,student_right,student_wrong\n");
    for (int b = 0; b < kBins; ++b)
        out += QStringLiteral("%1,%2,%3,%4,%5,%6\n")
                   .arg(m_run)
                   .arg(m_histogram.step)
                   .arg(-1.0 + b * 2.0 / kBins, 0, 'g', 6)
                   .arg(-1.0 + (b + 1) * 2.0 / kBins, 0, 'g', 6)
                   .arg(m_histogram.correct[std::size_t(b)])
                   .arg(m_histogram.incorrect[std::size_t(b)]);
    return out;
}

bool AlignmentView::savePng(const QString &path)
{
    return m_plot->savePng(path, 0, 0, 2.0);
}

bool AlignmentView::savePdf(const QString &path)
{
    return m_plot->savePdf(path);
}

} // namespace distillery::widgets
