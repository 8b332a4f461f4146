#pragma once

// The pieces of an export, which exporter.cpp puts together in a temporary folder.

#include "distillery/core/store.h"
#include "models/causallm.h"
#include "train/plan.h"

#include <map>
#include <string>

namespace distillery::core::exports {

// What the files say about the run that trained the student.
struct ExportFacts
{
    RunInfo run;
    std::map<std::string, std::string> meta;
    std::map<std::string, ScalarPoint> latest; // the run's last value of every series
    train::Plan plan;
    std::int64_t step = 0;  // steps done by the exported weights
    std::string format;     // hf | torchscript | onnx
    std::string dtype;      // f32 | f16 | bf16
    std::string tokens;     // "bytes" (a byte-level corpus), "words" (oracle symbols t0, t1, ...) or
                            // "subword" (the corpus through the run's tokenizer, plan.dataset.tokenizer)
    // The curves the card plots, up to the exported step (train/loss, eval/...).
    std::map<std::string, std::vector<ScalarPoint>> series;
    std::vector<std::pair<std::string, std::string>> plots; // PNG file and caption, beside the card
};

// curves-loss, curves-evaluation and curves-kl from facts.series, each as .svg and .png and
// only when it has data; the PNGs' names go into facts.plots (modelcard.cpp).
Status writeCardPlots(const std::string &dir, ExportFacts &facts);

// f32 -> float32, f16 -> float16, bf16 -> bfloat16 (the names in config.json).
std::string torchDtypeName(const std::string &dtype);
// f32, f16, bf16 as LibTorch's scalar types.
torch::ScalarType torchScalarType(const std::string &dtype);

// config.json, generation_config.json and model.safetensors in GPT2LMHeadModel layout
// (hfmodel.cpp). `model` must be the built-in Transformer.
Status writeHfModel(const std::string &dir, const models::CausalLm &model, const ExportFacts &facts);

// tokenizer.json and tokenizer_config.json (tokenizer.cpp): byte-level (one token per byte,
// GPT-2's byte-to-character table, no merges), word-level over t0 ... t<V-1>, or the run's own
// tokenizer files (tokens = "subword": tokenizer.json, vocab.json + merges.txt or tokenizer.model),
// copied, with a tokenizer_config.json naming its special tokens.
Status writeTokenizer(const std::string &dir, const ExportFacts &facts);

// A TorchScript module whose forward(tokens: int64 [B, T]) returns the logits [B, T, V]
// (scripted.cpp).
Status writeTorchScript(const std::string &path, const models::CausalLm &model, const ExportFacts &facts);

// model.onnx, opset 17: input_ids int64 [batch, sequence] -> logits [batch, sequence, vocab]
// (onnxexport.cpp).
// externalDataAbove: onnxio::kExternalDataAbove (tests lower it to write the external data).
Status writeOnnx(const std::string &path, const models::CausalLm &model, const ExportFacts &facts,
                 std::uint64_t externalDataAbove);

// README.md with Hugging Face front matter (modelcard.cpp).
std::string modelCard(const ExportFacts &facts);

} // namespace distillery::core::exports
