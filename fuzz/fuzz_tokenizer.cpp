// A tokenizer.json from anywhere: the reader either refuses it with a message naming the file,
// or returns a tokenizer that encodes any bytes into ids inside its vocabulary and decodes them
// (ASan and UBSan watch every step).

#include "data/bpe.h"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace distillery::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string json(reinterpret_cast<const char *>(data), size);
    auto tok = data::BpeTokenizer::fromTokenizerJsonText(json, "fuzz.json");
    if (!tok.ok()) {
        if (tok.error().message.rfind("fuzz.json", 0) != 0)
            std::abort();
        return 0;
    }
    const auto &t = *tok.value();
    for (const std::string text : {std::string("Hello  world\n\n 123 <s>x</s> D\xC3\xA9j\xC3\xA0"),
                                   std::string("\xff\xfe \xe2\x82 \xf0\x9f\x98\x80"), json.substr(0, 200)}) {
        const auto ids = t.encode(text);
        for (const auto id : ids)
            if (id < 0 || id >= t.vocabSize())
                std::abort();
        (void)t.decode(ids);
        for (const auto id : ids)
            (void)t.piece(id);
    }
    return 0;
}
