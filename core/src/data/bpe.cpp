#include "data/bpe.h"

#include "common/jsonread.h"
#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <sstream>

namespace fs = std::filesystem;

namespace distillery::core::data {

namespace {

using jsonread::Json;

constexpr std::int64_t kMaxVocab = 1 << 24;
constexpr std::size_t kMaxCachedPieces = 1 << 20;

const InputFileKind kTokenizerFile{"tokenizer file", 512u << 20, errc::kDataNotFound, errc::kDataFormat,
                                   errc::kDataEmpty};

// GPT-2's table from bytes to printable characters: '!'..'~', '¡'..'¬' and '®'..'ÿ' stand for
// themselves, the other 68 bytes for U+0100 onwards, in byte order.
struct ByteTable
{
    char32_t toChar[256];
    std::unordered_map<char32_t, unsigned char> toByte;
    ByteTable()
    {
        char32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            toChar[b] = printable ? char32_t(b) : next++;
            toByte[toChar[b]] = static_cast<unsigned char>(b);
        }
    }
};

const ByteTable &byteTable()
{
    static const ByteTable table;
    return table;
}

// One code point at `i` of valid UTF-8 (its length in `len`), or -1 with len 1 for a byte that
// does not start a valid sequence.
std::int32_t decodeAt(std::string_view s, std::size_t i, std::size_t &len)
{
    const auto b0 = static_cast<unsigned char>(s[i]);
    len = 1;
    if (b0 < 0x80)
        return b0;
    std::size_t n = b0 >= 0xF0 && b0 <= 0xF4 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC2 && b0 <= 0xDF ? 2 : 0;
    if (n == 0 || i + n > s.size())
        return -1;
    std::int32_t c = b0 & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (std::size_t k = 1; k < n; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80)
            return -1;
        c = (c << 6) | (b & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    len = n;
    return c;
}

} // namespace

std::string gpt2ByteCharacter(unsigned char b)
{
    const char32_t c = byteTable().toChar[b]; // below U+0800: one or two UTF-8 bytes
    if (c < 0x80)
        return std::string(1, char(c));
    return {char(0xC0 | (c >> 6)), char(0x80 | (c & 0x3F))};
}

namespace {

// The bytes of a token as written in vocab.json / merges (GPT-2's printable characters), or
// false when a character is not one of the 256.
bool piecesToBytes(const std::string &token, std::string &bytes)
{
    const auto &table = byteTable().toByte;
    bytes.clear();
    for (std::size_t i = 0; i < token.size();) {
        std::size_t len = 1;
        const std::int32_t c = decodeAt(token, i, len);
        const auto it = c < 0 ? table.end() : table.find(char32_t(c));
        if (it == table.end())
            return false;
        bytes += char(it->second);
        i += len;
    }
    return true;
}

enum class Class { Letter, Number, Space, Other };

Class classify(std::int32_t c)
{
    if (c < 0)
        return Class::Other; // a byte that is not UTF-8
    if (u_isUWhiteSpace(c))
        return Class::Space;
    const auto type = u_charType(c);
    switch (type) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
        return Class::Letter;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
        return Class::Number;
    default:
        return Class::Other;
    }
}

Result<Json> readJsonFile(const std::string &path)
{
    auto text = readInputFile(path, kTokenizerFile);
    if (!text.ok())
        return text.error();
    auto parsed = jsonread::parse(text.value(), 64);
    if (!parsed.ok)
        return Error{errc::kDataFormat, path + ": not valid JSON"
                                            + (parsed.error.place.empty() ? "" : " at " + parsed.error.place) + ": "
                                            + parsed.error.message};
    return std::move(parsed.value);
}

Result<std::vector<std::pair<std::string, std::int64_t>>> vocabFrom(const Json &v, const std::string &where)
{
    if (!v.is_object() || v.empty())
        return Error{errc::kDataFormat, where + ": the vocabulary must be a non-empty object {\"token\": id}"};
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (const auto &[token, id] : v.items()) {
        if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() >= kMaxVocab)
            return Error{errc::kDataFormat, where + ": token " + jsonread::excerpt(token) + " has id "
                                                + jsonread::excerpt(id) + "; expected an integer in 0.."
                                                + std::to_string(kMaxVocab - 1)};
        out.emplace_back(token, id.get<std::int64_t>());
    }
    return out;
}

Result<std::pair<std::string, std::string>> splitMerge(const std::string &line, const std::string &where)
{
    const auto space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 >= line.size()
        || line.find(' ', space + 1) != std::string::npos)
        return Error{errc::kDataFormat, where + ": expected two tokens separated by one space, got "
                                            + jsonread::excerpt(line)};
    return std::make_pair(line.substr(0, space), line.substr(space + 1));
}

} // namespace

std::vector<std::string_view> BpeTokenizer::pretokenize(std::string_view s)
{
    // Code points with their classes, then GPT-2's alternatives tried in order at each place.
    struct Cp
    {
        std::size_t at, len;
        std::int32_t c;
        Class cls;
    };
    std::vector<Cp> cps;
    cps.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        std::size_t len = 1;
        const std::int32_t c = decodeAt(s, i, len);
        cps.push_back({i, len, c, classify(c)});
        i += len;
    }
    std::vector<std::string_view> out;
    const std::size_t n = cps.size();
    auto byteAt = [&](std::size_t k) { return k < n ? cps[k].at : s.size(); };
    auto run = [&](std::size_t k, auto &&in) {
        while (k < n && in(cps[k]))
            ++k;
        return k;
    };
    std::size_t i = 0;
    while (i < n) {
        std::size_t end = i;
        // 's 't 're 've 'm 'll 'd
        if (cps[i].c == '\'') {
            for (const char *suffix : {"s", "t", "re", "ve", "m", "ll", "d"}) {
                const std::string_view sv(suffix);
                if (s.substr(cps[i].at + 1, sv.size()) == sv) {
                    end = i + 1 + sv.size(); // ASCII: one code point per byte
                    break;
                }
            }
        }
        if (end == i) {
            // ' ?' then a run of one class: letters, numbers, or neither (not white space).
            const std::size_t j = cps[i].c == ' ' ? i + 1 : i;
            if (j < n && cps[j].cls != Class::Space) {
                const Class cls = cps[j].cls;
                end = run(j, [cls](const Cp &p) { return p.cls == cls; });
            }
        }
        if (end == i && cps[i].cls == Class::Space) {
            // \s+(?!\S): the run, less its last character when more text follows it; \s+ when
            // that leaves nothing.
            const std::size_t runEnd = run(i, [](const Cp &p) { return p.cls == Class::Space; });
            end = runEnd == n || runEnd - i == 1 ? runEnd : runEnd - 1;
        }
        out.push_back(s.substr(cps[i].at, byteAt(end) - cps[i].at));
        i = end;
    }
    return out;
}

Status BpeTokenizer::build(const std::vector<std::pair<std::string, std::int64_t>> &vocab,
                           const std::vector<std::pair<std::string, std::string>> &merges,
                           const std::vector<std::pair<std::string, std::int64_t>> &special, const std::string &where)
{
    m_source = where;
    std::int64_t maxId = -1;
    for (const auto &[t, id] : vocab)
        maxId = std::max(maxId, id);
    for (const auto &[t, id] : special)
        maxId = std::max(maxId, id);
    m_pieces.assign(std::size_t(maxId + 1), std::string());
    m_special.assign(std::size_t(maxId + 1), false);
    std::vector<bool> used(std::size_t(maxId + 1), false);
    std::unordered_map<std::string, std::int64_t> byBytes;
    std::fill(std::begin(m_byteIds), std::end(m_byteIds), -1);
    std::string bytes;
    for (const auto &[token, id] : vocab) {
        if (used[std::size_t(id)])
            return Status::failure(errc::kDataFormat, where + ": id " + std::to_string(id) + " is used twice");
        used[std::size_t(id)] = true;
        const bool isSpecial = std::any_of(special.begin(), special.end(),
                                           [&](const auto &sp) { return sp.second == id; });
        if (isSpecial) {
            m_pieces[std::size_t(id)] = token;
            m_special[std::size_t(id)] = true;
            continue;
        }
        if (!piecesToBytes(token, bytes))
            return Status::failure(errc::kDataFormat, where + ": token " + jsonread::excerpt(token)
                                                          + " is not written in GPT-2's byte characters; "
                                                            "only byte-level BPE vocabularies are read");
        m_pieces[std::size_t(id)] = bytes;
        byBytes.emplace(bytes, id);
        if (bytes.size() == 1)
            m_byteIds[static_cast<unsigned char>(bytes[0])] = id;
    }
    for (const auto &[content, id] : special) {
        if (content.empty())
            return Status::failure(errc::kDataFormat, where + ": a special token is empty");
        m_pieces[std::size_t(id)] = content;
        m_special[std::size_t(id)] = true;
        m_specialTokens.emplace_back(content, id);
    }
    std::sort(m_specialTokens.begin(), m_specialTokens.end(),
              [](const auto &a, const auto &b) { return a.first.size() > b.first.size(); });
    for (int b = 0; b < 256; ++b)
        if (m_byteIds[b] < 0)
            return Status::failure(errc::kDataFormat, where + ": the vocabulary has no token for byte "
                                                          + std::to_string(b) + "; a byte-level BPE needs all 256");
    std::string left, right;
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
        const auto &[a, b] = merges[rank];
        const std::string line = "merge " + std::to_string(rank + 1) + " (" + jsonread::excerpt(a + " " + b) + ")";
        if (!piecesToBytes(a, left) || !piecesToBytes(b, right))
            return Status::failure(errc::kDataFormat, where + ": " + line + " is not written in GPT-2's byte characters");
        const auto ia = byBytes.find(left), ib = byBytes.find(right), im = byBytes.find(left + right);
        if (ia == byBytes.end() || ib == byBytes.end() || im == byBytes.end())
            return Status::failure(errc::kDataFormat, where + ": " + line + " uses or makes a token that is not in the vocabulary");
        const std::uint64_t key = (std::uint64_t(ia->second) << 32) | std::uint64_t(ib->second);
        m_merges.emplace(key, std::make_pair(std::int32_t(rank), im->second)); // the first rank wins
    }
    m_mergeCount = merges.size();
    return okStatus();
}

Result<std::shared_ptr<BpeTokenizer>> BpeTokenizer::fromVocabAndMerges(const std::string &vocabJson,
                                                                         const std::string &mergesTxt)
{
    auto vj = readJsonFile(vocabJson);
    if (!vj.ok())
        return vj.error();
    auto vocab = vocabFrom(vj.value(), vocabJson);
    if (!vocab.ok())
        return vocab.error();
    // An empty merges.txt is a vocabulary of single bytes (and whatever else it holds).
    std::error_code ec;
    const bool empty = fs::is_regular_file(mergesTxt, ec) && fs::file_size(mergesTxt, ec) == 0;
    auto text = empty ? Result<std::string>(std::string()) : readInputFile(mergesTxt, kTokenizerFile);
    if (!text.ok())
        return text.error();
    std::vector<std::pair<std::string, std::string>> merges;
    std::istringstream lines(text.value());
    std::string line;
    for (std::size_t number = 1; std::getline(lines, line); ++number) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.empty() || (number == 1 && line.rfind("#version", 0) == 0))
            continue;
        auto m = splitMerge(line, mergesTxt + ":" + std::to_string(number));
        if (!m.ok())
            return m.error();
        merges.push_back(m.value());
    }
    // GPT-2's vocab.json holds <|endoftext|>; a token in <|...|> form is special.
    std::vector<std::pair<std::string, std::int64_t>> special;
    for (const auto &[t, id] : vocab.value())
        if (t.size() > 4 && t.rfind("<|", 0) == 0 && t.compare(t.size() - 2, 2, "|>") == 0)
            special.emplace_back(t, id);
    std::shared_ptr<BpeTokenizer> tok(new BpeTokenizer());
    if (auto st = tok->build(vocab.value(), merges, special, vocabJson); !st.ok())
        return st.error();
    return tok;
}

Result<std::shared_ptr<BpeTokenizer>> BpeTokenizer::fromTokenizerJson(const std::string &path)
{
    auto json = readJsonFile(path);
    if (!json.ok())
        return json.error();
    const Json &j = json.value();
    if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
        return Error{errc::kDataFormat, path + ": not a tokenizer.json (no \"model\" object)"};
    const Json &model = j["model"];
    const std::string type = model.contains("type") && model["type"].is_string() ? model["type"].get<std::string>() : "";
    if (type != "BPE")
        return Error{errc::kDataFormat, path + ": model type \"" + type + "\"; only byte-level BPE is read"};
    if (model.contains("byte_fallback") && model["byte_fallback"].is_boolean() && model["byte_fallback"].get<bool>())
        return Error{errc::kDataFormat, path + ": a SentencePiece-style BPE (byte_fallback) is not supported; "
                                               "only GPT-2's byte-level BPE is read"};
    // The pre-tokenizer: ByteLevel (GPT-2's split), possibly inside a Sequence.
    const Json pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : Json();
    auto preType = [](const Json &p) {
        return p.is_object() && p.contains("type") && p["type"].is_string() ? p["type"].get<std::string>() : "";
    };
    bool byteLevel = preType(pre) == "ByteLevel";
    if (preType(pre) == "Sequence" && pre.contains("pretokenizers") && pre["pretokenizers"].is_array()) {
        for (const auto &p : pre["pretokenizers"]) {
            if (preType(p) == "ByteLevel")
                byteLevel = !p.contains("use_regex") || !p["use_regex"].is_boolean() || p["use_regex"].get<bool>();
            else
                return Error{errc::kDataFormat, path + ": the pre-tokenizer " + jsonread::excerpt(preType(p))
                                                    + " is not supported; only GPT-2's ByteLevel split is read"};
        }
    }
    if (!byteLevel)
        return Error{errc::kDataFormat, path + ": the pre-tokenizer is " + jsonread::excerpt(pre)
                                            + "; only GPT-2's ByteLevel is read"};
    if (pre.contains("add_prefix_space") && pre["add_prefix_space"].is_boolean() && pre["add_prefix_space"].get<bool>())
        return Error{errc::kDataFormat, path + ": add_prefix_space = true is not supported"};
    auto vocab = vocabFrom(model.contains("vocab") ? model["vocab"] : Json(), path + " model.vocab");
    if (!vocab.ok())
        return vocab.error();
    std::vector<std::pair<std::string, std::string>> merges;
    if (model.contains("merges") && !model["merges"].is_null()) {
        if (!model["merges"].is_array())
            return Error{errc::kDataFormat, path + ": model.merges must be an array"};
        std::size_t i = 0;
        for (const auto &m : model["merges"]) {
            const std::string where = path + " model.merges[" + std::to_string(i++) + "]";
            if (m.is_string()) {
                auto split = splitMerge(m.get<std::string>(), where);
                if (!split.ok())
                    return split.error();
                merges.push_back(split.value());
            } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
                merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
            } else {
                return Error{errc::kDataFormat, where + ": expected \"a b\" or [\"a\", \"b\"]"};
            }
        }
    }
    std::vector<std::pair<std::string, std::int64_t>> special;
    if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
        for (const auto &t : j["added_tokens"]) {
            if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content")
                || !t["content"].is_string() || t["id"].get<std::int64_t>() < 0 || t["id"].get<std::int64_t>() >= kMaxVocab)
                return Error{errc::kDataFormat, path + ": added_tokens entries need an \"id\" in range and a \"content\""};
            special.emplace_back(t["content"].get<std::string>(), t["id"].get<std::int64_t>());
        }
    }
    std::shared_ptr<BpeTokenizer> tok(new BpeTokenizer());
    if (auto st = tok->build(vocab.value(), merges, special, path); !st.ok())
        return st.error();
    return tok;
}

Result<std::shared_ptr<BpeTokenizer>> BpeTokenizer::fromFolder(const std::string &dir)
{
    std::error_code ec;
    const fs::path root(dir);
    if (fs::exists(root / "tokenizer.json", ec))
        return fromTokenizerJson((root / "tokenizer.json").string());
    if (fs::exists(root / "vocab.json", ec) && fs::exists(root / "merges.txt", ec))
        return fromVocabAndMerges((root / "vocab.json").string(), (root / "merges.txt").string());
    return Error{errc::kDataNotFound, dir + ": no tokenizer.json, or vocab.json with merges.txt"};
}

void BpeTokenizer::encodePiece(std::string_view piece, std::vector<std::int64_t> &out) const
{
    if (auto it = m_cache.find(std::string(piece)); it != m_cache.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
    }
    std::vector<std::int64_t> ids;
    ids.reserve(piece.size());
    for (const char c : piece)
        ids.push_back(m_byteIds[static_cast<unsigned char>(c)]);
    // Merge the pair of lowest rank until none applies.
    while (ids.size() > 1) {
        std::int32_t best = std::numeric_limits<std::int32_t>::max();
        std::size_t at = 0;
        std::int64_t merged = -1;
        for (std::size_t k = 0; k + 1 < ids.size(); ++k) {
            const auto it = m_merges.find((std::uint64_t(ids[k]) << 32) | std::uint64_t(ids[k + 1]));
            if (it != m_merges.end() && it->second.first < best) {
                best = it->second.first;
                at = k;
                merged = it->second.second;
            }
        }
        if (merged < 0)
            break;
        // Every occurrence of that pair, left to right.
        const std::int64_t a = ids[at], b = ids[at + 1];
        std::vector<std::int64_t> next;
        next.reserve(ids.size());
        for (std::size_t k = 0; k < ids.size(); ++k) {
            if (k + 1 < ids.size() && ids[k] == a && ids[k + 1] == b) {
                next.push_back(merged);
                ++k;
            } else {
                next.push_back(ids[k]);
            }
        }
        ids.swap(next);
    }
    if (m_cache.size() < kMaxCachedPieces)
        m_cache.emplace(std::string(piece), ids);
    out.insert(out.end(), ids.begin(), ids.end());
}

std::vector<std::int64_t> BpeTokenizer::encode(std::string_view text) const
{
    std::vector<std::int64_t> out;
    out.reserve(text.size() / 3 + 1);
    std::size_t from = 0;
    auto encodeText = [&](std::string_view part) {
        for (const auto piece : pretokenize(part))
            encodePiece(piece, out);
    };
    while (from < text.size()) {
        // The next special token, the longest where two start at the same place.
        std::size_t best = std::string_view::npos;
        std::int64_t bestId = -1;
        std::size_t bestLen = 0;
        for (const auto &[content, id] : m_specialTokens) {
            const auto at = text.find(content, from);
            if (at != std::string_view::npos && (at < best || (at == best && content.size() > bestLen))) {
                best = at;
                bestId = id;
                bestLen = content.size();
            }
        }
        if (best == std::string_view::npos) {
            encodeText(text.substr(from));
            break;
        }
        encodeText(text.substr(from, best - from));
        out.push_back(bestId);
        from = best + bestLen;
    }
    return out;
}

Result<std::string> BpeTokenizer::decode(const std::vector<std::int64_t> &ids) const
{
    std::string out;
    for (const auto id : ids) {
        if (id < 0 || id >= vocabSize() || (m_pieces[std::size_t(id)].empty() && !m_special[std::size_t(id)]))
            return Error{errc::kInvalidInput, "token " + std::to_string(id) + " is not in the vocabulary of "
                                                  + m_source};
        out += m_pieces[std::size_t(id)];
    }
    return out;
}

std::string BpeTokenizer::piece(std::int64_t id) const
{
    return id >= 0 && id < vocabSize() ? m_pieces[std::size_t(id)] : std::string();
}

std::int64_t BpeTokenizer::specialId(const std::string &content) const
{
    for (const auto &[c, id] : m_specialTokens)
        if (c == content)
            return id;
    return -1;
}

} // namespace distillery::core::data
