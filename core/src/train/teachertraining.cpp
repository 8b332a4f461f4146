// A teacher trained inside the run (Teacher.source = train), before the student. Its training
// state is saved every checkpoint_interval teacher steps and when the run is cancelled, so a
// resume continues the teacher where it stopped instead of training it again from zero.

#include "train/teachers.h"

#include "torchio.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>

namespace distillery::core::train {

namespace {

std::string metaKey(const TeacherPlan &tp, const char *what)
{
    return "teacher/" + std::to_string(tp.node) + "/" + what;
}

// run_meta of this run at `key`, resolved against the store; empty when absent.
std::string savedPath(const RunContext &ctx, const std::string &key)
{
    auto reader = StoreReader::open(ctx.storePath);
    if (!reader.ok())
        return {};
    auto meta = reader.value()->runMeta(ctx.log.run());
    if (!meta.ok() || !meta.value().count(key) || meta.value().at(key).empty())
        return {};
    return resolveStorePath(ctx.storePath, meta.value().at(key));
}

// The teacher's training between steps: weights, AdamW moments and the steps done. The data
// and the learning rate follow from the step, so a restored state continues exactly.
class TeacherTraining
{
public:
    TeacherTraining(const RunContext &ctx, const TeacherPlan &tp)
        : m_ctx(ctx)
        , m_tp(tp)
    {
        torch::manual_seed(std::uint64_t(ctx.plan.seed) * 7919 + std::uint64_t(tp.node));
        m_model = models::makeTransformer(tp.shape);
        m_model->to(ctx.device);
        m_model->setTraining(true);
        m_optimizer = std::make_unique<torch::optim::AdamW>(
            m_model->parameters(), torch::optim::AdamWOptions(tp.trainLr).weight_decay(0.01));
    }

    // Continues from the state a previous attempt saved; a missing or unreadable state starts
    // from zero with a warning (the teacher is then trained again, never half-restored).
    void restore(const std::string &path)
    {
        try {
            torch::serialize::InputArchive archive;
            archive.load_from(path, m_ctx.device);
            torch::Tensor done;
            torch::serialize::InputArchive model, optimizer;
            archive.read("steps_done", done);
            archive.read("model", model);
            archive.read("optimizer", optimizer);
            auto fresh = models::makeTransformer(m_tp.shape);
            fresh->to(m_ctx.device);
            fresh->setTraining(true);
            fresh->loadState(model);
            auto opt = std::make_unique<torch::optim::AdamW>(
                fresh->parameters(), torch::optim::AdamWOptions(m_tp.trainLr).weight_decay(0.01));
            opt->load(optimizer);
            const std::int64_t steps = done.item<std::int64_t>();
            if (steps < 0 || steps > m_tp.trainSteps)
                throw std::runtime_error("it records " + std::to_string(steps) + " steps of "
                                         + std::to_string(m_tp.trainSteps));
            m_model = std::move(fresh);
            m_optimizer = std::move(opt);
            m_done = steps;
            spdlog::info("run {}: teacher '{}' continues from step {} of {}", m_ctx.log.run(),
                         m_tp.label, m_done, m_tp.trainSteps);
        } catch (const std::exception &e) {
            spdlog::warn("run {}: teacher '{}' is trained again from zero: cannot restore {}: {}",
                         m_ctx.log.run(), m_tp.label, path, torchErrorText(e));
        }
    }

    void save() const
    {
        const std::string path = m_ctx.artifact("teacher-" + std::to_string(m_tp.node) + "-state.pt");
        Status written = okStatus();
        try {
            torch::serialize::OutputArchive archive, model, optimizer;
            archive.write("steps_done", torch::tensor({m_done}, torch::kLong));
            m_model->saveState(model);
            archive.write("model", model);
            m_optimizer->save(optimizer);
            archive.write("optimizer", optimizer);
            written = saveArchiveAtomically(archive, path);
        } catch (const std::exception &e) {
            throw RunFailure("cannot write the teacher's training state " + path + ": "
                             + torchErrorText(e));
        }
        if (!written.ok())
            throw RunFailure("cannot write the teacher's training state: " + written.error().message);
        m_ctx.log.meta(metaKey(m_tp, "state"), storeRelativePath(m_ctx.storePath, path));
    }

    // One update; logs teacher/<label>/loss at the steps done (1 for the first).
    void step(const std::string &key, const OptimizerPlan &sched)
    {
        const Plan &plan = m_ctx.plan;
        const std::int64_t index = m_done;
        for (auto &group : m_optimizer->param_groups())
            static_cast<torch::optim::AdamWOptions &>(group.options())
                .lr(sched.lrAt(index, m_tp.trainSteps));
        auto batch = m_ctx.data.trainBatch(index, plan.batchSize,
                                           stepSeed(plan.seed, 0, 0x7eac4e7 + m_tp.node));
        auto inputs = batch.inputs.to(m_ctx.device), targets = batch.targets.to(m_ctx.device);
        auto logits = m_model->forward(inputs).logits;
        auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}),
                                                         targets.reshape({-1}));
        m_optimizer->zero_grad();
        loss.backward();
        torch::nn::utils::clip_grad_norm_(m_model->parameters(), 1.0);
        m_optimizer->step();
        m_loss = loss.item<double>();
        m_done = index + 1;
        if (!std::isfinite(m_loss))
            throw RunFailure("teacher '" + m_tp.label + "' training: the loss is "
                             + std::to_string(m_loss) + " at step " + std::to_string(m_done));
        m_ctx.log.scalar(key, m_done, m_loss);
        m_ctx.log.flush();
    }

    std::int64_t done() const { return m_done; }
    double loss() const { return m_loss; }
    std::unique_ptr<models::CausalLm> release() { return std::move(m_model); }

private:
    const RunContext &m_ctx;
    const TeacherPlan &m_tp;
    std::unique_ptr<models::CausalLm> m_model;
    std::unique_ptr<torch::optim::AdamW> m_optimizer;
    std::int64_t m_done = 0;
    double m_loss = 0;
};

} // namespace

bool trainTeacher(const RunContext &ctx, Teacher &t, std::string *stoppedAt)
{
    const Plan &plan = ctx.plan;
    const TeacherPlan &tp = t.plan;
    // The teacher the first attempt of this run trained and saved, if any (resume).
    if (const std::string path = savedPath(ctx, metaKey(tp, "path")); !path.empty())
        if (auto loaded = models::loadCheckpoint(path); loaded.ok()) {
            t.model = std::move(loaded.value());
            return true;
        }
    TeacherTraining training(ctx, tp);
    if (const std::string state = savedPath(ctx, metaKey(tp, "state")); !state.empty())
        training.restore(state);
    OptimizerPlan sched;
    sched.lr = tp.trainLr;
    sched.warmupSteps = std::max<std::int64_t>(1, tp.trainSteps / 20);
    sched.schedule = "cosine";
    sched.minLrRatio = 0.1;
    const std::string key = "teacher/" + tp.label + "/loss";
    const auto t0 = Clock::now();
    const std::int64_t first = training.done();
    const double tokensPerStep = double(plan.batchSize * plan.seqLen);
    while (training.done() < tp.trainSteps) {
        if (!ctx.waitWhilePaused() || ctx.cancelled()) {
            if (training.done() > first)
                training.save();
            if (stoppedAt)
                *stoppedAt = "cancelled while training teacher '" + tp.label + "' (node "
                             + std::to_string(tp.node) + ") at step " + std::to_string(training.done())
                             + " of " + std::to_string(tp.trainSteps)
                             + "; a resume continues the teacher from there";
            return false;
        }
        training.step(key, sched);
        const std::int64_t done = training.done();
        if (plan.checkpointInterval > 0 && done % plan.checkpointInterval == 0 && done < tp.trainSteps)
            training.save();
        const double elapsed = secondsSince(t0);
        const double rate = double(done - first) / std::max(elapsed, 1e-9);
        Progress p;
        p.phase = "teacher '" + tp.label + "'";
        p.step = done;
        p.totalSteps = tp.trainSteps;
        p.loss = training.loss();
        p.tokensPerSecond = tokensPerStep * rate;
        p.etaSeconds = double(tp.trainSteps - done) / std::max(rate, 1e-9);
        ctx.progress.report(p);
    }
    auto model = training.release();
    model->freeze();
    const std::string path = ctx.artifact("teacher-" + std::to_string(tp.node) + ".pt");
    if (auto st = model->save(path); !st.ok())
        throw RunFailure(st.error().message);
    ctx.log.meta(metaKey(tp, "path"), storeRelativePath(ctx.storePath, path));
    ctx.log.checkpoint(tp.trainSteps, path, "teacher");
    // The frozen teacher replaces its training state.
    const std::string state = ctx.artifact("teacher-" + std::to_string(tp.node) + "-state.pt");
    std::error_code ec;
    if (std::filesystem::remove(state, ec))
        ctx.log.meta(metaKey(tp, "state"), "");
    t.model = std::move(model);
    return true;
}

} // namespace distillery::core::train
