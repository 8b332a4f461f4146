#pragma once

// Writing a LibTorch archive as every file is written (distillery/core/files.h). LibTorch's own
// save_to(path) leaves a partial file behind on a full disk and aborts the process (its zip
// writer throws again from its destructor); here the archive streams into an AtomicFile whose
// write never fails loudly, and the first error is reported once, naming the file.
// Header-only, for the LibTorch modules of core/src.

#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <torch/serialize.h>

#include <string>

namespace distillery::core {

// The first line of a LibTorch error, without the C++ backtrace c10::Error::what() appends.
inline std::string torchErrorText(const std::exception &e)
{
    std::string text;
    if (const auto *c10 = dynamic_cast<const c10::Error *>(&e))
        text = c10->what_without_backtrace();
    else
        text = e.what();
    if (auto nl = text.find('\n'); nl != std::string::npos)
        text.resize(nl);
    return text;
}

inline Status saveArchiveAtomically(torch::serialize::OutputArchive &archive,
                                    const std::string &path)
{
    auto file = AtomicFile::create(path);
    if (!file.ok())
        return file.error();
    AtomicFile &out = *file.value();
    try {
        archive.save_to([&out](const void *data, std::size_t size) { return out.write(data, size); });
    } catch (const std::exception &e) {
        return Status::failure(errc::kIoWrite, path + ": cannot write the file: " + torchErrorText(e));
    }
    return out.commit();
}

} // namespace distillery::core
