#pragma once

// Datasets for distillation runs: a synthetic hidden-Markov "oracle language" whose exact
// next-token distribution is known, and byte-level text corpora (plain text or JSON lines).
// Every dataset is a pair of fixed token matrices (train / validation) of sequences with
// seqLen + 1 tokens; a batch feeds tokens 0..T-1 and predicts tokens 1..T.

#include "data/tokenizer.h"
#include "data/corpus.h"
#include "distillery/core/result.h"

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace distillery::core::data {

struct DatasetConfig
{
    std::string source = "oracle-hmm"; // "oracle-hmm" | "text" | "jsonl"
    std::string path;                  // corpus file for "text" and "jsonl"
    std::string textField = "text";    // the string field of each JSON line
    // Text and JSONL: a subword tokenizer (from tokenizerPath) instead of one token per byte.
    std::shared_ptr<Tokenizer> tokenizer;
    std::string tokenizerPath;
    // The model's vocabulary where it has more rows than the tokenizer has tokens (the rows
    // beyond are never a corpus token); 0 = the tokenizer's.
    std::int64_t modelVocab = 0;
    int vocab = 64;                    // oracle-hmm only (byte corpora have 256)
    int hiddenStates = 32;             // oracle-hmm only
    double concentration = 0.05;       // Dirichlet concentration of the oracle's rows
    std::int64_t trainSequences = 2048, validationSequences = 128; // oracle-hmm only
    double validationFraction = 0.1; // byte corpora: share of windows held out
    std::uint64_t seed = 1234;
    int seqLen = 64; // model input length T; stored sequences have T+1 tokens
};

struct Batch
{
    torch::Tensor inputs;  // [B,T] int64
    torch::Tensor targets; // [B,T] int64, the next tokens
    torch::Tensor mask;    // [B,T] float32, 1 = a token that counts
    torch::Tensor indices; // [B] int64, rows of the split (-1 when not from a split)
};

// Deterministic 64-bit hashing and random numbers that give the same values on every machine
// and library version (std:: distributions and torch generators do not promise that).
std::uint64_t mixSeed(std::uint64_t a, std::uint64_t b);

class Rng
{
public:
    explicit Rng(std::uint64_t seed)
        : m_state(seed)
    {
    }
    std::uint64_t next();
    double uniform();         // [0, 1)
    double uniformPositive(); // (0, 1]
    double normal();
    // log of a Gamma(shape, 1) draw, computed in log space so that shapes far below 1 (sparse
    // Dirichlet rows) do not underflow to 0.
    double logGamma(double shape);
    std::int64_t below(std::int64_t n); // uniform integer in [0, n)

private:
    std::uint64_t m_state;
};

// A hidden-Markov "oracle language" with S hidden states and V tokens:
//   s_1 ~ π,  s_{t+1} ~ A[s_t, ·],  x_t ~ B[s_t, ·].
// π, every row of A and every row of B are drawn from a symmetric Dirichlet(c) (normalised Gamma
// draws); a small c gives sparse rows, i.e. a language with structure a model can learn. Each
// row is then mixed with the uniform distribution at weight 1e-4, so that every token sequence
// has positive probability and filtering stays finite on any input (e.g. a student's samples).
//
// Because the process is known, the exact next-token distribution follows by forward filtering:
//   alpha_1(s) ∝ π(s) B[s, x_1],   alpha_{t+1}(s') ∝ (Σ_s alpha_t(s) A[s,s']) B[s', x_{t+1}],
// where alpha_t(s) = P(s_t = s | x_1..t), and
//   p(x_{t+1} = v | x_1..t) = Σ_s' (Σ_s alpha_t(s) A[s,s']) B[s',v].
// (Rabiner 1989, "A tutorial on hidden Markov models", forward algorithm, normalised form.)
class OracleHmm
{
public:
    OracleHmm(int vocab, int states, double concentration, std::uint64_t seed);

    int vocab() const { return m_vocab; }
    int states() const { return m_states; }

    // [count, length] int64; row i depends only on (seed, i), so a larger count extends a
    // smaller one.
    torch::Tensor sample(std::int64_t count, std::int64_t length, std::uint64_t seed) const;

    // For inputs [B,T]: [B,T,V] float32 (CPU), row t = p(x_{t+1} | inputs[b, 0..t]).
    // Filtering runs in double precision.
    torch::Tensor nextTokenDistributions(const torch::Tensor &inputs) const;

    // Mean over positions of -log p_oracle(targets[b,t] | inputs[b,0..t]): the best NLL any
    // model can reach on these tokens (in expectation, the entropy rate of the language).
    double oracleNll(const torch::Tensor &inputs, const torch::Tensor &targets) const;

    const torch::Tensor &initial() const { return m_initial; }         // [S] float64
    const torch::Tensor &transitions() const { return m_transitions; } // [S,S] float64
    const torch::Tensor &emissions() const { return m_emissions; }     // [S,V] float64

private:
    torch::Tensor filteredPredictions(const torch::Tensor &inputs) const; // [B,T,V] float64

    int m_vocab;
    int m_states;
    torch::Tensor m_initial, m_transitions, m_emissions;
};

class Dataset
{
public:
    // train / validation: [N, T+1] and [M, T+1] int64 token matrices; oracle may be null.
    Dataset(std::string description, int vocab, int seqLen, torch::Tensor train,
            torch::Tensor validation, std::shared_ptr<const OracleHmm> oracle = nullptr);

    int vocab() const { return m_vocab; }
    int seqLen() const { return m_seqLen; }
    bool hasOracle() const { return m_oracle != nullptr; }
    const OracleHmm *oracle() const { return m_oracle.get(); }
    std::int64_t trainSize() const { return m_train.size(0); }
    std::int64_t validationSize() const { return m_validation.size(0); }
    const torch::Tensor &trainSequences() const { return m_train; }           // [N, T+1] int64
    const torch::Tensor &validationSequences() const { return m_validation; } // [M, T+1] int64

    // The data order is an endless stream of seeded permutations of the training rows (epoch e
    // is the permutation seeded by (seed, e)); step s takes stream positions [s*B, (s+1)*B).
    // Resuming at step s therefore gives the same batches as an uninterrupted run.
    Batch trainBatch(std::int64_t step, std::int64_t batchSize, std::uint64_t seed) const;

    // Fixed batches in row order. Batch index wraps modulo validationBatchCount(); the last
    // batch is filled up with rows from the start, whose mask is 0 so that a pass over all
    // batches counts every validation token exactly once.
    Batch validationBatch(std::int64_t index, std::int64_t batchSize) const;
    std::int64_t validationBatchCount(std::int64_t batchSize) const;

    // Splits rows [B, T+1] into inputs/targets with a full mask; indices are -1.
    Batch batchFromRows(const torch::Tensor &rows) const;

    // e.g. "oracle-hmm V=64 S=32 (2048 train / 128 validation sequences of 65 tokens)"
    std::string describe() const { return m_description; }

    // Byte corpora: the bytes themselves (not necessarily valid UTF-8); BPE corpora: the
    // tokens' pieces; oracle: "t12 t3 ...".
    std::string decode(const std::vector<std::int64_t> &tokens) const;
    // The BPE a corpus was tokenized with (null for bytes and the oracle).
    void setTokenizer(std::shared_ptr<Tokenizer> tokenizer) { m_tokenizer = std::move(tokenizer); }
    const std::shared_ptr<Tokenizer> &tokenizer() const { return m_tokenizer; }

private:
    const std::vector<std::int64_t> &permutation(std::uint64_t seed, std::int64_t epoch) const;

    std::string m_description;
    int m_vocab;
    int m_seqLen;
    torch::Tensor m_train, m_validation;
    std::shared_ptr<const OracleHmm> m_oracle;
    std::shared_ptr<Tokenizer> m_tokenizer; // decode reads its pieces only (no cache)

    // The last epoch permutation, kept because consecutive steps almost always share it.
    mutable std::mutex m_permMutex;
    mutable std::uint64_t m_permSeed = 0;
    mutable std::int64_t m_permEpoch = -1;
    mutable std::vector<std::int64_t> m_perm;
};

Result<std::shared_ptr<Dataset>> makeDataset(const DatasetConfig &config);

// Byte-level tokenizer: ids 0..255 are the bytes of the UTF-8 text.
std::vector<std::int64_t> encodeBytes(const std::string &text);
// Exact inverse of encodeBytes; ids outside 0..255 become U+FFFD.
std::string decodeBytes(const std::vector<std::int64_t> &ids);

// Top-k teacher log-probs for every training row, computed once before training (offline
// distillation from a sparse top-k cache).
struct TopKCache
{
    torch::Tensor logProbs; // [N,T,k] float32
    torch::Tensor indices;  // [N,T,k] int64
    int k = 0;
    double temperature = 1.0;
};

Status saveTopKCache(const TopKCache &cache, const std::string &path);
Result<TopKCache> loadTopKCache(const std::string &path);

// The cache entries of the given training rows ([B] int64, Batch::indices): [B,T,k] each.
std::pair<torch::Tensor, torch::Tensor> gatherTopK(const TopKCache &cache,
                                                   const torch::Tensor &rowIndices);

} // namespace distillery::core::data
