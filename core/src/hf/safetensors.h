#pragma once

// The safetensors format (https://huggingface.co/docs/safetensors), read and written by the
// project itself: an 8-byte little-endian header length N, N bytes of JSON ({"name": {"dtype",
// "shape", "data_offsets": [begin, end]}, ..., "__metadata__": {string: string}}), padded with
// spaces so that the data starts 8-byte aligned, then the tensors' bytes, each little-endian
// and row-major, the offsets relative to the data's start. LibTorch-free.
//
// Reading is a security boundary: the file may come from the internet. The parser checks the
// header length against the file, the JSON, every dtype and shape against its byte range, and
// that no two ranges overlap, before anything reads a tensor's bytes (fuzz/fuzz_safetensors).

#include "distillery/core/result.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace distillery::core::hf {

struct SafetensorsTensor
{
    std::string name;
    std::string dtype; // "F32", "F16", "BF16", "I64", ...
    std::vector<std::int64_t> shape;
    std::string_view bytes; // element count × element size bytes
};

// Bytes per element of a safetensors dtype, 0 for a name the format does not define.
std::size_t safetensorsItemSize(const std::string &dtype);

// The header (its length prefix and padding included) for `tensors` in this order.
Result<std::string> safetensorsHeader(const std::vector<SafetensorsTensor> &tensors,
                                      const std::map<std::string, std::string> &metadata);

// Writes the file atomically (files.h). Names must be unique and not "__metadata__", each
// tensor's bytes must match its shape and dtype.
Status writeSafetensors(const std::string &path, const std::vector<SafetensorsTensor> &tensors,
                        const std::map<std::string, std::string> &metadata);

// One tensor of a parsed file: its bytes are [dataStart + begin, dataStart + end).
struct SafetensorsEntry
{
    std::string name;
    std::string dtype;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0, end = 0;
};

struct SafetensorsLayout
{
    std::uint64_t dataStart = 0; // 8 + header length
    std::vector<SafetensorsEntry> tensors; // in the order of their bytes
    std::map<std::string, std::string> metadata;

    const SafetensorsEntry *find(const std::string &name) const;
};

// The layout of a safetensors file of `size` bytes starting at `bytes`, or an error
// "<file>: ..." (errc::kBadCheckpoint) saying what is wrong. Headers above 100 MB are refused.
Result<SafetensorsLayout> parseSafetensors(const unsigned char *bytes, std::uint64_t size,
                                           const std::string &file);

// A file mapped read-only into memory; unmapped when the last copy goes.
class MappedFile
{
public:
    static Result<MappedFile> open(const std::string &path);
    MappedFile() = default;
    MappedFile(MappedFile &&other) noexcept;
    MappedFile &operator=(MappedFile &&other) noexcept;
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;
    ~MappedFile();

    const unsigned char *data() const { return m_data; }
    // Gives the pages wholly inside [offset, offset + length) back to the system (they are read
    // again from the file if touched): a loader that has copied a tensor out keeps the peak
    // memory near one copy of the weights.
    void release(std::uint64_t offset, std::uint64_t length) const;
    std::uint64_t size() const { return m_size; }
    const std::string &path() const { return m_path; }

private:
    const unsigned char *m_data = nullptr;
    std::uint64_t m_size = 0;
    std::string m_path;
};

} // namespace distillery::core::hf
