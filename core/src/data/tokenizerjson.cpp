// Hugging Face's tokenizer files read into a BpeTokenizer: vocab.json + merges.txt, and a
// tokenizer.json's normalizer, pre-tokenizer, BPE model, added tokens and post-processor.

#include "data/bpe.h"

#include "common/jsonread.h"
#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;

namespace distillery::core::data {

namespace {

// Vocabularies of 100k+ tokens: objects as std::map (jsonread::JsonMap), parsed in n log n.
using Json = jsonread::JsonMap;

// Ids above this are refused (real vocabularies stay below 300,000): the id tables are this long.
constexpr std::int64_t kMaxVocab = 1 << 22;

const InputFileKind kTokenizerFile{"tokenizer file", 512u << 20, errc::kDataNotFound, errc::kDataFormat,
                                   errc::kDataEmpty};

const std::string kMetaspace = "\xE2\x96\x81";

// The split patterns as tokenizer.json files write them.
const char *kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char *kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char *kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

Result<Json> parseJson(const std::string &text, const std::string &path)
{
    auto parsed = jsonread::parseMap(text, 64);
    if (!parsed.ok)
        return Error{errc::kDataFormat, path + ": not valid JSON"
                                            + (parsed.error.place.empty() ? "" : " at " + parsed.error.place) + ": "
                                            + parsed.error.message};
    return std::move(parsed.value);
}

Result<Json> readJsonFile(const std::string &path)
{
    auto text = readInputFile(path, kTokenizerFile);
    if (!text.ok())
        return text.error();
    return parseJson(text.value(), path);
}

Result<BpeTokenizer::Vocab> vocabFrom(const Json &v, const std::string &where)
{
    if (!v.is_object() || v.empty())
        return Error{errc::kDataFormat, where + ": the vocabulary must be a non-empty object {\"token\": id}"};
    BpeTokenizer::Vocab out;
    for (const auto &[token, id] : v.items()) {
        if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() >= kMaxVocab)
            return Error{errc::kDataFormat, where + ": token " + jsonread::excerpt(token) + " has id "
                                                + jsonread::excerpt(id) + "; expected an integer in 0.."
                                                + std::to_string(kMaxVocab - 1)};
        out.emplace_back(token, id.get<std::int64_t>());
    }
    return out;
}

Result<std::pair<std::string, std::string>> splitMerge(const std::string &line, const std::string &where)
{
    const auto space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 >= line.size()
        || line.find(' ', space + 1) != std::string::npos)
        return Error{errc::kDataFormat, where + ": expected two tokens separated by one space, got "
                                            + jsonread::excerpt(line)};
    return std::make_pair(line.substr(0, space), line.substr(space + 1));
}

std::string typeOf(const Json &j)
{
    return j.is_object() && j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : "";
}

bool flag(const Json &j, const char *key, bool otherwise)
{
    return j.is_object() && j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : otherwise;
}

std::string stringOf(const Json &j, const char *key)
{
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

// The parts of a Sequence (or the one part), under `key` ("normalizers", "pretokenizers").
std::vector<Json> partsOf(const Json &j, const char *key)
{
    if (typeOf(j) == "Sequence" && j.contains(key) && j[key].is_array())
        return std::vector<Json>(j[key].begin(), j[key].end());
    if (j.is_null())
        return {};
    return {j};
}

Status readNormalizer(const Json &j, const std::string &path, BpeOptions &o, bool &spaces)
{
    for (const Json &n : partsOf(j, "normalizers")) {
        const std::string type = typeOf(n);
        if (type == "NFC") {
            o.nfc = true;
        } else if (type == "Prepend" && stringOf(n, "prepend") == kMetaspace) {
            o.prefix = BpeOptions::Prefix::Always;
        } else if (type == "Replace" && n.contains("pattern") && stringOf(n["pattern"], "String") == " "
                   && stringOf(n, "content") == kMetaspace) {
            spaces = true;
        } else {
            return Status::failure(errc::kDataFormat, path + ": the normalizer " + jsonread::excerpt(n)
                                                          + " is not supported; NFC, Prepend(\"▁\") and "
                                                            "Replace(\" \", \"▁\") are");
        }
    }
    return okStatus();
}

Status readPreTokenizer(const Json &j, const std::string &path, BpeOptions &o, bool &byteLevel, bool &spaces)
{
    bool split = false;
    for (const Json &p : partsOf(j, "pretokenizers")) {
        const std::string type = typeOf(p);
        if (type == "ByteLevel") {
            if (flag(p, "add_prefix_space", false))
                return Status::failure(errc::kDataFormat, path + ": ByteLevel with add_prefix_space = true is not supported");
            byteLevel = true;
            if (flag(p, "use_regex", true)) {
                if (split)
                    return Status::failure(errc::kDataFormat, path + ": a Split before a ByteLevel that splits again "
                                                                     "is not supported");
                o.split = SplitPattern::Gpt2;
                split = true;
            }
        } else if (type == "Split") {
            const std::string pattern = p.contains("pattern") ? stringOf(p["pattern"], "Regex") : "";
            if (stringOf(p, "behavior") != "Isolated" || flag(p, "invert", false))
                return Status::failure(errc::kDataFormat, path + ": a Split pre-tokenizer with behavior "
                                                              + jsonread::excerpt(p.contains("behavior") ? p["behavior"] : Json())
                                                              + " is not supported; Isolated is");
            if (pattern == kGpt2Pattern)
                o.split = SplitPattern::Gpt2;
            else if (pattern == kLlama3Pattern)
                o.split = SplitPattern::Llama3;
            else if (pattern == kQwen2Pattern)
                o.split = SplitPattern::Qwen2;
            else
                return Status::failure(errc::kDataFormat, path + ": the split pattern " + jsonread::excerpt(p.contains("pattern") ? p["pattern"] : Json())
                                                              + " is not supported; GPT-2's, Llama 3's and Qwen2's are");
            split = true;
        } else if (type == "Metaspace") {
            if (stringOf(p, "replacement") != kMetaspace)
                return Status::failure(errc::kDataFormat, path + ": a Metaspace pre-tokenizer must use \"▁\", got "
                                                              + jsonread::excerpt(p.contains("replacement") ? p["replacement"] : Json()));
            spaces = true;
            o.metaspaceSplit = flag(p, "split", true);
            // Older files say add_prefix_space; newer ones prepend_scheme.
            const std::string scheme = stringOf(p, "prepend_scheme");
            if (scheme == "first")
                o.prefix = BpeOptions::Prefix::FirstIfMissing;
            else if (scheme == "never" || (scheme.empty() && !flag(p, "add_prefix_space", true)))
                o.prefix = BpeOptions::Prefix::Never;
            else if (scheme.empty() || scheme == "always")
                o.prefix = BpeOptions::Prefix::IfMissing;
            else
                return Status::failure(errc::kDataFormat, path + ": Metaspace prepend_scheme " + jsonread::excerpt(scheme)
                                                              + " is not one of always, first, never");
        } else {
            return Status::failure(errc::kDataFormat, path + ": the pre-tokenizer " + jsonread::excerpt(type.empty() ? p.dump() : type)
                                                          + " is not supported; ByteLevel, Split (GPT-2, Llama 3, "
                                                            "Qwen2) and Metaspace are");
        }
    }
    if (byteLevel && !split)
        return Status::failure(errc::kDataFormat, path + ": ByteLevel with use_regex = false needs a Split before it");
    return okStatus();
}

// The special token a TemplateProcessing puts before a single sequence (Llama's BOS).
std::string leadingSpecial(const Json &post)
{
    for (const Json &p : partsOf(post, "processors"))
        if (typeOf(p) == "TemplateProcessing" && p.contains("single") && p["single"].is_array() && !p["single"].empty()) {
            const Json &first = p["single"][0];
            if (first.is_object() && first.contains("SpecialToken"))
                return stringOf(first["SpecialToken"], "id");
        }
    return "";
}

} // namespace

Result<std::shared_ptr<BpeTokenizer>> BpeTokenizer::fromVocabAndMerges(const std::string &vocabJson,
                                                                         const std::string &mergesTxt)
{
    auto vj = readJsonFile(vocabJson);
    if (!vj.ok())
        return vj.error();
    auto vocab = vocabFrom(vj.value(), vocabJson);
    if (!vocab.ok())
        return vocab.error();
    // An empty merges.txt is a vocabulary of single bytes (and whatever else it holds).
    std::error_code ec;
    const bool empty = fs::is_regular_file(mergesTxt, ec) && fs::file_size(mergesTxt, ec) == 0;
    auto lines = empty ? Result<std::string>(std::string()) : readInputFile(mergesTxt, kTokenizerFile);
    if (!lines.ok())
        return lines.error();
    Merges merges;
    std::istringstream in(lines.value());
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.empty() || (number == 1 && line.rfind("#version", 0) == 0))
            continue;
        auto m = splitMerge(line, mergesTxt + ":" + std::to_string(number));
        if (!m.ok())
            return m.error();
        merges.push_back(m.value());
    }
    // GPT-2's vocab.json holds <|endoftext|>; a token in <|...|> form is special.
    Vocab special;
    for (const auto &[t, id] : vocab.value())
        if (t.size() > 4 && t.rfind("<|", 0) == 0 && t.compare(t.size() - 2, 2, "|>") == 0)
            special.emplace_back(t, id);
    auto tok = make(vocab.value(), merges, special, BpeOptions{}, vocabJson);
    if (!tok.ok())
        return tok.error();
    auto &t = *tok.value();
    t.m_files = {{vocabJson, "vocab.json"}, {mergesTxt, "merges.txt"}};
    if (const std::int64_t eot = t.specialId("<|endoftext|>"); eot >= 0) {
        t.m_special.eos = t.m_special.bos = t.m_special.unk = "<|endoftext|>";
        t.m_special.eosId = t.m_special.bosId = t.m_special.unkId = eot;
    }
    return tok;
}

Result<std::shared_ptr<BpeTokenizer>> BpeTokenizer::fromTokenizerJson(const std::string &path)
{
    auto text = readInputFile(path, kTokenizerFile);
    if (!text.ok())
        return text.error();
    return fromTokenizerJsonText(text.value(), path);
}

Result<std::shared_ptr<BpeTokenizer>> BpeTokenizer::fromTokenizerJsonText(const std::string &text, const std::string &path)
{
    auto json = parseJson(text, path);
    if (!json.ok())
        return json.error();
    const Json &j = json.value();
    if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
        return Error{errc::kDataFormat, path + ": not a tokenizer.json (no \"model\" object)"};
    const Json &model = j["model"];
    const std::string type = typeOf(model);
    if (type == "Unigram")
        return Error{errc::kDataFormat, path + ": model type \"Unigram\" is not read from tokenizer.json; "
                                               "use the folder's SentencePiece tokenizer.model"};
    if (type != "BPE")
        return Error{errc::kDataFormat, path + ": model type \"" + type + "\"; only BPE models are read"};
    for (const char *key : {"continuing_subword_prefix", "end_of_word_suffix"})
        if (model.contains(key) && !model[key].is_null() && !(model[key].is_string() && model[key].get<std::string>().empty()))
            return Error{errc::kDataFormat, path + ": model." + key + " is not supported"};

    BpeOptions o;
    bool byteLevel = false, spaces = false;
    if (auto st = readNormalizer(j.contains("normalizer") ? j["normalizer"] : Json(), path, o, spaces); !st.ok())
        return st.error();
    if (auto st = readPreTokenizer(j.contains("pre_tokenizer") ? j["pre_tokenizer"] : Json(), path, o, byteLevel, spaces);
        !st.ok())
        return st.error();
    o.byteFallback = flag(model, "byte_fallback", false);
    o.fuseUnk = flag(model, "fuse_unk", false);
    o.ignoreMerges = flag(model, "ignore_merges", false);
    o.unkToken = stringOf(model, "unk_token");
    if (byteLevel && (spaces || o.byteFallback))
        return Error{errc::kDataFormat, path + ": a byte-level BPE with \"▁\" spaces or byte_fallback is not supported"};
    if (!byteLevel && !spaces && !o.byteFallback)
        return Error{errc::kDataFormat, path + ": the pre-tokenizer is "
                                            + jsonread::excerpt(j.contains("pre_tokenizer") ? j["pre_tokenizer"] : Json())
                                            + "; a BPE needs ByteLevel (GPT-2 style) or \"▁\" spaces (SentencePiece "
                                              "style: Metaspace, or a Replace normalizer)"};
    o.byteLevel = byteLevel;
    o.spaces = spaces;
    o.stripDecodedSpace = !byteLevel && o.prefix != BpeOptions::Prefix::Never;

    auto vocab = vocabFrom(model.contains("vocab") ? model["vocab"] : Json(), path + " model.vocab");
    if (!vocab.ok())
        return vocab.error();
    Merges merges;
    if (model.contains("merges") && !model["merges"].is_null()) {
        if (!model["merges"].is_array())
            return Error{errc::kDataFormat, path + ": model.merges must be an array"};
        std::size_t i = 0;
        for (const auto &m : model["merges"]) {
            const std::string where = path + " model.merges[" + std::to_string(i++) + "]";
            if (m.is_string()) {
                auto split = splitMerge(m.get<std::string>(), where);
                if (!split.ok())
                    return split.error();
                merges.push_back(split.value());
            } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
                merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
            } else {
                return Error{errc::kDataFormat, where + ": expected \"a b\" or [\"a\", \"b\"]"};
            }
        }
    }
    Vocab special;
    if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
        for (const auto &t : j["added_tokens"]) {
            if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content")
                || !t["content"].is_string() || t["id"].get<std::int64_t>() < 0 || t["id"].get<std::int64_t>() >= kMaxVocab)
                return Error{errc::kDataFormat, path + ": added_tokens entries need an \"id\" in range and a \"content\""};
            special.emplace_back(t["content"].get<std::string>(), t["id"].get<std::int64_t>());
        }
    }
    auto tok = make(vocab.value(), merges, special, o, path);
    if (!tok.ok())
        return tok.error();
    auto &t = *tok.value();
    t.m_files = {{path, "tokenizer.json"}};
    if (const std::string bos = leadingSpecial(j.contains("post_processor") ? j["post_processor"] : Json());
        !bos.empty() && t.specialId(bos) >= 0) {
        t.m_special.bos = bos;
        t.m_special.bosId = t.specialId(bos);
        t.m_special.addBos = true;
    }
    if (!o.unkToken.empty()) {
        t.m_special.unk = o.unkToken;
        t.m_special.unkId = t.m_unkId;
    }
    if (const std::int64_t eot = t.specialId("<|endoftext|>"); eot >= 0 && t.m_special.bosId < 0) {
        // GPT-2's one special token is its BOS, EOS and UNK (not put before a text).
        t.m_special.eos = t.m_special.bos = t.m_special.unk = "<|endoftext|>";
        t.m_special.eosId = t.m_special.bosId = t.m_special.unkId = eot;
    }
    return tok;
}

Result<std::shared_ptr<BpeTokenizer>> BpeTokenizer::fromFolder(const std::string &dir)
{
    std::error_code ec;
    const fs::path root(dir);
    if (fs::exists(root / "tokenizer.json", ec))
        return fromTokenizerJson((root / "tokenizer.json").string());
    if (fs::exists(root / "vocab.json", ec) && fs::exists(root / "merges.txt", ec))
        return fromVocabAndMerges((root / "vocab.json").string(), (root / "merges.txt").string());
    return Error{errc::kDataNotFound, dir + ": no tokenizer.json, or vocab.json with merges.txt"};
}

} // namespace distillery::core::data
