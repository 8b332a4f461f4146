#include "train/runcontext.h"

#include <spdlog/spdlog.h>

#include <thread>

namespace distillery::core::train {

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

void RunLog::meta(const std::string &key, const std::string &value)
{
    if (auto st = m_writer.setRunMeta(m_run, key, value); !st.ok())
        spdlog::warn("run store: {} (run_meta '{}' kept for the next flush)", st.error().message, key);
}

void RunLog::checkpoint(std::int64_t step, const std::string &path, const std::string &kind)
{
    if (auto st = m_writer.addCheckpoint({m_run, step, path, kind, 0}); !st.ok())
        throw RunFailure("cannot record the " + kind + " checkpoint " + path + ": "
                         + st.error().message);
}

void RunLog::flush(bool force)
{
    auto st = force ? m_writer.flush() : m_writer.maybeFlush(0.25);
    if (!st.ok())
        spdlog::warn("run store: {} (rows kept for the next flush)", st.error().message);
}

void RunLog::discardAfter(std::int64_t step, const std::string &keepPrefix)
{
    if (auto st = m_writer.discardAfter(m_run, step, keepPrefix); !st.ok())
        throw RunFailure(st.error().message);
}

bool RunContext::waitWhilePaused() const
{
    if (!control || !control->paused())
        return true;
    Progress p;
    p.phase = "paused";
    p.paused = true;
    progress.report(p);
    while (control->paused() && !control->cancelRequested()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        log.flush(); // keeps the heartbeat alive
    }
    return !control->cancelRequested();
}

namespace {
std::uint64_t mix(std::uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
} // namespace

std::uint64_t stepSeed(std::int64_t seed, std::int64_t step, std::uint64_t salt)
{
    return mix(mix(std::uint64_t(seed) ^ (salt << 32)) ^ std::uint64_t(step));
}

double uniformAt(std::int64_t seed, std::int64_t step, std::uint64_t salt)
{
    return double(stepSeed(seed, step, salt) >> 11) * (1.0 / 9007199254740992.0);
}

} // namespace distillery::core::train
