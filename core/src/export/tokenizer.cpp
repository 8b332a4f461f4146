// Tokenizer files in the format of Hugging Face's `tokenizers` (tokenizer.json), which
// PreTrainedTokenizerFast loads.
//
// A byte-level student reads one token per byte, its id the byte's value. tokenizer.json says
// so as a BPE model without merges over GPT-2's byte-to-character table (bytes 33-126, 161-172
// and 174-255 stand for themselves, the other 68 for U+0100 onwards, in byte order), behind a
// ByteLevel pre-tokenizer without its word-splitting regex and a ByteLevel decoder: every byte
// becomes its character, no two characters merge, and decoding gives the bytes back.
//
// An oracle (HMM) student reads the symbols t0 ... t<V-1>, written separated by spaces: a
// WordLevel model over them behind a WhitespaceSplit pre-tokenizer. An unknown word is an
// error in `tokenizers` (its unk_token is not in the vocabulary), never a made-up id.

#include "export/writers.h"

#include "data/bpe.h"

#include "distillery/core/errors.h"
#include "distillery/core/files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace distillery::core::exports {

namespace {

nlohmann::ordered_json byteLevelTokenizer()
{
    nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
    for (unsigned b = 0; b < 256; ++b)
        vocab[data::gpt2ByteCharacter(static_cast<unsigned char>(b))] = b;
    const nlohmann::ordered_json byteLevel = {
        {"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
    return {{"version", "1.0"},
            {"truncation", nullptr},
            {"padding", nullptr},
            {"added_tokens", nlohmann::ordered_json::array()},
            {"normalizer", nullptr},
            {"pre_tokenizer", byteLevel},
            {"post_processor", nullptr},
            {"decoder", byteLevel},
            {"model",
             {{"type", "BPE"},
              {"dropout", nullptr},
              {"unk_token", nullptr},
              {"continuing_subword_prefix", nullptr},
              {"end_of_word_suffix", nullptr},
              {"fuse_unk", false},
              {"byte_fallback", false},
              {"vocab", vocab},
              {"merges", nlohmann::ordered_json::array()}}}};
}

nlohmann::ordered_json wordLevelTokenizer(std::int64_t vocabSize)
{
    nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
    for (std::int64_t i = 0; i < vocabSize; ++i)
        vocab["t" + std::to_string(i)] = i;
    return {{"version", "1.0"},
            {"truncation", nullptr},
            {"padding", nullptr},
            {"added_tokens", nlohmann::ordered_json::array()},
            {"normalizer", nullptr},
            {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
            {"post_processor", nullptr},
            {"decoder", nullptr},
            {"model", {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", "<unk>"}}}};
}

} // namespace

// The run's own tokenizer files, copied as they are (tokenizer.json, vocab.json and merges.txt,
// or tokenizer.model), and a tokenizer_config.json with its special tokens.
Status copyTokenizerFiles(const std::string &dir, const ExportFacts &facts)
{
    const data::Tokenizer &tok = *facts.plan.dataset.tokenizer;
    for (const auto &[source, name] : tok.files()) {
        std::ifstream in(source, std::ios::binary);
        std::ostringstream bytes;
        bytes << in.rdbuf();
        if (!in.good() && !in.eof())
            return Status::failure(errc::kIoWrite, source + ": cannot read the run's tokenizer");
        if (auto st = writeFileAtomically(dir + "/" + name, bytes.str()); !st.ok())
            return st;
    }
    const std::string first = tok.files().empty() ? std::string() : tok.files().front().second;
    const data::SpecialTokens &sp = tok.special();
    nlohmann::ordered_json config = {
        {"tokenizer_class", first == "tokenizer.json"    ? "PreTrainedTokenizerFast"
                            : first == "tokenizer.model" ? "LlamaTokenizer"
                                                         : "GPT2Tokenizer"},
        {"model_max_length", facts.plan.student.maxLen},
        {"clean_up_tokenization_spaces", false},
        {"add_bos_token", sp.addBos},
        {"add_eos_token", false}};
    for (const auto &[key, name] : {std::pair<const char *, const std::string &>{"bos_token", sp.bos},
                                    {"eos_token", sp.eos}, {"unk_token", sp.unk}, {"pad_token", sp.pad}})
        if (!name.empty())
            config[key] = name;
    // The run encoded each stretch between special tokens with SentencePiece's own space in
    // front, which is LlamaTokenizer's legacy behaviour.
    if (first == "tokenizer.model")
        config["legacy"] = true;
    return writeFileAtomically(dir + "/tokenizer_config.json", config.dump(2) + "\n");
}

Status writeTokenizer(const std::string &dir, const ExportFacts &facts)
{
    if (facts.tokens == "subword")
        return copyTokenizerFiles(dir, facts);
    const bool bytes = facts.tokens == "bytes";
    const auto tokenizer = bytes ? byteLevelTokenizer() : wordLevelTokenizer(facts.plan.student.vocab);
    if (auto st = writeFileAtomically(dir + "/tokenizer.json", tokenizer.dump(2) + "\n"); !st.ok())
        return st;
    const nlohmann::ordered_json config = {
        {"tokenizer_class", "PreTrainedTokenizerFast"},
        {"model_max_length", facts.plan.student.maxLen},
        {"clean_up_tokenization_spaces", false},
        {"add_bos_token", false},
        {"add_eos_token", false}};
    return writeFileAtomically(dir + "/tokenizer_config.json", config.dump(2) + "\n");
}

} // namespace distillery::core::exports
