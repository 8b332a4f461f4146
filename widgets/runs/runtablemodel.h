#pragma once

// The runs of one store as a table: id, name, status, template, steps, duration, seed, final KL
// to the teacher and from the oracle, final student NLL, group and tags (the note as tooltip). refresh() re-reads the store (StoreReader::runs() and
// latest() for runs that changed) and updates rows in place — rows are inserted, removed or
// changed, never reset — so selections and open editors survive a live refresh.
// The name column is editable and renames the run in the store (core::renameRun).
// SortRole gives numbers for numeric columns (NaN-free: missing values sort first).

#include "distillery/core/compare.h"
#include "distillery/core/store.h"

#include <QAbstractTableModel>
#include <QList>
#include <QString>

#include <memory>
#include <vector>

namespace distillery::widgets {

class RunTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        IdColumn,
        NameColumn,
        StatusColumn,
        TemplateColumn,
        StepsColumn,
        DurationColumn,
        SeedColumn,
        KlColumn,
        KlOracleColumn,
        NllColumn,
        GroupColumn,
        TagsColumn,
        ColumnCount
    };
    enum Role { SortRole = Qt::UserRole, RunIdRole, GraphJsonRole };

    explicit RunTableModel(QObject *parent = nullptr);
    ~RunTableModel() override;

    void setStorePath(const QString &path);
    QString storePath() const { return m_storePath; }
    // Re-reads the store. Returns false (and sets lastError) when it cannot be read; a missing
    // file is not an error (no runs yet).
    bool refresh();
    QString lastError() const { return m_lastError; }

    int rowForRun(qint64 runId) const; // -1 if not listed
    qint64 runIdAt(int row) const;
    const core::RunInfo *runInfo(qint64 runId) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;

    static QColor statusColor(core::RunStatus status);

    // Columns after the fixed ones, each a graph parameter (`kd.temperature`, `Settings.seed`)
    // or a metric with its reduction (`eval/student_nll:best`; last when none is given). A run
    // without it shows "—".
    void setExtraColumns(const QStringList &columns);
    QStringList extraColumns() const;
    // What the store's runs offer as extra columns: their parameters, then their series (at
    // last and best).
    QStringList availableColumns() const;

Q_SIGNALS:
    void errorOccurred(const QString &message);

private:
    struct Row
    {
        core::RunInfo info;
        double kl = qQNaN();
        double klOracle = qQNaN();
        double nll = qQNaN();
        std::vector<QString> extraText;  // one per extra column
        std::vector<double> extraSort;
    };
    struct ExtraColumn
    {
        QString spec;
        bool isParam = true;
        std::string key; // the parameter or the series
        core::MetricReduce reduce = core::MetricReduce::Last;
    };
    void readExtras(Row &row) const;
    std::vector<ExtraColumn> m_extras;
    void setError(const QString &message);
    double durationSeconds(const Row &row) const;

    QString m_storePath;
    std::unique_ptr<core::StoreReader> m_reader;
    std::vector<Row> m_rows;
    QString m_lastError;
};

} // namespace distillery::widgets
