#pragma once

// A run's trained student written out for other tools (core/src/export):
//   hf           a Hugging Face model folder in GPT2LMHeadModel layout: config.json,
//                model.safetensors, generation_config.json, tokenizer files, README.md (the
//                model card) and distillery-graph.json (the graph that trained it)
//   torchscript  model.pt, whose forward(tokens: int64 [B, T]) returns the logits [B, T, V]
//                (torch.jit.load in Python, or a TorchScript Teacher in another graph), with
//                the same card, graph and tokenizer files
//   onnx         model.onnx (opset 17): input_ids int64 [batch, sequence] -> logits
//                [batch, sequence, vocab], dynamic batch and sequence, float32 weights as
//                initializers (external data in model.onnx.data above 1.8 GB)
// The folder is written beside its final place and renamed into it only when complete: an
// export that fails or is cancelled leaves nothing behind. LibTorch-free.

#include "distillery/core/result.h"
#include "distillery/core/store.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace distillery::core {

struct ExportRequest
{
    std::string storePath;
    RunId run = 0;
    std::int64_t step = -1;    // the student steps done by the weights to export; -1 = the newest
    std::string format = "hf"; // see exportFormats()
    std::string dtype = "f32"; // f32 | f16 | bf16
    std::string out;           // the folder to create
    bool force = false;        // replace a folder that exists and is not empty
};

struct ExportResult
{
    std::string path;               // the folder written, absolute
    std::int64_t step = 0;          // the steps done by the exported weights
    std::vector<std::string> files; // names inside the folder
    std::int64_t bytes = 0;
    double seconds = 0;
};

// fraction in [0, 1] and what is being done.
using ExportProgress = std::function<void(double fraction, const std::string &stage)>;

// "hf", "torchscript", "onnx".
const std::vector<std::string> &exportFormats();
const std::vector<std::string> &exportDtypes();

// Exports and records the export in the store (StoreReader::exports). Errors name what is
// wrong: an unknown run or format, a run with no checkpoint at the step (export.no_checkpoint),
// an output folder that exists and is not empty without `force` (export.out_exists), a student
// that is not the built-in Transformer (export.unsupported), a folder that cannot be written
// (io.write); export.cancelled when `cancel` was set.
Result<ExportResult> exportStudent(const ExportRequest &request, const ExportProgress &progress = {},
                                   const std::atomic<bool> *cancel = nullptr);

} // namespace distillery::core
