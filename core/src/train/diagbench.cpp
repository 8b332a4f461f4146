// distillery-cli bench --diagnostics: the standard workload trained with and without the
// Diagnostics node, alternating, to measure what the diagnostics add to the training time.

#include "distillery/core/bench.h"
#include "train/median.h"
#include "distillery/core/graph.h"
#include "distillery/core/store.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <unistd.h>

namespace distillery::core {

namespace {

using train::median;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

Status setAll(Graph &g, NodeId id, const std::vector<std::pair<std::string, ParamValue>> &params)
{
    for (const auto &[name, value] : params)
        if (auto st = g.setParam(id, name, value); !st.ok())
            return st;
    return okStatus();
}

// The workload of runBenchmark() as a graph: classic-kd with its shapes, loss and optimizer
// replaced by the standard ones.
Result<Graph> workloadGraph(const DiagnosticsBenchOptions &o, bool diagnostics)
{
    auto loaded = loadTemplate("classic-kd");
    if (!loaded.ok())
        return Result<Graph>(loaded.error());
    Graph g = loaded.value();
    const auto node = [&g](const char *kind) { return g.nodesOfKind(kind).front()->id; };
    std::vector<Status> st;
    st.push_back(setAll(g, node("Dataset"), {{"source", std::string("oracle-hmm")},
                                             {"vocab", std::int64_t(512)},
                                             {"train_sequences", std::int64_t(2048)},
                                             {"validation_sequences", std::int64_t(128)}}));
    st.push_back(setAll(g, node("Teacher"), {{"source", std::string("train")},
                                             {"train_steps", std::int64_t(0)},
                                             {"layers", std::int64_t(4)},
                                             {"d_model", std::int64_t(256)},
                                             {"heads", std::int64_t(4)},
                                             {"ffn", std::int64_t(1024)}}));
    st.push_back(setAll(g, node("Student"), {{"layers", std::int64_t(2)},
                                             {"d_model", std::int64_t(128)},
                                             {"heads", std::int64_t(4)},
                                             {"ffn", std::int64_t(512)}}));
    for (const Node *loss : g.nodesOfKind("Loss")) {
        const bool ce = g.paramString(loss->id, "kind") == "cross-entropy";
        st.push_back(setAll(g, loss->id, {{"weight", 0.5}, {"temperature", ce ? 1.0 : 2.0}}));
    }
    st.push_back(setAll(g, node("Optimizer"), {{"kind", std::string("adamw")},
                                               {"lr", 3e-4},
                                               {"weight_decay", 0.01}}));
    st.push_back(setAll(g, node("Settings"), {{"steps", std::int64_t(o.steps)},
                                              {"batch_size", std::int64_t(16)},
                                              {"seq_len", std::int64_t(128)},
                                              {"eval_interval", std::int64_t(o.evalInterval)},
                                              {"eval_batches", std::int64_t(4)},
                                              {"checkpoint_interval", std::int64_t(0)},
                                              {"device", std::string("cpu")},
                                              {"threads", std::int64_t(o.threads)}}));
    NodeId diag = g.nodesOfKind("Diagnostics").empty() ? g.addNode("Diagnostics")
                                                       : node("Diagnostics");
    st.push_back(g.setParam(diag, "enabled", diagnostics));
    for (const auto &s : st)
        if (!s.ok())
            return Result<Graph>::failure("bad-input", "benchmark graph: " + s.error().message);
    return g;
}

} // namespace

Result<DiagnosticsBenchResult> runDiagnosticsBenchmark(const DiagnosticsBenchOptions &options,
                                                       const ProgressCallback &progress)
{
    if (options.steps < 1 || options.rounds < 1 || options.evalInterval < 1)
        return Result<DiagnosticsBenchResult>::failure(
            "bad-input", "--steps, --rounds and --eval-interval must be at least 1");
    std::error_code ec;
    const fs::path dir = fs::path(options.workDir.empty() ? fs::temp_directory_path(ec).string()
                                                          : options.workDir)
                         / ("distillery-diagbench-" + std::to_string(::getpid()));
    fs::create_directories(dir, ec);
    if (ec)
        return Result<DiagnosticsBenchResult>::failure(
            "io", "cannot create " + dir.string() + ": " + ec.message());
    const std::string store = (dir / "runs.sqlite").string();

    DiagnosticsBenchResult r;
    std::map<std::string, std::vector<double>> diagTimes;
    std::vector<double> fractions;
    for (int round = 0; round < options.rounds; ++round) {
        // Alternate which configuration goes first, so drift of the machine cancels out.
        for (int k = 0; k < 2; ++k) {
            const bool with = (round + k) % 2 == 1;
            auto graph = workloadGraph(options, with);
            if (!graph.ok())
                return Result<DiagnosticsBenchResult>(graph.error());
            RunOptions ro;
            ro.storePath = store;
            ro.name = with ? "with diagnostics" : "without diagnostics";
            ro.artifactsDir = (dir / "artifacts").string();
            std::optional<Clock::time_point> start;
            auto result = runExperiment(graph.value(), ro, [&](const Progress &p) {
                if (!start && p.phase == "student")
                    start = Clock::now();
                if (progress) {
                    Progress q = p;
                    q.phase = "round " + std::to_string(round + 1) + "/" +
                              std::to_string(options.rounds) + (with ? ", with" : ", without") +
                              " diagnostics: " + p.phase;
                    progress(q);
                }
            });
            if (!result.ok())
                return Result<DiagnosticsBenchResult>(result.error());
            if (result.value().status != RunStatus::Finished)
                return Result<DiagnosticsBenchResult>::failure(
                    "run-failed", "benchmark run failed: " + result.value().error);
            const double seconds =
                std::chrono::duration<double>(Clock::now() - start.value_or(Clock::now())).count();
            (with ? r.secondsWith : r.secondsWithout).push_back(seconds);
            auto reader = StoreReader::open(store);
            if (!reader.ok())
                return Result<DiagnosticsBenchResult>(reader.error());
            const RunId id = result.value().runId;
            if (auto evals = reader.value()->scalars(id, "eval/student_nll"); evals.ok())
                r.evaluations = int(evals.value().size());
            if (with) {
                double all = 0;
                for (const char *part : {"calibration", "alignment", "param_alignment", "diversity"}) {
                    auto points = reader.value()->scalars(id, std::string("diag/seconds/") + part);
                    if (!points.ok() || points.value().empty())
                        continue;
                    double total = 0;
                    for (const auto &p : points.value())
                        total += p.value;
                    diagTimes[part].push_back(total);
                    all += total;
                }
                fractions.push_back(seconds > all ? all / (seconds - all) : 0.0);
            }
        }
    }
    fs::remove_all(dir, ec);
    r.medianWith = median(r.secondsWith);
    r.medianWithout = median(r.secondsWithout);
    std::vector<double> ratios;
    for (std::size_t i = 0; i < r.secondsWith.size() && i < r.secondsWithout.size(); ++i)
        if (r.secondsWithout[i] > 0)
            ratios.push_back(r.secondsWith[i] / r.secondsWithout[i]);
    r.overhead = ratios.empty() ? 0.0 : median(ratios) - 1.0;
    r.measuredFraction = median(fractions);
    for (const auto &[part, times] : diagTimes)
        r.diagnosticsSeconds[part] = median(times);
    return r;
}

} // namespace distillery::core
