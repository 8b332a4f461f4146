#pragma once

// Run stores for widget tests: open a writer or reader and create runs, failing the test
// binary at once when the store cannot be used.

#include "distillery/core/store.h"

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

} // namespace distillery::widgets::testing
