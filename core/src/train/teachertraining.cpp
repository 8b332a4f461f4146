// A teacher trained inside the run (Teacher.source = train), before the student.

#include "train/teachers.h"

#include <cmath>

namespace distillery::core::train {

namespace {

// The teacher the first attempt of this run trained and saved, if any (resume).
std::unique_ptr<models::CausalLm> savedTeacher(const RunContext &ctx, const std::string &metaKey)
{
    auto reader = StoreReader::open(ctx.storePath);
    if (!reader.ok())
        return nullptr;
    auto meta = reader.value()->runMeta(ctx.log.run());
    if (!meta.ok() || !meta.value().count(metaKey))
        return nullptr;
    auto loaded = models::loadCheckpoint(resolveStorePath(ctx.storePath, meta.value().at(metaKey)));
    return loaded.ok() ? std::move(loaded.value()) : nullptr;
}

} // namespace

bool trainTeacher(const RunContext &ctx, Teacher &t)
{
    const Plan &plan = ctx.plan;
    const TeacherPlan &tp = t.plan;
    const std::string savedKey = "teacher/" + std::to_string(tp.node) + "/path";
    if (auto saved = savedTeacher(ctx, savedKey)) {
        t.model = std::move(saved);
        return true;
    }
    torch::manual_seed(std::uint64_t(plan.seed) * 7919 + std::uint64_t(tp.node));
    auto model = models::makeTransformer(tp.shape);
    model->to(ctx.device);
    model->setTraining(true);
    torch::optim::AdamW opt(model->parameters(),
                            torch::optim::AdamWOptions(tp.trainLr).weight_decay(0.01));
    OptimizerPlan sched;
    sched.lr = tp.trainLr;
    sched.warmupSteps = std::max<std::int64_t>(1, tp.trainSteps / 20);
    sched.schedule = "cosine";
    sched.minLrRatio = 0.1;
    const std::string key = "teacher/" + tp.label + "/loss";
    const auto t0 = Clock::now();
    const double tokensPerStep = double(plan.batchSize * plan.seqLen);
    for (std::int64_t step = 0; step < tp.trainSteps; ++step) {
        if (!ctx.waitWhilePaused() || ctx.cancelled())
            return false;
        for (auto &group : opt.param_groups())
            static_cast<torch::optim::AdamWOptions &>(group.options()).lr(sched.lrAt(step, tp.trainSteps));
        auto batch = ctx.data.trainBatch(step, plan.batchSize,
                                         stepSeed(plan.seed, 0, 0x7eac4e7 + tp.node));
        auto inputs = batch.inputs.to(ctx.device), targets = batch.targets.to(ctx.device);
        auto logits = model->forward(inputs).logits;
        auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}),
                                                         targets.reshape({-1}));
        opt.zero_grad();
        loss.backward();
        torch::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
        opt.step();
        const double value = loss.item<double>();
        if (!std::isfinite(value))
            throw RunFailure("teacher '" + tp.label + "' training: the loss is " + std::to_string(value)
                             + " at step " + std::to_string(step));
        ctx.log.scalar(key, step, value);
        ctx.log.flush();
        const double elapsed = secondsSince(t0);
        Progress p;
        p.phase = "teacher '" + tp.label + "'";
        p.step = step + 1;
        p.totalSteps = tp.trainSteps;
        p.loss = value;
        p.tokensPerSecond = tokensPerStep * double(step + 1) / std::max(elapsed, 1e-9);
        p.etaSeconds = elapsed / double(step + 1) * double(tp.trainSteps - step - 1);
        ctx.progress.report(p);
    }
    model->freeze();
    const std::string path = ctx.artifact("teacher-" + std::to_string(tp.node) + ".pt");
    if (auto st = model->save(path); !st.ok())
        throw RunFailure(st.error().message);
    ctx.log.meta(savedKey, storeRelativePath(ctx.storePath, path));
    ctx.log.checkpoint(tp.trainSteps, path, "teacher");
    t.model = std::move(model);
    return true;
}

} // namespace distillery::core::train
