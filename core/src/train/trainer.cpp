// A run: setup (data, teachers, store), the teachers' own phase, then the student's step loop
// with evaluation, checkpoints, resume, cancel/pause and progress. The work of each phase lives
// in its own unit (teachers, teacher pass, objective, evaluation, diagnostics, sampling,
// training state); this file holds the order of things.

#include "distillery/core/blas.h"
#include "distillery/core/errors.h"
#include "distillery/core/files.h"
#include "distillery/core/trainer.h"

#include "train/diagnosticsrunner.h"
#include "train/evaluation.h"
#include "train/objective.h"
#include "train/overlap.h"
#include "train/sampling.h"
#include "train/teacherpass.h"
#include "train/teachers.h"

#include <thread>
#include "train/trainingstate.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>

namespace distillery::core {

namespace fs = std::filesystem;
using namespace distillery::core::train;

namespace {

// Milliseconds of the parts of one student step, stored as perf/* series.
struct StepTimes
{
    double teacher = 0, teacherWait = 0, forward = 0, backward = 0, optimizer = 0, total = 0;
};

double msBetween(Clock::time_point a, Clock::time_point b)
{
    return std::chrono::duration<double, std::milli>(b - a).count();
}

class Trainer
{
public:
    Trainer(Plan plan, std::string graphJson, RunOptions options, const ProgressCallback &progress,
            RunControl *control)
        : m_plan(std::move(plan))
        , m_graphJson(std::move(graphJson))
        , m_options(std::move(options))
        , m_progress(progress, Clock::now())
        , m_control(control)
    {}

    // Everything that can be wrong with the input, checked before a run row exists.
    Status prepare();
    // Creates (or reopens) the run and trains. Never throws.
    // An Error when nothing was changed: the run could not be created, or a resume could not
    // start (the run is left as it was).
    Result<RunResult> run(RunId resumeFrom);

private:
    Status openRun(RunId resumeFrom);
    void train(RunResult &result);
    // The student's steps from state.firstStep on; returns the last evaluation.
    void studentLoop(RunContext &ctx, TrainingState &state, RunResult &result);
    std::string newestStudentCheckpoint() const;
    // `final`: the last step of the run; the student model is then registered (kind "model")
    // and a failure to write it fails the run.
    void saveCheckpoint(const RunContext &ctx, const TrainingState &state, std::int64_t step,
                        bool final = false);

    Plan m_plan;
    std::string m_graphJson;
    RunOptions m_options;
    ProgressSink m_progress;
    RunControl *m_control;
    torch::Device m_device{torch::kCPU};
    std::string m_deviceName = "cpu";
    std::shared_ptr<data::Dataset> m_data;
    std::vector<Teacher> m_teachers;
    std::unique_ptr<RunWriter> m_writer;
    RunId m_runId = 0;
    bool m_resuming = false;
    bool m_resumed = false;    // a resume got past restoring its state
    std::string m_resumeFrom;  // the checkpoint a resume continues from
    std::vector<std::string> m_warnings; // found before the run existed; stored in its meta
    fs::path m_artifacts;
    ThreadPlan m_threads;
    std::optional<data::TopKCache> m_topk;
};

Status Trainer::prepare()
{
    if (m_plan.device == "cuda" && !cudaAvailable())
        return Status::failure(errc::kNoCuda, "device 'cuda' was requested but CUDA is not available "
                                          "in this build or on this machine (use auto or cpu)");
    if (m_plan.device == "cuda" || (m_plan.device == "auto" && cudaAvailable())) {
        m_device = torch::Device(torch::kCUDA, 0);
        m_deviceName = "cuda:0";
    }
    for (const auto &t : m_plan.teachers)
        if (t.precision == "fp16" && !m_device.is_cuda())
            return Status::failure(errc::kBadOption,
                                   "teacher '" + t.label + "': precision fp16 needs CUDA (LibTorch's CPU "
                                   "kernels have no float16 matrix products); on the CPU use bf16, which "
                                   "halves the memory as well");
    // More threads than cores only makes every thread wait for the others (1024 threads ran
    // 400 times slower than 2): the request is capped at the machine's cores, with a warning.
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    if (m_plan.threads > cores) {
        m_warnings.push_back("Settings.threads = " + std::to_string(m_plan.threads) +
                             " is more than this machine's " + std::to_string(cores) +
                             " cores; using " + std::to_string(cores));
        spdlog::warn("{}", m_warnings.back());
        m_plan.threads = cores;
    }
    m_threads = planThreads(m_plan.threads, m_device.is_cuda(), !m_plan.teachers.empty());
    if (m_options.overlapTeacher && !*m_options.overlapTeacher)
        m_threads = planThreads(m_plan.threads, m_device.is_cuda(), false);
    // Teacher training and the top-k cache run alone: all cores for them (see planThreads).
    applyThreadPlan(planThreads(m_plan.threads, m_device.is_cuda(), false));

    auto dataset = data::makeDataset(m_plan.dataset);
    if (!dataset.ok())
        return dataset.error();
    m_data = dataset.value();
    // A large folder takes a while: its tensors are the progress, and a cancel stops the load.
    const auto loadStart = Clock::now();
    auto teachers = loadTeachers(m_plan, *m_data, [&](const TeacherPlan &tp, std::int64_t done, std::int64_t total) {
        Progress p;
        p.phase = "loading teacher '" + tp.label + "'";
        p.step = done;
        p.totalSteps = total;
        const double seconds = secondsSince(loadStart);
        p.etaSeconds = done > 0 ? seconds / double(done) * double(total - done) : 0;
        m_progress.report(p);
        return !(m_control && m_control->cancelRequested());
    });
    if (!teachers.ok())
        return teachers.error();
    m_teachers = std::move(teachers.value());

    if (m_options.storePath.empty())
        return Status::failure(errc::kBadOption, "no run store given (--store FILE)");
    auto writer = RunWriter::open(m_options.storePath);
    if (!writer.ok())
        return writer.error();
    m_writer = std::move(writer.value());
    return okStatus();
}

Status Trainer::openRun(RunId resumeFrom)
{
    if (resumeFrom > 0) {
        m_runId = resumeFrom;
        m_resuming = true;
        // Everything a resume needs is checked before the run is claimed: a resume that cannot
        // start leaves the run as it was.
        m_resumeFrom = newestStudentCheckpoint();
        if (!m_resumeFrom.empty())
            if (auto problem = TrainingState::checkReadable(m_resumeFrom); !problem.empty())
                return Status::failure(errc::kBadCheckpoint,
                                       "cannot resume run " + std::to_string(resumeFrom) + ": " +
                                           problem + "; the run is left as it was");
        return m_writer->reopenRun(resumeFrom);
    }
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
    nr.group = m_options.group;
    auto id = m_writer->createRun(nr);
    if (!id.ok())
        return id.error();
    m_runId = id.value();
    return okStatus();
}

Result<RunResult> Trainer::run(RunId resumeFrom)
{
    RunResult result;
    result.device = m_deviceName;
    const auto t0 = Clock::now();
    if (auto st = openRun(resumeFrom); !st.ok())
        return st.error();
    result.runId = m_runId;
    m_progress.setRun(m_runId);
    // Absolute, so that the run never depends on the current directory.
    std::error_code ec;
    m_artifacts = (m_options.artifactsDir.empty() ? fs::path(defaultArtifactsFolder(m_options.storePath))
                                                  : fs::absolute(m_options.artifactsDir, ec))
                  / ("run-" + std::to_string(m_runId));

    std::string error;
    try {
        train(result);
    } catch (const c10::Error &e) {
        error = std::string("LibTorch error: ") + e.what_without_backtrace();
    } catch (const std::exception &e) {
        error = e.what();
    }
    if (!error.empty() && m_resuming && !m_resumed) {
        // The resume failed before training went on: the run is given back as it was.
        error = "cannot resume run " + std::to_string(m_runId) + ": " + error;
        auto released = m_writer->releaseRun(m_runId);
        if (released.ok())
            return Error{errc::kBadCheckpoint, error + "; the run is left as it was"};
        error += "; " + released.error().message;
    }
    if (!error.empty()) {
        result.status = RunStatus::Failed;
        result.error = error;
        spdlog::error("run {} failed: {}", m_runId, error);
    }
    result.seconds = secondsSince(t0);
    auto st = m_writer->finishRun(m_runId, result.status, result.error);
    if (!st.ok() && result.error.empty())
        result.error = st.error().message;
    return result;
}

std::string Trainer::newestStudentCheckpoint() const
{
    std::string path;
    if (auto reader = StoreReader::open(m_options.storePath); reader.ok())
        if (auto cps = reader.value()->checkpoints(m_runId); cps.ok()) {
            std::int64_t newest = -1;
            for (const auto &c : cps.value())
                if (c.kind == "student" && c.step > newest) {
                    newest = c.step;
                    path = c.path;
                }
        }
    return path;
}

void Trainer::train(RunResult &result)
{
    std::error_code ec;
    fs::create_directories(m_artifacts, ec);
    if (ec)
        throw RunFailure("cannot create the artifacts directory " + m_artifacts.string() + ": "
                         + ec.message());
    RunLog log(*m_writer, m_runId);
    RunContext ctx{m_plan, m_device, *m_data, log, m_progress, m_control, m_artifacts,
                   m_options.storePath};
    log.meta("threads", std::to_string(m_threads.total) + " threads; student phase: intra-op "
                            + std::to_string(m_threads.intraOp) + ", OpenBLAS "
                            + std::to_string(m_threads.blas)
                            + (m_threads.overlap ? ", teacher pass overlapped on a second thread" : ""));
    log.meta("blas", describeBlas());
    for (std::size_t i = 0; i < m_warnings.size(); ++i)
        log.meta("warning/setup" + (i ? "." + std::to_string(i + 1) : std::string()), m_warnings[i]);
    log.meta("dataset", m_data->describe());
    log.meta("artifacts", storeRelativePath(m_options.storePath, m_artifacts.string()));
    // A process killed while writing a file leaves its temporary file behind.
    removeStaleTemporaryFiles(m_artifacts.string());
    // Resume: continue from the newest student checkpoint of this run (checked by openRun).
    const std::string resumePath = m_resumeFrom;

    for (auto &t : m_teachers) {
        if (t.plan.source == "train") {
            if (!trainTeacher(ctx, t, &result.error)) {
                result.status = RunStatus::Cancelled;
                return;
            }
            // Trained in float32; distilled from in its precision.
            if (auto st = t.model->setPrecision(teacherDtype(t.plan)); !st.ok())
                throw std::runtime_error(st.error().message);
        }
        t.model->to(m_device);
        t.model->freeze();
    }
    m_topk = buildTopkCache(ctx, m_teachers);
    if (ctx.cancelled()) {
        result.status = RunStatus::Cancelled;
        return;
    }
    applyThreadPlan(m_threads);
    TrainingState state(m_plan, m_teachers, m_device);
    if (!resumePath.empty())
        state.restore(resumePath, m_device);
    m_resumed = true;
    // Rows written after the checkpoint by the interrupted attempt are rewritten by this one;
    // dropping them first keeps no stale tail (the teacher curves stay).
    if (m_resuming)
        log.discardAfter(state.firstStep, "teacher/");
    studentLoop(ctx, state, result);
}

void Trainer::saveCheckpoint(const RunContext &ctx, const TrainingState &state, std::int64_t step,
                             bool final)
{
    const std::string path = ctx.artifact("step-" + std::to_string(step) + ".pt");
    state.save(path, step);
    ctx.log.checkpoint(step, path, "student");
    // The student itself, loadable as a built-in checkpoint (teacher source = checkpoint).
    const std::string model = ctx.artifact("student.pt");
    if (auto st = state.student().save(model); !st.ok()) {
        if (final)
            throw RunFailure("cannot write the trained student: " + st.error().message);
        spdlog::warn("run {}: {}", m_runId, st.error().message);
    } else if (final) {
        ctx.log.checkpoint(step, model, "model");
    }
}

void Trainer::studentLoop(RunContext &ctx, TrainingState &state, RunResult &result)
{
    const std::int64_t B = m_plan.batchSize, T = m_plan.seqLen, total = m_plan.steps;
    models::CausalLm &student = state.student();
    Objective objective(m_plan, state);
    TeacherPass teacherPass(m_plan, m_teachers, m_device, m_threads.overlap, m_topk.has_value());
    Evaluator evaluator(ctx, student, m_teachers);
    std::optional<DiagnosticsRunner> diagnostics;
    if (m_plan.diagnostics.enabled) {
        diagnostics.emplace(ctx, state, m_teachers, objective);
        evaluator.addObserver(*diagnostics);
    }
    const bool wantStudentHidden = m_plan.needsStudentHidden();
    auto isOnPolicy = [this](std::int64_t step) {
        return m_plan.onPolicyFraction > 0
               && uniformAt(m_plan.seed, step, 0x0b9c) < m_plan.onPolicyFraction;
    };
    auto batchAt = [&](std::int64_t step) {
        return m_data->trainBatch(step, B, std::uint64_t(m_plan.seed));
    };

    student.setTraining(true);
    double smoothedStep = 0;
    // `step` indexes the update (batch, learning rate, schedules); everything stored is
    // numbered by `done`, the updates completed: step 1 is the first, step-N.pt holds N.
    std::int64_t stepsDone = state.firstStep;
    std::map<std::string, double> lastEval;
    data::Batch nextBatch;
    for (std::int64_t step = state.firstStep; step < total; ++step) {
        if (!ctx.waitWhilePaused() || ctx.cancelled()) {
            teacherPass.drain();
            if (stepsDone > state.firstStep)
                saveCheckpoint(ctx, state, stepsDone);
            result.status = RunStatus::Cancelled;
            result.steps = stepsDone;
            result.error = "cancelled at step " + std::to_string(stepsDone) + " of "
                           + std::to_string(total)
                           + (stepsDone > 0 ? "; a resume continues from step-" + std::to_string(stepsDone) + ".pt"
                                            : "");
            return;
        }
        const std::int64_t done = step + 1;
        StepTimes times;
        const auto stepStart = Clock::now();
        const double lr = m_plan.optimizer.lrAt(step, total);
        state.setLearningRate(lr);

        auto batch = teacherPass.prefetched(step) ? nextBatch : batchAt(step);
        const bool onPolicy = isOnPolicy(step);
        if (onPolicy)
            batch = onPolicyBatch(student, *m_data, m_plan, batch, step, m_device);
        auto inputs = batch.inputs.to(m_device);

        const auto waitStart = Clock::now();
        const TeacherOutputs teacherOut = teacherPass.run(step, inputs, onPolicy);
        times.teacherWait = msBetween(waitStart, Clock::now());
        times.teacher = teacherPass.lastPassMs();
        // The next step's batch is known now (unless the student samples it): its teacher pass
        // runs beside this step's student.
        if (m_threads.overlap && step + 1 < total && !isOnPolicy(step + 1) && teacherPass.needed(false)) {
            nextBatch = batchAt(step + 1);
            teacherPass.prefetch(step + 1, nextBatch.inputs.to(m_device));
        }

        const auto forwardStart = Clock::now();
        models::ForwardOptions forward;
        forward.hidden = wantStudentHidden;
        const models::LmOutput studentOut = student.forward(inputs, forward);
        ObjectiveInputs in;
        in.studentLogits = studentOut.logits.reshape({-1, studentOut.logits.size(-1)});
        in.labels = batch.targets.to(m_device).reshape({-1});
        in.mask = batch.mask.to(m_device).reshape({-1});
        for (const auto &[node, out] : teacherOut)
            in.teacherLogits[node] = out.logits.reshape({-1, out.logits.size(-1)});
        if (m_topk && !onPolicy) {
            auto [lp, ix] = data::gatherTopK(*m_topk, batch.indices);
            in.cachedTopk = std::make_pair(lp.to(m_device).reshape({-1, lp.size(-1)}),
                                           ix.to(m_device).reshape({-1, ix.size(-1)}));
        }
        in.student = &studentOut;
        in.teachers = &teacherOut;
        in.onPolicy = onPolicy;
        const ObjectiveValue value = objective.compute(in, step);
        std::vector<double> numbers;
        for (const TermValue &tv : value.terms) {
            const TermPlan &term = *tv.term;
            const double v = tv.value.item<double>();
            if (!std::isfinite(v))
                throw RunFailure("step " + std::to_string(done) + ": loss term '" + term.label
                                 + "' (" + term.kind + ") is " + (std::isnan(v) ? "NaN" : "infinite"));
            numbers.push_back(v);
            ctx.log.scalar("train/term/" + term.label, done, v);
            if (term.weight.linear)
                ctx.log.scalar("train/weight/" + term.label, done, tv.weight);
            if (term.temperature.linear)
                ctx.log.scalar("train/temperature/" + term.label, done, tv.temperature);
            if (term.isTaid())
                ctx.log.scalar("train/taid_t/" + term.label, done, tv.taidT);
        }
        objective.afterStep(value, numbers, step);
        const double lossValue = value.total.item<double>();
        if (!std::isfinite(lossValue))
            throw RunFailure("step " + std::to_string(done) + ": the total loss is not finite");

        const auto backwardStart = Clock::now();
        times.forward = msBetween(forwardStart, backwardStart);
        state.optimizer().zero_grad();
        value.total.backward();
        const double gradNorm = torch::nn::utils::clip_grad_norm_(
            state.parameters(), m_plan.optimizer.gradClip > 0 ? m_plan.optimizer.gradClip : 1e30);
        if (!std::isfinite(gradNorm))
            throw RunFailure("step " + std::to_string(done) + ": the gradient norm is not finite");
        const auto optimizerStart = Clock::now();
        times.backward = msBetween(backwardStart, optimizerStart);
        state.optimizer().step();
        const auto stepEnd = Clock::now();
        times.optimizer = msBetween(optimizerStart, stepEnd);
        times.total = msBetween(stepStart, stepEnd);

        const double dt = times.total / 1e3;
        smoothedStep = step == state.firstStep ? dt : 0.9 * smoothedStep + 0.1 * dt;
        ctx.log.scalar("train/loss", done, lossValue);
        ctx.log.scalar("train/lr", done, lr);
        ctx.log.scalar("train/grad_norm", done, gradNorm);
        ctx.log.scalar("train/tokens_per_s", done, double(B * T) / std::max(dt, 1e-9));
        if (m_plan.onPolicyFraction > 0)
            ctx.log.scalar("train/on_policy", done, onPolicy ? 1.0 : 0.0);
        ctx.log.scalar("perf/step_ms", done, times.total);
        ctx.log.scalar("perf/teacher_ms", done, times.teacher);
        ctx.log.scalar("perf/teacher_wait_ms", done, times.teacherWait);
        ctx.log.scalar("perf/forward_ms", done, times.forward);
        ctx.log.scalar("perf/backward_ms", done, times.backward);
        ctx.log.scalar("perf/optimizer_ms", done, times.optimizer);
        ctx.log.lastStep(done);
        stepsDone = done;

        const bool last = done == total;
        if (last || (m_plan.evalInterval > 0 && done % m_plan.evalInterval == 0))
            lastEval = evaluator.run(done).metrics;
        if (last || (m_plan.checkpointInterval > 0 && done % m_plan.checkpointInterval == 0))
            saveCheckpoint(ctx, state, done, last);
        ctx.log.flush();

        Progress p;
        p.phase = "student";
        p.step = done;
        p.totalSteps = total;
        p.loss = lossValue;
        p.tokensPerSecond = double(B * T) / std::max(smoothedStep, 1e-9);
        p.etaSeconds = smoothedStep * double(total - done);
        m_progress.report(p);
    }
    result.status = RunStatus::Finished;
    result.steps = total;
    if (lastEval.empty() && total > 0)
        lastEval = evaluator.run(total).metrics;
    result.finalMetrics = lastEval;
}

} // namespace

Result<RunResult> runExperiment(const Graph &graph, const RunOptions &options,
                                const ProgressCallback &progress, RunControl *control)
{
    auto overridden = applyOverrides(graph, options);
    if (!overridden.ok())
        return overridden.error();
    // The run compiles, and records, the graph with its files as absolute paths: the same
    // files are found whatever the current directory (also by a later resume).
    const Graph g = overridden.value().withResolvedPaths();
    auto plan = compilePlan(g);
    if (!plan.ok())
        return plan.error();
    Trainer trainer(plan.value(), graphToJson(g), options, progress, control);
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
        return Result<RunResult>::failure(errc::kInvalidInput, "run " + std::to_string(run)
                                                           + " is already finished");
    if (info.value().status == RunStatus::Running)
        return Result<RunResult>::failure(
            "store.run_active", "run " + std::to_string(run) + " is still being written by pid "
                                    + std::to_string(info.value().pid)
                                    + (info.value().host.empty() ? "" : " on " + info.value().host)
                                    + "; only one process can write a run");
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
