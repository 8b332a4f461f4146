// Reading a corpus file: UTF-8 text or JSON lines. LibTorch-free, so that the corpus fuzzer
// (fuzz/) can build it on its own.

#include "data/corpus.h"
#include "common/jsonread.h"
#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <algorithm>
#include <cctype>

namespace distillery::core::data {

namespace {





bool onlyWhitespace(const std::string &text)
{
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

std::size_t lineOf(const std::string &text, std::size_t offset)
{
    return 1 + std::size_t(std::count(text.begin(), text.begin() + std::ptrdiff_t(offset), '\n'));
}

} // namespace

Result<std::string> readCorpusFile(const std::string &path)
{
    const InputFileKind kind{"corpus file (UTF-8 text or JSON lines)", kMaxCorpusBytes,
                             errc::kDataNotFound, errc::kDataIo, errc::kDataEmpty};
    auto raw = readInputFile(path, kind);
    if (!raw.ok())
        return raw.error();
    std::string text = std::move(raw.value());
    if (onlyWhitespace(text))
        return Result<std::string>::failure(errc::kDataEmpty, path + ": the corpus file contains only "
                                                            "whitespace");
    std::size_t offset = 0;
    if (!isValidUtf8(text, &offset))
        return Result<std::string>::failure(
            "data.invalid_utf8", path + ":" + std::to_string(lineOf(text, offset)) +
                                ": not valid UTF-8 (byte offset " + std::to_string(offset) + ")");
    return text;
}

namespace {

std::string withArticle(const jsonread::Json &value)
{
    switch (value.type()) {
    case jsonread::Json::value_t::null:
        return "null";
    case jsonread::Json::value_t::object:
        return "an object";
    case jsonread::Json::value_t::array:
        return "an array";
    case jsonread::Json::value_t::boolean:
        return "a boolean";
    case jsonread::Json::value_t::string:
        return "a string";
    default:
        return "a number";
    }
}

// Each JSON line is parsed on its own, so the line of the parser's message is always 1: only
// the column is worth keeping ("not valid JSON: parse error at line 1, column 5: ...").
std::string parseErrorText(const std::string &message)
{
    std::string text = message;
    const std::string prefix = "not valid JSON: parse error at line 1, ";
    if (text.rfind(prefix, 0) == 0)
        text = "invalid JSON: parse error at " + text.substr(prefix.size());
    return text;
}

} // namespace

Result<std::string> jsonLinesText(const std::string &text, const std::string &path,
                                  const std::string &field)
{
    std::string joined;
    std::size_t documents = 0, lineNo = 0, start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        std::string line = text.substr(start, end - start);
        start = end + 1;
        ++lineNo;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (onlyWhitespace(line))
            continue;
        const std::string where = path + ":" + std::to_string(lineNo) + ": ";
        jsonread::Parsed parsed = jsonread::parse(line);
        if (!parsed.ok)
            return Result<std::string>::failure(
                errc::kDataParse,
                where + (parsed.error.place.empty() ? "" : parsed.error.place + ": ") +
                    parseErrorText(parsed.error.message));
        const jsonread::Json &value = parsed.value;
        if (!value.is_object())
            return Result<std::string>::failure(errc::kDataParse, where + "expected a JSON object, found " +
                                                             withArticle(value));
        const auto it = value.find(field);
        if (it == value.end())
            return Result<std::string>::failure(errc::kDataParse, where + "field '" + field + "' missing");
        if (!it->is_string())
            return Result<std::string>::failure(errc::kDataParse, where + "field '" + field + "' is " +
                                                             withArticle(*it) +
                                                             ", expected a string");
        if (documents++ > 0)
            joined += "\n\n";
        joined += it->get<std::string>();
    }
    if (onlyWhitespace(joined))
        return Result<std::string>::failure(errc::kDataEmpty, path + ": every '" + field +
                                                         "' field is empty or whitespace");
    return joined;
}

Result<std::string> readJsonLines(const std::string &path, const std::string &field)
{
    auto raw = readCorpusFile(path);
    if (!raw.ok())
        return raw.error();
    return jsonLinesText(raw.value(), path, field);
}

} // namespace distillery::core::data
