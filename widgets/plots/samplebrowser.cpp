#include "plots/samplebrowser.h"

#include <QEvent>
#include <QFontDatabase>
#include <QLabel>
#include <QStackedWidget>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextEdit>
#include <QVBoxLayout>

#include <cmath>

namespace distillery::widgets {

namespace {

// Caret notation of a C0 control or DEL: ^@, ^A, ..., ^M, ..., ^?.
QString caretNotation(ushort u)
{
    return QStringLiteral("^") + QChar(u == 0x7f ? '?' : char(0x40 + u));
}

} // namespace

QString SampleBrowser::visibleControls(const QString &text)
{
    QString out;
    out.reserve(text.size());
    for (const QChar c : text) {
        const ushort u = c.unicode();
        if (u == '\n')
            out += QChar(0x21B5); // ↵
        else if (u == '\t')
            out += QChar(0x21E5); // ⇥
        else if (u < 0x20)
            out += QChar(0x2400 + u); // ␀ … ␟ (␍ for \r)
        else if (u == 0x7f)
            out += QChar(0x2421); // ␡
        else
            out += c;
    }
    return out;
}

SampleBrowser::SampleBrowser(QWidget *parent)
    : QWidget(parent)
{
    auto *browserLayout = new QVBoxLayout(this);
    browserLayout->setContentsMargins(0, 0, 4, 0);
    browserLayout->setSpacing(4);
    m_header = new QLabel(this);
    QFont headerFont = font();
    headerFont.setBold(true);
    m_header->setFont(headerFont);
    m_header->setTextFormat(Qt::PlainText);
    browserLayout->addWidget(m_header);
    m_steps = new StepSelector(this);
    browserLayout->addWidget(m_steps);
    m_stats = new QLabel(this);
    m_stats->setTextFormat(Qt::RichText);
    m_stats->setWordWrap(true);
    m_stats->setToolTip(
        tr("distinct-n: distinct n-grams / all n-grams over the samples (higher: more "
           "diverse); self-BLEU-4: mean BLEU-4 of each sample against the others (higher: "
           "less diverse); unique: share of distinct samples; entropy: mean next-token "
           "entropy while sampling; mean length in tokens."));
    browserLayout->addWidget(m_stats);
    m_samplesStack = new QStackedWidget(this);
    m_samplesEmpty = new QLabel(m_samplesStack);
    m_samplesEmpty->setAlignment(Qt::AlignCenter);
    m_samplesEmpty->setWordWrap(true);
    m_samplesEmpty->setText(tr("No samples stored. They are written at every evaluation when "
                               "the Diagnostics node has diversity_prompts > 0."));
    m_samplesStack->addWidget(m_samplesEmpty);
    m_text = new QTextEdit(m_samplesStack);
    m_text->setReadOnly(true);
    m_text->setLineWrapMode(QTextEdit::WidgetWidth);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_text->setToolTip(tr("The prompts as continued by the student at temperature 1; ↵ is a "
                          "newline, ⇥ a tab, other control characters show as ␍ or ^M."));
    m_samplesStack->addWidget(m_text);
    browserLayout->addWidget(m_samplesStack, 1);

    m_steps->setVisible(false);
    m_stats->setVisible(false);
    renderSamples();
}

void SampleBrowser::setSamples(std::vector<std::string> samples)
{
    m_samples = std::move(samples);
    renderSamples();
}

void SampleBrowser::setHasSteps(bool hasSteps)
{
    m_steps->setVisible(hasSteps);
    m_stats->setVisible(hasSteps);
}

QString SampleBrowser::samplesText() const
{
    return m_samples.empty() ? QString() : m_text->toPlainText();
}

void SampleBrowser::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
        m_samplesEmpty->setForegroundRole(QPalette::PlaceholderText);
        renderSamples();
        setStats(m_statsRun, m_statsData, m_statsStep);
    }
}

void SampleBrowser::renderSamples()
{
    m_text->clear();
    if (m_samples.empty()) {
        m_samplesStack->setCurrentWidget(m_samplesEmpty);
        return;
    }
    m_samplesStack->setCurrentWidget(m_text);
    const QPalette pal = palette();
    const QFontMetrics metrics(m_text->font());
    const int digits = int(QString::number(m_samples.size()).size());
    // A hanging indent: wrapped lines continue under the text, not under the number.
    const qreal indent = metrics.horizontalAdvance(QString(digits + 2, QLatin1Char('0')));
    QTextCharFormat numberFormat;
    numberFormat.setForeground(pal.color(QPalette::PlaceholderText));
    QTextCharFormat textFormat;
    textFormat.setForeground(pal.color(QPalette::Text));
    // Control characters stand out from the text; caret notation where no font has the symbol.
    QTextCharFormat controlFormat;
    controlFormat.setForeground(pal.color(QPalette::Link));
    QTextCursor cursor(m_text->document());
    cursor.beginEditBlock();
    for (std::size_t i = 0; i < m_samples.size(); ++i) {
        QTextBlockFormat block;
        block.setLeftMargin(indent);
        block.setTextIndent(-indent);
        block.setBottomMargin(5);
        if (i == 0)
            cursor.setBlockFormat(block);
        else
            cursor.insertBlock(block);
        cursor.insertText(QStringLiteral("%1  ").arg(i + 1, digits), numberFormat);
        const QString text = QString::fromStdString(m_samples[i]);
        qsizetype plainFrom = 0;
        for (qsizetype c = 0; c < text.size(); ++c) {
            const ushort u = text[c].unicode();
            if (u >= 0x20 && u != 0x7f)
                continue;
            if (c > plainFrom)
                cursor.insertText(text.mid(plainFrom, c - plainFrom), textFormat);
            plainFrom = c + 1;
            const QString symbol = visibleControls(QString(text[c]));
            cursor.insertText(metrics.inFontUcs4(symbol[0].unicode()) ? symbol : caretNotation(u),
                              controlFormat);
        }
        if (plainFrom < text.size())
            cursor.insertText(text.mid(plainFrom), textFormat);
    }
    cursor.endEditBlock();
    m_text->moveCursor(QTextCursor::Start);
}

void SampleBrowser::setStats(const QString &runName, const DiversityRunData *s, std::int64_t step)
{
    m_statsRun = runName;
    m_statsData = s;
    m_statsStep = step;
    m_header->setText(s ? tr("Samples of %1").arg(runName) : tr("Samples"));
    m_statsPlain.clear();
    if (!s || step < 0) {
        m_stats->clear();
        return;
    }
    const QString dim = palette().color(QPalette::PlaceholderText).name();
    // Pairs "name value" that never break inside, wrapping between pairs.
    QStringList plain, pairs;
    for (const DiversityMeasure &m : diversityMeasures()) {
        const core::ScalarPoint *p = s->measureAt(m.key, step);
        const QString value =
            p && std::isfinite(p->value)
                ? QString::number(p->value, 'f', m.decimals) + QString::fromUtf8(m.unit)
                : QStringLiteral("–");
        const QString label = QString::fromUtf8(m.label);
        plain << label + QLatin1Char(' ') + value;
        const auto noBreak = [](QString text) {
            return text.toHtmlEscaped()
                .replace(QLatin1Char(' '), QStringLiteral("&nbsp;"))
                .replace(QLatin1Char('-'), QStringLiteral("&#8209;")); // non-breaking hyphen
        };
        pairs << QStringLiteral("<span style='color:%1'>%2</span>&nbsp;<b>%3</b>")
                     .arg(dim, noBreak(label), noBreak(value));
    }
    m_statsPlain = plain.join(QStringLiteral(" · "));
    m_stats->setText(pairs.join(QStringLiteral(" &nbsp; ")));
}

} // namespace distillery::widgets
