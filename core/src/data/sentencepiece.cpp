#include "data/sentencepiece.h"
#include "data/unicodetext.h"

#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>

namespace distillery::core::data {

namespace {

const InputFileKind kModelFile{"SentencePiece model", 512u << 20, errc::kDataNotFound, errc::kDataFormat,
                               errc::kDataEmpty};

constexpr int kControl = 1, kUnknown = 2, kByte = 4;

// The module's C functions (core/spm/spmshim.cpp).
struct Module
{
    std::string error; // why it could not be loaded
    void *(*load)(const char *, std::size_t, char *, std::size_t) = nullptr;
    void (*free)(void *) = nullptr;
    int (*size)(void *) = nullptr;
    int (*special)(void *, int) = nullptr;
    int (*type)(void *, int) = nullptr;
    std::size_t (*piece)(void *, int, char *, std::size_t) = nullptr;
    int (*encode)(void *, const char *, std::size_t, int **, std::size_t *, char *, std::size_t) = nullptr;
    int (*decode)(void *, const int *, std::size_t, char **, std::size_t *, char *, std::size_t) = nullptr;
    void (*release)(void *) = nullptr;
};

template <typename F>
bool bind(void *handle, const char *name, F &f)
{
    f = reinterpret_cast<F>(dlsym(handle, name));
    return f != nullptr;
}

// Where the module is: DISTILLERY_SPM_MODULE, the path the build wrote it to, or beside the
// program.
std::vector<std::string> modulePlaces()
{
    std::vector<std::string> places;
    if (const char *env = std::getenv("DISTILLERY_SPM_MODULE"); env && *env)
        places.emplace_back(env);
#ifdef DISTILLERY_SPM_MODULE
    places.emplace_back(DISTILLERY_SPM_MODULE);
#endif
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        places.push_back((exe.parent_path() / "libdistillery_spm.so").string());
        places.push_back((exe.parent_path().parent_path() / "lib" / "libdistillery_spm.so").string());
    }
    return places;
}

const Module &module()
{
    static const Module m = [] {
        Module out;
        void *handle = nullptr;
        std::string tried;
        for (const auto &place : modulePlaces()) {
            handle = dlopen(place.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
            if (handle)
                break;
            tried += (tried.empty() ? "" : "; ") + std::string(dlerror());
        }
        if (!handle) {
            out.error = "the SentencePiece module (libdistillery_spm.so, built with libsentencepiece-dev) "
                        "cannot be loaded: " + (tried.empty() ? std::string("no place to look") : tried);
            return out;
        }
        if (!bind(handle, "dspm_load", out.load) || !bind(handle, "dspm_free", out.free)
            || !bind(handle, "dspm_size", out.size) || !bind(handle, "dspm_special", out.special)
            || !bind(handle, "dspm_type", out.type) || !bind(handle, "dspm_piece", out.piece)
            || !bind(handle, "dspm_encode", out.encode) || !bind(handle, "dspm_decode", out.decode)
            || !bind(handle, "dspm_release", out.release))
            out.error = "the SentencePiece module lacks a function: " + std::string(dlerror());
        return out;
    }();
    return m;
}

} // namespace

Result<std::shared_ptr<SentencePieceTokenizer>> SentencePieceTokenizer::fromModel(const std::string &path)
{
    // Read through the project's file checks (size limits, a clear error for a folder), then
    // parsed by the library from memory.
    auto bytes = readInputFile(path, kModelFile);
    if (!bytes.ok())
        return bytes.error();
    const Module &m = module();
    if (!m.error.empty())
        return Error{errc::kInternal, path + ": " + m.error};
    char err[1024] = {};
    void *handle = m.load(bytes.value().data(), bytes.value().size(), err, sizeof err);
    if (!handle)
        return Error{errc::kDataFormat, path + ": not a SentencePiece model (" + std::string(err) + ")"};
    std::shared_ptr<SentencePieceTokenizer> tok(new SentencePieceTokenizer());
    tok->m_sp = std::shared_ptr<void>(handle, m.free);
    const int n = m.size(handle);
    if (n < 1)
        return Error{errc::kDataFormat, path + ": the SentencePiece model has no pieces"};
    tok->m_source = path;
    tok->m_pieces.resize(std::size_t(n));
    tok->m_types.resize(std::size_t(n));
    std::string p;
    std::vector<std::pair<std::string, std::int64_t>> specials;
    for (int id = 0; id < n; ++id) {
        p.resize(64);
        const std::size_t len = m.piece(handle, id, p.data(), p.size());
        if (len > p.size()) {
            p.resize(len);
            m.piece(handle, id, p.data(), p.size());
        }
        p.resize(len);
        const int type = m.type(handle, id);
        tok->m_types[std::size_t(id)] = type;
        std::string text = p;
        if (type & (kControl | kUnknown)) {
            if (!p.empty())
                specials.emplace_back(p, id);
        } else if ((type & kByte) && byteTokenValue(p) >= 0) {
            text = std::string(1, char(byteTokenValue(p)));
        } else {
            for (std::size_t at; (at = text.find("\xE2\x96\x81")) != std::string::npos;)
                text.replace(at, 3, " ");
        }
        tok->m_pieces[std::size_t(id)] = text;
    }
    tok->setSpecialTokens(std::move(specials));
    auto &s = tok->m_special;
    auto idOf = [&](int which) {
        const int id = m.special(handle, which);
        return id >= 0 && id < n ? std::int64_t(id) : std::int64_t(-1);
    };
    auto name = [&](std::int64_t id) { return id >= 0 ? tok->m_pieces[std::size_t(id)] : std::string(); };
    s.bosId = idOf(0);
    s.eosId = idOf(1);
    s.padId = idOf(2);
    s.unkId = idOf(3);
    s.bos = name(s.bosId);
    s.eos = name(s.eosId);
    s.pad = name(s.padId);
    s.unk = name(s.unkId);
    s.addBos = s.bosId >= 0;
    tok->m_files = {{path, "tokenizer.model"}};
    tok->m_identity = "SentencePiece model|" + path + "|" + std::to_string(n) + "|"
                      + std::to_string(std::hash<std::string>{}(bytes.value()));
    return tok;
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

bool SentencePieceTokenizer::isSpecial(std::int64_t id) const
{
    return m_types[std::size_t(id)] & (kControl | kUnknown);
}

std::vector<std::int64_t> SentencePieceTokenizer::encode(std::string_view text) const
{
    const Module &m = module();
    std::vector<std::int64_t> out;
    auto encodeText = [&](std::string_view part) {
        if (part.empty())
            return;
        int *ids = nullptr;
        std::size_t count = 0;
        char err[256] = {};
        if (m.encode(m_sp.get(), part.data(), part.size(), &ids, &count, err, sizeof err) == 0)
            out.insert(out.end(), ids, ids + count);
        m.release(ids);
    };
    splitAtSpecialTokens(text, out, [&](std::string_view part, bool) { encodeText(part); });
    return out;
}

Result<std::string> SentencePieceTokenizer::decode(const std::vector<std::int64_t> &ids) const
{
    // The library's decoding between special tokens (it drops the space it put before a text,
    // and joins byte pieces), the special tokens' text in between.
    const Module &m = module();
    std::string out;
    std::vector<int> run;
    auto flush = [&]() -> Status {
        if (run.empty())
            return okStatus();
        char *text = nullptr;
        std::size_t len = 0;
        char err[256] = {};
        const int rc = m.decode(m_sp.get(), run.data(), run.size(), &text, &len, err, sizeof err);
        if (rc == 0)
            out.append(text, len);
        m.release(text);
        run.clear();
        if (rc != 0)
            return Status::failure(errc::kInvalidInput, m_source + ": " + std::string(err));
        return okStatus();
    };
    for (const auto id : ids) {
        if (id < 0 || id >= vocabSize())
            return Error{errc::kInvalidInput, "token " + std::to_string(id) + " is not in the vocabulary of " + m_source};
        if (isSpecial(id)) {
            if (auto st = flush(); !st.ok())
                return st.error();
            out += m_pieces[std::size_t(id)];
        } else {
            run.push_back(int(id));
        }
    }
    if (auto st = flush(); !st.ok())
        return st.error();
    return out;
}

std::string SentencePieceTokenizer::piece(std::int64_t id) const
{
    return id >= 0 && id < vocabSize() ? m_pieces[std::size_t(id)] : std::string();
}

std::int64_t SentencePieceTokenizer::vocabSize() const
{
    return std::int64_t(m_pieces.size());
}

std::string SentencePieceTokenizer::kind() const
{
    return "SentencePiece model";
}

std::string SentencePieceTokenizer::identity() const
{
    return m_identity;
}

} // namespace distillery::core::data
