// distillery-cli's output: exit codes, numbers and times, the progress bar, and the store
// helpers every command shares.

#include "cli.h"

#include "distillery/core/utf8.h"

#include "distillery/core/errors.h"

#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <sstream>

namespace distillery::cli {

RunControl *g_control = nullptr;
volatile std::sig_atomic_t g_cancelSignal = 0;

extern "C" void onSigint(int signal)
{
    // First Ctrl-C: finish the current step and end the run as cancelled. Second: quit now.
    if (g_control && !g_control->cancelRequested()) {
        g_cancelSignal = signal;
        g_control->requestCancel();
        return;
    }
    std::signal(signal, SIG_DFL);
    std::raise(signal);
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
        if (used == text.size() && id > 0) {
            // An id the store does not have is said as such, before any other question.
            auto info = reader.run(RunId(id));
            if (!info.ok())
                return info.error();
            return RunId(id);
        }
    } catch (const std::exception &) {
    }
    return Result<RunId>::failure(errc::kInvalidInput, "RUN must be a run id (a positive number) or "
                                               "'last', got '" + text + "'");
}

// Bytes as a terminal can show them: valid UTF-8 as it is, other bytes as \xNN.
std::string printable(const std::string &bytes)
{
    std::string out;
    std::size_t i = 0;
    while (i < bytes.size()) {
        std::size_t bad = 0;
        const std::string rest = bytes.substr(i);
        if (isValidUtf8(rest, &bad)) {
            out += rest;
            break;
        }
        out += rest.substr(0, bad);
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02X", static_cast<unsigned char>(rest[bad]));
        out += hex;
        i += bad + 1;
    }
    return out;
}

// A JSON string literal: quotes, backslashes and control characters escaped.
std::string jsonString(const std::string &text)
{
    std::string out = "\"";
    for (const unsigned char c : text) {
        if (c == '"' || c == '\\')
            out += std::string("\\") + char(c);
        else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else
            out += char(c);
    }
    return out + "\"";
}

std::string jsonNumber(double v)
{
    if (!std::isfinite(v))
        return "null";
    std::ostringstream s;
    s << std::setprecision(17) << v;
    return s.str();
}

std::string fmt(double v, int precision)
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
        std::cout << (r.status == RunStatus::Failed ? "error: " : "stopped: ") << r.error << "\n";
    for (const auto &[k, v] : r.finalMetrics)
        std::cout << "  " << std::left << std::setw(26) << k << " " << fmt(v) << "\n";
    std::cout << "store: " << store << "\n";
}

int exitFor(const RunResult &r)
{
    if (r.status == RunStatus::Finished)
        return kExitOk;
    // Cancelled by a signal: the shell's convention, 128 + the signal (130 for Ctrl-C).
    if (r.status == RunStatus::Cancelled)
        return 128 + (g_cancelSignal ? int(g_cancelSignal) : SIGINT);
    return kExitRunFailed;
}

ProgressPrinter::ProgressPrinter()
    : m_tty(isatty(STDERR_FILENO) == 1)
{}

void ProgressPrinter::operator()(const Progress &p)
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

void ProgressPrinter::finish()
{
    if (m_tty && !m_phase.empty())
        std::cerr << "\n";
}


Result<std::pair<std::unique_ptr<StoreReader>, RunId>> openRun(const std::string &store,
                                                               const std::string &runText)
{
    auto reader = openReader(store);
    if (!reader.ok())
        return reader.error();
    auto id = resolveRun(*reader.value(), runText);
    if (!id.ok())
        return id.error();
    return std::make_pair(std::move(reader.value()), id.value());
}

Result<Graph> loadGraphArgument(const std::string &text)
{
    std::error_code ec;
    if (std::filesystem::exists(text, ec) || text.find('/') != std::string::npos
        || text.size() > 5 && text.compare(text.size() - 5, 5, ".json") == 0)
        return loadGraphFile(text);
    const auto names = templateNames();
    if (std::find(names.begin(), names.end(), text) != names.end())
        return loadTemplate(text);
    std::string known;
    for (const auto &n : names)
        known += (known.empty() ? "" : ", ") + n;
    return Result<Graph>::failure(errc::kGraphFile, text + ": no such file, and no template of that "
                                                           "name (templates: " + known + ")");
}

int reportFailure(const Error &error)
{
    if (isInputError(error))
        return badInput(error.message);
    std::cerr << "error: " << error.message << "\n";
    return kExitRunFailed;
}

} // namespace distillery::cli
