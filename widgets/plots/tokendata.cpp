#include "plots/tokendata.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace distillery::widgets {

QString probeTokenLabel(std::int64_t id, bool bytes, bool *newline)
{
    if (newline)
        *newline = false;
    if (!bytes)
        return QStringLiteral("t%1").arg(id);
    if (id == '\n') {
        if (newline)
            *newline = true;
        return QStringLiteral("↵");
    }
    if (id == ' ')
        return QStringLiteral("␣");
    if (id == '\t')
        return QStringLiteral("⇥");
    if (id > 32 && id < 127)
        return QString(QChar(char16_t(id)));
    return QStringLiteral("\\x%1").arg(id, 2, 16, QLatin1Char('0'));
}

namespace {

// A piece of text as a token shows: line breaks, spaces and tabs made visible.
QString pieceLabel(QString piece, bool *newline)
{
    if (newline)
        *newline = piece.endsWith(QLatin1Char('\n'));
    return piece.replace(QLatin1Char('\n'), QStringLiteral("↵")).replace(QLatin1Char(' '), QStringLiteral("␣"))
        .replace(QLatin1Char('\t'), QStringLiteral("⇥"));
}

// Text is byte-level: a multi-byte UTF-8 character shows on its first byte, and its
// continuation bytes as "·".
void joinUtf8(ProbeTokens &p)
{
    const auto &ids = p.ids;
    for (std::size_t j = 0; j < ids.size(); ++j) {
        const auto lead = ids[j];
        const std::size_t length = lead >= 0xF0 && lead < 0xF5   ? 4
                                   : lead >= 0xE0 && lead < 0xF0 ? 3
                                   : lead >= 0xC2 && lead < 0xE0 ? 2
                                                                 : 1;
        if (length == 1 || j + length > ids.size())
            continue;
        QByteArray bytes;
        bool valid = true;
        for (std::size_t k = 0; k < length; ++k) {
            const auto b = ids[j + k];
            valid = valid && (k == 0 || (b >= 0x80 && b < 0xC0));
            bytes.append(char(b));
        }
        const QString text = QString::fromUtf8(bytes);
        if (!valid || text.size() < 1 || text.contains(QChar::ReplacementCharacter))
            continue;
        p.labels[int(j)] = text;
        for (std::size_t k = 1; k < length; ++k)
            p.labels[int(j + k)] = QStringLiteral("·");
        j += length - 1;
    }
}

} // namespace

QString probeTokenLabel(const ProbeTokens &probe, std::int64_t id, bool *newline)
{
    if (id >= 0 && id < probe.vocabPieces.size()) {
        if (newline)
            *newline = false;
        return probe.vocabPieces[qsizetype(id)];
    }
    return probeTokenLabel(id, probe.bytes, newline);
}

ProbeTokens loadProbeTokens(const core::StoreReader &reader, core::RunId run, int sample)
{
    ProbeTokens p;
    auto meta = reader.runMeta(run);
    if (!meta.ok())
        return p;
    const auto &m = meta.value();
    while (m.count("probe/" + std::to_string(p.sampleCount) + "/tokens"))
        ++p.sampleCount;
    const auto format = m.find("probe/token_format");
    p.bytes = format != m.end() && format->second == "bytes";
    const auto found = m.find("probe/" + std::to_string(sample) + "/tokens");
    if (found == m.end())
        return p;
    for (const QString &part : QString::fromStdString(found->second).split(QLatin1Char(','), Qt::SkipEmptyParts))
        p.ids.push_back(part.toLongLong());
    // BPE corpora store each token's piece of text beside the ids.
    const auto pieces = format != m.end() && format->second == "pieces"
                            ? m.find("probe/" + std::to_string(sample) + "/pieces")
                            : m.end();
    const QJsonArray pieceArray = pieces != m.end()
                                      ? QJsonDocument::fromJson(QByteArray::fromStdString(pieces->second)).array()
                                      : QJsonArray();
    if (const auto vocab = m.find("probe/vocab_pieces"); vocab != m.end())
        for (const auto &piece : QJsonDocument::fromJson(QByteArray::fromStdString(vocab->second)).array())
            p.vocabPieces.append(pieceLabel(piece.toString(), nullptr));
    for (std::size_t k = 0; k < p.ids.size(); ++k) {
        bool newline = false;
        if (pieceArray.size() == qsizetype(p.ids.size())) {
            p.labels.append(pieceLabel(pieceArray[qsizetype(k)].toString(), &newline));
        } else {
            p.labels.append(probeTokenLabel(p.ids[k], p.bytes, &newline));
        }
        p.newlines.push_back(newline);
    }
    if (p.bytes)
        joinUtf8(p);
    return p;
}

std::map<std::string, std::vector<float>> loadTokenArrays(const core::StoreReader &reader,
                                                          core::RunId run, std::int64_t step,
                                                          int sample,
                                                          const std::vector<std::string> &names)
{
    std::map<std::string, std::vector<float>> arrays;
    if (step < 0)
        return arrays;
    for (const auto &name : names) {
        auto values = reader.tokenDiagnostic(run, step, sample, name);
        if (values.ok() && !values.value().empty())
            arrays[name] = std::move(values).value();
    }
    return arrays;
}

std::vector<std::int64_t> tokenDiagnosticSteps(const core::StoreReader &reader, core::RunId run)
{
    auto steps = reader.tokenDiagnosticSteps(run, "kl");
    return steps.ok() ? std::move(steps).value() : std::vector<std::int64_t>{};
}

} // namespace distillery::widgets
