#pragma once

// Files a user points Distillery at, and files Distillery writes. LibTorch-free.
//
// Reading: only regular files are read (a directory, FIFO, device or socket is refused before
// anything blocks), with a size limit per kind of file, so that `/dev/zero` or a FIFO given as
// a corpus is an error instead of a hang or an unbounded allocation.
//
// Writing: every file is written to a temporary file in the same folder, flushed to the disk
// (fsync), renamed over the target and the folder synced. A failure at any point (a full disk,
// a read-only folder) removes the temporary file and returns an error that names the target and
// the cause; the old file, if any, is left as it was.

#include "distillery/core/result.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace distillery::core {

struct InputFileKind
{
    std::string what;            // "graph file", "corpus file": used in every message
    std::uint64_t maxBytes = 0;  // larger files are refused
    const char *notFoundCode;    // missing file, symlink loop, permission denied
    const char *ioCode;          // not a regular file, too large, read error
    const char *emptyCode;       // zero bytes
};

// The whole file, or an error "<path>: <what went wrong>" that says what was expected.
Result<std::string> readInputFile(const std::string &path, const InputFileKind &kind);

// "1.5 GiB", "300 KiB", "12 bytes".
std::string formatBytes(std::uint64_t bytes);

class AtomicFile
{
public:
    // Creates `<path>.tmp-XXXXXX` beside `path`.
    static Result<std::unique_ptr<AtomicFile>> create(const std::string &path);
    ~AtomicFile(); // removes the temporary file unless commit() succeeded
    AtomicFile(const AtomicFile &) = delete;
    AtomicFile &operator=(const AtomicFile &) = delete;

    // Appends `size` bytes. Never fails loudly: the first error is kept, later writes are
    // dropped, and commit() reports it. Returns `size` so that serialisers writing through a
    // callback never see a short write (LibTorch's zip writer aborts on one).
    std::size_t write(const void *data, std::size_t size) noexcept;
    bool failed() const { return m_errno != 0; }

    // fsync, rename over the target, fsync the folder. On any error the temporary file is gone.
    Status commit();

    const std::string &path() const { return m_path; }
    const std::string &temporaryPath() const { return m_temp; }

private:
    AtomicFile(std::string path, std::string temp, int fd);
    Status fail(const std::string &action, int error);
    void discard() noexcept;

    std::string m_path;
    std::string m_temp;
    int m_fd = -1;
    int m_errno = 0;
    bool m_committed = false;
};

// The whole of `contents` into `path`, as AtomicFile does it.
Status writeFileAtomically(const std::string &path, const std::string &contents);

// Removes `<name>.tmp-XXXXXX` files that a killed process left in `folder`; returns how many.
int removeStaleTemporaryFiles(const std::string &folder);

} // namespace distillery::core
