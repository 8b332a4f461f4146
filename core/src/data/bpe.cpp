#include "data/bpe.h"

#include "common/jsonread.h"
#include "data/unicodetext.h"
#include "distillery/core/errors.h"

#include <algorithm>
#include <cctype>
#include <limits>

namespace distillery::core::data {

namespace {

constexpr std::size_t kMaxCachedPieces = 1 << 20;
const std::string kMetaspace = "\xE2\x96\x81"; // U+2581, SentencePiece's space

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

// The bytes of a token as written in a byte-level vocabulary (GPT-2's printable characters),
// or false when a character is not one of the 256.
bool byteCharactersToBytes(const std::string &token, std::string &bytes)
{
    const auto &table = byteTable().toByte;
    bytes.clear();
    for (std::size_t i = 0; i < token.size();) {
        std::size_t len = 1;
        const std::int32_t c = utf8At(token, i, len);
        const auto it = c < 0 ? table.end() : table.find(char32_t(c));
        if (it == table.end())
            return false;
        bytes += char(it->second);
        i += len;
    }
    return true;
}

std::string replaceAll(std::string_view s, std::string_view from, std::string_view to)
{
    std::string out;
    out.reserve(s.size() + s.size() / 4);
    std::size_t i = 0;
    for (std::size_t at; (at = s.find(from, i)) != std::string_view::npos; i = at + from.size()) {
        out.append(s.substr(i, at - i));
        out.append(to);
    }
    out.append(s.substr(i));
    return out;
}

std::uint64_t pairKey(std::int64_t a, std::int64_t b)
{
    return (std::uint64_t(std::uint32_t(a)) << 32) | std::uint64_t(std::uint32_t(b));
}

} // namespace

std::string gpt2ByteCharacter(unsigned char b)
{
    const char32_t c = byteTable().toChar[b]; // below U+0800: one or two UTF-8 bytes
    if (c < 0x80)
        return std::string(1, char(c));
    return {char(0xC0 | (c >> 6)), char(0x80 | (c & 0x3F))};
}

Result<std::shared_ptr<BpeTokenizer>> BpeTokenizer::make(const Vocab &vocab, const Merges &merges, const Vocab &special,
                                                         const BpeOptions &options, const std::string &where)
{
    std::shared_ptr<BpeTokenizer> tok(new BpeTokenizer());
    tok->m_options = options;
    if (auto st = tok->build(vocab, merges, special, where); !st.ok())
        return st.error();
    return tok;
}

Status BpeTokenizer::buildSymbols(const Vocab &vocab, const std::string &where)
{
    std::string bytes;
    for (const auto &[token, id] : vocab) {
        if (m_isSpecial[std::size_t(id)])
            continue;
        if (m_options.byteLevel) {
            if (!byteCharactersToBytes(token, bytes))
                return Status::failure(errc::kDataFormat, where + ": token " + jsonread::excerpt(token)
                                                              + " is not written in GPT-2's byte characters, "
                                                                "as a byte-level BPE's tokens are");
            if (bytes.size() == 1)
                m_byteIds[static_cast<unsigned char>(bytes[0])] = id;
        } else if (const int b = byteTokenValue(token); b >= 0) {
            bytes.assign(1, char(b));
            m_byteIds[b] = id;
        } else {
            bytes = m_options.spaces ? replaceAll(token, kMetaspace, " ") : token;
            // Adjacent characters inside a token: the only places a merge can join.
            std::int32_t prev = -1;
            for (std::size_t i = 0; i < token.size();) {
                std::size_t len = 1;
                const std::int32_t c = utf8At(token, i, len);
                if (prev >= 0 && c >= 0)
                    m_joinable.insert(pairKey(prev, c));
                prev = c;
                i += len;
            }
        }
        m_pieces[std::size_t(id)] = bytes;
    }
    if (m_options.byteLevel) {
        for (int b = 0; b < 256; ++b)
            if (m_byteIds[b] < 0)
                return Status::failure(errc::kDataFormat, where + ": the vocabulary has no token for byte "
                                                              + std::to_string(b) + "; a byte-level BPE needs all 256");
        return okStatus();
    }
    if (!m_options.unkToken.empty()) {
        const auto it = m_ids.find(m_options.unkToken);
        if (it == m_ids.end())
            return Status::failure(errc::kDataFormat, where + ": the unknown token " + jsonread::excerpt(m_options.unkToken)
                                                          + " is not in the vocabulary");
        m_unkId = it->second;
    }
    if (m_unkId < 0 && !m_options.byteFallback)
        return Status::failure(errc::kDataFormat, where + ": a character-level BPE needs byte_fallback or an "
                                                      "unk_token for characters outside its vocabulary");
    if (m_options.byteFallback)
        for (int b = 0; b < 256; ++b)
            if (m_byteIds[b] < 0 && m_unkId < 0)
                return Status::failure(errc::kDataFormat, where + ": byte_fallback is set but the vocabulary has no <0x"
                                                              + "0123456789ABCDEF"[b / 16] + "0123456789ABCDEF"[b % 16]
                                                              + "> token and no unk_token");
    return okStatus();
}

Status BpeTokenizer::build(const Vocab &vocab, const Merges &merges, const Vocab &special, const std::string &where)
{
    m_source = where;
    std::int64_t maxId = -1;
    for (const auto &[t, id] : vocab)
        maxId = std::max(maxId, id);
    for (const auto &[t, id] : special)
        maxId = std::max(maxId, id);
    m_pieces.assign(std::size_t(maxId + 1), std::string());
    m_isSpecial.assign(std::size_t(maxId + 1), false);
    std::fill(std::begin(m_byteIds), std::end(m_byteIds), -1);
    std::vector<bool> used(std::size_t(maxId + 1), false);
    for (const auto &[token, id] : vocab) {
        if (used[std::size_t(id)])
            return Status::failure(errc::kDataFormat, where + ": id " + std::to_string(id) + " is used twice");
        used[std::size_t(id)] = true;
        m_ids.emplace(token, id);
    }
    for (const auto &[content, id] : special) {
        if (content.empty())
            return Status::failure(errc::kDataFormat, where + ": a special token is empty");
        m_pieces[std::size_t(id)] = content;
        m_isSpecial[std::size_t(id)] = true;
    }
    setSpecialTokens(special);
    if (auto st = buildSymbols(vocab, where); !st.ok())
        return st;
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
        const auto &[a, b] = merges[rank];
        const auto ia = m_ids.find(a), ib = m_ids.find(b), im = m_ids.find(a + b);
        if (ia == m_ids.end() || ib == m_ids.end() || im == m_ids.end())
            return Status::failure(errc::kDataFormat, where + ": merge " + std::to_string(rank + 1) + " ("
                                                          + jsonread::excerpt(a + " " + b)
                                                          + ") uses or makes a token that is not in the vocabulary");
        m_byteMerges = m_byteMerges || (!m_options.byteLevel && (byteTokenValue(a) >= 0 || byteTokenValue(b) >= 0));
        m_merges.emplace(pairKey(ia->second, ib->second), std::make_pair(std::int32_t(rank), im->second)); // first rank wins
    }
    m_mergeCount = merges.size();
    return okStatus();
}

void BpeTokenizer::mergeSymbols(std::vector<std::int64_t> &ids) const
{
    // Merge the pair of lowest rank, every occurrence left to right, until none applies.
    std::vector<std::int64_t> next;
    while (ids.size() > 1) {
        std::int32_t best = std::numeric_limits<std::int32_t>::max();
        std::size_t at = 0;
        std::int64_t merged = -1;
        for (std::size_t k = 0; k + 1 < ids.size(); ++k) {
            const auto it = m_merges.find(pairKey(ids[k], ids[k + 1]));
            if (it != m_merges.end() && it->second.first < best) {
                best = it->second.first;
                at = k;
                merged = it->second.second;
            }
        }
        if (merged < 0)
            break;
        const std::int64_t a = ids[at], b = ids[at + 1];
        next.clear();
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
}

void BpeTokenizer::encodeBytePiece(std::string_view piece, std::vector<std::int64_t> &out) const
{
    if (auto it = m_cache.find(std::string(piece)); it != m_cache.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
    }
    std::vector<std::int64_t> ids;
    if (m_options.ignoreMerges && piece.size() > 1) {
        std::string written;
        for (const char c : piece)
            written += gpt2ByteCharacter(static_cast<unsigned char>(c));
        if (const auto it = m_ids.find(written); it != m_ids.end())
            ids.push_back(it->second);
    }
    if (ids.empty()) {
        ids.reserve(piece.size());
        for (const char c : piece)
            ids.push_back(m_byteIds[static_cast<unsigned char>(c)]);
        mergeSymbols(ids);
    }
    if (m_cache.size() < kMaxCachedPieces)
        m_cache.emplace(std::string(piece), ids);
    out.insert(out.end(), ids.begin(), ids.end());
}

void BpeTokenizer::encodeCharacters(std::string_view word, std::vector<std::int64_t> &out) const
{
    if (m_options.ignoreMerges)
        if (const auto it = m_ids.find(std::string(word)); it != m_ids.end() && !m_isSpecial[std::size_t(it->second)]) {
            out.push_back(it->second);
            return;
        }
    const std::size_t first = out.size();
    // One chunk of characters between places no merge can join.
    auto encodeChunk = [&](std::string_view chunk) {
        if (auto it = m_cache.find(std::string(chunk)); it != m_cache.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
        std::vector<std::int64_t> ids;
        std::string ch;
        for (std::size_t i = 0; i < chunk.size();) {
            std::size_t len = 1;
            const bool valid = utf8At(chunk, i, len) >= 0;
            ch.assign(chunk.substr(i, len));
            const auto it = valid ? m_ids.find(ch) : m_ids.end();
            if (it != m_ids.end() && !m_isSpecial[std::size_t(it->second)])
                ids.push_back(it->second);
            else if (m_options.byteFallback || !valid)
                for (const char b : ch) {
                    const std::int64_t id = m_byteIds[static_cast<unsigned char>(b)];
                    ids.push_back(id >= 0 ? id : m_unkId);
                }
            else
                ids.push_back(m_unkId);
            i += len;
        }
        mergeSymbols(ids);
        if (m_cache.size() < kMaxCachedPieces)
            m_cache.emplace(std::string(chunk), ids);
        out.insert(out.end(), ids.begin(), ids.end());
    };
    std::size_t start = 0;
    std::int32_t prev = -1;
    for (std::size_t i = 0; i < word.size();) {
        std::size_t len = 1;
        const std::int32_t c = utf8At(word, i, len);
        if (i > start && !m_byteMerges && (prev < 0 || c < 0 || !m_joinable.count(pairKey(prev, c)))) {
            encodeChunk(word.substr(start, i - start));
            start = i;
        }
        prev = c;
        i += len;
    }
    if (start < word.size())
        encodeChunk(word.substr(start));
    if (m_options.fuseUnk && m_unkId >= 0) // consecutive unknown tokens are one
        out.erase(std::unique(out.begin() + std::ptrdiff_t(first), out.end(),
                              [this](std::int64_t a, std::int64_t b) { return a == m_unkId && b == m_unkId; }),
                  out.end());
}

void BpeTokenizer::encodeSegment(std::string_view part, bool first, std::vector<std::int64_t> &out) const
{
    if (part.empty())
        return;
    std::string normalized;
    if (m_options.nfc) {
        normalized = nfc(part);
        part = normalized;
    }
    if (m_options.byteLevel) {
        // In blocks of about 1 MB, cut where a line that ends in a visible ASCII character is
        // followed by a letter: no piece of the three patterns spans "x\nA", and the
        // pre-tokenizer's table of code points stays small for a corpus of any size.
        constexpr std::size_t kBlock = 1 << 20;
        while (!part.empty()) {
            std::size_t cut = part.size();
            for (std::size_t at = kBlock; at < part.size(); ++at)
                if (part[at - 1] == '\n' && std::isgraph(static_cast<unsigned char>(part[at - 2]))
                    && std::isalpha(static_cast<unsigned char>(part[at]))) {
                    cut = at;
                    break;
                }
            for (const auto piece : pretokenize(part.substr(0, cut), m_options.split))
                encodeBytePiece(piece, out);
            part.remove_prefix(cut);
        }
        return;
    }
    std::string text = m_options.spaces ? replaceAll(part, " ", kMetaspace) : std::string(part);
    using Prefix = BpeOptions::Prefix;
    const bool hasPrefix = text.compare(0, kMetaspace.size(), kMetaspace) == 0;
    if (m_options.prefix == Prefix::Always || (m_options.prefix == Prefix::IfMissing && !hasPrefix)
        || (m_options.prefix == Prefix::FirstIfMissing && first && !hasPrefix))
        text.insert(0, kMetaspace);
    if (!m_options.metaspaceSplit) {
        encodeCharacters(text, out);
        return;
    }
    // A word begins at every "▁".
    const std::string_view all(text);
    std::size_t start = 0;
    for (std::size_t at = all.find(kMetaspace, 1); at != std::string_view::npos; at = all.find(kMetaspace, at + 1)) {
        encodeCharacters(all.substr(start, at - start), out);
        start = at;
    }
    encodeCharacters(all.substr(start), out);
}

std::vector<std::int64_t> BpeTokenizer::encode(std::string_view text) const
{
    std::vector<std::int64_t> out;
    out.reserve(text.size() / 3 + 1);
    splitAtSpecialTokens(text, out, [&](std::string_view part, bool first) { encodeSegment(part, first, out); });
    return out;
}

Result<std::string> BpeTokenizer::decode(const std::vector<std::int64_t> &ids) const
{
    std::string out;
    for (const auto id : ids) {
        if (id < 0 || id >= vocabSize() || (m_pieces[std::size_t(id)].empty() && !m_isSpecial[std::size_t(id)]))
            return Error{errc::kInvalidInput, "token " + std::to_string(id) + " is not in the vocabulary of "
                                                  + m_source};
        out += m_pieces[std::size_t(id)];
    }
    // The space a SentencePiece-style tokenizer put before the text.
    if (m_options.stripDecodedSpace && !ids.empty() && !m_isSpecial[std::size_t(ids.front())] && !out.empty()
        && out.front() == ' ')
        out.erase(0, 1);
    return out;
}

std::string BpeTokenizer::piece(std::int64_t id) const
{
    return id >= 0 && id < vocabSize() ? m_pieces[std::size_t(id)] : std::string();
}

std::string BpeTokenizer::kind() const
{
    if (!m_options.byteLevel)
        return "SentencePiece-style BPE";
    switch (m_options.split) {
    case SplitPattern::Gpt2:
        return "GPT-2 byte-level BPE";
    case SplitPattern::Llama3:
        return "Llama 3 byte-level BPE";
    case SplitPattern::Qwen2:
        return "Qwen2 byte-level BPE";
    }
    return "byte-level BPE";
}

std::string BpeTokenizer::identity() const
{
    const auto &o = m_options;
    return kind() + "|" + m_source + "|" + std::to_string(vocabSize()) + "|" + std::to_string(m_mergeCount) + "|"
           + std::to_string(o.nfc) + std::to_string(o.ignoreMerges) + std::to_string(int(o.prefix))
           + std::to_string(o.spaces) + std::to_string(o.metaspaceSplit) + std::to_string(o.byteFallback) + std::to_string(o.fuseUnk) + "|"
           + std::to_string(m_specialTokens.size());
}

} // namespace distillery::core::data
