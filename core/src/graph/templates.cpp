// Example experiments shipped as graph files, one per distillation method.

#include "graphprivate.h"
#include "distillery/core/errors.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace distillery::core {

namespace fs = std::filesystem;

std::string templatesDir()
{
    if (const char *dir = std::getenv("DISTILLERY_TEMPLATES"); dir && *dir)
        return dir;
    // An installed tree: <prefix>/bin/distillery and <prefix>/share/distillery/templates.
    std::error_code ec;
    const fs::path executable = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path installed =
            (executable.parent_path() / ".." / "share" / "distillery" / "templates")
                .lexically_normal();
        if (fs::is_directory(installed, ec))
            return installed.string();
    }
    return DISTILLERY_RESOURCES_DIR "/templates";
}

std::vector<std::string> templateNames()
{
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(templatesDir(), ec))
        if (entry.path().extension() == ".json")
            names.push_back(entry.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

Result<Graph> loadTemplate(const std::string &name)
{
    const std::vector<std::string> names = templateNames();
    if (std::find(names.begin(), names.end(), name) == names.end())
        return Result<Graph>::failure(
            errc::kGraphNotFound, "unknown template '" + name + "' in " + templatesDir() + " (available: " +
                            (names.empty() ? "none" : graphdetail::joined(names)) + ")");
    auto graph = loadGraphFile((fs::path(templatesDir()) / (name + ".json")).string());
    // A template is a starting point, not a file of the user's: paths given in it later are
    // the user's, relative to the current directory until the graph is saved and reopened.
    if (graph.ok())
        graph.value().baseDirectory.clear();
    return graph;
}

} // namespace distillery::core
