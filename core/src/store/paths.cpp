// Paths of the files beside a store, recorded relative to the store's folder.

#include "distillery/core/store.h"

#include <filesystem>

namespace distillery::core {

namespace fs = std::filesystem;

namespace {

fs::path storeFolder(const std::string &storePath)
{
    std::error_code ec;
    fs::path absolute = fs::absolute(storePath, ec);
    if (ec)
        absolute = storePath;
    return absolute.lexically_normal().parent_path();
}

} // namespace

std::string storeRelativePath(const std::string &storePath, const std::string &path)
{
    std::error_code ec;
    fs::path absolute = fs::absolute(path, ec);
    if (ec)
        return path;
    absolute = absolute.lexically_normal();
    const fs::path relative = absolute.lexically_relative(storeFolder(storePath));
    if (relative.empty() || *relative.begin() == "..")
        return absolute.string();
    return relative.string();
}

std::string resolveStorePath(const std::string &storePath, const std::string &recorded)
{
    const fs::path p(recorded);
    if (recorded.empty() || p.is_absolute())
        return recorded;
    const fs::path beside = storeFolder(storePath) / p;
    std::error_code ec;
    if (!fs::exists(beside, ec) && fs::exists(p, ec))
        return fs::absolute(p, ec).lexically_normal().string();
    return beside.lexically_normal().string();
}

std::string defaultArtifactsFolder(const std::string &storePath)
{
    const fs::path name = fs::path(storePath).filename();
    return (storeFolder(storePath) / (name.string() + ".artifacts")).string();
}

} // namespace distillery::core
