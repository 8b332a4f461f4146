// Offline distillation from a sparse cache: the teacher's top-k log-probabilities of every
// training row, computed once before the student trains.

#include "train/teachers.h"

namespace distillery::core::train {

std::optional<data::TopKCache> buildTopkCache(const RunContext &ctx, std::vector<Teacher> &teachers)
{
    if (!ctx.plan.needsTopkCache())
        return std::nullopt;
    // One cache per run: the first top-k term decides k, temperature and teacher.
    const TermPlan *term = nullptr;
    for (const auto &t : ctx.plan.terms)
        if (t.needs().needsTopk) {
            term = &t;
            break;
        }
    models::CausalLm *teacher = nullptr;
    for (auto &t : teachers)
        if (t.plan.node == term->teacher)
            teacher = t.model.get();
    if (!teacher)
        throw RunFailure("term '" + term->label + "': its teacher is not part of the run");
    torch::NoGradGuard noGrad;
    const auto rows = ctx.data.trainSequences();
    const std::int64_t n = rows.size(0), chunk = 64;
    std::vector<torch::Tensor> lp, idx;
    for (std::int64_t i = 0; i < n; i += chunk) {
        auto batch = ctx.data.batchFromRows(rows.slice(0, i, std::min(n, i + chunk)));
        auto logits = teacher->forward(batch.inputs.to(ctx.device)).logits;
        auto flat = logits.reshape({-1, logits.size(-1)});
        auto [l, ix] = losses::topkFromLogits(flat, term->config.topK, term->config.temperature);
        lp.push_back(l.reshape({logits.size(0), logits.size(1), -1}).cpu());
        idx.push_back(ix.reshape({logits.size(0), logits.size(1), -1}).cpu());
        Progress p;
        p.phase = "top-k cache";
        p.step = std::min(n, i + chunk);
        p.totalSteps = n;
        ctx.progress.report(p);
        if (ctx.cancelled())
            return std::nullopt;
    }
    data::TopKCache cache;
    cache.logProbs = torch::cat(lp);
    cache.indices = torch::cat(idx);
    cache.k = term->config.topK;
    cache.temperature = term->config.temperature;
    // A copy on disk for later inspection; the run does not depend on it.
    const std::string path = ctx.artifact("topk-cache.pt");
    if (auto st = data::saveTopKCache(cache, path); st.ok())
        ctx.log.meta("topk_cache", storeRelativePath(ctx.storePath, path));
    return cache;
}

} // namespace distillery::core::train
