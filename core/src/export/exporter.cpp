// exportStudent: finds the run's weights at the step asked for, writes the format's files
// into `<out>.tmp-XXXXXX` beside the target, renames the folder into place and records the
// export in the store.

#include "distillery/core/export.h"

#include "distillery/core/errors.h"
#include "distillery/core/files.h"
#include "distillery/core/graph.h"
#include "export/writers.h"
#include "train/studentinit.h"
#include "onnxio/gptonnx.h"
#include "torchio.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <unistd.h>

namespace fs = std::filesystem;

namespace distillery::core {

namespace {

using exports::ExportFacts;

bool contains(const std::vector<std::string> &list, const std::string &value)
{
    return std::find(list.begin(), list.end(), value) != list.end();
}

std::string joined(const std::vector<std::string> &list)
{
    std::string out;
    for (const auto &s : list)
        out += (out.empty() ? "" : ", ") + s;
    return out;
}

// The checkpoint holding the student after `step` steps (-1: the newest): the trained student
// (`model`) when it is at that step, else the training state (`student`).
Result<CheckpointInfo> findCheckpoint(const StoreReader &reader, RunId run, std::int64_t step)
{
    auto cps = reader.checkpoints(run);
    if (!cps.ok())
        return cps.error();
    const CheckpointInfo *best = nullptr;
    std::vector<std::string> steps;
    for (const auto &c : cps.value()) {
        if (c.kind != "model" && c.kind != "student")
            continue;
        steps.push_back(std::to_string(c.step));
        const bool fits = step < 0 || c.step == step;
        const bool better = !best || c.step > best->step || (c.step == best->step && c.kind == "model");
        if (fits && better)
            best = &c;
    }
    if (best)
        return *best;
    std::sort(steps.begin(), steps.end(), [](const std::string &a, const std::string &b) {
        return a.size() != b.size() ? a.size() < b.size() : a < b; // numerically
    });
    steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
    const std::string name = "run " + std::to_string(run);
    if (steps.empty())
        return Error{errc::kExportNoCheckpoint,
                     name + " has no student checkpoint to export (it saves one every "
                            "checkpoint_interval steps and at the end)"};
    return Error{errc::kExportNoCheckpoint, name + " has no student checkpoint at step "
                                                + std::to_string(step) + "; it has steps "
                                                + joined(steps)};
}

Result<std::unique_ptr<models::CausalLm>> loadStudent(const CheckpointInfo &cp, const train::Plan &plan)
{
    if (cp.kind == "model")
        return models::loadCheckpoint(cp.path);
    // A training state: the student's weights are its "student" archive, of the plan's architecture.
    auto made = train::makeStudent(plan, nullptr);
    if (!made.ok())
        return made.error();
    auto model = std::move(made.value());
    try {
        torch::serialize::InputArchive archive, student;
        archive.load_from(cp.path, torch::kCPU);
        if (!archive.try_read("student", student))
            return Error{errc::kBadCheckpoint, cp.path + ": not a Distillery training checkpoint (no student)"};
        model->loadState(student);
    } catch (const std::exception &e) {
        return Error{errc::kBadCheckpoint, cp.path + ": cannot read the student: " + torchErrorText(e)};
    }
    return Result<std::unique_ptr<models::CausalLm>>(std::move(model));
}

// `out` may be created: it does not exist, or is an empty folder, or `force` is set.
Status checkTarget(const fs::path &out, bool force)
{
    std::error_code ec;
    const auto st = fs::symlink_status(out, ec);
    if (ec || !fs::exists(st))
        return okStatus();
    const bool emptyFolder = fs::is_directory(st) && fs::is_empty(out, ec) && !ec;
    if (emptyFolder || force)
        return okStatus();
    return Status::failure(errc::kExportOutExists,
                           out.string() + ": exists and is not an empty folder; choose another "
                                          "folder or replace it (--force)");
}

std::int64_t folderBytes(const fs::path &dir, std::vector<std::string> *names)
{
    std::int64_t total = 0;
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(dir, ec)) {
        if (names)
            names->push_back(entry.path().filename().string());
        if (entry.is_regular_file(ec))
            total += std::int64_t(entry.file_size(ec));
    }
    if (names)
        std::sort(names->begin(), names->end());
    return total;
}

// Puts the finished folder `temp` at `out`, replacing what is there (checkTarget allowed it).
Status moveIntoPlace(const fs::path &temp, const fs::path &out)
{
    std::error_code ec;
    fs::path old;
    if (fs::exists(fs::symlink_status(out, ec))) {
        if (fs::is_directory(out, ec) && fs::is_empty(out, ec)) {
            fs::remove(out, ec);
        } else {
            old = out.string() + ".old-" + std::to_string(::getpid());
            fs::rename(out, old, ec);
            if (ec)
                return Status::failure(errc::kIoWrite, out.string() + ": cannot move the old export "
                                                                      "aside: " + ec.message());
        }
    }
    fs::rename(temp, out, ec);
    if (ec) {
        std::error_code ignored;
        if (!old.empty())
            fs::rename(old, out, ignored);
        return Status::failure(errc::kIoWrite, out.string() + ": cannot move the export into place: "
                                                   + ec.message());
    }
    if (!old.empty())
        fs::remove_all(old, ec);
    return okStatus();
}

// `<out>.tmp-XXXXXX` folders that a killed export left, untouched for ten minutes.
void removeStaleExports(const fs::path &out)
{
    std::error_code ec;
    const std::string prefix = out.filename().string() + ".tmp-";
    const auto now = fs::file_time_type::clock::now();
    for (const auto &entry : fs::directory_iterator(out.parent_path(), ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() != prefix.size() + 6 || name.compare(0, prefix.size(), prefix) != 0
            || !entry.is_directory(ec))
            continue;
        const auto age = now - fs::last_write_time(entry.path(), ec);
        if (!ec && age > std::chrono::minutes(10)) {
            fs::remove_all(entry.path(), ec);
            spdlog::info("removed {}, left by an export that did not finish", entry.path().string());
        }
    }
}

struct TemporaryFolder
{
    fs::path path;
    bool keep = false;
    ~TemporaryFolder()
    {
        std::error_code ec;
        if (!keep && !path.empty())
            fs::remove_all(path, ec);
    }
};

} // namespace

const std::vector<std::string> &exportFormats()
{
    static const std::vector<std::string> formats = {"hf", "torchscript", "onnx"};
    return formats;
}

const std::vector<std::string> &exportDtypes()
{
    static const std::vector<std::string> dtypes = {"f32", "f16", "bf16"};
    return dtypes;
}

Result<ExportResult> exportStudent(const ExportRequest &request, const ExportProgress &progress,
                                   const std::atomic<bool> *cancel)
{
    const auto t0 = std::chrono::steady_clock::now();
    auto report = [&](double fraction, const std::string &stage) {
        if (progress)
            progress(fraction, stage);
    };
    auto cancelled = [&] { return cancel && cancel->load(); };
    if (!contains(exportFormats(), request.format))
        return Error{errc::kBadOption, "unknown export format '" + request.format + "'; expected one of "
                                           + joined(exportFormats())};
    if (!contains(exportDtypes(), request.dtype))
        return Error{errc::kBadOption, "unknown dtype '" + request.dtype + "'; expected one of "
                                           + joined(exportDtypes())};
    if (request.format == "onnx" && request.dtype != "f32")
        return Error{errc::kBadOption, "the ONNX export writes float32 weights; --dtype " + request.dtype
                                           + " is for hf and torchscript"};
    if (request.out.empty())
        return Error{errc::kBadOption, "no output folder given (--out DIR)"};
    std::error_code ec;
    fs::path out = fs::absolute(request.out, ec).lexically_normal();
    if (out.filename().empty()) // "dir/"
        out = out.parent_path();
    if (auto st = checkTarget(out, request.force); !st.ok())
        return st.error();

    report(0.0, "reading the run");
    auto reader = StoreReader::open(request.storePath);
    if (!reader.ok())
        return reader.error();
    auto run = reader.value()->run(request.run);
    if (!run.ok())
        return run.error();
    ExportFacts facts;
    facts.run = run.value();
    facts.format = request.format;
    facts.dtype = request.dtype;
    auto graph = graphFromJson(facts.run.graphJson, "run " + std::to_string(request.run));
    if (!graph.ok())
        return graph.error();
    auto plan = train::compilePlan(graph.value());
    if (!plan.ok())
        return plan.error();
    facts.plan = std::move(plan.value());
    facts.tokens = facts.plan.dataset.source == "oracle-hmm" ? "words"
                   : facts.plan.dataset.tokenizer                ? "subword"
                                                                 : "bytes";
    if (auto meta = reader.value()->runMeta(request.run); meta.ok())
        facts.meta = std::move(meta.value());
    if (auto latest = reader.value()->latest(request.run); latest.ok())
        facts.latest = std::move(latest.value());
    auto checkpoint = findCheckpoint(*reader.value(), request.run, request.step);
    if (!checkpoint.ok())
        return checkpoint.error();
    facts.step = checkpoint.value().step;
    // The card shows the exported weights: its curves stop at their step, and its metrics are
    // the last values at or before it (an earlier checkpoint does not get the final numbers).
    auto rowsUpTo = [&](const std::string &key) {
        std::vector<ScalarPoint> kept;
        if (auto rows = reader.value()->scalars(request.run, key); rows.ok())
            for (const auto &p : rows.value())
                if (p.step <= facts.step)
                    kept.push_back(p);
        return kept;
    };
    for (const char *key : {"train/loss", "eval/student_nll", "eval/teacher_nll", "eval/oracle_nll",
                            "eval/kl_teacher_student", "eval/kl_oracle_student"})
        facts.series[key] = rowsUpTo(key);
    if (facts.step < facts.run.lastStep)
        for (auto it = facts.latest.begin(); it != facts.latest.end();) {
            const auto plotted = facts.series.find(it->first);
            const auto rows = plotted != facts.series.end() ? plotted->second : rowsUpTo(it->first);
            if (rows.empty()) {
                it = facts.latest.erase(it);
            } else {
                it->second = rows.back();
                ++it;
            }
        }

    report(0.1, "loading the student (step " + std::to_string(facts.step) + ")");
    auto student = loadStudent(checkpoint.value(), facts.plan);
    if (!student.ok())
        return student.error();
    if (cancelled())
        return Error{errc::kExportCancelled, "export cancelled"};

    fs::create_directories(out.parent_path(), ec);
    removeStaleExports(out);
    TemporaryFolder temp;
    {
        std::string pattern = out.string() + ".tmp-XXXXXX";
        if (!::mkdtemp(pattern.data()))
            return Error{errc::kIoWrite, out.parent_path().string() + ": cannot create a folder there: "
                                             + std::strerror(errno)};
        temp.path = pattern;
    }
    const std::string dir = temp.path.string();
    if (request.format == "hf") {
        report(0.3, "writing model.safetensors and config.json");
        if (auto st = exports::writeHfModel(dir, *student.value(), facts); !st.ok())
            return st.error();
    } else if (request.format == "onnx") {
        report(0.3, "writing model.onnx");
        if (auto st = exports::writeOnnx(dir + "/model.onnx", *student.value(), facts, onnxio::kExternalDataAbove); !st.ok())
            return st.error();
    } else {
        report(0.3, "writing model.pt");
        if (auto st = exports::writeTorchScript(dir + "/model.pt", *student.value(), facts); !st.ok())
            return st.error();
    }
    if (cancelled())
        return Error{errc::kExportCancelled, "export cancelled"};
    // Every format gets the tokenizer: the model reads token ids.
    report(0.7, "writing the tokenizer");
    if (auto st = exports::writeTokenizer(dir, facts); !st.ok())
        return st.error();
    report(0.85, "writing the model card");
    if (auto st = exports::writeCardPlots(dir, facts); !st.ok())
        return st.error();
    if (auto st = writeFileAtomically(dir + "/README.md", exports::modelCard(facts)); !st.ok())
        return st.error();
    if (auto st = writeFileAtomically(dir + "/distillery-graph.json", facts.run.graphJson + "\n"); !st.ok())
        return st.error();
    if (cancelled())
        return Error{errc::kExportCancelled, "export cancelled"};

    ExportResult result;
    result.step = facts.step;
    result.bytes = folderBytes(temp.path, &result.files);
    if (auto st = moveIntoPlace(temp.path, out); !st.ok())
        return st.error();
    temp.keep = true;
    result.path = out.string();
    ExportInfo info{request.run, facts.step, request.format, request.dtype, result.path, result.bytes, 0};
    if (auto st = recordExport(request.storePath, info); !st.ok())
        spdlog::warn("the export is written to {} but not recorded in the store: {}", result.path,
                     st.error().message);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    report(1.0, "done");
    return result;
}

} // namespace distillery::core
