// A full disk for one folder, for fault tests: loaded with LD_PRELOAD into a process, it lets
// writes to files under $DISTILLERY_FULLFS_DIR succeed until $DISTILLERY_FULLFS_BYTES bytes
// have been written there in all, then fails every further one with ENOSPC (as a real full file
// system does, a write that would cross the limit writes nothing). Files elsewhere are untouched.

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <dlfcn.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

namespace {

struct Budget
{
    std::string folder;
    long long left = -1; // -1: no limit configured
    Budget()
    {
        const char *dir = std::getenv("DISTILLERY_FULLFS_DIR");
        const char *bytes = std::getenv("DISTILLERY_FULLFS_BYTES");
        if (dir && bytes && *dir) {
            folder = dir;
            if (folder.back() != '/')
                folder += '/';
            left = std::atoll(bytes);
        }
    }
};

Budget &budget()
{
    static Budget b;
    return b;
}

bool underFolder(int fd)
{
    char link[64], target[4096];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = ::readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    return std::strncmp(target, budget().folder.c_str(), budget().folder.size()) == 0;
}

// True when `count` bytes to `fd` may be written.
bool allowed(int fd, size_t count)
{
    Budget &b = budget();
    if (b.left < 0 || count == 0 || !underFolder(fd))
        return true;
    if ((long long)count > b.left) {
        b.left = 0;
        return false;
    }
    b.left -= (long long)count;
    return true;
}

template<typename F>
F next(const char *name)
{
    return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

// The real call when the budget allows `count` bytes to `fd`, else -1 with ENOSPC.
template<typename Call>
ssize_t guarded(int fd, size_t count, Call call)
{
    if (!allowed(fd, count)) {
        errno = ENOSPC;
        return -1;
    }
    return call();
}

} // namespace

extern "C" {

ssize_t write(int fd, const void *data, size_t count)
{
    static auto real = next<ssize_t (*)(int, const void *, size_t)>("write");
    return guarded(fd, count, [&] { return real(fd, data, count); });
}

ssize_t pwrite(int fd, const void *data, size_t count, off_t offset)
{
    static auto real = next<ssize_t (*)(int, const void *, size_t, off_t)>("pwrite");
    return guarded(fd, count, [&] { return real(fd, data, count, offset); });
}

ssize_t pwrite64(int fd, const void *data, size_t count, off64_t offset)
{
    static auto real = next<ssize_t (*)(int, const void *, size_t, off64_t)>("pwrite64");
    return guarded(fd, count, [&] { return real(fd, data, count, offset); });
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
    static auto real = next<ssize_t (*)(int, const struct iovec *, int)>("writev");
    size_t count = 0;
    for (int i = 0; i < n; ++i)
        count += iov[i].iov_len;
    return guarded(fd, count, [&] { return real(fd, iov, n); });
}
}
