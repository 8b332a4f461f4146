#pragma once

// distillery-cli's pieces: exit codes, output helpers and the progress bar (output.cpp), the
// commands that run and read runs (runcommands.cpp), and those that describe the engine
// (infocommands.cpp). main.cpp parses the command line.

#include "distillery/core/bench.h"
#include "distillery/core/export.h"
#include "distillery/core/modeltools.h"
#include "distillery/core/graph.h"
#include "distillery/core/result.h"
#include "distillery/core/store.h"
#include "distillery/core/trainer.h"

#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace distillery::cli {

using namespace distillery::core;

constexpr int kExitOk = 0;
constexpr int kExitRunFailed = 1;
constexpr int kExitBadInput = 2;
// A cancelled run: 128 + the signal that cancelled it (130 for Ctrl-C, 143 for SIGTERM).

// The run Ctrl-C cancels (null when none).
extern RunControl *g_control;
extern volatile std::sig_atomic_t g_cancelSignal;
extern "C" void onSigint(int signal);

int badInput(const std::string &message);
std::string formatDuration(double seconds);
std::string formatRate(double tokensPerSecond);
std::string fmt(double v, int precision = 4);
// Bytes as a terminal can show them: valid UTF-8 as it is, other bytes as \xNN.
std::string printable(const std::string &bytes);
std::string timeString(double unixSeconds);
// JSON text: a string literal (escaped), a number (null when not finite).
std::string jsonString(const std::string &text);
std::string jsonNumber(double v);

// Progress bar on stderr: redrawn in place on a terminal, one line every few seconds otherwise.
class ProgressPrinter
{
public:
    ProgressPrinter();
    void operator()(const Progress &p);
    void finish();

private:
    bool m_tty;
    std::string m_phase;
    std::chrono::steady_clock::time_point m_lastLine{};
};

// A finished, failed or cancelled run: its status, error and final metrics.
void printResult(const RunResult &r, const std::string &store);
// GRAPH on the command line: a graph file, or the name of a built-in template.
Result<Graph> loadGraphArgument(const std::string &text);
int exitFor(const RunResult &r); // 0 finished, 128 + signal cancelled, 1 otherwise

Result<std::unique_ptr<StoreReader>> openReader(const std::string &store);
// RUN is a number or "last" (the newest run).
Result<RunId> resolveRun(const StoreReader &reader, const std::string &text);
// The store opened for reading and RUN resolved in it.
Result<std::pair<std::unique_ptr<StoreReader>, RunId>> openRun(const std::string &store,
                                                               const std::string &runText);
// A failed command's exit: 2 with the message for input errors (errors.h), 1 otherwise.
int reportFailure(const Error &error);

int cmdValidate(const std::string &path);
int cmdRun(const std::string &path, RunOptions options);
int cmdResume(const std::string &runText, const RunOptions &options);
int cmdRuns(const std::string &store, bool json);
// The generated samples of a step (default: the last with samples), the prompt marked.
int cmdSamples(const std::string &runText, const std::string &store, long long step);
int cmdShow(const std::string &runText, const std::string &store);
int cmdMetrics(const std::string &runText, const std::string &key, const std::string &store,
               bool csv, long long after);
int cmdLoss(const std::string &kind, const std::vector<std::string> &params,
            const std::string &teacherLogits, const std::string &studentLogits);
int cmdLosses();
int cmdNodes(const std::string &only, bool markdown);
// No NAME: the list. NAME: that template as a graph file, on standard output or in OUTPUT.
int cmdTemplates(const std::string &name, const std::string &output);
int cmdSystem();
// The run's student written out (request.run is set from RUN).
int cmdExport(const std::string &runText, ExportRequest request);
struct ModelCommand
{
    std::string path, text, file, tokens, tokenizer;
    GenerateOptions generate;
    std::int64_t top = 5;
    std::int64_t batch = 16, length = 128;
    int repeat = 20, threads = 0;
    bool json = false;
};
// inspect | tokenize | generate | score | logits | time
int cmdModel(const std::string &action, const ModelCommand &command);
int cmdBench(const BenchOptions &options);

// comparecommands.cpp
int cmdCompare(const std::vector<std::string> &runs, const std::string &store, const std::vector<std::string> &groupBy,
               const std::vector<std::string> &metrics, const std::string &reference, bool csv, bool json, bool all);
struct ReportCommand
{
    std::vector<std::string> runs, groupBy, metrics, curves;
    std::string store, reference, out, title, scatter, band = "std";
};
int cmdReport(const ReportCommand &command);
struct SweepCommand
{
    std::vector<std::string> sets;
    int random = 0;
    std::uint64_t sweepSeed = 0;
    std::string name;
    bool dryRun = false;
};
int cmdSweep(const std::string &graphPath, const SweepCommand &command, RunOptions options);
int cmdTag(const std::vector<std::string> &runs, const std::string &store, const std::vector<std::string> &add,
           const std::vector<std::string> &remove, bool clear);
int cmdNote(const std::string &runText, const std::string &store, const std::string &note);
int cmdDiagnosticsBench(const DiagnosticsBenchOptions &options);

} // namespace distillery::cli
