#include "graph/nodeitem.h"

#include "graph/graphstyle.h"
#include "graph/modelfactscache.h"
#include "graph/portitem.h"

#include "distillery/core/losskinds.h"
#include "distillery/core/models.h"

#include <QFileInfo>
#include <QFontMetricsF>
#include <QGraphicsScene>
#include <QLinearGradient>
#include <QPainter>
#include <QStyleOptionGraphicsItem>

#include <algorithm>
#include <optional>

namespace distillery::widgets {

namespace gs = graphstyle;
using core::Graph;
using core::Node;

namespace {

constexpr double kPortsTop = gs::kHeaderHeight + 5.0;
constexpr double kParamRow = 15.0;
constexpr double kFooter = 22.0;
constexpr double kPad = 10.0;

QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}

// 307200 -> "307k", 1.2e6 -> "1.2M".
QString compactCount(double n)
{
    if (n >= 1e9)
        return QString::number(n / 1e9, 'g', 3) + QStringLiteral("G");
    if (n >= 1e6)
        return QString::number(n / 1e6, 'g', 3) + QStringLiteral("M");
    if (n >= 1e4)
        return QString::number(n / 1e3, 'g', 3) + QStringLiteral("k");
    return QString::number(n, 'g', 6);
}

const Node *firstOfKind(const Graph &graph, const char *kind)
{
    auto nodes = graph.nodesOfKind(kind);
    return nodes.empty() ? nullptr : nodes.front();
}

std::int64_t specDefaultInt(const char *kind, const char *param)
{
    const auto *spec = core::findNodeKind(kind);
    const auto *p = spec ? spec->param(param) : nullptr;
    if (p && std::holds_alternative<std::int64_t>(p->defaultValue))
        return std::get<std::int64_t>(p->defaultValue);
    return 0;
}

std::optional<ModelFactsCache::Entry> fileFacts(const Graph &graph, const Node &node);

// The first Teacher read from a Hugging Face folder (whose tokenizer a Dataset can use).
const Node *hfTeacher(const Graph &graph)
{
    for (const Node *t : graph.nodesOfKind("Teacher"))
        if (graph.paramString(t->id, "source") == "hf")
            return t;
    return nullptr;
}

// The dataset's vocabulary: the oracle's vocab parameter, 256 for byte-level corpora, the
// Hugging Face teacher's through its tokenizer; 0 while it is not known (a tokenizer file is
// read when the run starts, a teacher's folder on a worker thread).
std::int64_t datasetVocab(const Graph &graph)
{
    const Node *data = firstOfKind(graph, "Dataset");
    if (!data)
        return specDefaultInt("Dataset", "vocab");
    if (graph.paramString(data->id, "source") == "oracle-hmm")
        return graph.paramInt(data->id, "vocab");
    const std::string tokenizer = graph.paramString(data->id, "tokenizer");
    if (tokenizer == "bytes")
        return 256;
    if (const Node *teacher = tokenizer == "teacher" ? hfTeacher(graph) : nullptr) {
        const auto entry = fileFacts(graph, *teacher);
        if (entry && entry->state == ModelFactsCache::State::Ready)
            return entry->facts.vocab;
    }
    // A tokenizer file: the validation that runs on every edit has read it already.
    return tokenizer == "file" ? core::datasetVocabulary(graph) : 0;
}

std::int64_t sequenceLength(const Graph &graph)
{
    const Node *settings = firstOfKind(graph, "Settings");
    return settings ? graph.paramInt(settings->id, "seq_len") : 64;
}

core::ModelShape modelShape(const Graph &graph, const Node &node)
{
    const std::int64_t vocab = graph.paramInt(node.id, "vocab");
    return core::architectureShape(graph, node.id, vocab > 0 ? vocab : datasetVocab(graph), sequenceLength(graph));
}

// The facts of a file-backed Teacher's model file (modelfactscache.h), nullopt without a path.
std::optional<ModelFactsCache::Entry> fileFacts(const Graph &graph, const Node &node)
{
    const std::string path = graph.paramString(node.id, "path");
    if (path.empty())
        return std::nullopt;
    return ModelFactsCache::instance().lookup(qs(graph.resolvePath(path)));
}

// "2 layers · d 64 · 4 heads"
QString shapeText(std::int64_t layers, std::int64_t hidden, std::int64_t heads)
{
    return (layers == 1 ? QObject::tr("1 layer") : QObject::tr("%1 layers").arg(layers))
           + QStringLiteral(" \u00b7 d %1 \u00b7 %2 heads").arg(hidden).arg(heads);
}

// "llama, 2 kv heads": key/value heads when fewer than the query heads (0 = as many).
QString architectureText(const std::string &family, std::int64_t heads, std::int64_t kvHeads)
{
    QString text = qs(family);
    if (kvHeads > 0 && kvHeads != heads)
        text += kvHeads == 1 ? QObject::tr(", 1 kv head") : QObject::tr(", %1 kv heads").arg(kvHeads);
    return text;
}

bool usesTemperature(const std::string &lossKind)
{
    const auto *k = core::findLossKind(lossKind);
    return k && k->usesTemperature;
}

bool readsHidden(const std::string &lossKind)
{
    const auto *k = core::findLossKind(lossKind);
    return k && k->needsHidden;
}

// The objective as a short formula (the loss-kind table's card form).
QString lossFormula(const std::string &kind)
{
    const auto *k = core::findLossKind(kind);
    return k ? qs(k->cardFormula) : qs(kind);
}

QString fileName(const std::string &path)
{
    if (path.empty())
        return QObject::tr("(no file)");
    return QFileInfo(qs(path)).fileName();
}

// The (name, value) rows a card shows: the few parameters people tune most.
QList<QPair<QString, QString>> keyParamsFor(const Graph &graph, const Node &node)
{
    QList<QPair<QString, QString>> rows;
    const core::NodeId id = node.id;
    auto num = [&](const char *name) { return gs::compactNumber(graph.paramFloat(id, name)); };
    auto integer = [&](const char *name) { return QString::number(graph.paramInt(id, name)); };
    auto str = [&](const char *name) { return qs(graph.paramString(id, name)); };
    auto shape = [&]() {
        return shapeText(graph.paramInt(id, "layers"), graph.paramInt(id, "d_model"), graph.paramInt(id, "heads"));
    };
    // "llama, 2 kv heads" for a built-in Llama-style model.
    auto architectureRow = [&]() {
        if (graph.paramString(id, "architecture") != "llama")
            return;
        rows.append({QStringLiteral("arch"), architectureText("llama", graph.paramInt(id, "heads"),
                                                              graph.paramInt(id, "kv_heads"))});
    };

    const std::string &kind = node.kind;
    if (kind == "Dataset") {
        const std::string source = graph.paramString(id, "source");
        rows.append({QStringLiteral("source"), qs(source)});
        if (source == "oracle-hmm") {
            rows.append({QStringLiteral("vocab"), integer("vocab")});
            rows.append(
                {QStringLiteral("sequences"), compactCount(graph.paramInt(id, "train_sequences"))});
        } else {
            rows.append({QStringLiteral("path"), fileName(graph.paramString(id, "path"))});
            if (source == "jsonl")
                rows.append({QStringLiteral("field"), str("text_field")});
        }
    } else if (kind == "Teacher") {
        const std::string source = graph.paramString(id, "source");
        rows.append({QStringLiteral("source"), qs(source)});
        if (source == "train") {
            rows.append({QStringLiteral("shape"), shape()});
            rows.append({QStringLiteral("pre-train"),
                         QStringLiteral("%1 steps").arg(compactCount(graph.paramInt(id, "train_steps")))});
        } else {
            // A file-backed teacher shows the file's real shape once it has been read.
            rows.append({QStringLiteral("path"), fileName(graph.paramString(id, "path"))});
            const auto entry = fileFacts(graph, node);
            if (entry && entry->state == ModelFactsCache::State::Ready && entry->facts.layers > 0) {
                rows.append({QStringLiteral("shape"),
                             shapeText(entry->facts.layers, entry->facts.hidden, entry->facts.heads)});
                rows.append({QStringLiteral("arch"), architectureText(entry->facts.architecture, entry->facts.heads,
                                                                      entry->facts.kvHeads)});
            }
        }
    } else if (kind == "Student") {
        const std::string init = graph.paramString(id, "init");
        if (init == "hf") {
            rows.append({QStringLiteral("init"), QObject::tr("from %1").arg(fileName(graph.paramString(id, "init_path")))});
            return rows;
        }
        if (init == "teacher-layers") {
            const auto k = graph.paramInt(id, "init_stride");
            rows.append({QStringLiteral("init"), k == 1 ? QObject::tr("all teacher layers")
                                                        : QObject::tr("teacher layers 0, %1, %2\u2026").arg(k).arg(2 * k)});
            return rows;
        }
        architectureRow();
        rows.append({QStringLiteral("shape"), shape()});
        rows.append({QStringLiteral("ffn"), integer("ffn")});
        const auto vocab = graph.paramInt(id, "vocab");
        rows.append({QStringLiteral("vocab"),
                     vocab > 0 ? QString::number(vocab)
                               : datasetVocab(graph) > 0 ? QObject::tr("dataset (%1)").arg(datasetVocab(graph))
                                                         : QObject::tr("the tokenizer's")});
    } else if (kind == "Projection") {
        const auto out = graph.paramInt(id, "out_dim");
        rows.append(
            {QStringLiteral("out_dim"), out > 0 ? QString::number(out) : QObject::tr("auto")});
        rows.append({QStringLiteral("bias"),
                     graph.paramBool(id, "bias") ? QObject::tr("yes") : QObject::tr("no")});
    } else if (kind == "Loss") {
        const std::string lossKind = graph.paramString(id, "kind");
        rows.append({QStringLiteral("kind"), qs(lossKind)});
        QString weight = num("weight");
        if (graph.paramString(id, "weight_schedule") == "linear")
            weight += QStringLiteral(" \u2192 ") + num("weight_end");
        rows.append({QStringLiteral("weight"), weight});
        if (usesTemperature(lossKind)) {
            QString t = num("temperature");
            if (graph.paramString(id, "temperature_schedule") == "linear")
                t += QStringLiteral(" \u2192 ") + num("temperature_end");
            rows.append({QStringLiteral("temperature"), t});
        } else if (readsHidden(lossKind)) {
            auto layer = [&](const char *name) {
                const auto l = graph.paramInt(id, name);
                return l < 0 ? QObject::tr("last") : QString::number(l);
            };
            rows.append({QStringLiteral("layers"),
                         QStringLiteral("S %1 \u2194 T %2")
                             .arg(layer("student_layer"), layer("teacher_layer"))});
        } else if (lossKind == "cross-entropy" && graph.paramFloat(id, "label_smoothing") > 0) {
            rows.append({QStringLiteral("smoothing"), num("label_smoothing")});
        }
    } else if (kind == "Combine") {
        rows.append({QStringLiteral("scale"), num("scale")});
    } else if (kind == "Optimizer") {
        rows.append({QStringLiteral("kind"), str("kind")});
        rows.append({QStringLiteral("lr"), num("lr")});
        rows.append(
            {QStringLiteral("schedule"),
             QStringLiteral("%1, warm-up %2").arg(str("lr_schedule"), integer("warmup_steps"))});
    } else if (kind == "Settings") {
        rows.append({QStringLiteral("steps"), integer("steps")});
        rows.append({QStringLiteral("batch"), integer("batch_size")});
        rows.append({QStringLiteral("seq_len"), integer("seq_len")});
    }
    while (rows.size() > 3)
        rows.removeLast();
    return rows;
}

} // namespace

QString NodeItem::summaryFor(const Graph &graph, const Node &node)
{
    const core::NodeId id = node.id;
    const std::string &kind = node.kind;
    if (kind == "Student" || kind == "Teacher") {
        if (kind == "Teacher" && graph.paramString(id, "source") != "train") {
            const auto entry = fileFacts(graph, node);
            if (!entry)
                return QObject::tr("no file chosen");
            if (entry->state == ModelFactsCache::State::Reading)
                return QObject::tr("reading the file\u2026");
            if (entry->state == ModelFactsCache::State::Failed)
                return QObject::tr("cannot read the file");
            const core::ModelFacts &f = entry->facts;
            if (f.layers > 0 && f.hidden > 0 && f.heads > 0 && f.ffn > 0) // as the Student's card
                return QObject::tr("%1 params, %2FLOP/token")
                    .arg(compactCount(double(f.parameters)),
                         compactCount(core::forwardFlopsPerToken(core::shapeOf(f), sequenceLength(graph))));
            return QObject::tr("%1 params \u00b7 vocab %2").arg(compactCount(double(f.parameters))).arg(f.vocab);
        }
        if (kind == "Student" && graph.paramString(id, "init") != "scratch")
            return graph.paramString(id, "init") == "hf" ? QObject::tr("size of the folder's model")
                                                         : QObject::tr("the teacher's architecture");
        const auto shape = modelShape(graph, node);
        if (shape.vocab <= 0)
            return QObject::tr("size once the tokenizer is read");
        return qs(core::describeModel(shape, shape.maxLen));
    }
    if (kind == "Loss") {
        const std::string lossKind = graph.paramString(id, "kind");
        QString s =
            QStringLiteral("%1 \u00d7 %2")
                .arg(gs::compactNumber(graph.paramFloat(id, "weight")), lossFormula(lossKind));
        if (usesTemperature(lossKind))
            s += QStringLiteral(", \u03c4 = %1")
                     .arg(gs::compactNumber(graph.paramFloat(id, "temperature")));
        return s;
    }
    if (kind == "Settings") {
        const auto steps = graph.paramInt(id, "steps");
        const auto batch = graph.paramInt(id, "batch_size");
        const auto seq = graph.paramInt(id, "seq_len");
        return QStringLiteral("%1 \u00d7 %2 \u00d7 %3 = %4 tokens")
            .arg(steps)
            .arg(batch)
            .arg(seq)
            .arg(compactCount(double(steps) * double(batch) * double(seq)));
    }
    if (kind == "Optimizer") {
        const std::string opt = graph.paramString(id, "kind");
        return QStringLiteral("%1 \u00b7 lr %2 \u00b7 %3")
            .arg(opt == "adamw" ? QStringLiteral("AdamW") : QStringLiteral("SGD"),
                 gs::compactNumber(graph.paramFloat(id, "lr")),
                 qs(graph.paramString(id, "lr_schedule")));
    }
    if (kind == "Combine") {
        const auto terms = graph.edgesInto(id, "terms").size();
        return QObject::tr("\u03a3 of %n term(s)", nullptr, int(terms));
    }
    if (kind == "Dataset") {
        const std::string source = graph.paramString(id, "source");
        if (source == "oracle-hmm")
            return QObject::tr("oracle HMM, %1 states, V = %2")
                .arg(graph.paramInt(id, "hidden_states"))
                .arg(graph.paramInt(id, "vocab"));
        const std::string tokenizer = graph.paramString(id, "tokenizer");
        if (tokenizer == "bytes")
            return QObject::tr("byte-level %1, V = 256").arg(qs(source));
        const auto vocab = datasetVocab(graph);
        const QString through = tokenizer == "teacher" ? QObject::tr("teacher's tokens")
                                                       : fileName(graph.paramString(id, "tokenizer_path"));
        return vocab > 0 ? QObject::tr("%1 · %2 · V = %3").arg(qs(source), through).arg(vocab)
                         : QObject::tr("%1 · %2").arg(qs(source), through);
    }
    if (kind == "Projection")
        return QObject::tr("h_S W + b, trained with the student");
    return {};
}

NodeItem::NodeItem(const Node &node, const core::NodeKindSpec *spec)
    : m_id(node.id)
    , m_kind(node.kind)
    , m_spec(spec)
    , m_width(gs::kNodeWidth)
{
    setFlag(ItemIsSelectable);
    setFlag(ItemSendsGeometryChanges);
    setAcceptHoverEvents(true);
    setZValue(1);
    setPos(node.x, node.y);
    if (m_spec) {
        m_description = qs(m_spec->description);
        for (const auto &p : m_spec->inputs)
            m_inputs.append(new PortItem(this, p, false));
        for (const auto &p : m_spec->outputs)
            m_outputs.append(new PortItem(this, p, true));
    }
    layoutPorts();
}

PortItem *NodeItem::port(const std::string &name, bool output) const
{
    for (PortItem *p : output ? m_outputs : m_inputs)
        if (p->name() == name)
            return p;
    return nullptr;
}

double NodeItem::paramsTop() const
{
    const int rows = int(std::max(m_inputs.size(), m_outputs.size()));
    return kPortsTop + rows * gs::kPortRow + (rows > 0 ? 5.0 : 0.0);
}

bool NodeItem::paramsBesidePorts() const
{
    // A card with many inputs and few outputs (a Loss) shows its parameters in the free right
    // column under the outputs, which keeps it as short as its neighbours.
    return !m_params.isEmpty() && !m_inputs.isEmpty() &&
           m_inputs.size() >= m_outputs.size() + m_params.size();
}

void NodeItem::layoutPorts()
{
    for (int i = 0; i < m_inputs.size(); ++i)
        m_inputs[i]->setPos(0, kPortsTop + gs::kPortRow / 2 + i * gs::kPortRow);
    for (int i = 0; i < m_outputs.size(); ++i)
        m_outputs[i]->setPos(m_width, kPortsTop + gs::kPortRow / 2 + i * gs::kPortRow);
    const int rows = int(std::max(m_inputs.size(), m_outputs.size()));
    const double height = paramsBesidePorts()
                              ? kPortsTop + rows * gs::kPortRow + 5.0 + kFooter
                              : paramsTop() + m_params.size() * kParamRow + 4.0 + kFooter;
    if (height != m_height) {
        prepareGeometryChange();
        m_height = height;
    }
}

void NodeItem::refresh(const Graph &graph)
{
    const Node *node = graph.node(m_id);
    if (!node)
        return;
    m_title = node->title.empty() ? qs(node->kind) : qs(node->title);
    m_params = keyParamsFor(graph, *node);
    m_summary = summaryFor(graph, *node);
    layoutPorts();
    updateToolTip();
    update();
}

void NodeItem::setIssues(const QStringList &messages)
{
    if (m_issues == messages)
        return;
    m_issues = messages;
    updateToolTip();
    update();
}

void NodeItem::updateToolTip()
{
    QString tip = QStringLiteral("<b>%1</b> &middot; %2 #%3")
                      .arg(m_title.toHtmlEscaped(), qs(m_kind))
                      .arg(m_id);
    if (!m_summary.isEmpty())
        tip += QStringLiteral("<br>") + m_summary.toHtmlEscaped();
    if (!m_issues.isEmpty()) {
        for (const QString &m : m_issues)
            tip += QStringLiteral("<br><span style='color:#e53935'>\u26a0 %1</span>")
                       .arg(m.toHtmlEscaped());
    } else if (!m_description.isEmpty()) {
        tip += QStringLiteral("<br><i>%1</i>").arg(m_description.toHtmlEscaped());
    }
    setToolTip(tip);
}

QRectF NodeItem::boundingRect() const
{
    // Room for the selection outline, the shadow and the problem badge.
    return QRectF(0, 0, m_width, m_height).adjusted(-6, -10, 10, 10);
}

QPainterPath NodeItem::shape() const
{
    QPainterPath path;
    path.addRoundedRect(cardRect(), gs::kCornerRadius, gs::kCornerRadius);
    return path;
}

void NodeItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    const QPalette pal = scene() ? scene()->palette() : QPalette();
    const bool dark = gs::isDark(pal);
    const QColor accent = gs::kindColor(m_kind);
    const QColor text = gs::cardTextColor(pal);
    const QColor muted = gs::mutedTextColor(pal);
    const QRectF card = cardRect();
    const double r = gs::kCornerRadius;
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setRenderHint(QPainter::TextAntialiasing);

    // Soft shadow: a few offset translucent cards.
    painter->setPen(Qt::NoPen);
    for (int i = 3; i >= 1; --i) {
        painter->setBrush(QColor(0, 0, 0, dark ? 34 : 16));
        painter->drawRoundedRect(
            card.translated(0, 1.5 * i).adjusted(-i * 0.6, 0, i * 0.6, i * 0.6), r + i, r + i);
    }

    // Body.
    QPainterPath body;
    body.addRoundedRect(card, r, r);
    painter->setBrush(gs::cardColor(pal));
    painter->drawPath(body);

    // Header, clipped to the rounded card.
    {
        QPainterPath header;
        header.addRect(QRectF(0, 0, m_width, gs::kHeaderHeight));
        QLinearGradient grad(0, 0, 0, gs::kHeaderHeight);
        grad.setColorAt(0, accent.lighter(112));
        grad.setColorAt(1, accent);
        painter->setBrush(grad);
        painter->drawPath(body.intersected(header));
    }

    // Footer band with the summary, tinted with the kind colour.
    const QRectF footer(0, m_height - kFooter, m_width, kFooter);
    {
        QPainterPath band;
        band.addRect(footer);
        QColor tint = accent;
        tint.setAlpha(dark ? 46 : 26);
        painter->setBrush(tint);
        painter->drawPath(body.intersected(band));
    }

    // Title and kind.
    QFont titleFont = painter->font();
    titleFont.setPointSizeF(9.5);
    titleFont.setBold(true);
    QFont smallFont = painter->font();
    smallFont.setPointSizeF(7.5);
    smallFont.setBold(false);
    QString kindLabel = QStringLiteral("#%1").arg(m_id);
    if (m_title != qs(m_kind))
        kindLabel = qs(m_kind).toUpper() + QStringLiteral("  ") + kindLabel;
    const QFontMetricsF smallMetrics(smallFont);
    const double kindWidth = smallMetrics.horizontalAdvance(kindLabel);
    double rightEdge = m_width - kPad;
    if (!m_issues.isEmpty())
        rightEdge -= 14; // the badge
    painter->setFont(smallFont);
    painter->setPen(QColor(255, 255, 255, 200));
    painter->drawText(QRectF(rightEdge - kindWidth, 0, kindWidth, gs::kHeaderHeight),
                      Qt::AlignVCenter | Qt::AlignRight, kindLabel);
    painter->setFont(titleFont);
    painter->setPen(Qt::white);
    const double titleWidth = rightEdge - kindWidth - 2 * kPad + 2;
    painter->drawText(QRectF(kPad, 0, titleWidth, gs::kHeaderHeight),
                      Qt::AlignVCenter | Qt::AlignLeft,
                      QFontMetricsF(titleFont).elidedText(m_title, Qt::ElideRight, titleWidth));

    // Key parameters: name left (muted), value right.
    QFont bodyFont = painter->font();
    bodyFont.setPointSizeF(8.0);
    bodyFont.setBold(false);
    const QFontMetricsF bodyMetrics(bodyFont);
    double y = paramsTop();
    const bool beside = paramsBesidePorts();
    if (!beside && !m_params.isEmpty() && (m_inputs.size() || m_outputs.size())) {
        QColor rule = muted;
        rule.setAlpha(60);
        painter->setPen(QPen(rule, 1));
        painter->drawLine(QPointF(kPad, y - 3), QPointF(m_width - kPad, y - 3));
    }
    painter->setFont(bodyFont);
    int index = 0;
    for (const auto &row : m_params) {
        QRectF line(kPad, y, m_width - 2 * kPad, kParamRow);
        if (beside)
            line = QRectF(m_width / 2 + 8, kPortsTop + (m_outputs.size() + index) * gs::kPortRow,
                          m_width / 2 - 8 - kPad, gs::kPortRow);
        ++index;
        QString name = row.first;
        if (beside) {
            // The narrow column keeps the values whole: the loss kind needs no label and the
            // temperature goes by its symbol.
            if (name == QLatin1String("kind"))
                name.clear();
            else if (name == QLatin1String("temperature"))
                name = QStringLiteral("\u03c4");
        }
        const double nameWidth = name.isEmpty() ? 0.0 : bodyMetrics.horizontalAdvance(name) + 8;
        painter->setPen(muted);
        painter->drawText(line, Qt::AlignVCenter | Qt::AlignLeft, name);
        painter->setPen(text);
        painter->drawText(
            line, Qt::AlignVCenter | Qt::AlignRight,
            bodyMetrics.elidedText(row.second, Qt::ElideMiddle, line.width() - nameWidth));
        y += kParamRow;
    }

    // Summary.
    QFont summaryFont = bodyFont;
    summaryFont.setPointSizeF(7.8);
    painter->setFont(summaryFont);
    painter->setPen(dark ? accent.lighter(150) : accent.darker(135));
    const QRectF summaryRect = footer.adjusted(kPad, 0, -kPad, 0);
    painter->drawText(
        summaryRect, Qt::AlignVCenter | Qt::AlignLeft,
        QFontMetricsF(summaryFont).elidedText(m_summary, Qt::ElideRight, summaryRect.width()));

    // Outline: red when invalid, the highlight colour around it when selected.
    painter->setBrush(Qt::NoBrush);
    if (!m_issues.isEmpty()) {
        painter->setPen(QPen(gs::invalidColor(), 2.0));
        painter->drawRoundedRect(card.adjusted(1, 1, -1, -1), r - 1, r - 1);
    } else {
        QColor border = dark ? QColor(255, 255, 255, m_hovered ? 70 : 28)
                             : QColor(0, 0, 0, m_hovered ? 70 : 34);
        painter->setPen(QPen(border, 1.0));
        painter->drawRoundedRect(card.adjusted(0.5, 0.5, -0.5, -0.5), r, r);
    }
    if (isSelected()) {
        QColor hl = pal.color(QPalette::Highlight);
        if (hl.lightness() < 90 && dark)
            hl = hl.lighter(160);
        painter->setPen(QPen(hl, 2.5));
        painter->drawRoundedRect(card.adjusted(-3.5, -3.5, 3.5, 3.5), r + 3, r + 3);
    }
    if (!m_issues.isEmpty()) {
        const QPointF c(m_width - kPad - 4, gs::kHeaderHeight / 2);
        painter->setPen(QPen(Qt::white, 1.5));
        painter->setBrush(gs::invalidColor());
        painter->drawEllipse(c, 7.5, 7.5);
        QFont badge = titleFont;
        badge.setPointSizeF(8.5);
        painter->setFont(badge);
        painter->setPen(Qt::white);
        painter->drawText(QRectF(c.x() - 7.5, c.y() - 7.5, 15, 15), Qt::AlignCenter,
                          QStringLiteral("!"));
    }
}

QVariant NodeItem::itemChange(GraphicsItemChange change, const QVariant &value)
{
    if (change == ItemSelectedHasChanged)
        setZValue(value.toBool() ? 2 : 1); // the selected card draws over its neighbours
    return QGraphicsItem::itemChange(change, value);
}

void NodeItem::hoverEnterEvent(QGraphicsSceneHoverEvent *)
{
    m_hovered = true;
    update();
}

void NodeItem::hoverLeaveEvent(QGraphicsSceneHoverEvent *)
{
    m_hovered = false;
    update();
}

} // namespace distillery::widgets
