#pragma once

// Run stores for widget tests: open a writer or reader and create runs, failing the test
// binary at once when the store cannot be used.

#include "distillery/core/store.h"
#include "plots/diagnosticview.h"

#include <QString>
#include <QtGlobal>

#include <memory>
#include <string>

namespace distillery::widgets::testing {

inline std::unique_ptr<core::RunWriter> openWriter(const QString &path)
{
    auto writer = core::RunWriter::open(path.toStdString());
    if (!writer.ok())
        qFatal("RunWriter::open: %s", writer.error().message.c_str());
    return std::move(writer).value();
}

inline std::unique_ptr<core::StoreReader> openReader(const QString &path)
{
    auto reader = core::StoreReader::open(path.toStdString());
    if (!reader.ok())
        qFatal("StoreReader::open: %s", reader.error().message.c_str());
    return std::move(reader).value();
}

inline core::RunId createRun(core::RunWriter &writer, const std::string &name,
                             const std::string &graphJson = {})
{
    core::NewRun run;
    run.name = name;
    run.graphJson = graphJson;
    run.stepsTotal = 1000;
    auto id = writer.createRun(run);
    if (!id.ok())
        qFatal("createRun: %s", id.error().message.c_str());
    return id.value();
}

// Points a diagnostics view at `reader` (kept alive by the test; null: no store) and refreshes
// it with these runs.
inline void refreshWith(DiagnosticView &view, const core::StoreReader *reader,
                        const QList<core::RunId> &runs, const QHash<core::RunId, QString> &names)
{
    view.setStoreSource([reader] { return reader; });
    view.refresh(runs, names);
}

} // namespace distillery::widgets::testing
