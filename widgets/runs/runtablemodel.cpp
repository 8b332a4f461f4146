#include "runs/runtablemodel.h"

#include "common/format.h"

#include <QColor>
#include <QDateTime>
#include <set>
#include <optional>
#include <map>
#include <QFileInfo>

#include <cmath>
#include <limits>
#include <unordered_map>

namespace distillery::widgets {

namespace {

QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}

bool sameListing(const core::RunInfo &a, const core::RunInfo &b)
{
    return a.name == b.name && a.status == b.status && a.lastStep == b.lastStep &&
           a.heartbeatAt == b.heartbeatAt && a.finishedAt == b.finishedAt && a.error == b.error &&
           a.stepsTotal == b.stepsTotal && a.tags == b.tags && a.note == b.note && a.group == b.group;
}

QString formatDuration(double seconds)
{
    if (!(seconds >= 0))
        return QStringLiteral("—");
    if (seconds < 59.95)
        return QStringLiteral("%1 s").arg(seconds, 0, 'f', 1);
    return formatClock(seconds);
}

QString formatMetric(double value)
{
    return std::isnan(value) ? QStringLiteral("—") : QString::number(value, 'f', 4);
}

// Missing values sort before every number.
QVariant metricSortKey(double value)
{
    return std::isnan(value) ? std::numeric_limits<double>::lowest() : value;
}

} // namespace

RunTableModel::RunTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

RunTableModel::~RunTableModel() = default;

void RunTableModel::setStorePath(const QString &path)
{
    if (path == m_storePath && m_reader)
        return;
    m_storePath = path;
    m_reader.reset();
    if (!m_rows.empty()) {
        beginResetModel();
        m_rows.clear();
        endResetModel();
    }
    refresh();
}

void RunTableModel::setError(const QString &message)
{
    if (message == m_lastError)
        return;
    m_lastError = message;
    if (!message.isEmpty())
        Q_EMIT errorOccurred(message);
}

bool RunTableModel::refresh()
{
    std::vector<core::RunInfo> listed;
    if (!m_storePath.isEmpty()) {
        if (!m_reader) {
            if (!QFileInfo::exists(m_storePath)) {
                setError({});
            } else {
                auto opened = core::StoreReader::open(m_storePath.toStdString());
                if (!opened.ok()) {
                    setError(qs(opened.error().message));
                    return false;
                }
                m_reader = std::move(opened.value());
            }
        }
        if (m_reader) {
            auto runs = m_reader->runs();
            if (!runs.ok()) {
                m_reader.reset(); // reopen next time (the file may have been replaced)
                setError(qs(runs.error().message));
                return false;
            }
            listed = std::move(runs.value());
        }
    }

    std::unordered_map<core::RunId, std::size_t> byId;
    for (std::size_t i = 0; i < listed.size(); ++i)
        byId.emplace(listed[i].id, i);

    // Removed runs, from the back so that row numbers stay valid.
    for (int row = int(m_rows.size()) - 1; row >= 0; --row) {
        if (!byId.count(m_rows[std::size_t(row)].info.id)) {
            beginRemoveRows({}, row, row);
            m_rows.erase(m_rows.begin() + row);
            endRemoveRows();
        }
    }

    auto readMetrics = [this](Row &row) {
        row.kl = qQNaN();
        row.klOracle = qQNaN();
        row.nll = qQNaN();
        if (!m_reader)
            return;
        auto latest = m_reader->latest(row.info.id);
        if (!latest.ok())
            return;
        if (auto it = latest.value().find("eval/kl_teacher_student"); it != latest.value().end())
            row.kl = it->second.value;
        if (auto it = latest.value().find("eval/student_nll"); it != latest.value().end())
            row.nll = it->second.value;
        if (auto it = latest.value().find("eval/kl_oracle_student"); it != latest.value().end())
            row.klOracle = it->second.value;
        readExtras(row);
    };

    // Changed runs in place; running runs always (their duration grows).
    std::unordered_map<core::RunId, int> existing;
    for (int row = 0; row < int(m_rows.size()); ++row) {
        Row &r = m_rows[std::size_t(row)];
        existing.emplace(r.info.id, row);
        const core::RunInfo &now = listed[byId.at(r.info.id)];
        const bool changed = !sameListing(r.info, now);
        if (!changed && now.status != core::RunStatus::Running)
            continue;
        r.info = now;
        if (changed)
            readMetrics(r);
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    }

    // New runs (listed newest first; appended in that order, the view sorts).
    std::vector<Row> added;
    for (const core::RunInfo &info : listed) {
        if (existing.count(info.id))
            continue;
        Row r;
        r.info = info;
        readMetrics(r);
        added.push_back(std::move(r));
    }
    if (!added.empty()) {
        const int first = int(m_rows.size());
        beginInsertRows({}, first, first + int(added.size()) - 1);
        for (Row &r : added)
            m_rows.push_back(std::move(r));
        endInsertRows();
    }
    setError({});
    return true;
}

void RunTableModel::readExtras(Row &row) const
{
    row.extraText.assign(m_extras.size(), QStringLiteral("—"));
    row.extraSort.assign(m_extras.size(), -std::numeric_limits<double>::infinity());
    if (m_extras.empty())
        return;
    bool needGraph = false, needStats = false;
    for (const ExtraColumn &c : m_extras)
        (c.isParam ? needGraph : needStats) = true;
    std::optional<core::Graph> graph;
    if (needGraph)
        if (auto g = core::graphFromJson(row.info.graphJson); g.ok())
            graph = std::move(g).value();
    std::map<std::string, core::SeriesStats> stats;
    if (needStats && m_reader)
        if (auto s = m_reader->seriesStats(row.info.id); s.ok())
            stats = std::move(s).value();
    for (std::size_t i = 0; i < m_extras.size(); ++i) {
        const ExtraColumn &c = m_extras[i];
        if (c.isParam) {
            if (!graph)
                continue;
            auto p = core::findParam(*graph, c.key);
            if (!p.ok())
                continue;
            row.extraText[i] = qs(core::paramValueToString(p.value().value));
            if (const auto *d = std::get_if<double>(&p.value().value))
                row.extraSort[i] = *d;
            else if (const auto *n = std::get_if<std::int64_t>(&p.value().value))
                row.extraSort[i] = double(*n);
            continue;
        }
        const auto it = stats.find(c.key);
        if (it == stats.end())
            continue;
        const core::MetricValue v = core::reduceMetric(it->second, c.reduce, core::metricGoal(c.key));
        if (!v.present())
            continue;
        row.extraText[i] = formatMetric(v.value) + (c.reduce == core::MetricReduce::Last
                                                        ? QString()
                                                        : QStringLiteral(" @%1").arg(v.step));
        row.extraSort[i] = v.value;
    }
}

void RunTableModel::setExtraColumns(const QStringList &columns)
{
    beginResetModel();
    m_extras.clear();
    for (const QString &spec : columns) {
        ExtraColumn c;
        c.spec = spec.trimmed();
        if (c.spec.isEmpty())
            continue;
        c.isParam = !c.spec.contains(QLatin1Char('/'));
        c.key = c.spec.toStdString();
        if (!c.isParam) {
            const int colon = c.spec.lastIndexOf(QLatin1Char(':'));
            if (colon > 0)
                if (auto reduce = core::metricReduceFromName(c.spec.mid(colon + 1).toStdString())) {
                    c.reduce = *reduce;
                    c.key = c.spec.left(colon).toStdString();
                }
        }
        m_extras.push_back(c);
    }
    for (Row &row : m_rows)
        readExtras(row);
    endResetModel();
}

QStringList RunTableModel::extraColumns() const
{
    QStringList out;
    for (const ExtraColumn &c : m_extras)
        out << c.spec;
    return out;
}

QStringList RunTableModel::availableColumns() const
{
    QStringList params, metrics;
    std::set<std::string> seenKeys;
    for (const Row &row : m_rows) {
        if (auto g = core::graphFromJson(row.info.graphJson); g.ok())
            for (const core::FlatParam &p : core::flattenParams(g.value()))
                if (!params.contains(qs(p.name)))
                    params << qs(p.name);
        if (m_reader)
            if (auto keys = m_reader->keys(row.info.id); keys.ok())
                seenKeys.insert(keys.value().begin(), keys.value().end());
    }
    for (const std::string &key : seenKeys) {
        metrics << qs(key);
        if (core::metricGoal(key) != core::MetricGoal::None)
            metrics << qs(key) + QStringLiteral(":best");
    }
    return params + metrics;
}

int RunTableModel::rowForRun(qint64 runId) const
{
    for (std::size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].info.id == runId)
            return int(i);
    return -1;
}

qint64 RunTableModel::runIdAt(int row) const
{
    return row >= 0 && row < int(m_rows.size()) ? m_rows[std::size_t(row)].info.id : 0;
}

const core::RunInfo *RunTableModel::runInfo(qint64 runId) const
{
    const int row = rowForRun(runId);
    return row < 0 ? nullptr : &m_rows[std::size_t(row)].info;
}

int RunTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RunTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount + int(m_extras.size());
}

double RunTableModel::durationSeconds(const Row &row) const
{
    const core::RunInfo &i = row.info;
    if (i.createdAt <= 0)
        return -1;
    if (i.finishedAt > 0)
        return i.finishedAt - i.createdAt;
    if (i.status == core::RunStatus::Running)
        return std::max(i.heartbeatAt, double(QDateTime::currentMSecsSinceEpoch()) / 1000.0) -
               i.createdAt;
    return i.heartbeatAt > 0 ? i.heartbeatAt - i.createdAt : -1;
}

QColor RunTableModel::statusColor(core::RunStatus status)
{
    switch (status) {
    case core::RunStatus::Running:
        return QColor(0x1565c0); // blue
    case core::RunStatus::Finished:
        return QColor(0x2e7d32); // green
    case core::RunStatus::Failed:
        return QColor(0xc62828); // red
    case core::RunStatus::Cancelled:
        return QColor(0x757575); // grey
    case core::RunStatus::Interrupted:
        return QColor(0xef6c00); // orange
    }
    return {};
}

QVariant RunTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_rows.size()))
        return {};
    const Row &row = m_rows[std::size_t(index.row())];
    const core::RunInfo &info = row.info;
    if (index.column() >= ColumnCount) {
        const std::size_t e = std::size_t(index.column() - ColumnCount);
        if (e >= row.extraText.size())
            return {};
        switch (role) {
        case Qt::DisplayRole:
            return row.extraText[e];
        case SortRole:
            return row.extraSort[e];
        case Qt::TextAlignmentRole:
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        case RunIdRole:
            return qlonglong(info.id);
        default:
            return {};
        }
    }

    switch (role) {
    case Qt::DisplayRole:
    case Qt::EditRole:
        switch (index.column()) {
        case IdColumn:
            return qlonglong(info.id);
        case NameColumn:
            return qs(info.name);
        case StatusColumn:
            return qs(core::runStatusName(info.status));
        case TemplateColumn:
            return qs(info.templateName);
        case StepsColumn:
            return QStringLiteral("%1 / %2").arg(info.lastStep).arg(info.stepsTotal);
        case DurationColumn:
            return formatDuration(durationSeconds(row));
        case SeedColumn:
            return qlonglong(info.seed);
        case KlColumn:
            return formatMetric(row.kl);
        case KlOracleColumn:
            return formatMetric(row.klOracle);
        case NllColumn:
            return formatMetric(row.nll);
        case GroupColumn:
            return qs(info.group);
        case TagsColumn: {
            QStringList tags;
            for (const auto &t : info.tags)
                tags << qs(t);
            return tags.join(QStringLiteral(", "));
        }
        }
        break;
    case SortRole:
        switch (index.column()) {
        case IdColumn:
            return qlonglong(info.id);
        case NameColumn:
            return qs(info.name).toLower();
        case StatusColumn:
            return qs(core::runStatusName(info.status));
        case TemplateColumn:
            return qs(info.templateName).toLower();
        case StepsColumn:
            return qlonglong(info.lastStep);
        case DurationColumn:
            return durationSeconds(row);
        case SeedColumn:
            return qlonglong(info.seed);
        case KlColumn:
            return metricSortKey(row.kl);
        case KlOracleColumn:
            return metricSortKey(row.klOracle);
        case NllColumn:
            return metricSortKey(row.nll);
        case GroupColumn:
            return qs(info.group).toLower();
        case TagsColumn:
            return data(index, Qt::DisplayRole).toString().toLower();
        }
        break;
    case RunIdRole:
        return qlonglong(info.id);
    case GraphJsonRole:
        return qs(info.graphJson);
    case Qt::ForegroundRole:
        if (index.column() == StatusColumn)
            return statusColor(info.status);
        break;
    case Qt::TextAlignmentRole:
        if (index.column() == IdColumn || (index.column() >= StepsColumn && index.column() <= NllColumn))
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case Qt::ToolTipRole:
        if (index.column() == StatusColumn && !info.error.empty())
            return qs(info.error);
        if (index.column() == NameColumn)
            return tr("Run #%1 on %2, %3 threads, seed %4 — double-click to rename%5")
                .arg(info.id)
                .arg(qs(info.device))
                .arg(info.threads)
                .arg(info.seed)
                .arg(info.note.empty() ? QString() : QStringLiteral("\n\n") + qs(info.note));
        if (index.column() == KlOracleColumn)
            return tr("KL(oracle ‖ student) at the last evaluation (eval/kl_oracle_student; oracle datasets only)");
        if (index.column() == KlColumn)
            return tr("KL(teacher ‖ student) at the last evaluation (eval/kl_teacher_student)");
        if (index.column() == NllColumn)
            return tr("Student NLL on validation at the last evaluation (eval/student_nll)");
        break;
    default:
        break;
    }
    return {};
}

QVariant RunTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (section >= ColumnCount && section - ColumnCount < int(m_extras.size())) {
        const ExtraColumn &c = m_extras[std::size_t(section - ColumnCount)];
        if (role == Qt::DisplayRole)
            return c.isParam ? c.spec
                             : qs(core::metricLabel(c.key)) +
                                   (c.reduce == core::MetricReduce::Last
                                        ? QString()
                                        : QStringLiteral(" (%1)").arg(qs(core::metricReduceName(c.reduce))));
        if (role == Qt::ToolTipRole)
            return tr("%1 — right-click the header to remove it").arg(c.spec);
        return {};
    }
    if (role == Qt::DisplayRole) {
        switch (section) {
        case IdColumn:
            return tr("ID");
        case NameColumn:
            return tr("Name");
        case StatusColumn:
            return tr("Status");
        case TemplateColumn:
            return tr("Template");
        case StepsColumn:
            return tr("Steps");
        case DurationColumn:
            return tr("Duration");
        case SeedColumn:
            return tr("Seed");
        case KlColumn:
            return tr("KL to teacher");
        case KlOracleColumn:
            return tr("KL from oracle");
        case NllColumn:
            return tr("Student NLL");
        case GroupColumn:
            return tr("Group");
        case TagsColumn:
            return tr("Tags");
        }
    }
    if (role == Qt::ToolTipRole) {
        if (section == KlColumn)
            return tr("Final KL(teacher ‖ student), eval/kl_teacher_student");
        if (section == NllColumn)
            return tr("Final student NLL on validation, eval/student_nll");
    }
    return {};
}

Qt::ItemFlags RunTableModel::flags(const QModelIndex &index) const
{
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && index.column() == NameColumn)
        f |= Qt::ItemIsEditable;
    return f;
}

bool RunTableModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (role != Qt::EditRole || !index.isValid() || index.column() != NameColumn ||
        index.row() >= int(m_rows.size()))
        return false;
    const QString name = value.toString().trimmed();
    Row &row = m_rows[std::size_t(index.row())];
    if (name.isEmpty() || name.toStdString() == row.info.name)
        return false;
    auto renamed = core::renameRun(m_storePath.toStdString(), row.info.id, name.toStdString());
    if (!renamed.ok()) {
        setError(qs(renamed.error().message));
        return false;
    }
    row.info.name = name.toStdString();
    Q_EMIT dataChanged(index, index);
    return true;
}

} // namespace distillery::widgets
