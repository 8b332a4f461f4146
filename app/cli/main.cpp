// distillery-cli: the headless front end of the engine. Exit codes: 0 success, 1 the run failed
// (or was cancelled), 2 bad input.

#include "distillery/core/bench.h"
#include "distillery/core/blas.h"
#include "distillery/core/errors.h"
#include "distillery/core/graph.h"
#include "distillery/core/losses.h"
#include "distillery/core/store.h"
#include "distillery/core/trainer.h"
#include "distillery/core/version.h"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

using namespace distillery::core;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRunFailed = 1;
constexpr int kExitBadInput = 2;

RunControl *g_control = nullptr;

extern "C" void onSigint(int)
{
    // First Ctrl-C: finish the current step and end the run as cancelled. Second: quit now.
    if (g_control && !g_control->cancelRequested()) {
        g_control->requestCancel();
        return;
    }
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
}

int badInput(const std::string &message)
{
    std::cerr << "error: " << message << "\n";
    return kExitBadInput;
}

std::string formatDuration(double seconds)
{
    if (seconds < 0 || !std::isfinite(seconds))
        return "--:--";
    const auto s = static_cast<long long>(seconds + 0.5);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
    return buf;
}

std::string formatRate(double tokensPerSecond)
{
    char buf[32];
    if (tokensPerSecond >= 1e6)
        std::snprintf(buf, sizeof buf, "%.2fM", tokensPerSecond / 1e6);
    else if (tokensPerSecond >= 1e3)
        std::snprintf(buf, sizeof buf, "%.1fk", tokensPerSecond / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.0f", tokensPerSecond);
    return buf;
}

// Progress bar on stderr: redrawn in place on a terminal, one line every few seconds otherwise.
class ProgressPrinter
{
public:
    ProgressPrinter() : m_tty(isatty(STDERR_FILENO) == 1) {}
    void operator()(const Progress &p)
    {
        const auto now = std::chrono::steady_clock::now();
        const bool done = p.totalSteps > 0 && p.step == p.totalSteps;
        const auto minGap = m_tty ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
        if (!done && p.phase == m_phase && now - m_lastLine < minGap)
            return;
        m_lastLine = now;
        if (p.phase != m_phase && m_tty && !m_phase.empty())
            std::cerr << "\n";
        m_phase = p.phase;
        std::ostringstream line;
        if (p.paused) {
            line << "[paused]";
        } else {
            const int width = 24;
            const double f = p.totalSteps > 0 ? double(p.step) / double(p.totalSteps) : 0.0;
            const int filled = int(f * width + 0.5);
            line << "[" << p.phase << "] " << std::string(filled, '#')
                 << std::string(width - filled, '.') << " " << p.step << "/" << p.totalSteps;
            if (p.loss != 0)
                line << "  loss " << std::fixed << std::setprecision(4) << p.loss;
            if (p.tokensPerSecond > 0)
                line << "  " << formatRate(p.tokensPerSecond) << " tok/s";
            line << "  ETA " << formatDuration(p.etaSeconds);
        }
        if (m_tty)
            std::cerr << "\r\033[K" << line.str() << std::flush;
        else
            std::cerr << line.str() << "\n";
        if (done && m_tty)
            std::cerr << "\n";
    }
    void finish()
    {
        if (m_tty && !m_phase.empty())
            std::cerr << "\n";
    }

private:
    bool m_tty;
    std::string m_phase;
    std::chrono::steady_clock::time_point m_lastLine{};
};

Result<std::unique_ptr<StoreReader>> openReader(const std::string &store)
{
    return StoreReader::open(store);
}

// RUN is a number or "last" (the newest run).
Result<RunId> resolveRun(const StoreReader &reader, const std::string &text)
{
    if (text == "last") {
        auto runs = reader.runs();
        if (!runs.ok())
            return runs.error();
        if (runs.value().empty())
            return Result<RunId>::failure(errc::kInvalidInput, "the store has no runs");
        return runs.value().front().id;
    }
    try {
        std::size_t used = 0;
        const long long id = std::stoll(text, &used);
        if (used == text.size() && id > 0)
            return RunId(id);
    } catch (const std::exception &) {
    }
    return Result<RunId>::failure(errc::kInvalidInput, "RUN must be a run id (a positive number) or "
                                               "'last', got '" + text + "'");
}

std::string fmt(double v, int precision = 4)
{
    std::ostringstream s;
    s << std::fixed << std::setprecision(precision) << v;
    return s.str();
}

std::string timeString(double unixSeconds)
{
    if (unixSeconds <= 0)
        return "-";
    std::time_t t = static_cast<std::time_t>(unixSeconds);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
    return buf;
}

void printResult(const RunResult &r, const std::string &store)
{
    std::cout << "run " << r.runId << ": " << runStatusName(r.status) << " after " << r.steps
              << " steps in " << fmt(r.seconds, 1) << " s on " << r.device << "\n";
    if (!r.error.empty())
        std::cout << "error: " << r.error << "\n";
    for (const auto &[k, v] : r.finalMetrics)
        std::cout << "  " << std::left << std::setw(26) << k << " " << fmt(v) << "\n";
    std::cout << "store: " << store << "\n";
}

int exitFor(const RunResult &r)
{
    return r.status == RunStatus::Finished ? kExitOk : kExitRunFailed;
}

// --- commands -------------------------------------------------------------------------------

int cmdValidate(const std::string &path)
{
    auto graph = loadGraphFile(path);
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
    auto graph = loadGraphFile(path);
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

int cmdRuns(const std::string &store)
{
    auto reader = openReader(store);
    if (!reader.ok())
        return badInput(reader.error().message);
    auto runs = reader.value()->runs();
    if (!runs.ok())
        return badInput(runs.error().message);
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
                  << (std::to_string(r.lastStep + (r.lastStep > 0 ? 1 : 0)) + "/"
                      + std::to_string(r.stepsTotal))
                  << std::setw(10) << formatDuration(end - r.createdAt) << std::setw(12)
                  << metric("eval/kl_teacher_student") << metric("eval/student_nll") << "\n";
    }
    return kExitOk;
}

int cmdShow(const std::string &runText, const std::string &store)
{
    auto reader = openReader(store);
    if (!reader.ok())
        return badInput(reader.error().message);
    auto id = resolveRun(*reader.value(), runText);
    if (!id.ok())
        return badInput(id.error().message);
    auto info = reader.value()->run(id.value());
    if (!info.ok())
        return badInput(info.error().message);
    const auto &r = info.value();
    std::cout << "run " << r.id << " '" << r.name << "'\n"
              << "  status     " << runStatusName(r.status) << "\n"
              << "  template   " << (r.templateName.empty() ? "-" : r.templateName) << "\n"
              << "  steps      " << r.lastStep + 1 << " of " << r.stepsTotal << "\n"
              << "  device     " << r.device << " (seed " << r.seed << ")\n"
              << "  started    " << timeString(r.createdAt) << "\n"
              << "  finished   " << timeString(r.finishedAt) << "\n";
    if (!r.error.empty())
        std::cout << "  error      " << r.error << "\n";
    if (auto meta = reader.value()->runMeta(r.id); meta.ok())
        for (const auto &[k, v] : meta.value())
            std::cout << "  " << std::left << std::setw(10) << k << " " << v << "\n";
    auto latest = reader.value()->latest(r.id);
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
    if (auto cps = reader.value()->checkpoints(r.id); cps.ok() && !cps.value().empty()) {
        std::cout << "checkpoints:\n";
        for (const auto &c : cps.value())
            std::cout << "  " << c.kind << " step " << c.step << "  " << c.path << "\n";
    }
    return kExitOk;
}

int cmdMetrics(const std::string &runText, const std::string &key, const std::string &store,
               bool csv, long long after)
{
    auto reader = openReader(store);
    if (!reader.ok())
        return badInput(reader.error().message);
    auto id = resolveRun(*reader.value(), runText);
    if (!id.ok())
        return badInput(id.error().message);
    auto keys = reader.value()->keys(id.value());
    if (!keys.ok())
        return badInput(keys.error().message);
    if (std::find(keys.value().begin(), keys.value().end(), key) == keys.value().end()) {
        std::string known;
        for (const auto &k : keys.value())
            known += "\n  " + k;
        return badInput("run " + std::to_string(id.value()) + " has no series '" + key
                        + "'; it has:" + known);
    }
    auto rows = reader.value()->scalars(id.value(), key, after);
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

Result<std::vector<double>> parseNumbers(const std::string &text, const std::string &option)
{
    std::vector<double> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        try {
            std::size_t used = 0;
            double v = std::stod(item, &used);
            while (used < item.size() && std::isspace(static_cast<unsigned char>(item[used])))
                ++used;
            if (used != item.size())
                throw std::invalid_argument(item);
            out.push_back(v);
        } catch (const std::exception &) {
            return Result<std::vector<double>>::failure(
                errc::kInvalidInput, option + ": '" + item + "' is not a number (expected a,b,c)");
        }
    }
    if (out.empty())
        return Result<std::vector<double>>::failure(errc::kInvalidInput,
                                                    option + ": expected comma-separated numbers");
    return out;
}

int cmdLoss(const std::string &kind, const std::vector<std::string> &params,
            const std::string &teacherText, const std::string &studentText)
{
    std::map<std::string, double> values;
    for (const auto &p : params) {
        const auto eq = p.find('=');
        if (eq == std::string::npos || eq == 0)
            return badInput("--param '" + p + "': expected NAME=VALUE");
        try {
            std::size_t used = 0;
            const std::string v = p.substr(eq + 1);
            values[p.substr(0, eq)] = std::stod(v, &used);
            if (used != v.size())
                throw std::invalid_argument(v);
        } catch (const std::exception &) {
            return badInput("--param '" + p + "': the value is not a number");
        }
    }
    auto teacher = parseNumbers(teacherText, "--teacher-logits");
    if (!teacher.ok())
        return badInput(teacher.error().message);
    auto student = parseNumbers(studentText, "--student-logits");
    if (!student.ok())
        return badInput(student.error().message);
    auto r = inspectLoss(kind, values, teacher.value(), student.value());
    if (!r.ok())
        return badInput(r.error().message);
    const auto &x = r.value();
    auto list = [](const std::vector<double> &v) {
        std::ostringstream s;
        s << std::setprecision(6);
        for (std::size_t i = 0; i < v.size(); ++i)
            s << (i ? ", " : "") << v[i];
        return s.str();
    };
    if (const LossKind *d = findLossKind(kind))
        std::cout << kind << ": " << d->formula << "\n";
    std::cout << "loss      " << std::setprecision(8) << x.value << "\n";
    std::cout << "gradient  [" << list(x.gradient) << "]   (d loss / d student "
              << (x.studentProbs.empty() ? "input" : "logits") << ")\n";
    if (!x.teacherProbs.empty())
        std::cout << "p_teacher [" << list(x.teacherProbs) << "]\n";
    if (!x.studentProbs.empty())
        std::cout << "p_student [" << list(x.studentProbs) << "]\n";
    return kExitOk;
}

std::string escapePipes(const std::string &text)
{
    std::string out;
    for (char c : text)
        out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
}

// The node kinds with their ports and parameters; --markdown writes the reference in docs/.
int cmdNodes(const std::string &only, bool markdown)
{
    if (!only.empty() && !findNodeKind(only)) {
        std::string known;
        for (const auto &k : nodeKinds())
            known += (known.empty() ? "" : ", ") + k.kind;
        return badInput("unknown node kind '" + only + "' (known: " + known + ")");
    }
    auto range = [markdown](const ParamSpec &p) {
        if (p.type == ParamType::Enum) {
            std::string c;
            for (const auto &x : p.choices)
                c += (c.empty() ? "" : (markdown ? ", " : " | ")) + x;
            return c;
        }
        if (!p.minimum && !p.maximum)
            return std::string();
        auto num = [](double v) {
            if (v == std::floor(v) && std::abs(v) < 1e15)
                return std::to_string(static_cast<long long>(v));
            std::ostringstream os;
            os << v;
            return os.str();
        };
        return "[" + (p.minimum ? num(*p.minimum) : std::string("-inf")) + ", "
               + (p.maximum ? num(*p.maximum) : std::string("inf")) + "]";
    };
    auto ports = [](const std::vector<PortSpec> &list) {
        std::string out;
        for (const auto &p : list)
            out += (out.empty() ? "" : ", ") + p.name + ":" + portTypeName(p.type)
                   + (p.required ? " (required)" : "") + (p.multiple ? " (several)" : "");
        return out.empty() ? std::string("none") : out;
    };
    if (markdown)
        std::cout << "# Node kinds\n\nGenerated by `distillery-cli nodes --markdown`.\n";
    for (const auto &k : nodeKinds()) {
        if (!only.empty() && k.kind != only)
            continue;
        if (markdown) {
            std::cout << "\n## " << k.kind << (k.singleton ? " (one per graph)" : "") << "\n\n"
                      << k.description << "\n\n"
                      << "Inputs: " << ports(k.inputs) << ". Outputs: " << ports(k.outputs)
                      << ".\n\n| parameter | type | default | range | description |\n"
                      << "|---|---|---|---|---|\n";
            for (const auto &p : k.params)
                std::cout << "| `" << p.name << "` | " << paramTypeName(p.type) << " | "
                          << (paramValueToString(p.defaultValue).empty()
                                  ? std::string("(empty)")
                                  : "`" + paramValueToString(p.defaultValue) + "`")
                          << (p.unit.empty() ? "" : " " + p.unit) << " | " << range(p) << " | "
                          << escapePipes(p.description) << " |\n";
            continue;
        }
        std::cout << k.kind << (k.singleton ? " (one per graph)" : "") << " - " << k.description
                  << "\n  inputs:  " << ports(k.inputs) << "\n  outputs: " << ports(k.outputs)
                  << "\n";
        for (const auto &p : k.params)
            std::cout << "  " << std::left << std::setw(22) << p.name << std::setw(7)
                      << paramTypeName(p.type) << " default " << paramValueToString(p.defaultValue)
                      << (p.unit.empty() ? "" : " " + p.unit)
                      << (range(p).empty() ? "" : "  " + range(p)) << "\n"
                      << "  " << std::setw(22) << "" << p.description << "\n";
    }
    return kExitOk;
}

int cmdTemplates()
{
    for (const auto &name : templateNames()) {
        auto g = loadTemplate(name);
        if (!g.ok())
            return badInput(g.error().message);
        auto d = g.value().meta.find("description");
        std::cout << name << "\n  "
                  << (d == g.value().meta.end() ? std::string() : d->second) << "\n";
    }
    return kExitOk;
}

// What the engine runs on: CPU features, BLAS kernels and how they were chosen, threads, CUDA.
int cmdSystem()
{
    const CpuFeatures f = detectCpuFeatures();
    std::string features;
    for (const auto &[name, on] : std::vector<std::pair<const char *, bool>>{
             {"sse4.2", f.sse42}, {"avx", f.avx}, {"avx2", f.avx2}, {"fma", f.fma},
             {"avx512f", f.avx512f}, {"avx512bw", f.avx512bw}, {"avx512dq", f.avx512dq},
             {"avx512vl", f.avx512vl}, {"avx512cd", f.avx512cd}, {"avx512bf16", f.avx512bf16}})
        if (on)
            features += (features.empty() ? "" : " ") + std::string(name);
    const BlasInfo blas = blasInfo();
    std::cout << "distillery-cli      " << versionString() << "\n"
              << "CPU features        " << (features.empty() ? "(none of note)" : features) << "\n"
              << "best kernel set     " << bestBlasCore(f) << "\n"
              << "BLAS library        " << blas.library << "\n"
              << "BLAS kernels        " << (blas.core.empty() ? "-" : blas.core) << " (" << blas.how
              << ")\n"
              << "threads             " << describeThreads() << " (before a run chooses its own)\n"
              << "CUDA                " << (cudaAvailable() ? "available" : "not available") << "\n";
    return kExitOk;
}

int cmdBench(const BenchOptions &options)
{
    ProgressPrinter printer;
    auto r = runBenchmark(options, [&](const Progress &p) { printer(p); });
    printer.finish();
    if (!r.ok()) {
        if (isInputError(r.error()))
            return badInput(r.error().message);
        std::cerr << "error: " << r.error().message << "\n";
        return kExitRunFailed;
    }
    const auto &b = r.value();
    std::cout << "standard workload: V=512 T=128 B=16, teacher L4 d256 (frozen), student L2 d128, "
                 "0.5*CE + 0.5*tau^2*KL, tau=2, AdamW, fp32; timed in the trainer\n"
              << "BLAS               " << b.blas << "\n"
              << "threads            " << b.threads << "\n"
              << "steps timed        " << b.steps << " (after " << b.warmupSteps << " warm-up)\n"
              << "tokens/s           " << fmt(b.tokensPerSecond, 0) << " (median step)\n"
              << "ms/step            " << fmt(b.msPerStep, 1) << " (median; mean " << fmt(b.meanMsPerStep, 1) << ")\n"
              << "MFLOP/token        " << fmt(b.flopsPerToken / 1e6, 2) << "\n"
              << "achieved GFLOP/s   " << fmt(b.achievedGflops, 1) << "\n"
              << "GEMM GFLOP/s       " << fmt(b.gemmPeakGflops, 1) << " on all threads, "
              << fmt(b.gemmOneThreadGflops, 1) << " on one (fp32 2048x1024x1024, same process)\n"
              << "fraction of peak   " << fmt(100.0 * b.achievedGflops / b.gemmPeakGflops, 1)
              << "% of the all-thread GEMM\n"
              << "step (median ms)   teacher " << fmt(b.teacherMs, 1)
              << (b.overlapTeacher ? " (overlapped; waited " + fmt(b.teacherWaitMs, 1) + ")"
                                   : std::string())
              << ", student forward+loss " << fmt(b.studentForwardMs, 1) << ", backward "
              << fmt(b.backwardMs, 1) << ", optimizer " << fmt(b.optimizerMs, 1) << "\n"
              << "run (s)            " << fmt(b.runSeconds, 1) << ": setup " << fmt(b.setupSeconds, 1)
              << ", student steps " << fmt(b.studentSeconds, 1) << ", evaluation and checkpoint "
              << fmt(std::max(0.0, b.runSeconds - b.setupSeconds - b.studentSeconds), 1) << "\n";
    return kExitOk;
}

int cmdDiagnosticsBench(const DiagnosticsBenchOptions &options)
{
    ProgressPrinter printer;
    auto r = runDiagnosticsBenchmark(options, [&](const Progress &p) { printer(p); });
    printer.finish();
    if (!r.ok()) {
        if (isInputError(r.error()))
            return badInput(r.error().message);
        std::cerr << "error: " << r.error().message << "\n";
        return kExitRunFailed;
    }
    const auto &b = r.value();
    auto list = [](const std::vector<double> &v) {
        std::string s;
        for (double x : v)
            s += (s.empty() ? "" : " ") + fmt(x, 2);
        return s;
    };
    std::cout << "standard workload trained: V=512 T=128 B=16, teacher L4 d256 (frozen), student "
                 "L2 d128, 0.5*CE + 0.5*tau^2*KL, tau=2, AdamW\n"
              << "steps              " << options.steps << ", evaluation every "
              << options.evalInterval << " (" << b.evaluations << " per run)\n"
              << "without (s)        " << list(b.secondsWithout) << "  median "
              << fmt(b.medianWithout, 2) << "\n"
              << "with (s)           " << list(b.secondsWith) << "  median " << fmt(b.medianWith, 2)
              << "\n"
              << "overhead           " << fmt(100.0 * b.overhead, 1)
              << "% (median over rounds of with/without, student phase)\n"
              << "measured in-run    " << fmt(100.0 * b.measuredFraction, 1)
              << "% (time the diagnostics took / the rest of the student phase)\n";
    for (const auto &[part, seconds] : b.diagnosticsSeconds)
        std::cout << "  " << part << std::string(17 - std::min<std::size_t>(16, part.size()), ' ')
                  << fmt(seconds, 2) << " s per run (median)\n";
    return kExitOk;
}

} // namespace

int main(int argc, char **argv)
{
    // Commands that compute may start the program again on better BLAS kernels (blas.h); the
    // others are not worth the second start-up of LibTorch.
    if (argc > 1) {
        const std::string command = argv[1];
        if (command == "run" || command == "resume" || command == "bench" || command == "system")
            selectBlasKernels(argc, argv);
    }
    CLI::App app{"Distillery: knowledge-distillation workbench (headless)", "distillery-cli"};
    app.set_version_flag("--version", std::string("distillery-cli ") + versionString());
    app.require_subcommand(1);

    std::string graphPath, store, runText, key, kind, teacherLogits, studentLogits;
    std::vector<std::string> params;
    RunOptions runOptions;
    long long steps = 0, seed = -1, after = -1;
    int threads = -1;
    std::string device;
    bool csv = false;

    auto *validate = app.add_subcommand("validate", "Check a graph file and list every problem");
    validate->add_option("GRAPH", graphPath, "Graph JSON file")->required();

    auto addRunOptions = [&](CLI::App *cmd) {
        cmd->add_option("--steps", steps, "Override the number of student steps")
            ->check(CLI::PositiveNumber);
        cmd->add_option("--device", device, "auto, cpu or cuda")
            ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
        cmd->add_option("--threads", threads, "CPU threads (0 = one per core)")
            ->check(CLI::NonNegativeNumber);
        cmd->add_option("--seed", seed, "Override the seed")->check(CLI::NonNegativeNumber);
    };
    auto *run = app.add_subcommand("run", "Train the experiment in GRAPH, writing to the store");
    run->add_option("GRAPH", graphPath, "Graph JSON file")->required();
    run->add_option("--store", store, "Run store (SQLite file; created if missing)")->required();
    run->add_option("--name", runOptions.name, "Run name");
    run->add_option("--artifacts", runOptions.artifactsDir,
                    "Directory for checkpoints (default: STORE.artifacts)");
    addRunOptions(run);

    auto *resume = app.add_subcommand("resume", "Continue an interrupted or cancelled run");
    resume->add_option("RUN", runText, "Run id or 'last'")->required();
    resume->add_option("--store", store, "Run store")->required();
    resume->add_option("--artifacts", runOptions.artifactsDir, "Checkpoint directory");

    auto *runs = app.add_subcommand("runs", "List the runs in a store");
    runs->add_option("--store", store, "Run store")->required();

    auto *show = app.add_subcommand("show", "Summary and final metrics of one run");
    show->add_option("RUN", runText, "Run id or 'last'")->required();
    show->add_option("--store", store, "Run store")->required();

    auto *metrics = app.add_subcommand("metrics", "Print one scalar series of a run");
    metrics->add_option("RUN", runText, "Run id or 'last'")->required();
    metrics->add_option("KEY", key, "Series name, e.g. train/loss or eval/student_nll")->required();
    metrics->add_option("--store", store, "Run store")->required();
    metrics->add_flag("--csv", csv, "CSV with a header: step,wall_time,value");
    metrics->add_option("--after", after, "Only rows after this step (live tail)");

    auto *loss = app.add_subcommand("loss", "Loss inspector: value and gradient of one term");
    loss->add_option("KIND", kind, "Loss kind (e.g. forward-kl, gjsd, topk-kl)")->required();
    loss->add_option("--param", params, "NAME=VALUE, repeatable (temperature, beta, alpha, "
                                        "label, label_smoothing, top_k, taid_t)");
    loss->add_option("--teacher-logits", teacherLogits, "Comma-separated logits (or hidden)")
        ->required();
    loss->add_option("--student-logits", studentLogits, "Comma-separated logits (or hidden)")
        ->required();
    auto *lossList = app.add_subcommand("losses", "List the loss kinds with their formulas");

    BenchOptions benchOptions;
    auto *bench = app.add_subcommand("bench", "Benchmark the standard distillation workload");
    bench->add_option("--steps", benchOptions.steps, "Timed steps")->check(CLI::PositiveNumber);
    bench->add_option("--warmup", benchOptions.warmupSteps, "Warm-up steps")
        ->check(CLI::NonNegativeNumber);
    bench->add_flag("!--no-overlap", benchOptions.overlapTeacher,
                    "Run teacher and student in turn instead of side by side");
    bench->add_option("--threads", benchOptions.threads, "Threads (0 = one per core)")
        ->check(CLI::NonNegativeNumber);
    bool benchDiagnostics = false;
    DiagnosticsBenchOptions diagBench;
    bench->add_flag("--diagnostics", benchDiagnostics,
                    "Time whole training runs of the workload with and without the Diagnostics "
                    "node (--steps = training steps, default 100)");
    bench->add_option("--rounds", diagBench.rounds, "Rounds of the --diagnostics comparison")
        ->check(CLI::Range(1, 1000));
    bench->add_option("--eval-interval", diagBench.evalInterval,
                      "Evaluation interval of the --diagnostics runs (steps)")
        ->check(CLI::Range(1, 100000000));

    std::string nodeKind;
    bool markdown = false;
    auto *nodes = app.add_subcommand("nodes", "List the node kinds with their ports and parameters");
    nodes->add_option("KIND", nodeKind, "Only this kind (e.g. Loss)");
    nodes->add_flag("--markdown", markdown, "Markdown tables (docs/nodes.md)");
    auto *templates = app.add_subcommand("templates", "List the built-in experiment templates");
    auto *system = app.add_subcommand(
        "system", "CPU features, the BLAS kernels in use and how they were chosen, threads, CUDA");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        const int code = app.exit(e);
        return code == 0 ? kExitOk : kExitBadInput;
    }

    try {
        if (steps > 0)
            runOptions.steps = steps;
        if (!device.empty())
            runOptions.device = device;
        if (threads >= 0)
            runOptions.threads = threads;
        if (seed >= 0)
            runOptions.seed = seed;
        runOptions.storePath = store;

        if (*validate)
            return cmdValidate(graphPath);
        if (*run)
            return cmdRun(graphPath, runOptions);
        if (*resume)
            return cmdResume(runText, runOptions);
        if (*runs)
            return cmdRuns(store);
        if (*show)
            return cmdShow(runText, store);
        if (*metrics)
            return cmdMetrics(runText, key, store, csv, after);
        if (*loss)
            return cmdLoss(kind, params, teacherLogits, studentLogits);
        if (*lossList) {
            for (const auto &d : lossKinds())
                std::cout << std::left << std::setw(17) << d.name << d.formula << "\n"
                          << std::setw(17) << "" << d.reference << "\n";
            return kExitOk;
        }
        if (*bench && benchDiagnostics) {
            if (bench->count("--steps"))
                diagBench.steps = benchOptions.steps;
            diagBench.threads = benchOptions.threads;
            return cmdDiagnosticsBench(diagBench);
        }
        if (*bench)
            return cmdBench(benchOptions);
        if (*nodes)
            return cmdNodes(nodeKind, markdown);
        if (*templates)
            return cmdTemplates();
        if (*system)
            return cmdSystem();
    } catch (const std::exception &e) {
        std::cerr << "error: " << e.what() << "\n";
        return kExitRunFailed;
    }
    return kExitBadInput;
}
