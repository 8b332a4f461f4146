#include "plots/tokenview.h"

#include <qcustomplot.h>

#include <QBuffer>
#include <QComboBox>
#include <QEvent>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery::widgets {

namespace {

constexpr int kTop = 5; // TokenAlignment::kTopTokens
const double kNaN = std::numeric_limits<double>::quiet_NaN();

QString fmtValue(double v)
{
    return std::isfinite(v) ? QString::number(v, 'g', 3) : QStringLiteral("–");
}

} // namespace

std::vector<std::pair<std::string, QString>> TokenView::quantities()
{
    return {{"kl", tr("KL(teacher ‖ student)")},
            {"reverse_kl", tr("KL(student ‖ teacher)")},
            {"js", tr("Jensen–Shannon divergence")},
            {"grad_cosine", tr("Gradient alignment (logit space)")},
            {"param_cosine", tr("Gradient alignment (parameter space)")},
            {"top1_agree", tr("Top-1 agreement")},
            {"teacher_entropy", tr("Teacher entropy")},
            {"student_entropy", tr("Student entropy")},
            {"teacher_p_true", tr("Teacher p(true token)")},
            {"student_p_true", tr("Student p(true token)")},
            {"student_correct", tr("Student top-1 correct")}};
}

TokenScale TokenView::scaleFor(const std::string &quantity, const std::vector<double> &values)
{
    TokenScale s;
    if (quantity == "grad_cosine" || quantity == "param_cosine") {
        s.kind = TokenScale::Kind::Diverging;
        s.min = -1;
        s.max = 1;
        return s;
    }
    if (quantity == "top1_agree" || quantity == "teacher_p_true" || quantity == "student_p_true" ||
        quantity == "student_correct") {
        s.kind = TokenScale::Kind::Probability;
        return s;
    }
    s.kind = TokenScale::Kind::Sequential;
    s.min = 0;
    double top = 0;
    for (double v : values)
        if (std::isfinite(v))
            top = std::max(top, v);
    s.max = top > 0 ? top : 1;
    return s;
}

TokenView::TokenView(QWidget *parent)
    : DiagnosticView(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);

    auto *bar = new QHBoxLayout;
    bar->setSpacing(6);
    bar->addWidget(new QLabel(tr("Run"), this));
    m_runCombo = new QComboBox(this);
    m_runCombo->setMinimumContentsLength(14);
    m_runCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    bar->addWidget(m_runCombo);
    bar->addWidget(new QLabel(tr("Probe"), this));
    m_sampleSpin = new QSpinBox(this);
    m_sampleSpin->setRange(0, 0);
    m_sampleSpin->setToolTip(tr("Which probe sequence (validation sequences analysed at every "
                                "evaluation)"));
    bar->addWidget(m_sampleSpin);
    bar->addSpacing(8);
    bar->addWidget(new QLabel(tr("Colour by"), this));
    m_quantityCombo = new QComboBox(this);
    for (const auto &[name, label] : quantities())
        m_quantityCombo->addItem(label, QString::fromStdString(name));
    bar->addWidget(m_quantityCombo);
    bar->addSpacing(8);
    m_modeCombo = new QComboBox(this);
    m_modeCombo->addItem(tr("Text"), int(Mode::Text));
    m_modeCombo->addItem(tr("Heatmap (positions × steps)"), int(Mode::Heatmap));
    bar->addWidget(m_modeCombo);
    bar->addStretch(1);
    layout->addLayout(bar);

    m_steps = new StepSelector(this);
    layout->addWidget(m_steps);

    m_legend = new QLabel(this);
    m_legend->setTextFormat(Qt::RichText);
    m_legend->setWordWrap(true);
    layout->addWidget(m_legend);

    m_stack = new QStackedWidget(this);
    m_scroll = new QScrollArea(m_stack);
    m_scroll->setWidgetResizable(true);
    m_scroll->setFrameShape(QFrame::NoFrame);
    m_strip = new TokenStrip(m_scroll);
    m_strip->setToolTipProvider([this](int j) { return tokenToolTip(j); });
    m_scroll->setWidget(m_strip);
    auto *textPage = new QSplitter(Qt::Vertical, m_stack);
    textPage->setChildrenCollapsible(false);
    textPage->addWidget(m_scroll);
    auto *detailsScroll = new QScrollArea(textPage);
    detailsScroll->setWidgetResizable(true);
    detailsScroll->setFrameShape(QFrame::NoFrame);
    m_details = new QLabel(detailsScroll);
    m_details->setTextFormat(Qt::RichText);
    m_details->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_details->setWordWrap(true);
    m_details->setMargin(6);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    detailsScroll->setWidget(m_details);
    textPage->addWidget(detailsScroll);
    textPage->setStretchFactor(0, 1);
    textPage->setStretchFactor(1, 2);
    m_stack->addWidget(textPage);
    connect(m_strip, &TokenStrip::tokenClicked, this, [this](int j) {
        m_userSelected = true;
        selectToken(j);
    });

    m_heatPlot = new QCustomPlot(m_stack);
    m_heatPlot->setMinimumSize(240, 160);
    m_heatPlot->setMouseTracking(true);
    m_heatPlot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_heatPlot->xAxis->setLabel(tr("position (predicts the token after it)"));
    m_heatPlot->yAxis->setLabel(tr("step"));
    m_colorMap = new QCPColorMap(m_heatPlot->xAxis, m_heatPlot->yAxis);
    m_colorMap->setInterpolate(false);
    m_colorScale = new QCPColorScale(m_heatPlot);
    m_heatPlot->plotLayout()->addElement(0, 1, m_colorScale);
    m_colorScale->setType(QCPAxis::atRight);
    m_colorMap->setColorScale(m_colorScale);
    auto *group = new QCPMarginGroup(m_heatPlot);
    m_heatPlot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
    m_colorScale->setMarginGroup(QCP::msBottom | QCP::msTop, group);
    connect(m_heatPlot, &QCustomPlot::mouseMove, this, [this](QMouseEvent *event) {
        const double x = m_heatPlot->xAxis->pixelToCoord(event->pos().x());
        const double y = m_heatPlot->yAxis->pixelToCoord(event->pos().y());
        const int pos = int(std::lround(x)), row = int(std::lround(y));
        const auto &steps = m_steps->steps();
        if (row < 0 || row >= int(steps.size()) || pos < 0) {
            QToolTip::hideText();
            return;
        }
        const auto it = m_heat.find(steps[std::size_t(row)]);
        if (it == m_heat.end() || pos >= int(it->second.size())) {
            QToolTip::hideText();
            return;
        }
        QString token;
        if (pos + 1 < m_probe.labels.size())
            token = tr(", predicting %1").arg(m_probe.labels[pos + 1].toHtmlEscaped());
        QToolTip::showText(event->globalPosition().toPoint(),
                           tr("step %1, position %2%3: <b>%4</b>")
                               .arg(steps[std::size_t(row)])
                               .arg(pos)
                               .arg(token, fmtValue(it->second[std::size_t(pos)])),
                           m_heatPlot);
    });
    m_stack->addWidget(m_heatPlot);
    layout->addWidget(m_stack, 1);

    m_empty = new QLabel(this);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setEnabled(false);
    layout->addWidget(m_empty, 1);

    connect(m_runCombo, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        const core::RunId run = m_runCombo->currentData().toLongLong();
        if (run == m_run)
            return;
        m_run = run;
        m_probe = ProbeTokens{};
        m_loadedStep = -1;
        m_heat.clear();
        m_steps->setSteps({});
        refresh(m_runs, m_names);
    });
    connect(m_sampleSpin, qOverload<int>(&QSpinBox::valueChanged), this, [this] {
        m_userSelected = false;
        loadTokens();
        reloadStep();
        reloadHeatmap();
    });
    connect(m_quantityCombo, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        rebuild();
        reloadHeatmap();
    });
    connect(m_modeCombo, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        m_stack->setCurrentIndex(mode() == Mode::Text ? 0 : 1);
        m_steps->slider()->setEnabled(mode() == Mode::Text && m_steps->steps().size() > 1);
        reloadHeatmap();
        rebuild();
    });
    connect(m_steps, &StepSelector::stepChanged, this, [this] { reloadStep(); });

    applyTheme();
    clear();
}

TokenView::~TokenView() = default;

void TokenView::applyTheme()
{
    styleChart(m_heatPlot, this);
    m_colorScale->axis()->setTickLabelColor(palette().color(QPalette::Text));
    m_colorScale->axis()->setBasePen(QPen(palette().color(QPalette::Text)));
    rebuild();
}

void TokenView::clear()
{
    m_userSelected = false;
    m_run = 0;
    m_runs.clear();
    m_probe = ProbeTokens{};
    m_arrays.clear();
    m_heat.clear();
    m_heatQuantity.clear();
    m_loadedStep = -1;
    m_loadedSample = -1;
    m_sampleCount = 0;
    {
        const QSignalBlocker block(m_runCombo);
        m_runCombo->clear();
    }
    m_steps->setSteps({});
    rebuild();
}

bool TokenView::hasData() const
{
    return !m_probe.labels.isEmpty() && !m_arrays.empty();
}

void TokenView::setQuantity(const std::string &quantity)
{
    const int i = m_quantityCombo->findData(QString::fromStdString(quantity));
    if (i >= 0)
        m_quantityCombo->setCurrentIndex(i);
}

std::string TokenView::quantity() const
{
    return m_quantityCombo->currentData().toString().toStdString();
}

void TokenView::setSample(int sample)
{
    m_sampleSpin->setValue(sample);
}

int TokenView::sample() const
{
    return m_sampleSpin->value();
}

void TokenView::setMode(Mode mode)
{
    m_modeCombo->setCurrentIndex(m_modeCombo->findData(int(mode)));
}

TokenView::Mode TokenView::mode() const
{
    return Mode(m_modeCombo->currentData().toInt());
}

void TokenView::refresh(const QList<core::RunId> &runs, const QHash<core::RunId, QString> &names)
{
    const core::StoreReader *reader = store();
    m_runs = runs;
    m_names = names;
    // The run chooser lists the selected runs; the view keeps its run while it stays selected.
    {
        const QSignalBlocker block(m_runCombo);
        bool same = m_runCombo->count() == runs.size();
        for (int i = 0; same && i < runs.size(); ++i)
            same = m_runCombo->itemData(i).toLongLong() == runs[i] &&
                   m_runCombo->itemText(i) == names.value(runs[i]);
        if (!same) {
            m_runCombo->clear();
            for (core::RunId run : runs)
                m_runCombo->addItem(names.value(run, tr("run %1").arg(run)), qlonglong(run));
        }
        if (!runs.contains(m_run)) {
            m_run = runs.isEmpty() ? 0 : runs.front();
            m_probe = ProbeTokens{};
            m_loadedStep = -1;
            m_heat.clear();
            m_steps->setSteps({});
        }
        m_runCombo->setCurrentIndex(std::max(0, m_runCombo->findData(qlonglong(m_run))));
    }
    if (!reader || m_run == 0) {
        rebuild();
        return;
    }
    const auto steps = tokenDiagnosticSteps(*reader, m_run);
    if (m_probe.ids.empty() || m_sampleCount == 0)
        loadTokens();
    const bool moved = m_steps->setSteps(steps);
    m_steps->slider()->setEnabled(mode() == Mode::Text && m_steps->steps().size() > 1);
    if (moved || m_loadedStep != m_steps->currentStep() || m_loadedSample != sample())
        reloadStep();
    if (mode() == Mode::Heatmap && m_heat.size() != m_steps->steps().size())
        reloadHeatmap();
}

void TokenView::loadTokens()
{
    m_loadedStep = -1;
    m_probe = ProbeTokens{};
    const core::StoreReader *reader = store();
    if (reader && m_run != 0)
        m_probe = loadProbeTokens(*reader, m_run, sample());
    m_sampleCount = m_probe.sampleCount;
    const QSignalBlocker block(m_sampleSpin);
    m_sampleSpin->setRange(0, std::max(0, m_sampleCount - 1));
}

QString TokenView::tokenLabel(std::int64_t id, bool *newline) const
{
    return probeTokenLabel(m_probe, id, newline);
}

void TokenView::reloadStep()
{
    m_arrays.clear();
    const std::int64_t step = m_steps->currentStep();
    m_loadedStep = step;
    m_loadedSample = sample();
    if (const core::StoreReader *reader = store(); reader && m_run != 0) {
        std::vector<std::string> names;
        for (const auto &q : quantities())
            names.push_back(q.first);
        for (const char *top : {"top5/teacher/token", "top5/teacher/prob", "top5/student/token",
                                "top5/student/prob"})
            names.emplace_back(top);
        m_arrays = loadTokenArrays(*reader, m_run, step, sample(), names);
    }
    rebuild();
}

void TokenView::reloadHeatmap()
{
    if (mode() != Mode::Heatmap)
        return;
    if (m_heatQuantity != quantity() || m_heatSample != sample()) {
        m_heat.clear();
        m_heatQuantity = quantity();
        m_heatSample = sample();
    }
    if (const core::StoreReader *reader = store(); reader && m_run != 0)
        for (std::int64_t step : m_steps->steps())
            if (!m_heat.count(step)) {
                auto arrays = loadTokenArrays(*reader, m_run, step, sample(), {quantity()});
                m_heat[step] = arrays.count(quantity()) ? arrays.at(quantity()) : std::vector<float>{};
            }
    rebuild();
}

const std::vector<float> *TokenView::array(const std::string &quantity) const
{
    const auto it = m_arrays.find(quantity);
    return it == m_arrays.end() ? nullptr : &it->second;
}

std::vector<double> TokenView::tokenValues() const
{
    std::vector<double> values(std::size_t(m_probe.labels.size()), kNaN);
    if (const auto *a = array(quantity()))
        for (std::size_t j = 1; j < values.size() && j - 1 < a->size(); ++j)
            values[j] = (*a)[j - 1];
    return values;
}

QSize TokenView::heatmapSize() const
{
    if (m_heat.empty())
        return {};
    std::size_t cols = 0;
    for (const auto &[step, values] : m_heat)
        cols = std::max(cols, values.size());
    return QSize(int(cols), int(m_heat.size()));
}

QString TokenView::tokenToolTip(int token) const
{
    if (token < 0 || token >= m_probe.labels.size())
        return {};
    const QString label = m_probe.labels[token].toHtmlEscaped();
    if (token == 0)
        return tr("<b>%1</b> — context: the first token is not predicted").arg(label);
    const std::size_t t = std::size_t(token - 1);
    QString html = tr("<b>%1</b> — predicted at position %2 after <b>%3</b>, step %4")
                       .arg(label)
                       .arg(t)
                       .arg(m_probe.labels[token - 1].toHtmlEscaped())
                       .arg(m_loadedStep);
    html += QStringLiteral("<table cellspacing='0' cellpadding='1'>");
    for (const auto &[name, display] : quantities()) {
        const auto *a = array(name);
        if (!a || t >= a->size())
            continue;
        html += QStringLiteral("<tr><td>%1</td><td align='right'>&nbsp;%2</td></tr>")
                    .arg(display.toHtmlEscaped(), fmtValue((*a)[t]));
    }
    html += QStringLiteral("</table>");
    const auto *tTok = array("top5/teacher/token");
    const auto *tProb = array("top5/teacher/prob");
    const auto *sTok = array("top5/student/token");
    const auto *sProb = array("top5/student/prob");
    if (tTok && tProb && sTok && sProb && (t + 1) * kTop <= tTok->size() &&
        (t + 1) * kTop <= sTok->size()) {
        const std::int64_t truth = std::size_t(token) < m_probe.ids.size() ? m_probe.ids[std::size_t(token)] : -1;
        auto cell = [&](const std::vector<float> &ids, const std::vector<float> &probs, std::size_t k) {
            const auto id = std::int64_t(std::lround(ids[t * kTop + k]));
            QString name = tokenLabel(id, nullptr).toHtmlEscaped();
            if (id == truth)
                name = QStringLiteral("<b><u>%1</u></b>").arg(name);
            return QStringLiteral("<td>%1</td><td align='right'>%2%</td>")
                .arg(name, QString::number(100.0 * probs[t * kTop + k], 'f', 1));
        };
        html += tr("<br><table cellspacing='0' cellpadding='2'><tr><th colspan='2' "
                   "align='left'>Teacher top 5</th><th>&nbsp;&nbsp;</th><th colspan='2' "
                   "align='left'>Student top 5</th></tr>");
        for (std::size_t k = 0; k < std::size_t(kTop); ++k)
            html += QStringLiteral("<tr>") + cell(*tTok, *tProb, k) + QStringLiteral("<td></td>") +
                    cell(*sTok, *sProb, k) + QStringLiteral("</tr>");
        html += tr("</table><small>the true next token is underlined</small>");
    }
    return html;
}

void TokenView::rebuild()
{
    const bool text = mode() == Mode::Text;
    const bool data = text ? hasData() : !m_heat.empty();
    m_stack->setVisible(data);
    m_empty->setVisible(!data);
    if (!data) {
        m_legend->clear();
        if (m_run == 0)
            m_empty->setText(tr("Select a run to see its per-token diagnostics."));
        else
            m_empty->setText(tr("No per-token diagnostics for this run yet. They are written at "
                                "each evaluation of runs with a teacher (Diagnostics node: "
                                "probe_samples > 0)."));
    }
    const QColor base = palette().color(QPalette::Base);
    std::vector<double> values;
    if (text) {
        values = tokenValues();
    } else {
        for (const auto &[step, row] : m_heat)
            values.insert(values.end(), row.begin(), row.end());
    }
    const TokenScale scale = scaleFor(quantity(), values);

    if (data) {
        // Legend: the colour ramp with its ends.
        const int w = 120, h = 10;
        QImage ramp(w, h, QImage::Format_RGB32);
        for (int x = 0; x < w; ++x) {
            const QColor c = scale.color(scale.min + (scale.max - scale.min) * x / (w - 1.0), base);
            for (int y = 0; y < h; ++y)
                ramp.setPixelColor(x, y, c);
        }
        QByteArray png;
        QBuffer buffer(&png);
        buffer.open(QIODevice::WriteOnly);
        ramp.save(&buffer, "PNG");
        QString note;
        if (quantity() == "param_cosine")
            note = tr(" — measured at a few positions of probe 0 only (Diagnostics: param_tokens)");
        else if (text)
            note = tr(" — token j shows the prediction made at position j − 1; hover for the "
                      "top-5 next tokens");
        m_legend->setText(QStringLiteral("%1 <img src='data:image/png;base64,%2'> %3%4")
                              .arg(fmtValue(scale.min), QString::fromLatin1(png.toBase64()),
                                   fmtValue(scale.max), note.toHtmlEscaped()));
    }

    if (text) {
        m_strip->setTokens(m_probe.labels, values, m_probe.newlines, scale);
        // Until the user clicks a token, the details follow the one with the largest value.
        int pick = m_strip->selected();
        if (!m_userSelected || pick < 0 || pick >= m_probe.labels.size()) {
            pick = -1;
            for (std::size_t j = 0; j < values.size(); ++j)
                if (std::isfinite(values[j]) && (pick < 0 || values[j] > values[std::size_t(pick)]))
                    pick = int(j);
        }
        selectToken(pick);
        return;
    }
    // Heatmap: x = position, y = row of the step.
    const QSize size = heatmapSize();
    auto *map = m_colorMap->data();
    map->setSize(std::max(1, size.width()), std::max(1, size.height()));
    map->setRange(QCPRange(0, std::max(1, size.width() - 1)), QCPRange(0, std::max(1, size.height() - 1)));
    map->fill(kNaN);
    int row = 0;
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    const int every = std::max(1, int(m_heat.size()) / 10);
    for (const auto &[step, rowValues] : m_heat) {
        for (std::size_t x = 0; x < rowValues.size(); ++x)
            map->setCell(int(x), row, rowValues[x]);
        if (row % every == 0)
            ticker->addTick(row, QString::number(step));
        ++row;
    }
    m_heatPlot->yAxis->setTicker(ticker);
    QCPColorGradient gradient;
    gradient.clearColorStops();
    for (int i = 0; i <= 10; ++i)
        gradient.setColorStopAt(i / 10.0, scale.color(scale.min + (scale.max - scale.min) * i / 10.0, base));
    gradient.setNanHandling(QCPColorGradient::nhTransparent);
    m_colorMap->setGradient(gradient);
    m_colorMap->setDataRange(QCPRange(scale.min, scale.max));
    m_colorScale->axis()->setLabel(m_quantityCombo->currentText());
    m_heatPlot->xAxis->setRange(-0.5, std::max(1, size.width()) - 0.5);
    m_heatPlot->yAxis->setRange(-0.5, std::max(1, size.height()) - 0.5);
    m_heatPlot->replot(QCustomPlot::rpQueuedReplot);
}

void TokenView::selectToken(int token)
{
    m_strip->setSelected(token);
    m_details->setText(detailsText());
}

QString TokenView::detailsText() const
{
    const int token = m_strip->selected();
    if (token < 0)
        return tr("<i>Click a token to see its details here.</i>");
    return tokenToolTip(token) +
           (m_userSelected ? QString() : tr("<br><i>(the token with the largest value; click another)</i>"));
}

QString TokenView::csv() const
{
    QString out;
    if (mode() == Mode::Heatmap) {
        out = QStringLiteral("run,sample,quantity,step,position,value\n");
        for (const auto &[step, values] : m_heat)
            for (std::size_t t = 0; t < values.size(); ++t)
                out += QStringLiteral("%1,%2,%3,%4,%5,%6\n")
                           .arg(m_run)
                           .arg(m_heatSample)
                           .arg(QString::fromStdString(m_heatQuantity))
                           .arg(step)
                           .arg(t)
                           .arg(std::isfinite(values[t]) ? QString::number(values[t], 'g', 8) : QString());
        return out;
    }
    out = QStringLiteral("run,step,sample,position,predicted_token");
    const auto names = quantities();
    for (const auto &q : names)
        out += QLatin1Char(',') + QString::fromStdString(q.first);
    out += QLatin1Char('\n');
    for (int j = 1; j < m_probe.labels.size(); ++j) {
        const std::size_t t = std::size_t(j - 1);
        out += QStringLiteral("%1,%2,%3,%4,%5").arg(m_run).arg(m_loadedStep).arg(m_loadedSample).arg(t).arg(
            csvField(m_probe.bytes ? m_probe.labels[j] : QString::number(m_probe.ids[std::size_t(j)])));
        for (const auto &q : names) {
            const auto *a = array(q.first);
            out += QLatin1Char(',');
            if (a && t < a->size() && std::isfinite((*a)[t]))
                out += QString::number((*a)[t], 'g', 8);
        }
        out += QLatin1Char('\n');
    }
    return out;
}

bool TokenView::savePng(const QString &path)
{
    if (mode() == Mode::Heatmap)
        return m_heatPlot->savePng(path, 0, 0, 2.0);
    return DiagnosticView::savePng(path);
}

bool TokenView::savePdf(const QString &path)
{
    if (mode() == Mode::Heatmap)
        return m_heatPlot->savePdf(path);
    return DiagnosticView::savePdf(path);
}

} // namespace distillery::widgets
