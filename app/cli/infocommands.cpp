// distillery-cli's commands that describe the engine: the loss inspector and the loss kinds,
// node kinds and templates, the machine (system), and the benchmarks.

#include "cli.h"

#include "distillery/core/blas.h"
#include "distillery/core/errors.h"
#include "distillery/core/graph.h"
#include "distillery/core/losses.h"
#include "distillery/core/version.h"

#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace distillery::cli {

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

int cmdTemplates(const std::string &name, const std::string &output)
{
    if (!name.empty()) {
        auto g = loadTemplate(name);
        if (!g.ok())
            return badInput(g.error().message);
        if (output.empty()) {
            std::cout << graphToJson(g.value());
            return kExitOk;
        }
        if (auto saved = saveGraphFile(g.value(), output); !saved.ok())
            return reportFailure(saved.error());
        std::cout << output << ": template '" << name << "' written\n";
        return kExitOk;
    }
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
    if (!r.ok())
        return reportFailure(r.error());
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
    if (!r.ok())
        return reportFailure(r.error());
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

int cmdLosses()
{
    for (const auto &d : lossKinds())
        std::cout << std::left << std::setw(17) << d.name << d.formula << "\n"
                  << std::setw(17) << "" << d.reference << "\n";
    return kExitOk;
}

} // namespace distillery::cli
