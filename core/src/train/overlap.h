#pragma once

// Teacher/student overlap on CPU. A frozen teacher's forward pass for the next batch does not
// depend on the student's update, so it can run on a second core while the student trains on
// the current batch. The pass is cut into chunks of sequences: a helper thread starts on them,
// and when the student's step is done the training thread takes the chunks still left, so the
// two cores stay busy even when teacher and student cost different amounts. Exactly the same
// numbers are computed as without overlap at the same chunking: only the order in time changes.

#include <torch/torch.h>

#include <atomic>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <vector>

namespace distillery::core::train {

// A teacher pass over `chunks` pieces, shared between a helper thread and the caller. T is what
// one chunk produces; the caller merges the pieces.
template <typename T>
class SharedPass
{
public:
    using Work = std::function<T(int chunk)>;

    // Starts the helper on the chunks. Call finish() to collect (and help).
    void start(int chunks, Work work)
    {
        drain();
        m_state = std::make_shared<State>();
        m_state->work = std::move(work);
        m_state->results.resize(std::size_t(chunks));
        m_helper = std::async(std::launch::async, [state = m_state] { runChunks(*state); });
    }
    bool pending() const { return m_state != nullptr; }

    // Computes the chunks nobody took yet on this thread, waits for the helper's last one, and
    // returns every chunk's result in order. Rethrows the first failure of either thread.
    std::vector<T> finish()
    {
        auto state = m_state;
        runChunks(*state);
        m_helper.wait();
        m_state.reset();
        m_helper.get();
        if (state->failure)
            std::rethrow_exception(state->failure);
        return std::move(state->results);
    }

    // Waits for a pending pass and drops it (before the loop ends early).
    void drain()
    {
        if (!m_state)
            return;
        m_state->next.store(int(m_state->results.size())); // nobody starts another chunk
        m_helper.wait();
        m_state.reset();
    }
    ~SharedPass() { drain(); }

    // Without a helper: every chunk on the calling thread, in order.
    static std::vector<T> runHere(int chunks, const Work &work)
    {
        State state;
        state.work = work;
        state.results.resize(std::size_t(chunks));
        runChunks(state);
        if (state.failure)
            std::rethrow_exception(state.failure);
        return std::move(state.results);
    }

private:
    struct State
    {
        Work work;
        std::vector<T> results;
        std::atomic<int> next{0};
        std::exception_ptr failure; // first failure; written under `failed`
        std::atomic<bool> failed{false};
    };
    static void runChunks(State &state)
    {
        torch::NoGradGuard noGrad;
        for (int i = state.next++; i < int(state.results.size()); i = state.next++) {
            try {
                state.results[std::size_t(i)] = state.work(i);
            } catch (...) {
                if (!state.failed.exchange(true))
                    state.failure = std::current_exception();
                state.next.store(int(state.results.size()));
            }
        }
    }

    std::shared_ptr<State> m_state;
    std::future<void> m_helper;
};

// Thread plan for `threads` cores (0 = all): whether the teacher overlaps the student, and the
// intra-op threads each side then gets.
struct ThreadPlan
{
    int total = 1;
    bool overlap = false;
    int intraOp = 1; // LibTorch intra-op threads
    int blas = 1;    // OpenBLAS threads
};
// DISTILLERY_INTRAOP_THREADS and DISTILLERY_BLAS_THREADS override the two counts.
ThreadPlan planThreads(int threads, bool cuda, bool teacherWork);
void applyThreadPlan(const ThreadPlan &plan);
// OpenBLAS's own thread count (no-op with another BLAS).
void setBlasThreads(int threads);

// Chunks of a batch of `rows` sequences for a shared teacher pass: about four, at least one row.
inline int teacherChunks(std::int64_t rows) { return int(std::max<std::int64_t>(1, std::min<std::int64_t>(4, rows))); }

} // namespace distillery::core::train
