#pragma once

// The one scheme of error codes (Error::code): "<area>.<reason>", lower case, the reason in
// snake_case. The message is for people; the code is for programs (exit codes, tests, the GUI
// deciding what to offer). Areas and their reasons:
//
//   graph     the experiment graph: graph.<issue> for an edit or validation problem (the issue
//             code in snake_case: graph.unknown_kind, graph.cycle, graph.singleton, ...),
//             graph.not_found, graph.invalid (does not compile to a run), graph.file (cannot
//             read the file), graph.invalid_json, graph.malformed (JSON of the wrong shape),
//             graph.unsupported_format, graph.unsupported_version
//   input     what the user typed: input.invalid, input.bad_option, input.bad_param
//   data      datasets and caches: data.not_found, data.empty, data.parse, data.format,
//             data.invalid, data.io
//   model     models and teachers: model.not_found, model.bad_checkpoint, model.bad_teacher,
//             model.vocab_mismatch
//   loss      the loss inspector: loss.unknown_kind, loss.failed
//   store     the run store: store.not_found, store.not_sqlite, store.not_a_store,
//             store.older_schema, store.newer_schema, store.busy, store.full, store.sql,
//             store.no_such_run, store.run_active, store.read_only, store.bad_tag,
//             store.bad_group
//   run       training itself: run.no_cuda, run.failed
//   export    exporting a student: export.no_checkpoint, export.out_exists, export.unsupported,
//             export.cancelled
//   io        writing files: io.write
//   internal  internal.memory, internal.error
//
// LibTorch-free.

#include "distillery/core/result.h"

#include <string>

namespace distillery::core {

namespace errc {
inline constexpr const char *kInvalidInput = "input.invalid";
inline constexpr const char *kBadOption = "input.bad_option";
inline constexpr const char *kBadParam = "input.bad_param";
inline constexpr const char *kGraphInvalid = "graph.invalid";
inline constexpr const char *kGraphNotFound = "graph.not_found";
inline constexpr const char *kGraphFile = "graph.file";
inline constexpr const char *kDataNotFound = "data.not_found";
inline constexpr const char *kDataEmpty = "data.empty";
inline constexpr const char *kDataParse = "data.parse";
inline constexpr const char *kDataFormat = "data.format";
inline constexpr const char *kDataInvalid = "data.invalid";
inline constexpr const char *kDataIo = "data.io";
inline constexpr const char *kModelNotFound = "model.not_found";
inline constexpr const char *kBadCheckpoint = "model.bad_checkpoint";
inline constexpr const char *kBadTeacher = "model.bad_teacher";
inline constexpr const char *kVocabMismatch = "model.vocab_mismatch";
inline constexpr const char *kUnknownLoss = "loss.unknown_kind";
inline constexpr const char *kLossFailed = "loss.failed";
inline constexpr const char *kNoCuda = "run.no_cuda";
inline constexpr const char *kRunFailed = "run.failed";
inline constexpr const char *kRunCancelled = "run.cancelled"; // before the run existed (loading a teacher)
inline constexpr const char *kIoWrite = "io.write";
inline constexpr const char *kExportNoCheckpoint = "export.no_checkpoint";
inline constexpr const char *kExportOutExists = "export.out_exists";
inline constexpr const char *kExportUnsupported = "export.unsupported";
inline constexpr const char *kExportCancelled = "export.cancelled";
inline constexpr const char *kOutOfMemory = "internal.memory";
inline constexpr const char *kInternal = "internal.error";
} // namespace errc

// "graph" of "graph.cycle".
std::string errorArea(const Error &error);
// Something the user can fix in what they gave (graph, input, data, model, loss, export; and a
// store that is not one): the CLI's exit code 2.
bool isInputError(const Error &error);

} // namespace distillery::core
