// Graph files: any bytes given to the loader are a graph or an error naming the place, never a
// crash; a loaded graph validates, and what it saves loads back to the same text.

#include "distillery/core/graph.h"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace distillery::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string text(reinterpret_cast<const char *>(data), size);
    auto graph = graphFromJson(text, "fuzz.json");
    if (!graph.ok()) {
        if (graph.error().message.rfind("fuzz.json: ", 0) != 0 || graph.error().message.size() > 4096)
            std::abort(); // every message names the file and stays readable
        return 0;
    }
    (void)validateGraph(graph.value());
    const std::string saved = graphToJson(graph.value());
    auto again = graphFromJson(saved, "saved.json");
    if (!again.ok() || graphToJson(again.value()) != saved)
        std::abort(); // saving and loading is a fixed point
    return 0;
}
