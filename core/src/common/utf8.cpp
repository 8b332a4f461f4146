// Strict UTF-8 checking and repair (LibTorch-free; used by corpora, the store and displays).

#include "distillery/core/utf8.h"

namespace distillery::core {

namespace {

// Length of the well-formed UTF-8 sequence starting at text[i], or 0 if it is ill-formed.
// Table 3-7 of the Unicode Standard: the second byte's range depends on the lead byte, which
// excludes overlong forms (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code
// points above U+10FFFF (F4 90.., F5..FF).
std::size_t sequenceLength(const std::string &text, std::size_t i, std::size_t *validPrefix)
{
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    *validPrefix = 1;
    if (lead < 0x80)
        return 1;
    std::size_t length = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0)
            lo = 0xA0;
        else if (lead == 0xED)
            hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0)
            lo = 0x90;
        else if (lead == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    for (std::size_t k = 1; k < length; ++k) {
        if (i + k >= text.size())
            return 0;
        const unsigned char c = byte(i + k);
        const unsigned char kLo = k == 1 ? lo : 0x80, kHi = k == 1 ? hi : 0xBF;
        if (c < kLo || c > kHi)
            return 0;
        *validPrefix = k + 1;
    }
    return length;
}

const char kReplacement[] = "\xEF\xBF\xBD"; // U+FFFD

} // namespace

bool isValidUtf8(const std::string &text, std::size_t *errorOffset)
{
    std::size_t i = 0, prefix = 0;
    while (i < text.size()) {
        const std::size_t n = sequenceLength(text, i, &prefix);
        if (n == 0) {
            if (errorOffset)
                *errorOffset = i;
            return false;
        }
        i += n;
    }
    return true;
}

std::string sanitizeUtf8(const std::string &text)
{
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0, prefix = 0;
    while (i < text.size()) {
        const std::size_t n = sequenceLength(text, i, &prefix);
        if (n == 0) {
            // One U+FFFD per maximal ill-formed subpart (Unicode's recommended practice).
            out += kReplacement;
            i += prefix;
        } else {
            out.append(text, i, n);
            i += n;
        }
    }
    return out;
}

} // namespace distillery::core
