// The training loop: teachers first (trained in-graph when asked), then the student against the
// compiled loss terms, with evaluation, checkpoints, resume, cancel/pause and progress.

#include "distillery/core/trainer.h"
#include "distillery/core/blas.h"
#include "distillery/core/diversity.h"

#include "data/data.h"
#include "diagnostics/diagnostics.h"
#include "losses/losses.h"
#include "models/lm.h"
#include "train/overlap.h"
#include "train/plan.h"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <thread>

namespace distillery::core {

namespace fs = std::filesystem;
using namespace distillery::core::train;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Deterministic per-(seed, step, salt) uniform number in [0,1): splitmix64.
std::uint64_t mix(std::uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
std::uint64_t stepSeed(std::int64_t seed, std::int64_t step, std::uint64_t salt)
{
    return mix(mix(std::uint64_t(seed) ^ (salt << 32)) ^ std::uint64_t(step));
}
double uniformAt(std::int64_t seed, std::int64_t step, std::uint64_t salt)
{
    return double(stepSeed(seed, step, salt) >> 11) * (1.0 / 9007199254740992.0);
}

// Failure inside the loop that must end the run as failed with this message.
struct RunFailure : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

struct TeacherState
{
    TeacherPlan plan;
    std::unique_ptr<models::LanguageModel> model;
};

struct TaidRuntime
{
    losses::TaidState state;
};

// Progress goes out after every step; consumers throttle (the GUI controller to 20/s, the CLI
// redraws at most 10 times a second).
class ProgressSink
{
public:
    explicit ProgressSink(const ProgressCallback &cb) : m_cb(cb) {}
    void report(const Progress &p, bool = false)
    {
        if (m_cb)
            m_cb(p);
    }

private:
    const ProgressCallback &m_cb;
};

class Trainer
{
public:
    Trainer(Plan plan, std::string graphJson, RunOptions options, const ProgressCallback &progress,
            RunControl *control)
        : m_plan(std::move(plan))
        , m_graphJson(std::move(graphJson))
        , m_options(std::move(options))
        , m_progress(progress)
        , m_control(control)
    {}

    // Everything that can be wrong with the input, checked before a run row exists.
    Status prepare();
    // Creates (or reopens) the run and trains. Never throws.
    RunResult run(RunId resumeFrom);

private:
    void train(RunResult &result);
    void trainTeacher(TeacherState &t);
    void buildTopkCache();
    void setupStudent();
    void restoreCheckpoint(const std::string &path);
    void saveCheckpoint(std::int64_t step);
    std::map<std::string, double> evaluate(std::int64_t step);
    void storeCalibration(std::int64_t step, const std::string &who, const Calibration &c,
                          std::map<std::string, double> &metrics);
    // onlyTeacher: just the terms of that teacher (kInvalidNode: every term).
    diagnostics::Objective logitObjective(std::int64_t step,
                                          const std::map<NodeId, torch::Tensor> &teacherLogits,
                                          const torch::Tensor &labels, const torch::Tensor &mask,
                                          NodeId onlyTeacher = kInvalidNode);
    void probeAlignment(std::int64_t step);
    void probeParameterAlignment(std::int64_t step, const data::Batch &batch,
                                 const std::map<NodeId, torch::Tensor> &teacherLogits,
                                 const torch::Tensor &oracle);
    std::vector<torch::Tensor> alignmentParameters();
    void probeDiversity(std::int64_t step);
    void monitorHacking(std::int64_t step, const std::map<std::string, double> &metrics);
    torch::Tensor sampleStudent(const torch::Tensor &prompts, std::int64_t total, double temperature,
                                at::Generator &gen, std::vector<std::vector<double>> *probs = nullptr);
    std::vector<std::int64_t> m_hackSteps;
    std::vector<double> m_hackOracle, m_hackTeacher;
    bool m_hackReported = false;
    bool m_probeTokensStored = false;
    std::int64_t m_lastProbeStep = -1; // steps done at the last alignment/diversity probe
    data::Batch onPolicyBatch(const data::Batch &batch, std::int64_t step);
    torch::Tensor hiddenFor(const HiddenSource &src, const models::LmOutput &out);
    bool waitWhilePaused();
    bool cancelled() const { return m_control && m_control->cancelRequested(); }
    void log(const std::string &key, std::int64_t step, double value)
    {
        m_writer->addScalar(m_runId, key, step, value);
    }
    void flushOrThrow(bool force = false)
    {
        auto st = force ? m_writer->flush() : m_writer->maybeFlush(0.25);
        if (!st.ok())
            spdlog::warn("run store: {} (rows kept for the next flush)", st.error().message);
    }

    Plan m_plan;
    std::string m_graphJson;
    RunOptions m_options;
    ProgressSink m_progress;
    RunControl *m_control;
    torch::Device m_device{torch::kCPU};
    std::string m_deviceName = "cpu";
    std::shared_ptr<data::Dataset> m_data;
    std::vector<TeacherState> m_teachers;
    std::unique_ptr<RunWriter> m_writer;
    RunId m_runId = 0;
    fs::path m_artifacts;
    models::TransformerLM m_student{nullptr};
    std::map<NodeId, torch::nn::Linear> m_projections;
    std::unique_ptr<torch::optim::Optimizer> m_optimizer;
    std::map<NodeId, TaidRuntime> m_taid;
    std::optional<data::TopKCache> m_topk;
    // Teacher outputs of one batch, by teacher node; the teacher pass of the next batch runs
    // beside the student's step when the thread plan overlaps them (see overlap.h).
    using TeacherOutputs = std::map<NodeId, models::LmOutput>;
    TeacherOutputs teacherPass(const torch::Tensor &inputs, bool onPolicy);
    void startTeacherPass(const torch::Tensor &inputs, bool onPolicy);
    std::pair<int, train::SharedPass<TeacherOutputs>::Work> teacherWork(const torch::Tensor &inputs,
                                                                        bool onPolicy);
    std::vector<std::pair<TeacherState *, bool>> teachersFor(bool onPolicy);
    train::ThreadPlan m_threads;
    train::SharedPass<TeacherOutputs> m_pass;
    std::int64_t m_passStep = -1; // the step whose teacher pass is pending
    std::int64_t m_startStep = 0; // first step to run
    bool m_resuming = false;
    Clock::time_point m_t0;
};

Status Trainer::prepare()
{
    if (m_plan.device == "cuda" && !cudaAvailable())
        return Status::failure("no-cuda", "device 'cuda' was requested but CUDA is not available "
                                          "in this build or on this machine (use auto or cpu)");
    if (m_plan.device == "cuda" || (m_plan.device == "auto" && cudaAvailable())) {
        m_device = torch::Device(torch::kCUDA, 0);
        m_deviceName = "cuda:0";
    }
    m_threads = train::planThreads(m_plan.threads, m_device.is_cuda(), !m_plan.teachers.empty());
    // Teacher training and the top-k cache run alone: all cores for them (see planThreads).
    train::applyThreadPlan(train::planThreads(m_plan.threads, m_device.is_cuda(), false));

    auto dataset = data::makeDataset(m_plan.dataset);
    if (!dataset.ok())
        return dataset.error();
    m_data = dataset.value();

    for (const auto &tp : m_plan.teachers) {
        TeacherState t;
        t.plan = tp;
        if (tp.source == "torchscript") {
            auto m = models::loadTorchScript(tp.path, m_data->vocab(),
                                             std::min<std::int64_t>(m_plan.seqLen, 16));
            if (!m.ok())
                return Status::failure(m.error().code, "teacher '" + tp.label + "': "
                                                           + m.error().message);
            t.model = std::move(m.value());
            if (m_plan.needsTeacherHidden(tp.node) && t.model->hiddenSize() < 0)
                return Status::failure("bad-teacher",
                                       "teacher '" + tp.label + "' (" + tp.path
                                           + "): a hidden-state loss needs hidden states, but "
                                             "forward returns only logits (return a tuple "
                                             "(logits, hidden...))");
        } else if (tp.source == "checkpoint") {
            auto m = models::loadBuiltin(tp.path);
            if (!m.ok())
                return Status::failure(m.error().code, "teacher '" + tp.label + "': "
                                                           + m.error().message);
            auto model = m.value();
            if (model->shape().vocab != m_data->vocab())
                return Status::failure("vocab-mismatch",
                                       "teacher '" + tp.label + "' (" + tp.path
                                           + "): vocabulary " + std::to_string(model->shape().vocab)
                                           + ", but the dataset's is "
                                           + std::to_string(m_data->vocab()));
            if (model->shape().maxLen < m_plan.seqLen)
                return Status::failure("bad-teacher",
                                       "teacher '" + tp.label + "' (" + tp.path
                                           + "): trained for sequences up to "
                                           + std::to_string(model->shape().maxLen)
                                           + " tokens, the run uses seq_len "
                                           + std::to_string(m_plan.seqLen));
            t.model = models::wrapBuiltin(model);
        }
        m_teachers.push_back(std::move(t));
    }

    if (m_options.storePath.empty())
        return Status::failure("bad-option", "no run store given (--store FILE)");
    auto writer = RunWriter::open(m_options.storePath);
    if (!writer.ok())
        return writer.error();
    m_writer = std::move(writer.value());
    return okStatus();
}

RunResult Trainer::run(RunId resumeFrom)
{
    RunResult result;
    result.device = m_deviceName;
    m_t0 = Clock::now();
    if (resumeFrom > 0) {
        m_runId = resumeFrom;
        m_resuming = true;
        auto st = m_writer->reopenRun(resumeFrom);
        if (!st.ok()) {
            result.status = RunStatus::Failed;
            result.error = st.error().message;
            return result;
        }
    } else {
        NewRun nr;
        nr.name = m_options.name.empty()
                      ? (m_plan.templateName.empty() ? std::string("run") : m_plan.templateName)
                      : m_options.name;
        nr.templateName = m_plan.templateName;
        nr.graphJson = m_graphJson;
        nr.device = m_deviceName;
        nr.threads = m_threads.total;
        nr.seed = m_plan.seed;
        nr.stepsTotal = m_plan.steps;
        auto id = m_writer->createRun(nr);
        if (!id.ok()) {
            result.status = RunStatus::Failed;
            result.error = id.error().message;
            return result;
        }
        m_runId = id.value();
    }
    result.runId = m_runId;
    m_artifacts = fs::path(m_options.artifactsDir.empty() ? m_options.storePath + ".artifacts"
                                                          : m_options.artifactsDir)
                  / ("run-" + std::to_string(m_runId));

    std::string error;
    try {
        std::error_code ec;
        fs::create_directories(m_artifacts, ec);
        if (ec)
            throw RunFailure("cannot create the artifacts directory " + m_artifacts.string() + ": "
                             + ec.message());
        m_writer->setRunMeta(
            m_runId, "threads",
            std::to_string(m_threads.total) + " threads; student phase: intra-op "
                + std::to_string(m_threads.intraOp) + ", OpenBLAS " + std::to_string(m_threads.blas)
                + (m_threads.overlap ? ", teacher pass overlapped on a second thread" : ""));
        m_writer->setRunMeta(m_runId, "blas", describeBlas());
        m_writer->setRunMeta(m_runId, "dataset", m_data->describe());
        m_writer->setRunMeta(m_runId, "artifacts", m_artifacts.string());
        train(result);
    } catch (const c10::Error &e) {
        error = std::string("LibTorch error: ") + e.what_without_backtrace();
    } catch (const std::exception &e) {
        error = e.what();
    }
    if (!error.empty()) {
        result.status = RunStatus::Failed;
        result.error = error;
        spdlog::error("run {} failed: {}", m_runId, error);
    }
    result.seconds = secondsSince(m_t0);
    auto st = m_writer->finishRun(m_runId, result.status, result.error);
    if (!st.ok() && result.error.empty())
        result.error = st.error().message;
    return result;
}

bool Trainer::waitWhilePaused()
{
    if (!m_control || !m_control->paused())
        return true;
    Progress p;
    p.phase = "paused";
    p.paused = true;
    m_progress.report(p, true);
    while (m_control->paused() && !m_control->cancelRequested()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        flushOrThrow(); // keeps the heartbeat alive
    }
    return !m_control->cancelRequested();
}

// Teachers with source = train: next-token cross-entropy on the training split with AdamW,
// warm-up and cosine decay, then frozen and saved with the run.
void Trainer::trainTeacher(TeacherState &t)
{
    const auto &tp = t.plan;
    const std::string savedKey = "teacher/" + std::to_string(tp.node) + "/path";
    // On resume the teacher trained by the first attempt is reused, not retrained.
    if (auto reader = StoreReader::open(m_options.storePath); reader.ok()) {
        auto meta = reader.value()->runMeta(m_runId);
        if (meta.ok() && meta.value().count(savedKey)) {
            auto loaded = models::loadBuiltin(meta.value().at(savedKey));
            if (loaded.ok()) {
                t.model = models::wrapBuiltin(loaded.value());
                return;
            }
        }
    }
    torch::manual_seed(std::uint64_t(m_plan.seed) * 7919 + std::uint64_t(tp.node));
    auto model = models::TransformerLM(tp.shape);
    model->to(m_device);
    model->train(true);
    torch::optim::AdamW opt(model->parameters(),
                            torch::optim::AdamWOptions(tp.trainLr).weight_decay(0.01));
    OptimizerPlan sched;
    sched.lr = tp.trainLr;
    sched.warmupSteps = std::max<std::int64_t>(1, tp.trainSteps / 20);
    sched.schedule = "cosine";
    sched.minLrRatio = 0.1;
    const std::string key = "teacher/" + tp.label + "/loss";
    const auto t0 = Clock::now();
    const double tokensPerStep = double(m_plan.batchSize * m_plan.seqLen);
    for (std::int64_t step = 0; step < tp.trainSteps; ++step) {
        if (!waitWhilePaused() || cancelled())
            return;
        for (auto &group : opt.param_groups())
            static_cast<torch::optim::AdamWOptions &>(group.options()).lr(sched.lrAt(step, tp.trainSteps));
        auto batch = m_data->trainBatch(step, m_plan.batchSize,
                                        stepSeed(m_plan.seed, 0, 0x7eac4e7 + tp.node));
        auto inputs = batch.inputs.to(m_device), targets = batch.targets.to(m_device);
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
        log(key, step, value);
        flushOrThrow();
        const double elapsed = secondsSince(t0);
        Progress p;
        p.phase = "teacher '" + tp.label + "'";
        p.step = step + 1;
        p.totalSteps = tp.trainSteps;
        p.loss = value;
        p.tokensPerSecond = tokensPerStep * double(step + 1) / std::max(elapsed, 1e-9);
        p.etaSeconds = elapsed / double(step + 1) * double(tp.trainSteps - step - 1);
        p.elapsedSeconds = secondsSince(m_t0);
        m_progress.report(p, step + 1 == tp.trainSteps);
    }
    model->train(false);
    for (auto &param : model->parameters())
        param.set_requires_grad(false);
    const std::string path = (m_artifacts / ("teacher-" + std::to_string(tp.node) + ".pt")).string();
    if (auto st = models::saveBuiltin(model, path); !st.ok())
        throw RunFailure(st.error().message);
    m_writer->setRunMeta(m_runId, savedKey, path);
    m_writer->addCheckpoint({m_runId, tp.trainSteps, path, "teacher", 0});
    t.model = models::wrapBuiltin(model);
}

void Trainer::buildTopkCache()
{
    if (!m_plan.needsTopkCache())
        return;
    // One cache per run: the first top-k term decides k, temperature and teacher.
    const TermPlan *term = nullptr;
    for (const auto &t : m_plan.terms)
        if (t.kind == "topk-kl") {
            term = &t;
            break;
        }
    TeacherState *teacher = nullptr;
    for (auto &t : m_teachers)
        if (t.plan.node == term->teacher)
            teacher = &t;
    torch::NoGradGuard noGrad;
    const auto rows = m_data->trainSequences();
    const std::int64_t n = rows.size(0), chunk = 64;
    std::vector<torch::Tensor> lp, idx;
    for (std::int64_t i = 0; i < n; i += chunk) {
        auto batch = m_data->batchFromRows(rows.slice(0, i, std::min(n, i + chunk)));
        auto logits = teacher->model->forward(batch.inputs.to(m_device), false).logits;
        auto flat = logits.reshape({-1, logits.size(-1)});
        auto [l, ix] = losses::topkFromLogits(flat, term->config.topK, term->config.temperature);
        lp.push_back(l.reshape({logits.size(0), logits.size(1), -1}).cpu());
        idx.push_back(ix.reshape({logits.size(0), logits.size(1), -1}).cpu());
        Progress p;
        p.phase = "top-k cache";
        p.step = std::min(n, i + chunk);
        p.totalSteps = n;
        p.elapsedSeconds = secondsSince(m_t0);
        m_progress.report(p);
        if (cancelled())
            return;
    }
    data::TopKCache cache;
    cache.logProbs = torch::cat(lp);
    cache.indices = torch::cat(idx);
    cache.k = term->config.topK;
    cache.temperature = term->config.temperature;
    m_topk = cache;
    const std::string path = (m_artifacts / "topk-cache.pt").string();
    if (auto st = data::saveTopKCache(cache, path); st.ok())
        m_writer->setRunMeta(m_runId, "topk_cache", path);
}

void Trainer::setupStudent()
{
    torch::manual_seed(std::uint64_t(m_plan.seed));
    m_student = models::TransformerLM(m_plan.student);
    m_student->to(m_device);
    std::vector<torch::Tensor> params = m_student->parameters();
    for (const auto &term : m_plan.terms) {
        for (const HiddenSource *src : {&term.studentHidden, &term.teacherHidden}) {
            if (src->projection == kInvalidNode || m_projections.count(src->projection))
                continue;
            std::int64_t in = 0;
            if (src->isStudent)
                in = m_plan.student.dModel;
            else
                for (auto &t : m_teachers)
                    if (t.plan.node == src->model)
                        in = t.model->hiddenSize();
            auto proj = torch::nn::Linear(
                torch::nn::LinearOptions(in, src->projectionOut).bias(src->projectionBias));
            proj->to(m_device);
            m_projections.emplace(src->projection, proj);
            for (auto &p : proj->parameters())
                params.push_back(p);
        }
        if (term.kind == "taid") {
            TaidRuntime rt;
            rt.state.t = term.taidStart;
            m_taid[term.node] = rt;
        }
    }
    const auto &o = m_plan.optimizer;
    if (o.kind == "sgd")
        m_optimizer = std::make_unique<torch::optim::SGD>(
            params, torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weightDecay));
    else
        m_optimizer = std::make_unique<torch::optim::AdamW>(
            params, torch::optim::AdamWOptions(o.lr)
                        .betas({o.beta1, o.beta2})
                        .weight_decay(o.weightDecay));
}

void Trainer::saveCheckpoint(std::int64_t step)
{
    torch::serialize::OutputArchive archive;
    archive.write("step", torch::tensor({step}, torch::kLong));
    torch::serialize::OutputArchive student;
    m_student->save(student);
    archive.write("student", student);
    for (auto &[id, proj] : m_projections) {
        torch::serialize::OutputArchive a;
        proj->save(a);
        archive.write("projection" + std::to_string(id), a);
    }
    torch::serialize::OutputArchive opt;
    m_optimizer->save(opt);
    archive.write("optimizer", opt);
    for (auto &[id, rt] : m_taid)
        archive.write("taid" + std::to_string(id),
                      torch::tensor({rt.state.t, rt.state.momentum, rt.state.previousLoss},
                                    torch::kDouble));
    const std::string path = (m_artifacts / ("step-" + std::to_string(step) + ".pt")).string();
    const std::string tmp = path + ".tmp";
    archive.save_to(tmp);
    fs::rename(tmp, path);
    if (auto st = m_writer->addCheckpoint({m_runId, step, path, "student", 0}); !st.ok())
        throw RunFailure(st.error().message);
    // The student itself, loadable as a built-in checkpoint (teacher source = checkpoint).
    models::saveBuiltin(m_student, (m_artifacts / "student.pt").string());
}

void Trainer::restoreCheckpoint(const std::string &path)
{
    torch::serialize::InputArchive archive;
    archive.load_from(path, m_device);
    torch::Tensor step;
    archive.read("step", step);
    torch::serialize::InputArchive student;
    archive.read("student", student);
    m_student->load(student);
    for (auto &[id, proj] : m_projections) {
        torch::serialize::InputArchive a;
        archive.read("projection" + std::to_string(id), a);
        proj->load(a);
    }
    torch::serialize::InputArchive opt;
    archive.read("optimizer", opt);
    m_optimizer->load(opt);
    for (auto &[id, rt] : m_taid) {
        torch::Tensor s;
        archive.read("taid" + std::to_string(id), s);
        s = s.to(torch::kCPU, torch::kDouble);
        rt.state.t = s[0].item<double>();
        rt.state.momentum = s[1].item<double>();
        rt.state.previousLoss = s[2].item<double>();
    }
    m_startStep = step.item<std::int64_t>() + 1;
}

// The teachers a step needs, with whether their hidden states are needed too. A top-k term
// reads the cache, not the teacher, except on the student's own samples.
std::vector<std::pair<TeacherState *, bool>> Trainer::teachersFor(bool onPolicy)
{
    std::vector<std::pair<TeacherState *, bool>> out;
    for (auto &t : m_teachers) {
        bool logits = false, hidden = false;
        for (const auto &term : m_plan.terms) {
            const auto *entry = losses::find(term.kind);
            if (term.teacher == t.plan.node)
                logits = logits || entry->needsTeacherLogits
                         || (entry->needsTopk && (!m_topk || onPolicy));
            hidden = hidden || term.teacherHidden.model == t.plan.node;
        }
        if (logits || hidden)
            out.emplace_back(&t, hidden);
    }
    return out;
}

// The teacher pass over `inputs`, cut into chunks of sequences (on CPU: smaller GEMMs stay in
// cache, and the chunks can be shared between two threads).
std::pair<int, train::SharedPass<Trainer::TeacherOutputs>::Work>
Trainer::teacherWork(const torch::Tensor &inputs, bool onPolicy)
{
    auto teachers = teachersFor(onPolicy);
    const int chunks = m_device.is_cuda() ? 1 : train::teacherChunks(inputs.size(0));
    const std::int64_t rows = (inputs.size(0) + chunks - 1) / chunks;
    return {chunks, [teachers, inputs, rows](int chunk) {
                TeacherOutputs out;
                auto part = inputs.slice(0, chunk * rows, (chunk + 1) * rows);
                for (const auto &[t, hidden] : teachers)
                    out[t->plan.node] = t->model->forward(part, hidden);
                return out;
            }};
}

void Trainer::startTeacherPass(const torch::Tensor &inputs, bool onPolicy)
{
    auto [chunks, work] = teacherWork(inputs, onPolicy);
    m_pass.start(chunks, std::move(work));
}

Trainer::TeacherOutputs Trainer::teacherPass(const torch::Tensor &inputs, bool onPolicy)
{
    std::vector<TeacherOutputs> parts;
    if (m_threads.overlap) {
        if (!m_pass.pending())
            startTeacherPass(inputs, onPolicy);
        parts = m_pass.finish();
    } else {
        auto [chunks, work] = teacherWork(inputs, onPolicy);
        parts = train::SharedPass<TeacherOutputs>::runHere(chunks, work);
    }
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

torch::Tensor Trainer::hiddenFor(const HiddenSource &src, const models::LmOutput &out)
{
    const auto n = std::int64_t(out.hidden.size());
    if (n == 0)
        throw RunFailure("no hidden states available from node " + std::to_string(src.model));
    std::int64_t layer = src.layer < 0 ? n - 1 : src.layer;
    if (layer >= n)
        throw RunFailure("node " + std::to_string(src.model) + " has hidden layers 0.."
                         + std::to_string(n - 1) + ", the loss asks for layer "
                         + std::to_string(src.layer));
    auto h = out.hidden[std::size_t(layer)];
    if (src.projection != kInvalidNode)
        h = m_projections.at(src.projection)->forward(h);
    return h.reshape({-1, h.size(-1)});
}

// The student continues each prompt by ancestral sampling at the sampling temperature; the
// divergences are then taken on the student's own tokens (on-policy distillation, GKD).
// Ancestral sampling from the student: rows [N, total] whose first P columns hold the prompts
// and whose columns P..total-1 are drawn one token at a time at `temperature`. Also returns the
// student's next-token distribution at every sampled position when `probs` is given.
torch::Tensor Trainer::sampleStudent(const torch::Tensor &prompts, std::int64_t total,
                                     double temperature, at::Generator &gen,
                                     std::vector<std::vector<double>> *probs)
{
    torch::NoGradGuard noGrad;
    const std::int64_t N = prompts.size(0), P = prompts.size(1);
    auto rows = torch::zeros({N, total}, torch::kLong);
    rows.slice(1, 0, P).copy_(prompts);
    const bool wasTraining = m_student->is_training();
    m_student->train(false);
    for (std::int64_t t = P; t < total; ++t) {
        auto logits = m_student->forward(rows.slice(1, 0, t).to(m_device)).logits.select(1, t - 1);
        auto p = torch::softmax(logits.to(torch::kCPU, torch::kDouble) / temperature, -1);
        rows.select(1, t).copy_(torch::multinomial(p, 1, false, gen).squeeze(1));
        if (probs)
            for (std::int64_t i = 0; i < N; ++i) {
                auto row = p[i].contiguous();
                probs->emplace_back(row.data_ptr<double>(), row.data_ptr<double>() + row.numel());
            }
    }
    m_student->train(wasTraining);
    return rows;
}

// The student continues each prompt by ancestral sampling at the sampling temperature; the
// divergences are then taken on the student's own tokens (on-policy distillation, GKD).
data::Batch Trainer::onPolicyBatch(const data::Batch &batch, std::int64_t step)
{
    const std::int64_t T = batch.inputs.size(1), P = m_plan.promptLen;
    auto gen = at::detail::createCPUGenerator(stepSeed(m_plan.seed, step, 0x5a3b1e));
    auto rows = sampleStudent(batch.inputs.slice(1, 0, P), T + 1, m_plan.sampleTemperature, gen);
    auto out = m_data->batchFromRows(rows);
    // Only the sampled continuation counts; the prompt's predictions are not the student's.
    out.mask.slice(1, 0, P - 1).zero_();
    out.indices = batch.indices;
    return out;
}

// Diversity of the student's samples: continuations of the first diversity_prompts validation
// prompts at temperature 1 (diag/diversity/...) and, when it differs, at the Diagnostics
// node's temperature (diag/diversity_temp/...); the samples' text goes to the samples table.
void Trainer::probeDiversity(std::int64_t step)
{
    const auto &d = m_plan.diagnostics;
    const std::int64_t n = std::min<std::int64_t>(d.diversityPrompts, m_data->validationSequences().size(0));
    const std::int64_t P = std::min<std::int64_t>(m_plan.promptLen, m_plan.seqLen - 1);
    const std::int64_t total = std::min<std::int64_t>(P + d.diversityLength, m_plan.seqLen);
    if (n <= 0 || total <= P)
        return;
    auto prompts = m_data->validationSequences().slice(0, 0, n).slice(1, 0, P);
    std::vector<double> temperatures{1.0};
    if (std::abs(d.diversityTemperature - 1.0) > 1e-9)
        temperatures.push_back(d.diversityTemperature);
    for (std::size_t k = 0; k < temperatures.size(); ++k) {
        // The same random stream at every evaluation: changes come from the student only.
        auto gen = at::detail::createCPUGenerator(stepSeed(m_plan.seed, 0, 0xd1e5 + k));
        std::vector<std::vector<double>> probs;
        auto rows = sampleStudent(prompts, total, temperatures[k], gen, &probs);
        std::vector<TokenSequence> samples;
        for (std::int64_t i = 0; i < n; ++i) {
            auto row = rows[i].slice(0, P).contiguous();
            samples.emplace_back(row.data_ptr<std::int64_t>(), row.data_ptr<std::int64_t>() + row.numel());
        }
        const DiversityStats s = diversityStats(samples, probs);
        const std::string prefix = k == 0 ? "diag/diversity/" : "diag/diversity_temp/";
        log(prefix + "distinct1", step, s.distinct1);
        log(prefix + "distinct2", step, s.distinct2);
        log(prefix + "distinct3", step, s.distinct3);
        log(prefix + "self_bleu4", step, s.selfBleu4);
        log(prefix + "unique_fraction", step, s.uniqueFraction);
        log(prefix + "token_entropy", step, s.meanTokenEntropy);
        log(prefix + "mean_length", step, s.meanLength);
        if (k == 0)
            for (std::int64_t i = 0; i < n; ++i) {
                auto all = rows[i].contiguous();
                m_writer->addSample(m_runId, step, int(i),
                                    m_data->decode({all.data_ptr<std::int64_t>(),
                                                    all.data_ptr<std::int64_t>() + all.numel()}));
            }
    }
}

// Teacher hacking (Tiapkin et al. 2025): KL(oracle‖student) turning upward while
// KL(teacher‖student) keeps falling, with power-law fits of both over the evaluations so far.
void Trainer::monitorHacking(std::int64_t step, const std::map<std::string, double> &metrics)
{
    auto oracle = metrics.find("eval/kl_oracle_student");
    auto teacher = metrics.find("eval/kl_teacher_student");
    if (oracle == metrics.end() || teacher == metrics.end())
        return;
    m_hackSteps.push_back(step + 1);
    m_hackOracle.push_back(oracle->second);
    m_hackTeacher.push_back(teacher->second);
    auto report = detectTeacherHacking(m_hackSteps, m_hackOracle, m_hackTeacher);
    if (!report.ok())
        return;
    const auto &r = report.value();
    log("diag/hacking/flag", step, r.flagged ? 1.0 : 0.0);
    if (r.oracleFit.valid) {
        log("diag/hacking/oracle_exponent", step, r.oracleFit.b);
        log("diag/hacking/teacher_exponent", step, r.teacherFit.b);
    }
    if (r.flagged && !m_hackReported) {
        m_hackReported = true;
        m_writer->setRunMeta(m_runId, "teacher_hacking_step", std::to_string(r.flaggedStep));
        spdlog::warn("run {}: teacher hacking: KL(oracle||student) rises after step {} while "
                     "KL(teacher||student) keeps falling",
                     m_runId, r.flaggedStep);
    }
}

std::map<std::string, double> Trainer::evaluate(std::int64_t step)
{
    torch::NoGradGuard noGrad;
    m_student->train(false);
    models::LanguageModel *teacher = m_teachers.empty() ? nullptr : m_teachers.front().model.get();
    double sNll = 0, sAcc = 0, tNll = 0, tAcc = 0, klTS = 0, klOS = 0, klOT = 0, oNll = 0, count = 0;
    double sEntropy = 0, tEntropy = 0, calibrationSeconds = 0;
    const bool calibrate = m_plan.diagnostics.enabled && m_plan.diagnostics.calibration;
    const bool entropies = m_plan.diagnostics.enabled && teacher;
    const auto entropy = [](const torch::Tensor &logp) {
        return -(logp.exp() * logp).nan_to_num(0.0).sum(-1);
    };
    diagnostics::CalibrationAccumulator studentCal, teacherCal;
    const std::int64_t batches = std::min(m_plan.evalBatches,
                                          m_data->validationBatchCount(m_plan.batchSize));
    for (std::int64_t b = 0; b < std::max<std::int64_t>(1, batches); ++b) {
        auto batch = m_data->validationBatch(b, m_plan.batchSize);
        auto inputs = batch.inputs.to(m_device);
        auto targets = batch.targets.to(m_device).reshape({-1});
        auto mask = batch.mask.to(m_device).reshape({-1});
        const double n = mask.sum().item<double>();
        auto sLogp = torch::log_softmax(m_student->forward(inputs).logits.to(torch::kFloat), -1);
        sLogp = sLogp.reshape({-1, sLogp.size(-1)});
        auto masked = [&](const torch::Tensor &x) { return (x * mask).sum().item<double>(); };
        sNll += masked(-sLogp.gather(1, targets.unsqueeze(1)).squeeze(1));
        sAcc += masked((sLogp.argmax(-1) == targets).to(torch::kFloat));
        if (calibrate) {
            const auto t0 = Clock::now();
            studentCal.add(sLogp, targets, mask);
            calibrationSeconds += secondsSince(t0);
        }
        torch::Tensor oracle, oracleLog;
        if (m_data->hasOracle()) {
            auto o = m_data->oracle()->nextTokenDistributions(batch.inputs).to(m_device);
            oracle = o.reshape({-1, o.size(-1)});
            oracleLog = torch::log(oracle.clamp_min(1e-30));
            klOS += masked((oracle * (oracleLog - sLogp)).sum(-1));
            oNll += masked(-oracleLog.gather(1, targets.unsqueeze(1)).squeeze(1));
        }
        if (teacher) {
            auto tLogp = torch::log_softmax(teacher->forward(inputs, false).logits.to(torch::kFloat), -1);
            tLogp = tLogp.reshape({-1, tLogp.size(-1)});
            tNll += masked(-tLogp.gather(1, targets.unsqueeze(1)).squeeze(1));
            tAcc += masked((tLogp.argmax(-1) == targets).to(torch::kFloat));
            if (calibrate) {
                const auto t0 = Clock::now();
                teacherCal.add(tLogp, targets, mask);
                calibrationSeconds += secondsSince(t0);
            }
            if (entropies) {
                sEntropy += masked(entropy(sLogp));
                tEntropy += masked(entropy(tLogp));
            }
            klTS += masked((tLogp.exp() * (tLogp - sLogp)).sum(-1));
            if (oracle.defined())
                klOT += masked((oracle * (oracleLog - tLogp)).sum(-1));
        }
        count += n;
    }
    m_student->train(true);
    count = std::max(count, 1.0);
    std::map<std::string, double> m;
    m["eval/student_nll"] = sNll / count;
    m["eval/student_acc"] = sAcc / count;
    if (teacher) {
        m["eval/teacher_nll"] = tNll / count;
        m["eval/teacher_acc"] = tAcc / count;
        m["eval/kl_teacher_student"] = klTS / count;
    }
    if (m_data->hasOracle()) {
        m["eval/kl_oracle_student"] = klOS / count;
        m["eval/oracle_nll"] = oNll / count;
        if (teacher)
            m["eval/kl_oracle_teacher"] = klOT / count;
    }
    if (calibrate) {
        const auto t0 = Clock::now();
        storeCalibration(step, "student", studentCal.result(), m);
        if (teacher)
            storeCalibration(step, "teacher", teacherCal.result(), m);
        log("diag/seconds/calibration", step, calibrationSeconds + secondsSince(t0));
    }
    if (entropies) {
        // Mean next-token entropies on the evaluation tokens; a ratio below 1 means the
        // student is sharper than its teacher.
        log("diag/diversity/student_entropy", step, sEntropy / count);
        log("diag/diversity/teacher_entropy", step, tEntropy / count);
        log("diag/diversity/entropy_ratio", step,
            tEntropy > 0 ? sEntropy / tEntropy : std::numeric_limits<double>::quiet_NaN());
    }
    for (const auto &[k, v] : m)
        log(k, step, v);
    const auto &d = m_plan.diagnostics;
    const bool probe = d.enabled && (d.interval <= 0 || m_lastProbeStep < 0 ||
                                     step + 1 - m_lastProbeStep >= d.interval);
    if (probe) {
        m_lastProbeStep = step + 1;
        if (d.probeSamples > 0) {
            const auto t0 = Clock::now();
            probeAlignment(step);
            log("diag/seconds/alignment", step, secondsSince(t0));
        }
        if (d.diversityPrompts > 0) {
            const auto t0 = Clock::now();
            probeDiversity(step);
            log("diag/seconds/diversity", step, secondsSince(t0));
        }
    }
    if (m_plan.diagnostics.enabled)
        monitorHacking(step, m);
    flushOrThrow(true);
    return m;
}

// Scalars eval/calibration/<who>/<measure>, and the reliability bins as three arrays of
// kCalibrationBins floats (token_diagnostics, sample 0): calibration/<who>/{count,confidence,accuracy}.
void Trainer::storeCalibration(std::int64_t step, const std::string &who, const Calibration &c,
                               std::map<std::string, double> &metrics)
{
    const std::string prefix = "eval/calibration/" + who + "/";
    metrics[prefix + "ece"] = c.ece;
    metrics[prefix + "mce"] = c.mce;
    metrics[prefix + "brier"] = c.brier;
    metrics[prefix + "conf_minus_acc"] = c.confidenceMinusAccuracy;
    std::vector<float> count, confidence, accuracy;
    for (const auto &b : c.bins) {
        count.push_back(float(b.count));
        confidence.push_back(float(b.meanConfidence));
        accuracy.push_back(float(b.accuracy));
    }
    m_writer->addTokenDiagnostic(m_runId, step, 0, "calibration/" + who + "/count", count);
    m_writer->addTokenDiagnostic(m_runId, step, 0, "calibration/" + who + "/confidence", confidence);
    m_writer->addTokenDiagnostic(m_runId, step, 0, "calibration/" + who + "/accuracy", accuracy);
}

// The run's objective at `step` as a function of the student's logits on one probe sequence,
// with the teachers' logits, labels and mask of that sequence fixed. Hidden-state terms do not
// act on the logits and are left out.
diagnostics::Objective Trainer::logitObjective(std::int64_t step,
                                               const std::map<NodeId, torch::Tensor> &teacherLogits,
                                               const torch::Tensor &labels, const torch::Tensor &mask,
                                               NodeId onlyTeacher)
{
    return [this, step, teacherLogits, labels, mask, onlyTeacher](const torch::Tensor &z) {
        torch::Tensor total = torch::zeros({}, z.options());
        for (const auto &term : m_plan.terms) {
            const auto *entry = losses::find(term.kind);
            if (entry->needsHidden || (onlyTeacher != kInvalidNode && term.teacher != onlyTeacher))
                continue;
            losses::LossInputs in;
            in.studentLogits = z;
            in.labels = labels;
            in.mask = mask;
            losses::LossConfig cfg = term.config;
            cfg.temperature = term.temperature.at(step);
            if (auto it = teacherLogits.find(term.teacher); it != teacherLogits.end())
                in.teacherLogits = it->second;
            if (entry->needsTopk) {
                if (!in.teacherLogits.defined())
                    continue;
                auto [lp, ix] = losses::topkFromLogits(in.teacherLogits, cfg.topK, cfg.temperature);
                in.topkLogProbs = lp;
                in.topkIndices = ix;
            }
            if (term.kind == "taid")
                cfg.taidT = m_taid.at(term.node).state.t;
            total = total + term.weight.at(step) * entry->fn(in, cfg);
        }
        return total * m_plan.combineScale;
    };
}

// Per-token alignment on the first probe_samples validation sequences: every quantity of
// TokenAlignment per position into token_diagnostics, and their means as diag/align/* scalars.
void Trainer::probeAlignment(std::int64_t step)
{
    const std::int64_t n = std::min<std::int64_t>(m_plan.diagnostics.probeSamples,
                                                   m_data->validationSequences().size(0));
    if (n <= 0 || m_teachers.empty())
        return;
    auto batch = m_data->validationBatch(0, n);
    auto inputs = batch.inputs.to(m_device);
    torch::Tensor studentLogits;
    std::map<NodeId, torch::Tensor> teacherLogits;
    {
        torch::NoGradGuard noGrad;
        m_student->train(false);
        studentLogits = m_student->forward(inputs).logits;
        m_student->train(true);
        for (auto &t : m_teachers)
            teacherLogits[t.plan.node] = t.model->forward(inputs, false).logits;
    }
    torch::Tensor oracle;
    if (m_data->hasOracle())
        oracle = m_data->oracle()->nextTokenDistributions(batch.inputs).to(m_device);
    const NodeId first = m_teachers.front().plan.node;
    // The probe sequences once per run: the T inputs and the last target, so token t + 1 is
    // what position t predicts; and how to show a token (bytes of text, or oracle symbol ids).
    if (!m_probeTokensStored) {
        for (std::int64_t i = 0; i < batch.inputs.size(0); ++i) {
            std::string tokens;
            auto row = torch::cat({batch.inputs[i], batch.targets[i].slice(0, -1)}).to(torch::kCPU);
            for (std::int64_t j = 0; j < row.size(0); ++j)
                tokens += (j ? "," : "") + std::to_string(row[j].item<std::int64_t>());
            m_writer->setRunMeta(m_runId, "probe/" + std::to_string(i) + "/tokens", tokens);
        }
        m_writer->setRunMeta(m_runId, "probe/token_format", m_data->hasOracle() ? "ids" : "bytes");
        m_probeTokensStored = true;
    }
    double cosine = 0, cosineRight = 0, cosineWrong = 0, kl = 0, agree = 0;
    int cosineN = 0, rightN = 0, wrongN = 0;
    std::map<std::string, std::array<double, 3>> perTeacher;
    std::map<std::string, std::array<int, 3>> sumsN;
    const auto add = [](double v, double &sum, int &count) {
        if (std::isfinite(v)) {
            sum += v;
            ++count;
        }
    };
    for (std::int64_t i = 0; i < batch.inputs.size(0); ++i) {
        std::map<NodeId, torch::Tensor> rows;
        for (const auto &[node, logits] : teacherLogits)
            rows[node] = logits[i];
        auto labels = batch.targets[i].to(m_device);
        auto mask = batch.mask[i].to(m_device);
        const TokenAlignment a = diagnostics::tokenAlignment(
            studentLogits[i], rows.at(first), labels, oracle.defined() ? oracle[i] : torch::Tensor(),
            logitObjective(step, rows, labels, mask));
        for (const auto &[name, values] : alignmentQuantities(a))
            m_writer->addTokenDiagnostic(m_runId, step, int(i), name, *values);
        for (const auto &[name, values] : alignmentTopTokens(a))
            m_writer->addTokenDiagnostic(m_runId, step, int(i), name, *values);
        // With several teachers, each one's terms against the ideal gradient on their own.
        if (m_teachers.size() > 1)
            for (const auto &t : m_teachers) {
                const TokenAlignment ta = diagnostics::tokenAlignment(
                    studentLogits[i], rows.at(t.plan.node), labels,
                    oracle.defined() ? oracle[i] : torch::Tensor(),
                    logitObjective(step, rows, labels, mask, t.plan.node));
                auto &sums = perTeacher[t.plan.label];
                add(ta.meanGradCosine, sums[0], sumsN[t.plan.label][0]);
                add(ta.meanKl, sums[1], sumsN[t.plan.label][1]);
                add(ta.meanTop1Agree, sums[2], sumsN[t.plan.label][2]);
            }
        add(a.meanGradCosine, cosine, cosineN);
        add(a.meanGradCosineCorrect, cosineRight, rightN);
        add(a.meanGradCosineIncorrect, cosineWrong, wrongN);
        kl += a.meanKl;
        agree += a.meanTop1Agree;
    }
    const double samples = double(batch.inputs.size(0));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    log("diag/align/grad_cosine", step, cosineN ? cosine / cosineN : nan);
    log("diag/align/grad_cosine_correct", step, rightN ? cosineRight / rightN : nan);
    log("diag/align/grad_cosine_incorrect", step, wrongN ? cosineWrong / wrongN : nan);
    log("diag/align/kl", step, kl / samples);
    log("diag/align/top1_agree", step, agree / samples);
    for (const auto &[label, sums] : perTeacher) {
        const auto &n = sumsN[label];
        const std::string prefix = "diag/align/teacher/" + label + "/";
        log(prefix + "grad_cosine", step, n[0] ? sums[0] / n[0] : nan);
        log(prefix + "kl", step, n[1] ? sums[1] / n[1] : nan);
        log(prefix + "top1_agree", step, n[2] ? sums[2] / n[2] : nan);
    }
    if (m_plan.diagnostics.paramTokens > 0) {
        const auto t0 = Clock::now();
        probeParameterAlignment(step, batch, teacherLogits, oracle);
        log("diag/seconds/param_alignment", step, secondsSince(t0));
    }
}

// The student's parameters the parameter-space alignment differentiates (param_scope).
std::vector<torch::Tensor> Trainer::alignmentParameters()
{
    const std::string &scope = m_plan.diagnostics.paramScope;
    const std::string lastBlock = "block" + std::to_string(m_student->shape().layers - 1) + ".";
    std::vector<torch::Tensor> params;
    for (const auto &item : m_student->named_parameters()) {
        const std::string &name = item.key();
        const bool head = name.rfind("head.", 0) == 0 || name.rfind("lnf.", 0) == 0;
        if (scope == "all" || head || (scope == "last-block" && name.rfind(lastBlock, 0) == 0))
            params.push_back(item.value());
    }
    return params;
}

// Parameter-space alignment on param_tokens positions of the first probe sequence, spread
// evenly over its counted positions: per position the cosine between the gradients, w.r.t.
// alignmentParameters(), of the objective's and the ideal loss's contributions there. Stored as
// the token_diagnostics array param_cosine (NaN at positions not probed) and its mean as
// diag/align/param_cosine.
void Trainer::probeParameterAlignment(std::int64_t step, const data::Batch &batch,
                                      const std::map<NodeId, torch::Tensor> &teacherLogits,
                                      const torch::Tensor &oracle)
{
    auto mask = batch.mask[0].to(torch::kCPU);
    std::vector<std::int64_t> counted;
    for (std::int64_t t = 0; t < mask.size(0); ++t)
        if (mask[t].item<float>() > 0)
            counted.push_back(t);
    if (counted.empty())
        return;
    const std::size_t k = std::min<std::size_t>(counted.size(), std::size_t(m_plan.diagnostics.paramTokens));
    std::vector<std::int64_t> positions;
    for (std::size_t j = 0; j < k; ++j)
        positions.push_back(counted[(2 * j + 1) * counted.size() / (2 * k)]);

    std::map<NodeId, torch::Tensor> rows;
    for (const auto &[node, logits] : teacherLogits)
        rows[node] = logits[0];
    auto labels = batch.targets[0].to(m_device);
    auto rowMask = batch.mask[0].to(m_device);
    std::vector<float> cosines;
    {
        torch::AutoGradMode enable(true);
        m_student->train(false);
        auto logits = m_student->forward(batch.inputs.slice(0, 0, 1).to(m_device)).logits[0];
        m_student->train(true);
        cosines = diagnostics::parameterAlignment(logits, labels,
                                                  oracle.defined() ? oracle[0] : torch::Tensor(),
                                                  logitObjective(step, rows, labels, rowMask),
                                                  positions, alignmentParameters());
    }
    std::vector<float> perPosition(std::size_t(mask.size(0)), std::numeric_limits<float>::quiet_NaN());
    double sum = 0;
    int n = 0;
    for (std::size_t j = 0; j < positions.size() && j < cosines.size(); ++j) {
        perPosition[std::size_t(positions[j])] = cosines[j];
        if (std::isfinite(cosines[j])) {
            sum += cosines[j];
            ++n;
        }
    }
    m_writer->addTokenDiagnostic(m_runId, step, 0, "param_cosine", perPosition);
    log("diag/align/param_cosine", step, n ? sum / n : std::numeric_limits<double>::quiet_NaN());
}

void Trainer::train(RunResult &result)
{
    // Resume: continue from the newest student checkpoint of this run, if any.
    std::string resumePath;
    if (auto reader = StoreReader::open(m_options.storePath); reader.ok()) {
        if (auto cps = reader.value()->checkpoints(m_runId); cps.ok()) {
            std::int64_t newest = -1;
            for (const auto &c : cps.value())
                if (c.kind == "student" && c.step > newest) {
                    newest = c.step;
                    resumePath = c.path;
                }
        }
    }

    for (auto &t : m_teachers) {
        if (t.plan.source == "train")
            trainTeacher(t);
        if (cancelled()) {
            result.status = RunStatus::Cancelled;
            return;
        }
        t.model->to(m_device);
        t.model->setTraining(false);
        for (auto &p : t.model->parameters())
            p.set_requires_grad(false);
    }
    buildTopkCache();
    train::applyThreadPlan(m_threads);
    setupStudent();
    if (!resumePath.empty())
        restoreCheckpoint(resumePath);
    if (m_resuming) {
        // Rows written after the checkpoint by the interrupted attempt are rewritten by this
        // one; dropping them first keeps no stale tail (the teacher curves stay).
        if (auto st = m_writer->discardAfter(m_runId, m_startStep - 1, "teacher/"); !st.ok())
            throw RunFailure(st.error().message);
    }

    const std::int64_t B = m_plan.batchSize, T = m_plan.seqLen, total = m_plan.steps;
    const bool wantStudentHidden = m_plan.needsStudentHidden();
    m_student->train(true);
    double smoothedStep = 0;
    std::int64_t lastStep = m_startStep - 1;
    std::map<std::string, double> lastEval;
    data::Batch nextBatch;
    auto isOnPolicy = [this](std::int64_t step) {
        return m_plan.onPolicyFraction > 0
               && uniformAt(m_plan.seed, step, 0x0b9c) < m_plan.onPolicyFraction;
    };

    for (std::int64_t step = m_startStep; step < total; ++step) {
        if (!waitWhilePaused() || cancelled()) {
            m_pass.drain();
            if (lastStep >= m_startStep)
                saveCheckpoint(lastStep);
            result.status = RunStatus::Cancelled;
            result.steps = lastStep + 1;
            return;
        }
        const auto stepStart = Clock::now();
        const double lr = m_plan.optimizer.lrAt(step, total);
        for (auto &group : m_optimizer->param_groups())
            group.options().set_lr(lr);

        auto batch = m_passStep == step ? nextBatch
                                         : m_data->trainBatch(step, B, std::uint64_t(m_plan.seed));
        const bool onPolicy = isOnPolicy(step);
        if (onPolicy)
            batch = onPolicyBatch(batch, step);
        auto inputs = batch.inputs.to(m_device);
        auto targets = batch.targets.to(m_device).reshape({-1});
        auto mask = batch.mask.to(m_device).reshape({-1});

        TeacherOutputs teacherOut = teacherPass(inputs, onPolicy);
        m_passStep = -1;
        // The next step's batch is known now (unless the student samples it): its teacher pass
        // runs beside this step's student.
        if (m_threads.overlap && step + 1 < total && !isOnPolicy(step + 1)
            && !teachersFor(false).empty()) {
            nextBatch = m_data->trainBatch(step + 1, B, std::uint64_t(m_plan.seed));
            startTeacherPass(nextBatch.inputs.to(m_device), false);
            m_passStep = step + 1;
        }
        auto studentOut = m_student->forward(inputs, wantStudentHidden);
        auto sLogits = studentOut.logits.reshape({-1, studentOut.logits.size(-1)});

        torch::Tensor totalLoss = torch::zeros({}, sLogits.options());
        std::map<std::string, double> termValues;
        for (const auto &term : m_plan.terms) {
            const auto *entry = losses::find(term.kind);
            losses::LossInputs in;
            in.studentLogits = sLogits;
            in.labels = targets;
            // Supervised terms do not apply to the student's own samples.
            in.mask = (onPolicy && entry->needsLabels) ? torch::zeros_like(mask) : mask;
            losses::LossConfig cfg = term.config;
            cfg.temperature = term.temperature.at(step);
            if (term.teacher != kInvalidNode && teacherOut.count(term.teacher)) {
                auto &tl = teacherOut.at(term.teacher).logits;
                in.teacherLogits = tl.reshape({-1, tl.size(-1)});
            }
            if (entry->needsTopk) {
                if (m_topk && !onPolicy) {
                    auto [lp, ix] = data::gatherTopK(*m_topk, batch.indices);
                    in.topkLogProbs = lp.to(m_device).reshape({-1, lp.size(-1)});
                    in.topkIndices = ix.to(m_device).reshape({-1, ix.size(-1)});
                } else {
                    auto [lp, ix] = losses::topkFromLogits(in.teacherLogits, cfg.topK, cfg.temperature);
                    in.topkLogProbs = lp;
                    in.topkIndices = ix;
                }
            }
            if (entry->needsHidden) {
                in.studentHidden = hiddenFor(term.studentHidden, studentOut);
                in.teacherHidden = hiddenFor(term.teacherHidden, teacherOut.at(term.teacherHidden.model));
            }
            if (term.kind == "taid")
                cfg.taidT = m_taid.at(term.node).state.t;
            auto value = entry->fn(in, cfg);
            const double v = value.item<double>();
            if (!std::isfinite(v))
                throw RunFailure("step " + std::to_string(step) + ": loss term '" + term.label
                                 + "' (" + term.kind + ") is " + (std::isnan(v) ? "NaN" : "infinite"));
            termValues[term.label] = v;
            const double w = term.weight.at(step);
            totalLoss = totalLoss + w * value;
            log("train/term/" + term.label, step, v);
            if (term.weight.linear)
                log("train/weight/" + term.label, step, w);
            if (term.temperature.linear)
                log("train/temperature/" + term.label, step, cfg.temperature);
            if (term.kind == "taid") {
                log("train/taid_t/" + term.label, step, cfg.taidT);
                auto &rt = m_taid.at(term.node);
                losses::taidUpdate(rt.state, v, step, total, term.taidStart, term.taidEnd,
                                   term.taidAlpha, term.taidMomentum);
            }
        }
        totalLoss = totalLoss * m_plan.combineScale;
        const double lossValue = totalLoss.item<double>();
        if (!std::isfinite(lossValue))
            throw RunFailure("step " + std::to_string(step) + ": the total loss is not finite");

        m_optimizer->zero_grad();
        totalLoss.backward();
        std::vector<torch::Tensor> params;
        for (auto &group : m_optimizer->param_groups())
            for (auto &p : group.params())
                params.push_back(p);
        double gradNorm = 0;
        if (m_plan.optimizer.gradClip > 0)
            gradNorm = torch::nn::utils::clip_grad_norm_(params, m_plan.optimizer.gradClip);
        else
            gradNorm = torch::nn::utils::clip_grad_norm_(params, 1e30);
        if (!std::isfinite(gradNorm))
            throw RunFailure("step " + std::to_string(step) + ": the gradient norm is not finite");
        m_optimizer->step();

        const double dt = secondsSince(stepStart);
        smoothedStep = step == m_startStep ? dt : 0.9 * smoothedStep + 0.1 * dt;
        const double tokensPerSecond = double(B * T) / std::max(dt, 1e-9);
        log("train/loss", step, lossValue);
        log("train/lr", step, lr);
        log("train/grad_norm", step, gradNorm);
        log("train/tokens_per_s", step, tokensPerSecond);
        if (m_plan.onPolicyFraction > 0)
            log("train/on_policy", step, onPolicy ? 1.0 : 0.0);
        m_writer->setLastStep(m_runId, step);
        lastStep = step;

        const bool last = step + 1 == total;
        if (last || (m_plan.evalInterval > 0 && (step + 1) % m_plan.evalInterval == 0))
            lastEval = evaluate(step);
        if (last || (m_plan.checkpointInterval > 0 && (step + 1) % m_plan.checkpointInterval == 0))
            saveCheckpoint(step);
        flushOrThrow();

        Progress p;
        p.phase = "student";
        p.step = step + 1;
        p.totalSteps = total;
        p.loss = lossValue;
        p.tokensPerSecond = double(B * T) / std::max(smoothedStep, 1e-9);
        p.etaSeconds = smoothedStep * double(total - step - 1);
        p.elapsedSeconds = secondsSince(m_t0);
        m_progress.report(p, last);
    }
    result.status = RunStatus::Finished;
    result.steps = total;
    if (lastEval.empty() && total > 0)
        lastEval = evaluate(total - 1);
    result.finalMetrics = lastEval;
}

} // namespace

Result<RunResult> runExperiment(const Graph &graph, const RunOptions &options,
                                const ProgressCallback &progress, RunControl *control)
{
    auto g = applyOverrides(graph, options);
    if (!g.ok())
        return g.error();
    auto plan = compilePlan(g.value());
    if (!plan.ok())
        return plan.error();
    Trainer trainer(plan.value(), graphToJson(g.value()), options, progress, control);
    if (auto st = trainer.prepare(); !st.ok())
        return st.error();
    return trainer.run(0);
}

Result<RunResult> resumeRun(RunId run, const RunOptions &options, const ProgressCallback &progress,
                            RunControl *control)
{
    auto reader = StoreReader::open(options.storePath);
    if (!reader.ok())
        return reader.error();
    auto info = reader.value()->run(run);
    if (!info.ok())
        return info.error();
    if (info.value().status == RunStatus::Finished)
        return Result<RunResult>::failure("bad-input", "run " + std::to_string(run)
                                                           + " is already finished");
    if (info.value().status == RunStatus::Running)
        return Result<RunResult>::failure("bad-input", "run " + std::to_string(run)
                                                           + " is still running in another process");
    auto graph = graphFromJson(info.value().graphJson, "run " + std::to_string(run));
    if (!graph.ok())
        return graph.error();
    auto plan = compilePlan(graph.value());
    if (!plan.ok())
        return plan.error();
    RunOptions opts = options;
    opts.name = info.value().name;
    Trainer trainer(plan.value(), info.value().graphJson, opts, progress, control);
    if (auto st = trainer.prepare(); !st.ok())
        return st.error();
    return trainer.run(run);
}

} // namespace distillery::core
