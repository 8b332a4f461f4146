#include "data/data.h"

namespace distillery::core::data {

namespace {

const char kReplacement[] = "\xEF\xBF\xBD"; // U+FFFD

} // namespace

std::vector<std::int64_t> encodeBytes(const std::string &text)
{
    std::vector<std::int64_t> ids;
    ids.reserve(text.size());
    for (const char c : text)
        ids.push_back(static_cast<unsigned char>(c));
    return ids;
}

std::string decodeBytes(const std::vector<std::int64_t> &ids)
{
    std::string text;
    text.reserve(ids.size());
    for (const auto id : ids) {
        if (id >= 0 && id < 256)
            text.push_back(static_cast<char>(static_cast<unsigned char>(id)));
        else
            text += kReplacement;
    }
    return text;
}

} // namespace distillery::core::data
