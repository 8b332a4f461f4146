#pragma once

// The frozen teachers' forward pass over a training batch. On CPU the batch is cut into chunks
// of sequences (smaller GEMMs stay in cache), and with two or more cores the pass for the next
// batch runs on a helper thread beside the student's step (overlap.h): the same numbers, only
// computed earlier.

#include "train/overlap.h"
#include "train/teachers.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <utility>
#include <vector>

namespace distillery::core::train {

using TeacherOutputs = std::map<NodeId, models::LmOutput>;

class TeacherPass
{
public:
    // topkCached: top-k terms read a cache instead of the teacher (except on-policy batches).
    TeacherPass(const Plan &plan, std::vector<Teacher> &teachers, const torch::Device &device,
                bool overlap, bool topkCached);
    ~TeacherPass() { drain(); }

    // Whether a batch needs any teacher at all.
    bool needed(bool onPolicy) const { return !teachersFor(onPolicy).empty(); }
    // Starts the pass over the inputs of step `step` on the helper thread (overlap only).
    void prefetch(std::int64_t step, const torch::Tensor &inputs);
    bool prefetched(std::int64_t step) const { return m_pendingStep == step && m_pass.pending(); }
    // The outputs for the inputs of `step`: the prefetched pass when it is this step's,
    // otherwise computed now (with the helper's help when overlapping).
    TeacherOutputs run(std::int64_t step, const torch::Tensor &inputs, bool onPolicy);
    // Waits for a pending pass and drops it (before the loop ends early).
    void drain();
    // Milliseconds the last pass that run() returned computed, summed over its chunks (on
    // whichever thread they ran).
    double lastPassMs() const { return m_lastPassMs; }

private:
    using Pass = SharedPass<TeacherOutputs>;
    // Each teacher a batch needs, with whether its hidden states are needed too.
    std::vector<std::pair<Teacher *, bool>> teachersFor(bool onPolicy) const;
    // Starts counting a new pass's time: the work of its chunks adds to the counter.
    std::pair<int, Pass::Work> work(const torch::Tensor &inputs, bool onPolicy);
    static TeacherOutputs merge(const std::vector<TeacherOutputs> &parts);

    const Plan &m_plan;
    std::vector<Teacher> &m_teachers;
    torch::Device m_device;
    bool m_overlap;
    bool m_topkCached;
    Pass m_pass;
    std::int64_t m_pendingStep = -1;
    std::shared_ptr<std::atomic<std::int64_t>> m_passMicros;
    double m_lastPassMs = 0;
};

} // namespace distillery::core::train
