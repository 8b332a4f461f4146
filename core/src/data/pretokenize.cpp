#include "data/bpe.h"
#include "data/unicodetext.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>

#include <vector>

namespace distillery::core::data {

std::int32_t utf8At(std::string_view s, std::size_t i, std::size_t &len)
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
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    len = n;
    return c;
}

CharClass charClass(std::int32_t c)
{
    if (c < 0)
        return CharClass::Other;
    if (u_isUWhiteSpace(c))
        return CharClass::Space;
    switch (u_charType(c)) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
        return CharClass::Letter;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
        return CharClass::Number;
    default:
        return CharClass::Other;
    }
}

int byteTokenValue(const std::string &token)
{
    auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
    if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>' || hex(token[3]) < 0 || hex(token[4]) < 0)
        return -1;
    return hex(token[3]) * 16 + hex(token[4]);
}

std::string nfc(std::string_view text)
{
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2 *form = icu::Normalizer2::getNFCInstance(status);
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        // The next valid run (ASCII is its own NFC and is copied as it is).
        std::size_t j = i, len = 1;
        bool ascii = true;
        while (j < text.size() && utf8At(text, j, len) >= 0) {
            ascii = ascii && len == 1;
            j += len;
        }
        const std::string_view run = text.substr(i, j - i);
        if (ascii || U_FAILURE(status)) {
            out += run;
        } else {
            icu::StringByteSink<std::string> sink(&out);
            UErrorCode runStatus = U_ZERO_ERROR;
            const std::size_t before = out.size();
            form->normalizeUTF8(0, icu::StringPiece(run.data(), std::int32_t(run.size())), sink, nullptr, runStatus);
            if (U_FAILURE(runStatus)) {
                out.resize(before);
                out += run;
            }
        }
        if (j < text.size())
            out += text[j++]; // a byte that is not UTF-8
        i = j;
    }
    return out;
}

std::vector<std::string_view> BpeTokenizer::pretokenize(std::string_view s, SplitPattern pattern)
{
    // Code points with their classes, then the pattern's alternatives tried in order at each
    // place, as a backtracking regex engine would.
    struct Cp
    {
        std::size_t at;
        std::int32_t c;
        CharClass cls;
    };
    std::vector<Cp> cps;
    cps.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        std::size_t len = 1;
        const std::int32_t c = utf8At(s, i, len);
        cps.push_back({i, c, charClass(c)});
        i += len;
    }
    const std::size_t n = cps.size();
    auto byteAt = [&](std::size_t k) { return k < n ? cps[k].at : s.size(); };
    auto run = [&](std::size_t k, auto &&in) {
        while (k < n && in(cps[k]))
            ++k;
        return k;
    };
    auto of = [](CharClass cls) { return [cls](const Cp &p) { return p.cls == cls; }; };
    auto isNewline = [](const Cp &p) { return p.c == '\r' || p.c == '\n'; };
    const bool gpt2 = pattern == SplitPattern::Gpt2;
    const std::size_t maxDigits = pattern == SplitPattern::Llama3 ? 3 : pattern == SplitPattern::Qwen2 ? 1 : n;

    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < n) {
        std::size_t end = i;
        // 's 't 're 've 'm 'll 'd (Llama 3 and Qwen2: in any case)
        if (cps[i].c == '\'') {
            for (const std::string_view suffix : {"s", "t", "re", "ve", "m", "ll", "d"}) {
                const std::string_view next = s.substr(cps[i].at + 1, suffix.size());
                bool same = next.size() == suffix.size();
                for (std::size_t k = 0; same && k < suffix.size(); ++k)
                    same = next[k] == suffix[k] || (!gpt2 && next[k] == suffix[k] - 'a' + 'A');
                if (same) {
                    end = i + 1 + suffix.size(); // ASCII: one code point per byte
                    break;
                }
            }
        }
        if (gpt2) {
            if (end == i) {
                // ' ?' then a run of one class: letters, numbers, or neither (not white space).
                const std::size_t j = cps[i].c == ' ' ? i + 1 : i;
                if (j < n && cps[j].cls != CharClass::Space)
                    end = run(j, of(cps[j].cls));
            }
        } else {
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (end == i && cps[i].cls == CharClass::Letter)
                end = run(i, of(CharClass::Letter));
            if (end == i && i + 1 < n && cps[i + 1].cls == CharClass::Letter && !isNewline(cps[i])
                && cps[i].cls != CharClass::Number)
                end = run(i + 1, of(CharClass::Letter));
            // \p{N}{1,maxDigits}
            if (end == i && cps[i].cls == CharClass::Number)
                end = std::min(run(i, of(CharClass::Number)), i + maxDigits);
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            if (end == i) {
                const std::size_t j = cps[i].c == ' ' ? i + 1 : i;
                if (j < n && cps[j].cls == CharClass::Other)
                    end = run(run(j, of(CharClass::Other)), isNewline);
            }
            // \s*[\r\n]+: the white-space run up to and with its last line break
            if (end == i && cps[i].cls == CharClass::Space) {
                const std::size_t runEnd = run(i, of(CharClass::Space));
                for (std::size_t k = runEnd; k > i; --k)
                    if (isNewline(cps[k - 1])) {
                        end = k;
                        break;
                    }
            }
        }
        if (end == i && cps[i].cls == CharClass::Space) {
            // \s+(?!\S): the run, less its last character when more text follows it; \s+ when
            // that leaves nothing.
            const std::size_t runEnd = run(i, of(CharClass::Space));
            end = runEnd == n || runEnd - i == 1 ? runEnd : runEnd - 1;
        }
        if (end == i)
            end = i + 1; // a guard: every character starts some alternative
        out.push_back(s.substr(cps[i].at, byteAt(end) - cps[i].at));
        i = end;
    }
    return out;
}

} // namespace distillery::core::data
