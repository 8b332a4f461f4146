// distillery-cli model ...: a model file (or export folder) loaded on its own, with the
// tokenizer its export wrote.

#include "distillery/core/modeltools.h"

#include "distillery/core/errors.h"
#include "data/tokenizer.h"
#include "hf/hfconfig.h"
#include "models/causallm.h"
#include "torchio.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace distillery::core {

namespace {

struct Loaded
{
    std::unique_ptr<models::CausalLm> model;
    ModelFacts facts;
    std::shared_ptr<data::Tokenizer> subword; // when facts.tokenizer is "subword"
};

std::string dtypeName(const torch::Tensor &t)
{
    return t.scalar_type() == torch::kHalf       ? "float16"
           : t.scalar_type() == torch::kBFloat16 ? "bfloat16"
           : t.scalar_type() == torch::kDouble   ? "float64"
                                                 : "float32";
}

// "bytes" or "words" from a tokenizer.json as exports write it.
Result<std::string> tokenizerKind(const std::string &file)
{
    std::ifstream in(file);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("model") || !j["model"].is_object())
        return Error{errc::kDataFormat, file + ": not a tokenizer.json (no \"model\" object)"};
    const std::string type = j["model"].value("type", "");
    const bool byteLevel = j.contains("pre_tokenizer") && j["pre_tokenizer"].is_object()
                           && j["pre_tokenizer"].value("type", "") == "ByteLevel";
    if (type == "BPE" && byteLevel && j["model"].value("merges", nlohmann::json::array()).empty())
        return std::string("bytes");
    if (type == "WordLevel")
        return std::string("words");
    return Error{errc::kDataFormat, file + ": a " + type + " tokenizer; only the byte-level and "
                                           "word-level tokenizers that Distillery exports are read "
                                           "(Hugging Face tokenizers in general come with real models)"};
}

// The sizes a model tells about itself, as the facts show them.
void copyShape(const ModelInfo &info, ModelFacts &f)
{
    f.architecture = info.architecture;
    f.vocab = info.vocab;
    f.layers = info.layers;
    f.hidden = info.hidden;
    f.heads = info.heads;
    f.kvHeads = info.kvHeads;
    f.ffn = info.ffn;
    f.maxLength = info.maxLength;
}

Result<Loaded> load(const std::string &given, const std::string &tokenizer)
{
    std::error_code ec;
    std::string path = given;
    Loaded l;
    if (fs::is_directory(given, ec)) {
        if (fs::exists(fs::path(given) / "model.pt", ec)) {
            path = (fs::path(given) / "model.pt").string();
        } else if (hf::isHfFolder(given)) {
            auto model = models::loadHfModel(given);
            if (!model.ok())
                return model.error();
            l.model = std::move(model.value());
            l.facts.kind = "Hugging Face folder";
        } else {
            const bool onnx = fs::exists(fs::path(given) / "model.onnx", ec);
            return Error{errc::kModelNotFound,
                         given + ": " + (onnx ? "an ONNX folder" : "a folder without model.pt or config.json")
                             + "; the model commands read a built-in checkpoint (a run's student.pt), "
                               "TorchScript (export --format torchscript) or a Hugging Face folder "
                               "(export --format hf)"};
        }
    }
    if (!l.model && !fs::is_regular_file(path, ec))
        return Error{errc::kModelNotFound, path + ": no such model file"};
    if (!l.model) {
        auto builtin = models::loadCheckpoint(path);
        if (builtin.ok()) {
            l.model = std::move(builtin.value());
            l.facts.kind = "built-in checkpoint";
        } else {
            auto script = models::loadTorchScript(path, 0, 4);
            if (!script.ok())
                return Error{errc::kBadCheckpoint, path + ": neither a built-in checkpoint (" + builtin.error().message
                                                       + ") nor a TorchScript model (" + script.error().message + ")"};
            l.model = std::move(script.value());
            l.facts.kind = "TorchScript";
        }
    }
    l.model->setTraining(false);
    ModelFacts &f = l.facts;
    copyShape(l.model->info(), f);
    f.path = path;
    f.description = l.model->describe();
    for (const auto &p : l.model->parameters())
        f.parameters += p.numel();
    if (!l.model->parameters().empty())
        f.dtype = dtypeName(l.model->parameters().front());
    f.fileBytes = 0;
    if (fs::is_directory(path, ec)) {
        for (const auto &entry : fs::directory_iterator(path, ec))
            if (entry.path().extension() == ".safetensors")
                f.fileBytes += std::int64_t(entry.file_size(ec));
    } else {
        f.fileBytes = std::int64_t(fs::file_size(path, ec));
    }
    const fs::path folder = fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path();
    const fs::path beside = folder / "tokenizer.json";
    // A subword tokenizer from a file or folder; its ids must be the model's.
    auto useTokenizer = [&](Result<std::shared_ptr<data::Tokenizer>> tok) -> Status {
        if (!tok.ok())
            return tok.error();
        if (tok.value()->vocabSize() > f.vocab)
            return Error{errc::kVocabMismatch, tok.value()->source() + ": the tokenizer has "
                                                   + std::to_string(tok.value()->vocabSize())
                                                   + " tokens, the model's vocabulary " + std::to_string(f.vocab)};
        l.subword = tok.value();
        f.tokenizer = "subword";
        f.tokenizerSource = tok.value()->kind() + ", " + tok.value()->source();
        return okStatus();
    };
    // Distillery's own byte and word tokenizers are a tokenizer.json of their own kind.
    const auto ownKind = fs::exists(beside, ec) ? tokenizerKind(beside.string())
                                                : Result<std::string>(Error{errc::kDataNotFound, beside.string()});
    const bool filesBeside = (fs::exists(folder / "vocab.json", ec) && fs::exists(folder / "merges.txt", ec))
                             || fs::exists(folder / "tokenizer.model", ec);
    if (!tokenizer.empty() && tokenizer != "bytes" && tokenizer != "words") {
        if (!fs::exists(tokenizer, ec))
            return Error{errc::kBadOption, "--tokenizer must be bytes, words, a tokenizer.json, a tokenizer.model or a "
                                           "folder with one (or with vocab.json and merges.txt), got '" + tokenizer + "'"};
        if (auto st = useTokenizer(data::openTokenizer(tokenizer)); !st.ok())
            return st.error();
    } else if (!tokenizer.empty()) {
        f.tokenizer = tokenizer;
        f.tokenizerSource = "given";
    } else if (ownKind.ok()) {
        f.tokenizer = ownKind.value();
        f.tokenizerSource = beside.string();
    } else if (fs::exists(beside, ec) || filesBeside) {
        if (auto st = useTokenizer(data::openTokenizer(folder.string())); !st.ok()) {
            if (f.kind != "Hugging Face folder")
                return st.error();
            // The model still runs on token ids (--tokens); text needs a tokenizer.
            f.tokenizerSource = st.error().message;
        }
    } else if (f.kind == "Hugging Face folder") {
        f.tokenizerSource = path + ": no tokenizer.json, vocab.json with merges.txt, or tokenizer.model";
    } else {
        f.tokenizer = f.vocab == 256 ? "bytes" : "words";
        f.tokenizerSource = "from the vocabulary of " + std::to_string(f.vocab);
    }
    return l;
}

Result<std::vector<std::int64_t>> encode(const Loaded &l, const std::string &text)
{
    const ModelFacts &f = l.facts;
    std::vector<std::int64_t> ids;
    if (f.tokenizer == "subword")
        return l.subword->encode(text);
    if (f.tokenizer.empty())
        return Error{errc::kDataFormat, "no tokenizer to turn text into tokens (" + f.tokenizerSource
                                            + "); give token ids with --tokens"};
    if (f.tokenizer == "bytes") {
        if (f.vocab < 256)
            return Error{errc::kVocabMismatch, f.path + ": a byte-level tokenizer needs 256 tokens, the model has "
                                                   + std::to_string(f.vocab)};
        for (unsigned char c : text)
            ids.push_back(c);
        return ids;
    }
    std::istringstream words(text);
    std::string w;
    while (words >> w) {
        char *end = nullptr;
        const long long id = w.size() > 1 && w[0] == 't' ? std::strtoll(w.c_str() + 1, &end, 10) : -1;
        if (id < 0 || !end || *end != '\0' || id >= f.vocab)
            return Error{errc::kInvalidInput, "'" + (w.size() > 24 ? w.substr(0, 24) + "…" : w)
                                                  + "' is not a word of this model (t0 … t"
                                                  + std::to_string(f.vocab - 1) + ")"};
        ids.push_back(id);
    }
    return ids;
}

std::string decode(const Loaded &l, const std::vector<std::int64_t> &ids)
{
    const ModelFacts &f = l.facts;
    std::string out;
    for (const auto id : ids) {
        if (f.tokenizer == "subword")
            // An id the tokenizer does not have (a model's padding rows) is shown as its number.
            out += l.subword->piece(id).empty() ? "[" + std::to_string(id) + "]" : l.subword->piece(id);
        else if (f.tokenizer == "bytes")
            out += char(id & 0xff);
        else
            out += (out.empty() ? "t" : " t") + std::to_string(id);
    }
    return out;
}

// Log-probabilities [T, V] of the next token after each of `ids` (at most the model's length).
torch::Tensor logProbs(models::CausalLm &model, const std::vector<std::int64_t> &ids)
{
    torch::NoGradGuard noGrad;
    auto tokens = torch::tensor(ids, torch::kLong).unsqueeze(0);
    return torch::log_softmax(model.forward(tokens).logits.to(torch::kFloat)[0], -1);
}

template <typename F>
auto guarded(const std::string &path, F &&f) -> decltype(f())
{
    try {
        return f();
    } catch (const std::exception &e) {
        return Error{errc::kBadCheckpoint, path + ": " + torchErrorText(e)};
    }
}

Result<TextScore> scoreLoaded(Loaded &l, const std::vector<std::int64_t> &ids)
{
    if (ids.size() < 2)
        return Error{errc::kInvalidInput, "scoring needs at least 2 tokens, got " + std::to_string(ids.size())};
    return guarded(l.facts.path, [&]() -> Result<TextScore> {
        TextScore s;
        // Windows of the model's longest input, each predicting its tokens after the first.
        const std::size_t window = l.facts.maxLength > 1 ? std::size_t(l.facts.maxLength) + 1 : ids.size();
        for (std::size_t start = 0; start + 1 < ids.size(); start += window - 1) {
            const std::size_t end = std::min(ids.size(), start + window);
            const std::vector<std::int64_t> in(ids.begin() + std::ptrdiff_t(start), ids.begin() + std::ptrdiff_t(end) - 1);
            auto lp = logProbs(*l.model, in);
            for (std::size_t i = 0; i + start + 1 < end; ++i) {
                const std::int64_t next = ids[start + i + 1];
                if (next < 0 || next >= lp.size(1))
                    return Error{errc::kInvalidInput, "token " + std::to_string(next) + " is outside the vocabulary"};
                s.tokens.push_back({next, lp[std::int64_t(i)][next].item<double>()});
            }
        }
        for (const auto &t : s.tokens)
            s.nll -= t.logprob;
        s.nll /= double(s.tokens.size());
        s.perplexity = std::exp(s.nll);
        return s;
    });
}

} // namespace

ModelShape shapeOf(const ModelFacts &f)
{
    ModelShape s{f.vocab, f.layers, f.hidden, f.heads, f.ffn, f.maxLength, false};
    if (f.architecture == "llama" || f.architecture == "mistral" || f.architecture == "qwen2") {
        s.family = ModelFamily::Llama;
        s.kvHeads = f.kvHeads;
    }
    return s;
}

Result<ModelFacts> inspectModel(const std::string &path)
{
    if (hf::isHfFolder(path)) {
        auto config = hf::readHfConfig(path);
        if (!config.ok())
            return config.error();
        const ModelInfo &i = config.value().info;
        ModelFacts f;
        copyShape(i, f);
        f.path = path;
        f.kind = "Hugging Face folder";
        f.parameters = hf::parameterCount(config.value());
        f.description = hf::describe(config.value());
        return f;
    }
    auto loaded = LoadedModel::open(path);
    if (!loaded.ok())
        return loaded.error();
    return loaded.value()->facts();
}

struct LoadedModel::Impl
{
    Loaded loaded;
};

LoadedModel::LoadedModel(std::unique_ptr<Impl> impl)
    : m_impl(std::move(impl))
{}

LoadedModel::~LoadedModel() = default;

Result<std::unique_ptr<LoadedModel>> LoadedModel::open(const std::string &path, const std::string &tokenizer)
{
    auto l = load(path, tokenizer);
    if (!l.ok())
        return l.error();
    auto impl = std::make_unique<Impl>();
    impl->loaded = std::move(l.value());
    return std::unique_ptr<LoadedModel>(new LoadedModel(std::move(impl)));
}

const ModelFacts &LoadedModel::facts() const
{
    return m_impl->loaded.facts;
}

Result<std::vector<std::int64_t>> LoadedModel::tokenize(const std::string &text) const
{
    return encode(m_impl->loaded, text);
}

Result<std::string> LoadedModel::generate(const std::string &prompt, const GenerateOptions &options)
{
    auto ids = tokenize(prompt);
    if (!ids.ok())
        return ids.error();
    if (ids.value().empty())
        return Error{errc::kInvalidInput, "the prompt is empty"};
    if (options.tokens < 0 || !(options.temperature >= 0))
        return Error{errc::kBadOption, "--tokens must be at least 0 and --temperature at least 0"};
    auto &model = *m_impl->loaded.model;
    const std::int64_t maxLength = facts().maxLength;
    return guarded(facts().path, [&]() -> Result<std::string> {
        std::vector<std::int64_t> seq = ids.value();
        auto gen = at::detail::createCPUGenerator(options.seed);
        for (std::int64_t i = 0; i < options.tokens; ++i) {
            // The newest tokens the model can read.
            const std::size_t from = maxLength > 0 && seq.size() > std::size_t(maxLength) ? seq.size() - std::size_t(maxLength) : 0;
            auto lp = logProbs(model, {seq.begin() + std::ptrdiff_t(from), seq.end()});
            auto last = lp[lp.size(0) - 1];
            std::int64_t next;
            if (options.temperature <= 0) {
                next = last.argmax().item<std::int64_t>();
            } else {
                auto probs = torch::softmax(last / options.temperature, -1);
                next = torch::multinomial(probs, 1, false, gen).item<std::int64_t>();
            }
            seq.push_back(next);
        }
        return decode(m_impl->loaded, seq);
    });
}

Result<TextScore> LoadedModel::score(const std::vector<std::int64_t> &tokens)
{
    return scoreLoaded(m_impl->loaded, tokens);
}

Result<TextScore> LoadedModel::scoreText(const std::string &text)
{
    auto ids = tokenize(text);
    if (!ids.ok())
        return ids.error();
    return score(ids.value());
}

Result<std::vector<double>> LoadedModel::timeForward(std::int64_t batch, std::int64_t length, int repeats,
                                                     int threads)
{
    const ModelFacts &f = facts();
    if (batch < 1 || length < 1 || repeats < 1)
        return Error{errc::kBadOption, "--batch, --length and --repeat must be at least 1"};
    if (f.maxLength > 0 && length > f.maxLength)
        return Error{errc::kBadOption, "--length " + std::to_string(length) + ": the model reads at most "
                                           + std::to_string(f.maxLength)};
    if (threads > 0)
        at::set_num_threads(threads);
    return guarded(f.path, [&]() -> Result<std::vector<double>> {
        torch::NoGradGuard noGrad;
        auto tokens = torch::randint(0, f.vocab, {batch, length}, torch::kLong);
        std::vector<double> ms;
        for (int i = 0; i < repeats + 2; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            auto logits = m_impl->loaded.model->forward(tokens).logits;
            (void)logits.sum().item<double>();
            const double elapsed =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            if (i >= 2)
                ms.push_back(elapsed);
        }
        return ms;
    });
}

Result<std::vector<PositionLogits>> LoadedModel::topLogits(const std::vector<std::int64_t> &tokens, std::int64_t k)
{
    const ModelFacts &f = facts();
    if (tokens.empty())
        return Error{errc::kInvalidInput, "no tokens given"};
    if (f.maxLength > 0 && std::int64_t(tokens.size()) > f.maxLength)
        return Error{errc::kInvalidInput, std::to_string(tokens.size()) + " tokens; the model reads at most "
                                              + std::to_string(f.maxLength)};
    for (const auto t : tokens)
        if (t < 0 || t >= f.vocab)
            return Error{errc::kInvalidInput, "token " + std::to_string(t) + " is outside the vocabulary of "
                                                  + std::to_string(f.vocab)};
    if (k < 1)
        return Error{errc::kBadOption, "--top must be at least 1"};
    return guarded(f.path, [&]() -> Result<std::vector<PositionLogits>> {
        auto lp = logProbs(*m_impl->loaded.model, tokens);
        const auto top = lp.topk(std::min<std::int64_t>(k, lp.size(1)), -1);
        std::vector<PositionLogits> out;
        for (std::int64_t i = 0; i < lp.size(0); ++i) {
            PositionLogits p;
            p.position = i;
            p.token = tokens[std::size_t(i)];
            for (std::int64_t j = 0; j < std::get<0>(top).size(1); ++j)
                p.top.push_back({std::get<1>(top)[i][j].item<std::int64_t>(), std::get<0>(top)[i][j].item<double>()});
            out.push_back(std::move(p));
        }
        return out;
    });
}

} // namespace distillery::core
