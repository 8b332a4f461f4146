#include "hf/tokenizervocab.h"

#include "common/jsonread.h"
#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <tuple>

namespace fs = std::filesystem;

namespace distillery::core::hf {

namespace {

const InputFileKind kTokenizerFile{"tokenizer file", 512u << 20, errc::kDataNotFound, errc::kDataFormat,
                                   errc::kDataEmpty};

std::int64_t largestId(const jsonread::JsonMap &vocab)
{
    std::int64_t largest = -1;
    if (vocab.is_object())
        for (const auto &[token, id] : vocab.items())
            if (id.is_number_integer())
                largest = std::max(largest, id.get<std::int64_t>());
    return largest;
}

Result<std::int64_t> readVocab(const std::string &file, bool tokenizerJson)
{
    auto text = readInputFile(file, kTokenizerFile);
    if (!text.ok())
        return text.error();
    auto parsed = jsonread::parseMap(text.value(), 64);
    if (!parsed.ok || !parsed.value.is_object())
        return Error{errc::kDataFormat, file + ": not a JSON object"
                                            + (parsed.ok ? std::string() : ": " + parsed.error.message)};
    const auto &j = parsed.value;
    std::int64_t largest = -1;
    if (!tokenizerJson) {
        largest = largestId(j);
    } else {
        if (!j.contains("model") || !j["model"].is_object() || !j["model"].contains("vocab"))
            return Error{errc::kDataFormat, file + ": not a tokenizer.json (no \"model\" with a \"vocab\")"};
        largest = largestId(j["model"]["vocab"]);
        if (j.contains("added_tokens") && j["added_tokens"].is_array())
            for (const auto &t : j["added_tokens"])
                if (t.is_object() && t.contains("id") && t["id"].is_number_integer())
                    largest = std::max(largest, t["id"].get<std::int64_t>());
    }
    if (largest < 0)
        return Error{errc::kDataFormat, file + ": the vocabulary is empty"};
    return largest + 1;
}

} // namespace

Result<std::int64_t> tokenizerVocab(const std::string &path)
{
    std::error_code ec;
    const fs::path p(path);
    std::string file;
    bool tokenizerJson = true;
    if (fs::is_directory(p, ec)) {
        if (fs::exists(p / "tokenizer.json", ec))
            file = (p / "tokenizer.json").string();
        else if (fs::exists(p / "vocab.json", ec)) {
            file = (p / "vocab.json").string();
            tokenizerJson = false;
        } else if (fs::exists(p / "tokenizer.model", ec))
            return std::int64_t(0);
        else
            return Error{errc::kDataNotFound, path + ": no tokenizer.json, vocab.json with merges.txt, or tokenizer.model"};
    } else if (p.extension() == ".model") {
        return std::int64_t(0);
    } else {
        file = path;
    }
    const auto size = fs::file_size(file, ec);
    const auto time = fs::last_write_time(file, ec);
    if (ec)
        return Error{errc::kDataNotFound, file + ": cannot be read (" + ec.message() + ")"};
    using Key = std::tuple<std::string, std::uintmax_t, fs::file_time_type::rep>;
    static std::mutex mutex;
    static std::map<Key, Result<std::int64_t>> cache;
    const Key key{file, size, time.time_since_epoch().count()};
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (const auto it = cache.find(key); it != cache.end())
            return it->second;
    }
    auto vocab = readVocab(file, tokenizerJson);
    std::lock_guard<std::mutex> lock(mutex);
    if (cache.size() > 64)
        cache.clear();
    cache.emplace(key, vocab);
    return vocab;
}

} // namespace distillery::core::hf
