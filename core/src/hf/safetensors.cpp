#include "hf/safetensors.h"

#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace distillery::core::hf {

std::size_t safetensorsItemSize(const std::string &dtype)
{
    static const std::map<std::string, std::size_t> sizes = {
        {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2},
        {"U16", 2},  {"F16", 2}, {"BF16", 2}, {"I32", 4},    {"U32", 4},     {"F32", 4},
        {"I64", 8},  {"U64", 8}, {"F64", 8}};
    const auto it = sizes.find(dtype);
    return it == sizes.end() ? 0 : it->second;
}

Result<std::string> safetensorsHeader(const std::vector<SafetensorsTensor> &tensors,
                                      const std::map<std::string, std::string> &metadata)
{
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    std::set<std::string> names;
    std::uint64_t offset = 0;
    for (const auto &t : tensors) {
        const std::string where = "safetensors tensor '" + t.name + "'";
        if (t.name.empty() || t.name == "__metadata__" || !names.insert(t.name).second)
            return Error{errc::kInternal, where + ": empty, reserved or repeated name"};
        const std::size_t item = safetensorsItemSize(t.dtype);
        if (item == 0)
            return Error{errc::kInternal, where + ": unknown dtype " + t.dtype};
        std::uint64_t count = 1;
        for (const auto d : t.shape) {
            if (d < 0)
                return Error{errc::kInternal, where + ": negative dimension"};
            count *= std::uint64_t(d);
        }
        if (count * item != t.bytes.size())
            return Error{errc::kInternal, where + ": " + std::to_string(t.bytes.size())
                                              + " bytes for " + std::to_string(count) + " elements of "
                                              + t.dtype};
        header[t.name] = {{"dtype", t.dtype},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + t.bytes.size()}}};
        offset += t.bytes.size();
    }
    std::string json = header.dump();
    // The data starts 8-byte aligned: spaces after the JSON (allowed by the format).
    json.append((8 - json.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    const std::uint64_t n = json.size();
    for (int i = 0; i < 8; ++i)
        out[std::size_t(i)] = char((n >> (8 * i)) & 0xff);
    return out + json;
}

Status writeSafetensors(const std::string &path, const std::vector<SafetensorsTensor> &tensors,
                        const std::map<std::string, std::string> &metadata)
{
    auto header = safetensorsHeader(tensors, metadata);
    if (!header.ok())
        return header.error();
    auto file = AtomicFile::create(path);
    if (!file.ok())
        return file.error();
    file.value()->write(header.value().data(), header.value().size());
    for (const auto &t : tensors)
        file.value()->write(t.bytes.data(), t.bytes.size());
    return file.value()->commit();
}

const SafetensorsEntry *SafetensorsLayout::find(const std::string &name) const
{
    for (const auto &t : tensors)
        if (t.name == name)
            return &t;
    return nullptr;
}

namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;
constexpr std::size_t kMaxRank = 8;

Error bad(const std::string &file, const std::string &what)
{
    return Error{errc::kBadCheckpoint, file + ": not a valid safetensors file: " + what};
}

} // namespace

Result<SafetensorsLayout> parseSafetensors(const unsigned char *bytes, std::uint64_t size,
                                           const std::string &file)
{
    if (size < 8)
        return bad(file, std::to_string(size) + " bytes, shorter than the 8-byte header length");
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | bytes[i];
    if (n > size - 8)
        return bad(file, "the header length " + std::to_string(n) + " is larger than the "
                             + std::to_string(size - 8) + " bytes after it");
    if (n > kMaxHeaderBytes)
        return bad(file, "the header length " + std::to_string(n) + " is above the 100 MB limit");
    if (n < 2)
        return bad(file, "the header is " + std::to_string(n) + " bytes, too short for JSON");
    const std::string text(reinterpret_cast<const char *>(bytes + 8), std::size_t(n));
    const nlohmann::json header = nlohmann::json::parse(text, nullptr, false);
    if (header.is_discarded() || !header.is_object())
        return bad(file, "the header is not a JSON object");

    SafetensorsLayout layout;
    layout.dataStart = 8 + n;
    const std::uint64_t dataBytes = size - layout.dataStart;
    for (const auto &[name, value] : header.items()) {
        const std::string where = "tensor '" + name + "'";
        if (name == "__metadata__") {
            if (!value.is_object())
                return bad(file, "__metadata__ is not an object");
            for (const auto &[k, v] : value.items()) {
                if (!v.is_string())
                    return bad(file, "__metadata__ value '" + k + "' is not a string");
                layout.metadata[k] = v.get<std::string>();
            }
            continue;
        }
        if (name.empty())
            return bad(file, "a tensor has an empty name");
        if (!value.is_object() || !value.contains("dtype") || !value.contains("shape")
            || !value.contains("data_offsets"))
            return bad(file, where + " needs \"dtype\", \"shape\" and \"data_offsets\"");
        const auto &dtype = value["dtype"];
        const auto &shape = value["shape"];
        const auto &offsets = value["data_offsets"];
        if (!dtype.is_string() || safetensorsItemSize(dtype.get<std::string>()) == 0)
            return bad(file, where + " has dtype " + dtype.dump()
                                 + "; expected one of F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL");
        if (!shape.is_array() || shape.size() > kMaxRank)
            return bad(file, where + ": shape must be an array of at most 8 dimensions");
        if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned()
            || !offsets[1].is_number_unsigned())
            return bad(file, where + ": data_offsets must be two non-negative integers");
        SafetensorsEntry e;
        e.name = name;
        e.dtype = dtype.get<std::string>();
        const std::uint64_t item = safetensorsItemSize(e.dtype);
        e.begin = offsets[0].get<std::uint64_t>();
        e.end = offsets[1].get<std::uint64_t>();
        if (e.begin > e.end || e.end > dataBytes)
            return bad(file, where + ": data_offsets [" + std::to_string(e.begin) + ", "
                                 + std::to_string(e.end) + "] are outside the "
                                 + std::to_string(dataBytes) + " data bytes");
        // The element count, bounded by the data's size so that it cannot overflow.
        std::uint64_t count = 1;
        bool tooMany = false;
        for (const auto &d : shape) {
            if (!d.is_number_unsigned() || d.get<std::uint64_t>() > (std::uint64_t(1) << 62))
                return bad(file, where + ": shape " + shape.dump() + " has a dimension that is not an integer in 0..2^62");
            e.shape.push_back(d.get<std::int64_t>());
        }
        const bool empty = std::find(e.shape.begin(), e.shape.end(), 0) != e.shape.end();
        for (const auto dim : e.shape) {
            if (empty) {
                count = 0;
                break;
            }
            if (count > dataBytes / item / std::uint64_t(dim)) {
                tooMany = true;
                break;
            }
            count *= std::uint64_t(dim);
        }
        if (tooMany || e.end - e.begin != count * item)
            return bad(file, where + ": " + std::to_string(e.end - e.begin) + " bytes for shape "
                                 + shape.dump() + " of " + e.dtype
                                 + (tooMany ? ", which needs more than the file's " + std::to_string(dataBytes)
                                            : ", which needs " + std::to_string(count * item)));
        layout.tensors.push_back(std::move(e));
    }
    std::sort(layout.tensors.begin(), layout.tensors.end(),
              [](const SafetensorsEntry &a, const SafetensorsEntry &b) {
                  return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
              });
    for (std::size_t i = 1; i < layout.tensors.size(); ++i) {
        const auto &prev = layout.tensors[i - 1];
        const auto &cur = layout.tensors[i];
        if (cur.begin < prev.end)
            return bad(file, "the bytes of tensors '" + prev.name + "' and '" + cur.name + "' overlap");
    }
    return layout;
}

Result<MappedFile> MappedFile::open(const std::string &path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return Error{errno == ENOENT ? errc::kModelNotFound : errc::kBadCheckpoint,
                     path + ": cannot open: " + std::strerror(errno)};
    struct stat st
    {
    };
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return Error{errc::kBadCheckpoint, path + ": not a regular file"};
    }
    MappedFile f;
    f.m_path = path;
    f.m_size = std::uint64_t(st.st_size);
    if (f.m_size > 0) {
        void *p = ::mmap(nullptr, std::size_t(f.m_size), PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            return Error{errc::kBadCheckpoint, path + ": cannot map: " + std::strerror(err)};
        }
        f.m_data = static_cast<const unsigned char *>(p);
    }
    ::close(fd);
    return f;
}

MappedFile::MappedFile(MappedFile &&other) noexcept
    : m_data(other.m_data), m_size(other.m_size), m_path(std::move(other.m_path))
{
    other.m_data = nullptr;
    other.m_size = 0;
}

MappedFile &MappedFile::operator=(MappedFile &&other) noexcept
{
    if (this != &other) {
        this->~MappedFile();
        m_data = other.m_data;
        m_size = other.m_size;
        m_path = std::move(other.m_path);
        other.m_data = nullptr;
        other.m_size = 0;
    }
    return *this;
}

void MappedFile::release(std::uint64_t offset, std::uint64_t length) const
{
    if (!m_data || offset >= m_size)
        return;
    const std::uint64_t page = std::uint64_t(::sysconf(_SC_PAGESIZE));
    const std::uint64_t end = std::min(m_size, offset + length);
    const std::uint64_t from = (offset + page - 1) / page * page, to = end / page * page;
    if (to > from)
        ::madvise(const_cast<unsigned char *>(m_data) + from, std::size_t(to - from), MADV_DONTNEED);
}

MappedFile::~MappedFile()
{
    if (m_data)
        ::munmap(const_cast<unsigned char *>(m_data), std::size_t(m_size));
    m_data = nullptr;
}

} // namespace distillery::core::hf
