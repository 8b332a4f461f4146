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
    m_reader = nullptr;
    m_run = 0;
    m_loadedStep = -1;
    m_steps->setSteps({});
    m_correct.assign(kBins, 0);
    m_incorrect.assign(kBins, 0);
    m_correctCount = m_incorrectCount = 0;
    redraw();
}

void AlignmentView::refresh(const core::StoreReader *reader, const QList<core::RunId> &runs,
                            const QHash<core::RunId, QString> &names)
{
    m_reader = reader;
    const core::RunId run = runs.isEmpty() ? 0 : runs.front();
    if (run != m_run) {
        m_run = run;
        m_loadedStep = -1;
        m_steps->setSteps({});
    }
    m_runName = names.value(run, tr("run %1").arg(run));
    if (!reader || run == 0) {
        if (run == 0)
            load();
        return;
    }
    auto steps = reader->tokenDiagnosticSteps(run, "grad_cosine");
    if (!steps.ok())
        return;
    m_steps->setSteps(steps.value());
    if (m_loadedStep != m_steps->currentStep())
        load();
}

void AlignmentView::load()
{
    m_correct.assign(kBins, 0);
    m_incorrect.assign(kBins, 0);
    m_correctCount = m_incorrectCount = 0;
    double correctSum = 0, incorrectSum = 0;
    const std::int64_t step = m_steps->currentStep();
    m_loadedStep = step;
    if (m_reader && m_run != 0 && step >= 0) {
        for (int sample = 0;; ++sample) {
            auto cosine = m_reader->tokenDiagnostic(m_run, step, sample, "grad_cosine");
            if (!cosine.ok() || cosine.value().empty())
                break;
            auto correct = m_reader->tokenDiagnostic(m_run, step, sample, "student_correct");
            for (std::size_t t = 0; t < cosine.value().size(); ++t) {
                const double c = cosine.value()[t];
                if (!std::isfinite(c))
                    continue;
                const int bin = std::clamp(int(std::floor((c + 1.0) / 2.0 * kBins)), 0, kBins - 1);
                const bool right = correct.ok() && t < correct.value().size() && correct.value()[t] > 0.5;
                if (right) {
                    ++m_correct[std::size_t(bin)];
                    ++m_correctCount;
                    correctSum += c;
                } else {
                    ++m_incorrect[std::size_t(bin)];
                    ++m_incorrectCount;
                    incorrectSum += c;
                }
            }
        }
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    m_correctMean = m_correctCount ? correctSum / m_correctCount : nan;
    m_incorrectMean = m_incorrectCount ? incorrectSum / m_incorrectCount : nan;
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
    for (int b = 0; b < kBins; ++b) {
        keys.append(-1.0 + (b + 0.5) * 2.0 / kBins);
        right.append(m_correct[std::size_t(b)]);
        wrong.append(m_incorrect[std::size_t(b)]);
        top = std::max({top, m_correct[std::size_t(b)], m_incorrect[std::size_t(b)]});
    }
    m_correctBars->setData(keys, right, true);
    m_incorrectBars->setData(keys, wrong, true);
    m_correctBars->setName(tr("student right (%1 tokens, mean %2)")
                               .arg(m_correctCount)
                               .arg(std::isfinite(m_correctMean) ? QString::number(m_correctMean, 'f', 3) : tr("–")));
    m_incorrectBars->setName(tr("student wrong (%1 tokens, mean %2)")
                                 .arg(m_incorrectCount)
                                 .arg(std::isfinite(m_incorrectMean) ? QString::number(m_incorrectMean, 'f', 3) : tr("–")));
    for (auto [line, mean] : {std::pair{m_correctLine, m_correctMean}, std::pair{m_incorrectLine, m_incorrectMean}}) {
        line->setVisible(std::isfinite(mean));
        if (std::isfinite(mean)) {
            line->point1->setCoords(mean, 0);
            line->point2->setCoords(mean, 1);
        }
    }
    m_plot->yAxis->setRange(0, top * 1.15);
    m_title->setText(data ? tr("Per-token gradient alignment — %1, step %2, all probe sequences")
                                .arg(m_runName)
                                .arg(m_loadedStep)
                          : tr("Per-token gradient alignment"));
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

QString AlignmentView::csv() const
{
    QString out = QStringLiteral("run,step,bin_lower,bin_upper,student_right,student_wrong\n");
    for (int b = 0; b < kBins; ++b)
        out += QStringLiteral("%1,%2,%3,%4,%5,%6\n")
                   .arg(m_run)
                   .arg(m_loadedStep)
                   .arg(-1.0 + b * 2.0 / kBins, 0, 'g', 6)
                   .arg(-1.0 + (b + 1) * 2.0 / kBins, 0, 'g', 6)
                   .arg(m_correct[std::size_t(b)])
                   .arg(m_incorrect[std::size_t(b)]);
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
