#include "train/teacherpass.h"

namespace distillery::core::train {

TeacherPass::TeacherPass(const Plan &plan, std::vector<Teacher> &teachers,
                         const torch::Device &device, bool overlap, bool topkCached)
    : m_plan(plan)
    , m_teachers(teachers)
    , m_device(device)
    , m_overlap(overlap)
    , m_topkCached(topkCached)
{}

// A top-k term reads the cache, not the teacher, except on the student's own samples.
std::vector<std::pair<Teacher *, bool>> TeacherPass::teachersFor(bool onPolicy) const
{
    std::vector<std::pair<Teacher *, bool>> out;
    for (auto &t : m_teachers) {
        bool logits = false, hidden = false;
        for (const auto &term : m_plan.terms) {
            const LossKind &needs = term.needs();
            if (term.teacher == t.plan.node)
                logits = logits || needs.needsTeacherLogits
                         || (needs.needsTopk && (!m_topkCached || onPolicy));
            hidden = hidden || term.teacherHidden.model == t.plan.node;
        }
        if (logits || hidden)
            out.emplace_back(&t, hidden);
    }
    return out;
}

std::pair<int, TeacherPass::Pass::Work> TeacherPass::work(const torch::Tensor &inputs,
                                                          bool onPolicy)
{
    auto teachers = teachersFor(onPolicy);
    const int chunks = m_device.is_cuda() ? 1 : teacherChunks(inputs.size(0));
    const std::int64_t rows = (inputs.size(0) + chunks - 1) / chunks;
    m_passMicros = std::make_shared<std::atomic<std::int64_t>>(0);
    return {chunks, [teachers, inputs, rows, micros = m_passMicros](int chunk) {
                const auto t0 = std::chrono::steady_clock::now();
                TeacherOutputs out;
                auto part = inputs.slice(0, chunk * rows, (chunk + 1) * rows);
                for (const auto &[t, hidden] : teachers) {
                    models::ForwardOptions options;
                    options.hidden = hidden;
                    out[t->plan.node] = t->model->forward(part, options);
                }
                *micros += std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::steady_clock::now() - t0)
                               .count();
                return out;
            }};
}

void TeacherPass::prefetch(std::int64_t step, const torch::Tensor &inputs)
{
    auto [chunks, w] = work(inputs, false);
    m_pass.start(chunks, std::move(w));
    m_pendingStep = step;
}

TeacherOutputs TeacherPass::run(std::int64_t step, const torch::Tensor &inputs, bool onPolicy)
{
    std::vector<TeacherOutputs> parts;
    if (m_overlap) {
        if (!prefetched(step)) {
            auto [chunks, w] = work(inputs, onPolicy);
            m_pass.start(chunks, std::move(w));
        }
        parts = m_pass.finish();
    } else {
        auto [chunks, w] = work(inputs, onPolicy);
        parts = Pass::runHere(chunks, w);
    }
    m_pendingStep = -1;
    m_lastPassMs = double(m_passMicros->load()) / 1e3;
    return merge(parts);
}

void TeacherPass::drain()
{
    m_pass.drain();
    m_pendingStep = -1;
}

TeacherOutputs TeacherPass::merge(const std::vector<TeacherOutputs> &parts)
{
    TeacherOutputs out;
    for (const auto &[node, first] : parts.front()) {
        auto &merged = out[node];
        std::vector<torch::Tensor> logits;
        for (const auto &part : parts)
            logits.push_back(part.at(node).logits);
        merged.logits = torch::cat(logits);
        for (std::size_t h = 0; h < first.hidden.size(); ++h) {
            std::vector<torch::Tensor> hs;
            for (const auto &part : parts)
                hs.push_back(part.at(node).hidden[h]);
            merged.hidden.push_back(torch::cat(hs));
        }
    }
    return out;
}

} // namespace distillery::core::train
