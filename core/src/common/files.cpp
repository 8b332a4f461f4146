#include "distillery/core/files.h"
#include "distillery/core/errors.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <regex>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace distillery::core {

namespace {

std::string reason(int error)
{
    switch (error) {
    case ENOENT:
        return "no such file";
    case ELOOP:
        return "too many levels of symbolic links (a symbolic link loop?)";
    case EACCES:
        return "permission denied";
    case ENOSPC:
        return "no space left on the device";
    case EDQUOT:
        return "disk quota exceeded";
    case EROFS:
        return "the file system is read-only";
    default:
        return std::strerror(error);
    }
}

std::string fileType(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a named pipe (FIFO)";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

class Descriptor
{
public:
    explicit Descriptor(int fd) : m_fd(fd) {}
    ~Descriptor()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    Descriptor(const Descriptor &) = delete;
    Descriptor &operator=(const Descriptor &) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
};

std::string folderOf(const std::string &path)
{
    const std::string parent = std::filesystem::path(path).parent_path().string();
    return parent.empty() ? "." : parent;
}

} // namespace

std::string formatBytes(std::uint64_t bytes)
{
    const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024)
        return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
    double value = double(bytes);
    int unit = -1;
    while (value >= 1024 && unit < 3) {
        value /= 1024;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, value < 10 ? "%.1f %s" : "%.0f %s", value, units[unit]);
    return text;
}

Result<std::string> readInputFile(const std::string &path, const InputFileKind &kind)
{
    using R = Result<std::string>;
    if (path.empty())
        return R::failure(kind.notFoundCode, "no " + kind.what + " given (the path is empty)");
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused right after.
    Descriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (fd.get() < 0) {
        const int error = errno;
        return R::failure(error == ENOENT || error == ELOOP || error == EACCES ? kind.notFoundCode
                                                                                : kind.ioCode,
                          path + ": " + reason(error) +
                              (error == ENOENT ? " (expected a " + kind.what + ")" : std::string()));
    }
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0)
        return R::failure(kind.ioCode, path + ": " + reason(errno));
    if (!S_ISREG(info.st_mode))
        return R::failure(kind.ioCode, path + ": is " + fileType(info.st_mode) + ", expected a " +
                                           kind.what + " (a regular file)");
    if (std::uint64_t(info.st_size) > kind.maxBytes)
        return R::failure(kind.ioCode, path + ": the " + kind.what + " is " +
                                           formatBytes(std::uint64_t(info.st_size)) +
                                           ", more than the limit of " + formatBytes(kind.maxBytes));
    if (info.st_size == 0)
        return R::failure(kind.emptyCode, path + ": empty file (0 bytes), expected a " + kind.what);
    std::string text;
    text.resize(std::size_t(info.st_size));
    std::size_t filled = 0;
    for (;;) {
        if (filled == text.size()) {
            // The file grew while it was read: keep reading up to the limit.
            if (text.size() >= kind.maxBytes + 1)
                return R::failure(kind.ioCode, path + ": the " + kind.what +
                                                   " grew past the limit of " +
                                                   formatBytes(kind.maxBytes) + " while it was read");
            text.resize(std::min<std::uint64_t>(text.size() * 2 + 4096, kind.maxBytes + 1));
        }
        const ssize_t n = ::read(fd.get(), text.data() + filled, text.size() - filled);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return R::failure(kind.ioCode, path + ": read error: " + reason(errno));
        }
        if (n == 0)
            break;
        filled += std::size_t(n);
    }
    text.resize(filled);
    if (text.empty())
        return R::failure(kind.emptyCode, path + ": empty file (0 bytes), expected a " + kind.what);
    return text;
}

AtomicFile::AtomicFile(std::string path, std::string temp, int fd)
    : m_path(std::move(path)), m_temp(std::move(temp)), m_fd(fd)
{
}

AtomicFile::~AtomicFile()
{
    if (!m_committed)
        discard();
}

void AtomicFile::discard() noexcept
{
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
    if (!m_temp.empty())
        ::unlink(m_temp.c_str());
}

Result<std::unique_ptr<AtomicFile>> AtomicFile::create(const std::string &path)
{
    using R = Result<std::unique_ptr<AtomicFile>>;
    if (path.empty())
        return R::failure(errc::kIoWrite, "cannot write a file: no path given");
    std::string pattern = path + ".tmp-XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    const int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0)
        return R::failure(errc::kIoWrite, path + ": cannot create the file: " + reason(errno));
    ::fchmod(fd, 0644);
    return std::unique_ptr<AtomicFile>(new AtomicFile(path, std::string(name.data()), fd));
}

std::size_t AtomicFile::write(const void *data, std::size_t size) noexcept
{
    const char *bytes = static_cast<const char *>(data);
    std::size_t done = 0;
    while (m_errno == 0 && done < size) {
        const ssize_t n = ::write(m_fd, bytes + done, size - done);
        if (n < 0) {
            if (errno != EINTR)
                m_errno = errno;
            continue;
        }
        done += std::size_t(n);
    }
    return size;
}

Status AtomicFile::fail(const std::string &action, int error)
{
    discard();
    return Status::failure(errc::kIoWrite, m_path + ": cannot " + action + ": " + reason(error) +
                                               " (nothing was written; an older file is unchanged)");
}

Status AtomicFile::commit()
{
    if (m_committed)
        return okStatus();
    if (m_errno != 0)
        return fail("write the file", m_errno);
    if (::fsync(m_fd) != 0)
        return fail("write the file", errno);
    const int fd = m_fd;
    m_fd = -1;
    if (::close(fd) != 0)
        return fail("write the file", errno);
    if (::rename(m_temp.c_str(), m_path.c_str()) != 0)
        return fail("replace the file", errno);
    m_committed = true;
    // The rename is durable once the folder is synced; a failure here loses nothing written.
    Descriptor folder(::open(folderOf(m_path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (folder.get() >= 0)
        ::fsync(folder.get());
    return okStatus();
}

Status writeFileAtomically(const std::string &path, const std::string &contents)
{
    auto file = AtomicFile::create(path);
    if (!file.ok())
        return file.error();
    file.value()->write(contents.data(), contents.size());
    return file.value()->commit();
}

int removeStaleTemporaryFiles(const std::string &folder)
{
    namespace fs = std::filesystem;
    static const std::regex temporary(R"(.+\.tmp-[A-Za-z0-9]{6}$)");
    std::error_code ec;
    int removed = 0;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (std::regex_match(name, temporary) && fs::remove(it->path(), ec))
            ++removed;
    }
    return removed;
}

} // namespace distillery::core
