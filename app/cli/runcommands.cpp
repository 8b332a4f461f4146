// distillery-cli's commands over runs: validate a graph, run and resume, list runs, show one,
// print a series.

#include "cli.h"

#include "distillery/core/errors.h"
#include "distillery/core/files.h"
#include "distillery/core/graph.h"
#include "distillery/core/utf8.h"

#include <algorithm>
#include <csignal>
#include <iomanip>
#include <sstream>
#include <cstdio>
#include <cmath>
#include <iostream>

namespace distillery::cli {

namespace {

} // namespace

int cmdValidate(const std::string &path)
{
    auto graph = loadGraphArgument(path);
    if (!graph.ok())
        return badInput(graph.error().message);
    auto issues = validateGraph(graph.value());
    if (issues.empty()) {
        std::cout << path << ": valid (" << graph.value().nodes().size() << " nodes, "
                  << graph.value().edges().size() << " edges)\n";
        return kExitOk;
    }
    std::cerr << path << ": " << issues.size() << " problem" << (issues.size() > 1 ? "s" : "")
              << "\n";
    for (const auto &i : issues)
        std::cerr << "  [" << issueCodeName(i.code) << "] " << i.message << "\n";
    return kExitBadInput;
}

int runWithProgress(const std::function<Result<RunResult>(const ProgressCallback &, RunControl *)> &fn,
                    const std::string &store)
{
    RunControl control;
    g_control = &control;
    std::signal(SIGINT, onSigint);
    std::signal(SIGTERM, onSigint);
    ProgressPrinter printer;
    auto result = fn([&](const Progress &p) { printer(p); }, &control);
    printer.finish();
    g_control = nullptr;
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (!result.ok())
        return badInput(result.error().message);
    printResult(result.value(), store);
    return exitFor(result.value());
}

int cmdRun(const std::string &path, RunOptions options)
{
    auto graph = loadGraphArgument(path);
    if (!graph.ok())
        return badInput(graph.error().message);
    return runWithProgress(
        [&](const ProgressCallback &cb, RunControl *control) {
            return runExperiment(graph.value(), options, cb, control);
        },
        options.storePath);
}

int cmdResume(const std::string &runText, const RunOptions &options)
{
    auto reader = openReader(options.storePath);
    if (!reader.ok())
        return badInput(reader.error().message);
    auto id = resolveRun(*reader.value(), runText);
    if (!id.ok())
        return badInput(id.error().message);
    reader.value().reset();
    // A dead writer's run becomes 'interrupted' in the file; when that fails (a busy store) the
    // reader's heartbeat rule still tells it from a live one.
    if (auto marked = markInterruptedRuns(options.storePath); !marked.ok())
        std::cerr << "warning: " << marked.error().message << "\n";
    return runWithProgress(
        [&](const ProgressCallback &cb, RunControl *control) {
            return resumeRun(id.value(), options, cb, control);
        },
        options.storePath);
}

namespace {

// One line per run: what `runs` shows, with every final eval/ metric.
void printRunsJson(const StoreReader &reader, const std::vector<RunInfo> &runs)
{
    for (const auto &r : runs) {
        std::cout << "{\"id\":" << r.id << ",\"name\":" << jsonString(r.name)
                  << ",\"status\":" << jsonString(runStatusName(r.status))
                  << ",\"template\":" << jsonString(r.templateName)
                  << ",\"steps_done\":" << r.lastStep
                  << ",\"steps_total\":" << r.stepsTotal << ",\"seed\":" << r.seed
                  << ",\"device\":" << jsonString(r.device)
                  << ",\"created_at\":" << jsonNumber(r.createdAt)
                  << ",\"finished_at\":" << (r.finishedAt > 0 ? jsonNumber(r.finishedAt) : "null")
                  << ",\"error\":" << (r.error.empty() ? "null" : jsonString(r.error))
                  << ",\"metrics\":{";
        bool first = true;
        if (auto latest = reader.latest(r.id); latest.ok())
            for (const auto &[k, p] : latest.value())
                if (k.rfind("eval/", 0) == 0) {
                    std::cout << (first ? "" : ",") << jsonString(k) << ":" << jsonNumber(p.value);
                    first = false;
                }
        std::cout << "}}\n";
    }
}

} // namespace

int cmdRuns(const std::string &store, bool json)
{
    auto reader = openReader(store);
    if (!reader.ok())
        return badInput(reader.error().message);
    auto runs = reader.value()->runs();
    if (!runs.ok())
        return badInput(runs.error().message);
    if (json) {
        printRunsJson(*reader.value(), runs.value());
        return kExitOk;
    }
    std::cout << std::left << std::setw(5) << "id" << std::setw(22) << "name" << std::setw(12)
              << "status" << std::setw(14) << "template" << std::setw(12) << "steps"
              << std::setw(10) << "duration" << std::setw(12) << "KL(T||S)" << "student NLL\n";
    for (const auto &r : runs.value()) {
        auto latest = reader.value()->latest(r.id);
        auto metric = [&](const std::string &key) {
            if (latest.ok() && latest.value().count(key))
                return fmt(latest.value().at(key).value);
            return std::string("-");
        };
        const double end = r.finishedAt > 0 ? r.finishedAt : r.heartbeatAt;
        std::cout << std::left << std::setw(5) << r.id << std::setw(22) << r.name.substr(0, 21)
                  << std::setw(12) << runStatusName(r.status) << std::setw(14)
                  << (r.templateName.empty() ? "-" : r.templateName.substr(0, 13)) << std::setw(12)
                  << (std::to_string(r.lastStep) + "/"
                      + std::to_string(r.stepsTotal))
                  << std::setw(10) << formatDuration(end - r.createdAt) << std::setw(12)
                  << metric("eval/kl_teacher_student") << metric("eval/student_nll") << "\n";
    }
    return kExitOk;
}

int cmdShow(const std::string &runText, const std::string &store)
{
    auto opened = openRun(store, runText);
    if (!opened.ok())
        return badInput(opened.error().message);
    auto &[reader, id] = opened.value();
    auto info = reader->run(id);
    if (!info.ok())
        return badInput(info.error().message);
    const auto &r = info.value();
    std::cout << "run " << r.id << " '" << r.name << "'\n"
              << "  status     " << runStatusName(r.status) << "\n"
              << "  template   " << (r.templateName.empty() ? "-" : r.templateName) << "\n"
              << "  steps      " << r.lastStep << " of " << r.stepsTotal << "\n"
              << "  device     " << r.device << " (seed " << r.seed << ")\n"
              << "  started    " << timeString(r.createdAt) << "\n"
              << "  finished   " << timeString(r.finishedAt) << "\n";
    if (!r.error.empty())
        std::cout << (r.status == RunStatus::Failed ? "  error      " : "  stopped    ") << r.error << "\n";
    if (auto meta = reader->runMeta(r.id); meta.ok())
        for (const auto &[k, v] : meta.value())
            std::cout << "  " << std::left << std::setw(10) << k << " " << v << "\n";
    auto latest = reader->latest(r.id);
    if (latest.ok() && !latest.value().empty()) {
        std::cout << "final metrics (step):\n";
        for (const auto &[k, p] : latest.value())
            if (k.rfind("eval/", 0) == 0 || k == "train/loss")
                std::cout << "  " << std::left << std::setw(26) << k << " " << fmt(p.value)
                          << "  (" << p.step << ")\n";
        auto get = [&](const std::string &k) {
            auto it = latest.value().find(k);
            return it == latest.value().end() ? std::optional<double>() : it->second.value;
        };
        if (auto t = get("eval/teacher_nll"), s = get("eval/student_nll"); t && s)
            std::cout << "summary: teacher NLL " << fmt(*t) << " vs student NLL " << fmt(*s);
        if (auto o = get("eval/oracle_nll"))
            std::cout << " (oracle entropy floor " << fmt(*o) << ")";
        if (auto ko = get("eval/kl_oracle_student"))
            std::cout << "; KL(oracle||student) " << fmt(*ko);
        std::cout << "\n";
    }
    if (auto cps = reader->checkpoints(r.id); cps.ok() && !cps.value().empty()) {
        std::cout << "checkpoints:\n";
        for (const auto &c : cps.value())
            std::cout << "  " << std::left << std::setw(8) << c.kind << " step " << std::setw(7)
                      << c.step << c.path
                      << (c.kind == "model" ? "  (the trained student, a built-in checkpoint)" : "")
                      << "\n";
    }
    if (auto exported = reader->exports(r.id); exported.ok() && !exported.value().empty()) {
        std::cout << "exports:\n";
        for (const auto &e : exported.value())
            std::cout << "  " << std::left << std::setw(12) << e.format << " step " << std::setw(7)
                      << e.step << e.dtype << "  " << e.path << "  (" << formatBytes(std::uint64_t(e.bytes))
                      << ", " << timeString(e.createdAt) << ")\n";
    }
    return kExitOk;
}

namespace {

// Where the prompt ends in a stored sample: after `tokens` bytes, or `tokens` words.
std::size_t promptEnd(const std::string &sample, std::int64_t tokens, bool words)
{
    if (!words)
        return std::min<std::size_t>(sample.size(), std::size_t(std::max<std::int64_t>(0, tokens)));
    std::size_t at = 0;
    for (std::int64_t t = 0; t < tokens && at < sample.size(); ++t) {
        at = sample.find(' ', at);
        if (at == std::string::npos)
            return sample.size();
        ++at;
    }
    return at;
}

} // namespace

int cmdSamples(const std::string &runText, const std::string &store, long long step)
{
    auto opened = openRun(store, runText);
    if (!opened.ok())
        return badInput(opened.error().message);
    auto &[reader, id] = opened.value();
    auto steps = reader->sampleSteps(id);
    if (!steps.ok())
        return badInput(steps.error().message);
    if (steps.value().empty())
        return badInput("run " + std::to_string(id) + " has no generated samples (they are made by "
                        "the diversity diagnostic: a Diagnostics node with diversity_prompts > 0)");
    if (step < 0)
        step = steps.value().back();
    else if (std::find(steps.value().begin(), steps.value().end(), step) == steps.value().end()) {
        std::string known;
        for (auto s : steps.value())
            known += (known.empty() ? "" : ", ") + std::to_string(s);
        return badInput("run " + std::to_string(id) + " has no samples at step " + std::to_string(step)
                        + " (steps with samples: " + known + ")");
    }
    auto texts = reader->samples(id, step);
    if (!texts.ok())
        return badInput(texts.error().message);
    auto meta = reader->runMeta(id);
    std::int64_t promptTokens = 0;
    bool words = false;
    if (meta.ok()) {
        if (auto it = meta.value().find("samples/prompt_tokens"); it != meta.value().end())
            promptTokens = std::atoll(it->second.c_str());
        if (auto it = meta.value().find("samples/unit"); it != meta.value().end())
            words = it->second == "words";
    }
    std::cout << "run " << id << ", step " << step << ": " << texts.value().size()
              << " samples; the prompt (" << promptTokens << (words ? " tokens" : " bytes")
              << ") is in [[ ]]\n";
    for (std::size_t i = 0; i < texts.value().size(); ++i) {
        const std::string &text = texts.value()[i];
        const std::size_t end = promptEnd(text, promptTokens, words);
        std::cout << "--- " << i << "\n[[" << printable(text.substr(0, end)) << "]]"
                  << printable(text.substr(end)) << "\n";
    }
    return kExitOk;
}

int cmdMetrics(const std::string &runText, const std::string &key, const std::string &store,
               bool csv, long long after)
{
    auto opened = openRun(store, runText);
    if (!opened.ok())
        return badInput(opened.error().message);
    auto &[reader, id] = opened.value();
    auto keys = reader->keys(id);
    if (!keys.ok())
        return badInput(keys.error().message);
    if (key.empty()) { // no KEY: the run's series, one per line
        for (const auto &k : keys.value())
            std::cout << k << "\n";
        return kExitOk;
    }
    if (std::find(keys.value().begin(), keys.value().end(), key) == keys.value().end()) {
        std::string known;
        for (const auto &k : keys.value())
            known += "\n  " + k;
        return badInput("run " + std::to_string(id) + " has no series '" + key
                        + "'; it has:" + known);
    }
    auto rows = reader->scalars(id, key, after);
    if (!rows.ok())
        return badInput(rows.error().message);
    std::cout << std::setprecision(9);
    if (csv)
        std::cout << "step,wall_time,value\n";
    for (const auto &p : rows.value()) {
        if (csv)
            std::cout << p.step << "," << std::fixed << std::setprecision(3) << p.wallTime
                      << std::defaultfloat << std::setprecision(9) << "," << p.value << "\n";
        else
            std::cout << std::left << std::setw(10) << p.step << p.value << "\n";
    }
    return kExitOk;
}

} // namespace distillery::cli
