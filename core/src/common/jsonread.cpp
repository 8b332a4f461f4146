#include "common/jsonread.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace distillery::core::jsonread {

namespace {

// Builds the document like nlohmann's own DOM parser, and keeps the path to the value being
// read so that an error can say where it is.
template <typename Json>
class Builder : public nlohmann::json_sax<Json>
{
public:
    using number_integer_t = typename Json::number_integer_t;
    using number_unsigned_t = typename Json::number_unsigned_t;
    using number_float_t = typename Json::number_float_t;
    using string_t = typename Json::string_t;
    using binary_t = typename Json::binary_t;

    Builder(const std::string &text, int maxDepth) : m_text(text), m_maxDepth(maxDepth) {}

    Json root;
    ParseError error;

    bool null() override { return add(Json(nullptr)); }
    bool boolean(bool v) override { return add(Json(v)); }
    bool number_integer(number_integer_t v) override { return add(Json(v)); }
    bool number_unsigned(number_unsigned_t v) override { return add(Json(v)); }
    bool number_float(number_float_t v, const string_t &) override { return add(Json(v)); }
    bool string(string_t &v) override { return add(Json(std::move(v))); }
    bool binary(binary_t &) override { return add(Json(nullptr)); }

    bool start_object(std::size_t) override { return open(Json::object(), false); }
    bool start_array(std::size_t) override { return open(Json::array(), true); }
    bool key(string_t &k) override
    {
        m_frames.back().key = k;
        return true;
    }
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }

    bool parse_error(std::size_t position, const std::string &token,
                     const nlohmann::detail::exception &e) override
    {
        const std::string what = e.what();
        std::string message;
        if (e.id == 406) // number overflow
            message = "number " + excerpt(token) +
                      " is out of range (the largest is about 1.8e308) " + lineAndColumn(position);
        else {
            // A syntax error: nlohmann's message has the line and column; the path would name
            // the last complete value, not the broken one.
            const auto start = what.find("] ");
            std::string text = start == std::string::npos ? what : what.substr(start + 2);
            // nlohmann quotes the whole token it last read, which can be the whole file.
            const std::string lastRead = "last read: '";
            if (const auto at = text.find(lastRead); at != std::string::npos) {
                const std::size_t from = at + lastRead.size();
                const std::size_t end = text.rfind('\'');
                const std::string token =
                    text.substr(from, end != std::string::npos && end >= from ? end - from : std::string::npos);
                text = text.substr(0, from) + excerpt(token, 40) + "'";
            }
            error = ParseError{{}, "not valid JSON: " + text};
            return false;
        }
        fail(message);
        return false;
    }

private:
    struct Frame
    {
        Json *container;
        bool array;
        std::size_t count = 0;
        std::string key;
    };

    // "(line 4, column 27)" of the byte just after the token at `position`.
    std::string lineAndColumn(std::size_t position) const
    {
        position = std::min(position, m_text.size());
        std::size_t line = 1, lineStart = 0;
        for (std::size_t i = 0; i < position; ++i)
            if (m_text[i] == '\n') {
                ++line;
                lineStart = i + 1;
            }
        return "(line " + std::to_string(line) + ", column " + std::to_string(position - lineStart) +
               ")";
    }

    std::string place() const
    {
        std::string out;
        for (const auto &f : m_frames) {
            if (f.array)
                out += "[" + std::to_string(f.count) + "]";
            else
                out += (out.empty() ? "" : ".") + f.key;
        }
        return out;
    }

    void fail(const std::string &message)
    {
        if (error.message.empty())
            error = ParseError{place(), message};
    }

    Json *insert(Json value)
    {
        if (m_frames.empty()) {
            root = std::move(value);
            return &root;
        }
        Frame &f = m_frames.back();
        if (f.array) {
            f.container->push_back(std::move(value));
            return &f.container->back();
        }
        Json &slot = (*f.container)[f.key];
        slot = std::move(value);
        return &slot;
    }

    void advance()
    {
        if (!m_frames.empty() && m_frames.back().array)
            ++m_frames.back().count;
    }

    bool add(Json value)
    {
        insert(std::move(value));
        advance();
        return true;
    }

    bool open(Json container, bool array)
    {
        if (int(m_frames.size()) >= m_maxDepth) {
            fail("nested more than " + std::to_string(m_maxDepth) +
                 " levels deep (arrays and objects inside each other)");
            return false;
        }
        Json *inserted = insert(std::move(container));
        m_frames.push_back(Frame{inserted, array});
        return true;
    }

    bool close()
    {
        m_frames.pop_back();
        advance();
        return true;
    }

    const std::string &m_text;
    int m_maxDepth;
    std::vector<Frame> m_frames;
};

template <typename Json, typename Out>
Out parseAs(const std::string &text, int maxDepth)
{
    Out parsed;
    Builder<Json> builder(text, maxDepth);
    bool ok = false;
    try {
        ok = Json::sax_parse(text, &builder, Json::input_format_t::json, true);
    } catch (const std::exception &e) { // the lexer's own exceptions, should any escape
        builder.error = ParseError{{}, std::string("not valid JSON: ") + e.what()};
    }
    if (!ok || !builder.error.message.empty()) {
        parsed.error = builder.error;
        if (parsed.error.message.empty())
            parsed.error.message = "not valid JSON";
        return parsed;
    }
    parsed.value = std::move(builder.root);
    parsed.ok = true;
    return parsed;
}

} // namespace

Parsed parse(const std::string &text, int maxDepth)
{
    return parseAs<Json, Parsed>(text, maxDepth);
}

ParsedMap parseMap(const std::string &text, int maxDepth)
{
    return parseAs<JsonMap, ParsedMap>(text, maxDepth);
}

std::string excerpt(const std::string &text, std::size_t maxChars)
{
    if (text.size() <= maxChars)
        return text;
    std::size_t cut = maxChars;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
        --cut; // not inside a UTF-8 sequence
    return text.substr(0, cut) + "… (" + std::to_string(text.size()) + " characters)";
}

std::string excerpt(const Json &value, std::size_t maxChars)
{
    return excerpt(value.dump(-1, ' ', false, Json::error_handler_t::replace), maxChars);
}

std::string excerpt(const JsonMap &value, std::size_t maxChars)
{
    return excerpt(value.dump(-1, ' ', false, JsonMap::error_handler_t::replace), maxChars);
}

} // namespace distillery::core::jsonread
