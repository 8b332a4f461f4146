#include "data/data.h"
#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace distillery::core::data {

namespace {

using DatasetResult = Result<std::shared_ptr<Dataset>>;

// Salts that separate the independent random streams derived from one seed.
constexpr std::uint64_t kTrainSalt = 0x747261696EULL;      // "train"
constexpr std::uint64_t kValidationSalt = 0x76616C6964ULL; // "valid"
constexpr std::uint64_t kSplitSalt = 0x73706C6974ULL;      // "split"
constexpr std::uint64_t kEpochSalt = 0x65706F6368ULL;      // "epoch"

// No dataset may hold more tokens than this (2 GiB of int64): a guard against typos such as
// 10^9 sequences, which would otherwise end in an out-of-memory kill.
constexpr std::int64_t kMaxTokens = std::int64_t(1) << 28;
// Cuts the byte stream into non-overlapping windows of T+1 bytes (a trailing remainder is
// dropped) and sends window w to validation when u(seed, w) < fraction, u a hash mapped to
// [0, 1). At least one window is kept for training and, when fraction > 0 and there are two
// or more windows, at least one for validation.
// FNV-1a over the text, then the tokenizer's identity: the key of a corpus's token cache.
std::uint64_t tokenCacheKey(const std::string &text, const Tokenizer &tokenizer)
{
    std::uint64_t h = 1469598103934665603ull;
    auto add = [&h](const char *p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i)
            h = (h ^ static_cast<unsigned char>(p[i])) * 1099511628211ull;
    };
    add(text.data(), text.size());
    const std::string id = tokenizer.identity() + "|" + std::to_string(text.size());
    add(id.data(), id.size());
    return h;
}

constexpr char kTokenCacheMagic[8] = {'D', 'S', 'T', 'T', 'O', 'K', '1', '\0'};

// A corpus's BPE ids, from `<corpus>.tokens-<key>.bin` beside it when an earlier run wrote
// them (8-byte magic, uint64 count, int32 ids), else encoded and written there. A cache that
// cannot be written (a read-only data folder) only costs the next run the encoding.
std::vector<std::int64_t> cachedTokens(const std::string &path, const std::string &text,
                                       const Tokenizer &tokenizer, std::string *note)
{
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(tokenCacheKey(text, tokenizer)));
    const std::string cache = path + ".tokens-" + hex + ".bin";
    {
        std::ifstream in(cache, std::ios::binary);
        char magic[8] = {};
        std::uint64_t count = 0;
        if (in.read(magic, 8) && std::equal(magic, magic + 8, kTokenCacheMagic)
            && in.read(reinterpret_cast<char *>(&count), 8)) {
            std::error_code ec;
            const auto size = std::filesystem::file_size(cache, ec);
            if (!ec && size == 16 + count * 4) {
                std::vector<std::int32_t> raw(count);
                if (in.read(reinterpret_cast<char *>(raw.data()), std::streamsize(count * 4))) {
                    std::vector<std::int64_t> ids(raw.begin(), raw.end());
                    if (std::all_of(ids.begin(), ids.end(),
                                    [&](std::int64_t id) { return id >= 0 && id < tokenizer.vocabSize(); })) {
                        *note = "tokens read from " + cache;
                        return ids;
                    }
                }
            }
        }
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::int64_t> ids = tokenizer.encode(text);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string bytes(kTokenCacheMagic, 8);
    const std::uint64_t count = ids.size();
    bytes.append(reinterpret_cast<const char *>(&count), 8);
    std::vector<std::int32_t> raw(ids.begin(), ids.end());
    bytes.append(reinterpret_cast<const char *>(raw.data()), raw.size() * 4);
    const bool saved = writeFileAtomically(cache, bytes).ok();
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.1f MB/s", double(text.size()) / 1e6 / std::max(seconds, 1e-9));
    *note = "tokenized at " + std::string(rate) + (saved ? ", cached in " + cache : ", not cached (the folder is not writable)");
    return ids;
}

// Text as tokens: its bytes, or the BPE's ids; then windows of seq_len + 1 tokens, each to
// training or validation by a hash of the seed and its position.
DatasetResult corpusDataset(const std::string &label, const std::string &path, const std::string &text,
                            const DatasetConfig &config)
{
    const bool bpe = config.tokenizer != nullptr;
    std::string cacheNote;
    const std::vector<std::int64_t> ids =
        bpe ? cachedTokens(path, text, *config.tokenizer, &cacheNote) : encodeBytes(text);
    const std::string unit = bpe ? " tokens" : " bytes";
    const std::int64_t vocab = bpe ? std::max(config.tokenizer->vocabSize(), config.modelVocab) : 256;
    const std::int64_t window = config.seqLen + 1;
    // A tokenizer whose model expects its BOS first (Llama's <s>, <|begin_of_text|>): every
    // sequence is BOS and seq_len tokens of the text.
    const std::int64_t bos = bpe && config.tokenizer->special().addBos ? config.tokenizer->special().bosId : -1;
    const std::int64_t stride = bos >= 0 ? config.seqLen : window;
    const std::int64_t windows = std::int64_t(ids.size()) / stride;
    if (windows < 1)
        return DatasetResult::failure(
            "data.too_small",
            path + ": the corpus has " + std::to_string(ids.size()) + unit +
                ", but one training sequence needs " + (bos >= 0 ? "seq_len = " : "seq_len + 1 = ") +
                std::to_string(stride) + unit + "; use a larger corpus or a shorter sequence length");
    std::vector<double> u(std::size_t(windows), 0.0);
    std::vector<char> toValidation(std::size_t(windows), 0);
    const std::uint64_t splitSeed = mixSeed(config.seed, kSplitSalt);
    for (std::int64_t w = 0; w < windows; ++w) {
        u[std::size_t(w)] = double(mixSeed(splitSeed, std::uint64_t(w)) >> 11) * 0x1.0p-53;
        toValidation[std::size_t(w)] = u[std::size_t(w)] < config.validationFraction;
    }
    auto count = [&] { return std::count(toValidation.begin(), toValidation.end(), 1); };
    if (count() == windows) // keep the window with the largest hash for training
        toValidation[std::size_t(std::max_element(u.begin(), u.end()) - u.begin())] = 0;
    if (config.validationFraction > 0 && windows >= 2 && count() == 0)
        toValidation[std::size_t(std::min_element(u.begin(), u.end()) - u.begin())] = 1;

    const std::int64_t validation = count(), train = windows - validation;
    auto trainRows = torch::empty({train, window}, torch::kLong);
    auto validationRows = torch::empty({validation, window}, torch::kLong);
    auto trainAcc = trainRows.accessor<std::int64_t, 2>();
    auto validationAcc = validationRows.accessor<std::int64_t, 2>();
    std::int64_t nt = 0, nv = 0;
    for (std::int64_t w = 0; w < windows; ++w) {
        const bool v = toValidation[std::size_t(w)];
        const std::int64_t row = v ? nv++ : nt++;
        auto rowOf = v ? validationAcc[row] : trainAcc[row];
        const std::int64_t first = bos >= 0 ? 1 : 0;
        if (bos >= 0)
            rowOf[0] = bos;
        for (std::int64_t k = first; k < window; ++k)
            rowOf[k] = ids[std::size_t(w * stride + k - first)];
    }
    const std::string description =
        label + " " + path + ": " + (bpe ? std::to_string(text.size()) + " bytes as " : std::string()) +
        std::to_string(ids.size()) + unit +
        (bpe ? " of the " + config.tokenizer->kind() + " " + config.tokenizerPath : std::string()) +
        ", V=" + std::to_string(vocab) +
        (bpe && vocab > config.tokenizer->vocabSize()
             ? " (the model's; the tokenizer has " + std::to_string(config.tokenizer->vocabSize()) + ")"
             : std::string()) +
        " (" + std::to_string(train) + " train / " +
        std::to_string(validation) + " validation sequences of " + std::to_string(window) + " tokens" +
        (bos >= 0 ? ", each starting with " + config.tokenizer->special().bos : std::string()) + ")" +
        (cacheNote.empty() ? std::string() : "; " + cacheNote);
    auto dataset = std::make_shared<Dataset>(description, int(vocab), config.seqLen, trainRows, validationRows);
    dataset->setTokenizer(config.tokenizer);
    return dataset;
}

DatasetResult oracleDataset(const DatasetConfig &config)
{
    if (config.vocab < 2 || config.vocab > 65536)
        return DatasetResult::failure(errc::kDataInvalid, "dataset: vocab must be in [2, 65536], got " +
                                                     std::to_string(config.vocab));
    if (config.hiddenStates < 1 || config.hiddenStates > 4096)
        return DatasetResult::failure(errc::kDataInvalid,
                                      "dataset: hidden_states must be in [1, 4096], got " +
                                          std::to_string(config.hiddenStates));
    if (!(config.concentration > 0) || !std::isfinite(config.concentration))
        return DatasetResult::failure(errc::kDataInvalid, "dataset: concentration must be a positive "
                                                 "number, got " +
                                                     std::to_string(config.concentration));
    if (config.trainSequences < 1)
        return DatasetResult::failure(errc::kDataInvalid,
                                      "dataset: train_sequences must be at least 1, got " +
                                          std::to_string(config.trainSequences));
    if (config.validationSequences < 0)
        return DatasetResult::failure(errc::kDataInvalid, "dataset: validation_sequences must not be "
                                                 "negative, got " +
                                                     std::to_string(config.validationSequences));
    const std::int64_t window = config.seqLen + 1;
    if ((config.trainSequences + config.validationSequences) > kMaxTokens / window)
        return DatasetResult::failure(
            errc::kDataInvalid, "dataset: " + std::to_string(config.trainSequences) + " + " +
                           std::to_string(config.validationSequences) + " sequences of " +
                           std::to_string(window) + " tokens exceed the limit of " +
                           std::to_string(kMaxTokens) + " tokens");
    auto oracle = std::make_shared<const OracleHmm>(config.vocab, config.hiddenStates,
                                                    config.concentration, config.seed);
    auto train = oracle->sample(config.trainSequences, window, mixSeed(config.seed, kTrainSalt));
    auto validation =
        oracle->sample(config.validationSequences, window, mixSeed(config.seed, kValidationSalt));
    const std::string description =
        "oracle-hmm V=" + std::to_string(config.vocab) +
        " S=" + std::to_string(config.hiddenStates) + " (" + std::to_string(config.trainSequences) +
        " train / " + std::to_string(config.validationSequences) + " validation sequences of " +
        std::to_string(window) + " tokens)";
    return std::make_shared<Dataset>(description, config.vocab, config.seqLen, train, validation,
                                     oracle);
}

} // namespace

Dataset::Dataset(std::string description, int vocab, int seqLen, torch::Tensor train,
                 torch::Tensor validation, std::shared_ptr<const OracleHmm> oracle)
    : m_description(std::move(description))
    , m_vocab(vocab)
    , m_seqLen(seqLen)
    , m_train(std::move(train))
    , m_validation(std::move(validation))
    , m_oracle(std::move(oracle))
{
    TORCH_CHECK(m_train.dim() == 2 && m_train.size(1) == seqLen + 1,
                "Dataset: training rows must be [N, seqLen + 1], got ", m_train.sizes());
    TORCH_CHECK(m_validation.dim() == 2 && m_validation.size(1) == seqLen + 1,
                "Dataset: validation rows must be [M, seqLen + 1], got ", m_validation.sizes());
    m_train = m_train.to(torch::kCPU, torch::kLong).contiguous();
    m_validation = m_validation.to(torch::kCPU, torch::kLong).contiguous();
}

// Epoch e's order: a Fisher–Yates shuffle driven by Rng(mix(seed, e)).
const std::vector<std::int64_t> &Dataset::permutation(std::uint64_t seed, std::int64_t epoch) const
{
    if (epoch == m_permEpoch && seed == m_permSeed && !m_perm.empty())
        return m_perm;
    const std::int64_t n = trainSize();
    m_perm.resize(std::size_t(n));
    for (std::int64_t i = 0; i < n; ++i)
        m_perm[std::size_t(i)] = i;
    Rng rng(mixSeed(mixSeed(seed, kEpochSalt), std::uint64_t(epoch)));
    for (std::int64_t i = n - 1; i > 0; --i)
        std::swap(m_perm[std::size_t(i)], m_perm[std::size_t(rng.below(i + 1))]);
    m_permSeed = seed;
    m_permEpoch = epoch;
    return m_perm;
}

Batch Dataset::trainBatch(std::int64_t step, std::int64_t batchSize, std::uint64_t seed) const
{
    TORCH_CHECK(step >= 0 && batchSize > 0, "Dataset::trainBatch: step must be >= 0 and the "
                                            "batch size positive");
    const std::int64_t n = trainSize();
    TORCH_CHECK(n > 0, "Dataset::trainBatch: the training split is empty");
    auto indices = torch::empty({batchSize}, torch::kLong);
    auto acc = indices.accessor<std::int64_t, 1>();
    {
        std::lock_guard<std::mutex> lock(m_permMutex);
        for (std::int64_t i = 0; i < batchSize; ++i) {
            const std::int64_t position = step * batchSize + i;
            acc[i] = permutation(seed, position / n)[std::size_t(position % n)];
        }
    }
    Batch batch = batchFromRows(m_train.index_select(0, indices));
    batch.indices = indices;
    return batch;
}

std::int64_t Dataset::validationBatchCount(std::int64_t batchSize) const
{
    if (batchSize <= 0)
        return 0;
    return (validationSize() + batchSize - 1) / batchSize;
}

Batch Dataset::validationBatch(std::int64_t index, std::int64_t batchSize) const
{
    TORCH_CHECK(batchSize > 0, "Dataset::validationBatch: the batch size must be positive");
    const std::int64_t m = validationSize(), count = validationBatchCount(batchSize);
    if (m == 0) {
        auto empty = torch::empty({0, m_seqLen}, torch::kLong);
        return {empty, empty.clone(), torch::empty({0, m_seqLen}, torch::kFloat),
                torch::empty({0}, torch::kLong)};
    }
    const std::int64_t b = ((index % count) + count) % count;
    auto positions = torch::arange(b * batchSize, (b + 1) * batchSize, torch::kLong);
    auto rows = positions.remainder(m);
    Batch batch = batchFromRows(m_validation.index_select(0, rows));
    batch.mask *= (positions < m).to(torch::kFloat).unsqueeze(1);
    batch.indices = rows;
    return batch;
}

Batch Dataset::batchFromRows(const torch::Tensor &rows) const
{
    TORCH_CHECK(rows.dim() == 2 && rows.size(1) >= 2,
                "Dataset::batchFromRows: expected rows [B, T+1] with T >= 1, got ", rows.sizes());
    const std::int64_t length = rows.size(1);
    auto r = rows.to(torch::kLong);
    Batch batch;
    batch.inputs = r.slice(1, 0, length - 1).contiguous();
    batch.targets = r.slice(1, 1, length).contiguous();
    batch.mask = torch::ones({r.size(0), length - 1}, torch::kFloat);
    batch.indices = torch::full({r.size(0)}, -1, torch::kLong);
    return batch;
}

std::string Dataset::decode(const std::vector<std::int64_t> &tokens) const
{
    if (m_tokenizer) {
        std::string text;
        for (const auto t : tokens) // an id past the tokenizer's (padding rows) as U+FFFD
            text += t >= 0 && t < m_tokenizer->vocabSize() ? m_tokenizer->piece(t) : std::string("\xEF\xBF\xBD");
        return text;
    }
    if (!hasOracle())
        return decodeBytes(tokens); // the exact bytes, valid UTF-8 or not
    std::string text;
    for (const auto t : tokens) {
        if (!text.empty())
            text += ' ';
        text += "t" + std::to_string(t);
    }
    return text;
}

DatasetResult makeDataset(const DatasetConfig &config)
{
    if (config.seqLen < 1 || config.seqLen > (1 << 20))
        return DatasetResult::failure(errc::kDataInvalid, "dataset: seq_len must be in [1, 1048576], got " +
                                                     std::to_string(config.seqLen));
    try {
        if (config.source == "oracle-hmm")
            return oracleDataset(config);
        if (config.source != "text" && config.source != "jsonl")
            return DatasetResult::failure(errc::kDataInvalid, "dataset: unknown source '" + config.source +
                                                         "', expected oracle-hmm, text or "
                                                         "jsonl");
        if (!(config.validationFraction >= 0 && config.validationFraction < 1))
            return DatasetResult::failure(errc::kDataInvalid,
                                          "dataset: validation_fraction must be in [0, 1), got " +
                                              std::to_string(config.validationFraction));
        if (config.source == "text") {
            auto text = readCorpusFile(config.path);
            if (!text.ok())
                return text.error();
            return corpusDataset("text", config.path, text.value(), config);
        }
        if (config.textField.empty())
            return DatasetResult::failure(errc::kDataInvalid, "dataset: text_field is empty; name the "
                                                     "JSON field that holds each document");
        auto text = readJsonLines(config.path, config.textField);
        if (!text.ok())
            return text.error();
        return corpusDataset("jsonl", config.path, text.value(), config);
    } catch (const std::bad_alloc &) {
        return DatasetResult::failure(errc::kOutOfMemory, "dataset: out of memory while building " +
                                                    config.source + " data");
    } catch (const c10::Error &e) {
        return DatasetResult::failure(errc::kInternal,
                                      std::string("dataset: ") + e.what_without_backtrace());
    } catch (const std::exception &e) {
        return DatasetResult::failure(errc::kInternal, std::string("dataset: ") + e.what());
    }
}

} // namespace distillery::core::data
