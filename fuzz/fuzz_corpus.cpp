// Corpus text: UTF-8 checking and repair, and JSON lines, on any bytes.

#include "data/corpus.h"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace distillery::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string bytes(reinterpret_cast<const char *>(data), size);
    std::size_t offset = 0;
    const bool valid = data::isValidUtf8(bytes, &offset);
    const std::string repaired = data::sanitizeUtf8(bytes);
    if (!data::isValidUtf8(repaired))
        std::abort(); // repair always gives valid UTF-8
    if (valid != (repaired == bytes))
        std::abort(); // valid text is left alone, invalid text is changed
    if (!valid && offset >= bytes.size())
        std::abort();
    auto joined = data::jsonLinesText(bytes, "fuzz.jsonl", "text");
    if (joined.ok() && joined.value().empty())
        std::abort(); // empty documents are an error, not an empty corpus
    if (!joined.ok() && joined.error().message.rfind("fuzz.jsonl", 0) != 0)
        std::abort();
    return 0;
}
