#include "data/tokenizer.h"

#include "common/jsonread.h"
#include "data/bpe.h"
#include "data/sentencepiece.h"
#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace distillery::core::data {

namespace {

using jsonread::Json;

const InputFileKind kConfigFile{"tokenizer_config.json", 16u << 20, errc::kDataNotFound, errc::kDataFormat,
                                errc::kDataEmpty};

// bos_token, eos_token, ... of a tokenizer_config.json: a string or {"content": ...}.
std::string tokenName(const Json &config, const char *key)
{
    if (!config.contains(key))
        return "";
    const Json &v = config[key];
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string())
        return v["content"].get<std::string>();
    return "";
}

// The special tokens a tokenizer_config.json names, where the tokenizer knows them.
Status applyConfig(const std::string &file, const Tokenizer &tok, SpecialTokens &s)
{
    auto text = readInputFile(file, kConfigFile);
    if (!text.ok())
        return text.error();
    auto parsed = jsonread::parse(text.value(), 64);
    if (!parsed.ok || !parsed.value.is_object())
        return Status::failure(errc::kDataFormat, file + ": not a JSON object"
                                                      + (parsed.ok ? std::string() : ": " + parsed.error.message));
    const Json &config = parsed.value;
    struct Slot
    {
        const char *key;
        std::string *name;
        std::int64_t *id;
    };
    for (const Slot &slot : {Slot{"bos_token", &s.bos, &s.bosId}, Slot{"eos_token", &s.eos, &s.eosId},
                             Slot{"pad_token", &s.pad, &s.padId}, Slot{"unk_token", &s.unk, &s.unkId}}) {
        const std::string name = tokenName(config, slot.key);
        if (name.empty())
            continue;
        // A name the tokenizer does not hold as a special token is left out (configs name a
        // pad token that some other code adds, for one).
        const std::int64_t id = tok.specialId(name);
        if (id < 0)
            continue;
        *slot.name = name;
        *slot.id = id;
    }
    if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean())
        s.addBos = config["add_bos_token"].get<bool>() && s.bosId >= 0;
    return okStatus();
}

} // namespace

void Tokenizer::setSpecialTokens(std::vector<std::pair<std::string, std::int64_t>> tokens)
{
    std::stable_sort(tokens.begin(), tokens.end(), [](const auto &a, const auto &b) { return a.first.size() > b.first.size(); });
    m_specialTokens = std::move(tokens);
}

std::int64_t Tokenizer::specialId(const std::string &content) const
{
    for (const auto &[c, id] : m_specialTokens)
        if (c == content)
            return id;
    return -1;
}

void Tokenizer::splitAtSpecialTokens(std::string_view text, std::vector<std::int64_t> &out,
                                     const std::function<void(std::string_view, bool)> &encodeText) const
{
    // Each special token's next place, searched again only once the text has passed it: the
    // text is scanned once per special token (Llama 3 has 256), not once per occurrence.
    std::vector<std::size_t> next;
    for (const auto &special : m_specialTokens)
        next.push_back(text.find(special.first));
    std::size_t from = 0;
    while (from < text.size()) {
        std::size_t best = std::string_view::npos, bestLen = 0;
        std::int64_t bestId = -1;
        for (std::size_t k = 0; k < m_specialTokens.size(); ++k) {
            const auto &[content, id] = m_specialTokens[k];
            if (next[k] != std::string_view::npos && next[k] < from)
                next[k] = text.find(content, from);
            const std::size_t at = next[k];
            if (at != std::string_view::npos && (at < best || (at == best && content.size() > bestLen))) {
                best = at;
                bestId = id;
                bestLen = content.size();
            }
        }
        if (best == std::string_view::npos) {
            encodeText(text.substr(from), from == 0);
            return;
        }
        encodeText(text.substr(from, best - from), from == 0);
        out.push_back(bestId);
        from = best + bestLen;
    }
}

Result<std::shared_ptr<Tokenizer>> openTokenizer(const std::string &path)
{
    std::error_code ec;
    const fs::path p(path);
    const bool folder = fs::is_directory(p, ec);
    Result<std::shared_ptr<Tokenizer>> tok = Error{errc::kDataNotFound, path + ": no tokenizer.json, vocab.json with "
                                                                               "merges.txt, or tokenizer.model"};
    auto fromModel = [](const std::string &file) -> Result<std::shared_ptr<Tokenizer>> {
        auto sp = SentencePieceTokenizer::fromModel(file);
        if (!sp.ok())
            return sp.error();
        return std::shared_ptr<Tokenizer>(sp.value());
    };
    auto fromBpe = [](Result<std::shared_ptr<BpeTokenizer>> bpe) -> Result<std::shared_ptr<Tokenizer>> {
        if (!bpe.ok())
            return bpe.error();
        return std::shared_ptr<Tokenizer>(bpe.value());
    };
    if (!folder) {
        if (!fs::exists(p, ec))
            return Error{errc::kDataNotFound, path + ": no such tokenizer file or folder"};
        tok = p.extension() == ".model" ? fromModel(path) : fromBpe(BpeTokenizer::fromTokenizerJson(path));
    } else if (fs::exists(p / "tokenizer.json", ec)) {
        tok = fromBpe(BpeTokenizer::fromTokenizerJson((p / "tokenizer.json").string()));
        // A tokenizer.json of a kind not read here, with the SentencePiece model beside it.
        if (!tok.ok() && tok.error().code == errc::kDataFormat && fs::exists(p / "tokenizer.model", ec)) {
            auto model = fromModel((p / "tokenizer.model").string());
            if (model.ok())
                tok = model;
        }
    } else if (fs::exists(p / "vocab.json", ec) && fs::exists(p / "merges.txt", ec)) {
        tok = fromBpe(BpeTokenizer::fromVocabAndMerges((p / "vocab.json").string(), (p / "merges.txt").string()));
    } else if (fs::exists(p / "tokenizer.model", ec)) {
        tok = fromModel((p / "tokenizer.model").string());
    }
    if (!tok.ok())
        return tok;
    const fs::path config = (folder ? p : p.parent_path()) / "tokenizer_config.json";
    if (fs::exists(config, ec)) {
        Tokenizer &t = *tok.value();
        if (auto st = applyConfig(config.string(), t, t.m_special); !st.ok())
            return st.error();
    }
    return tok;
}

} // namespace distillery::core::data
