#pragma once

// The vocabulary size of a tokenizer file, read while the user edits a graph (data/ reads the
// tokenizer itself when a run starts; it has LibTorch, graph validation does not).

#include "distillery/core/result.h"

#include <cstdint>
#include <string>

namespace distillery::core::hf {

// One more than the largest id of a tokenizer.json (model.vocab and added_tokens), a folder's
// tokenizer.json or vocab.json, or 0 for a tokenizer.model (its size is read with the run).
// Results are kept per file, size and modification time, so repeated validations of one graph
// parse a file once.
Result<std::int64_t> tokenizerVocab(const std::string &path);

} // namespace distillery::core::hf
