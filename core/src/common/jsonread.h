#pragma once

// Parsing JSON that comes from outside (graph files, JSON lines, run metadata) without trusting
// it: nesting is limited before it can exhaust the stack (the parser is iterative, but the
// values it builds are destroyed and printed recursively), and every error names the place as a
// path ("nodes[2].params.lr") with the line and column. Numbers that do not fit in a double
// (1e999) are errors at their place, not exceptions.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace distillery::core::jsonread {

using Json = nlohmann::ordered_json;
// Objects as std::map: for large files whose key order does not matter (a vocabulary of 128k
// tokens), where the ordered map's linear lookups would make parsing quadratic.
using JsonMap = nlohmann::json;

struct ParseError
{
    std::string place;   // "nodes[0].params.lr"; empty at the top level
    std::string message; // "number 1e999 is out of range (line 4, column 27)"
};

struct Parsed
{
    Json value;
    bool ok = false;
    ParseError error;
};

inline constexpr int kDefaultMaxDepth = 32;

Parsed parse(const std::string &text, int maxDepth = kDefaultMaxDepth);

struct ParsedMap
{
    JsonMap value;
    bool ok = false;
    ParseError error;
};

ParsedMap parseMap(const std::string &text, int maxDepth = kDefaultMaxDepth);

// `value` printed for a message, cut to about `maxChars` with "…" and its full length.
std::string excerpt(const Json &value, std::size_t maxChars = 60);
std::string excerpt(const JsonMap &value, std::size_t maxChars = 60);
// The same for a plain string.
std::string excerpt(const std::string &text, std::size_t maxChars = 60);

} // namespace distillery::core::jsonread
