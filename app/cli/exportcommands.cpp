// distillery-cli export: a run's trained student out, as a Hugging Face folder or TorchScript.

#include "cli.h"

#include "distillery/core/export.h"
#include "distillery/core/files.h"

#include <iostream>

namespace distillery::cli {

int cmdExport(const std::string &runText, ExportRequest request)
{
    auto opened = openRun(request.storePath, runText);
    if (!opened.ok())
        return reportFailure(opened.error());
    request.run = opened.value().second;
    opened.value().first.reset();
    std::string lastStage;
    auto result = exportStudent(request, [&](double, const std::string &stage) {
        if (stage != lastStage && stage != "done")
            std::cerr << stage << "\n";
        lastStage = stage;
    });
    if (!result.ok())
        return reportFailure(result.error());
    const ExportResult &r = result.value();
    std::cout << "run " << request.run << " at step " << r.step << " exported as " << request.format
              << " (" << request.dtype << ") to " << r.path << " in " << fmt(r.seconds, 1) << " s\n";
    for (const auto &f : r.files)
        std::cout << "  " << f << "\n";
    std::cout << formatBytes(std::uint64_t(r.bytes)) << " in all\n";
    return kExitOk;
}

} // namespace distillery::cli
