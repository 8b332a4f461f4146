#include "train/diagnosticsrunner.h"

#include "distillery/core/diversity.h"
#include "train/sampling.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <limits>

namespace distillery::core::train {

DiagnosticsRunner::DiagnosticsRunner(const RunContext &ctx, TrainingState &state,
                                     const std::vector<Teacher> &teachers, const Objective &objective)
    : m_ctx(ctx)
    , m_state(state)
    , m_teachers(teachers)
    , m_objective(objective)
    , m_plan(ctx.plan.diagnostics)
    , m_history(state.diagnostics)
{}

void DiagnosticsRunner::beginEvaluation(std::int64_t)
{
    m_studentCalibration = diagnostics::CalibrationAccumulator();
    m_teacherCalibration = diagnostics::CalibrationAccumulator();
    m_calibrationSeconds = m_studentEntropy = m_teacherEntropy = m_tokens = 0;
}

void DiagnosticsRunner::onBatch(const EvalBatch &b)
{
    if (m_plan.calibration) {
        const auto t0 = Clock::now();
        m_studentCalibration.add(b.studentLogp, b.targets, b.mask);
        if (b.teacherLogp.defined())
            m_teacherCalibration.add(b.teacherLogp, b.targets, b.mask);
        m_calibrationSeconds += secondsSince(t0);
    }
    if (b.teacherLogp.defined()) {
        const auto entropy = [&](const torch::Tensor &logp) {
            return (-(logp.exp() * logp).nan_to_num(0.0).sum(-1) * b.mask).sum().item<double>();
        };
        m_studentEntropy += entropy(b.studentLogp);
        m_teacherEntropy += entropy(b.teacherLogp);
    }
    m_tokens += b.mask.sum().item<double>();
}

void DiagnosticsRunner::onEvaluation(Evaluation &e)
{
    const std::int64_t step = e.step;
    const bool teacher = !m_teachers.empty();
    if (m_plan.calibration) {
        const auto t0 = Clock::now();
        storeCalibration(step, "student", m_studentCalibration.result(), e.metrics);
        if (teacher)
            storeCalibration(step, "teacher", m_teacherCalibration.result(), e.metrics);
        m_ctx.log.scalar("diag/seconds/calibration", step, m_calibrationSeconds + secondsSince(t0));
    }
    if (teacher) {
        // Mean next-token entropies on the evaluation tokens; a ratio below 1 means the
        // student is sharper than its teacher.
        const double count = std::max(m_tokens, 1.0);
        m_ctx.log.scalar("diag/diversity/student_entropy", step, m_studentEntropy / count);
        m_ctx.log.scalar("diag/diversity/teacher_entropy", step, m_teacherEntropy / count);
        m_ctx.log.scalar("diag/diversity/entropy_ratio", step,
                         m_teacherEntropy > 0 ? m_studentEntropy / m_teacherEntropy
                                              : std::numeric_limits<double>::quiet_NaN());
    }
    if (probeDue(step)) {
        m_history.lastProbeStep = step;
        if (m_plan.probeSamples > 0) {
            const auto t0 = Clock::now();
            probeAlignment(step);
            m_ctx.log.scalar("diag/seconds/alignment", step, secondsSince(t0));
        }
        if (m_plan.diversityPrompts > 0) {
            const auto t0 = Clock::now();
            probeDiversity(step);
            m_ctx.log.scalar("diag/seconds/diversity", step, secondsSince(t0));
        }
    }
    monitorHacking(step, e.metrics);
}

// Alignment and diversity at most every `interval` steps (0 = at every evaluation).
bool DiagnosticsRunner::probeDue(std::int64_t step) const
{
    return m_plan.interval <= 0 || m_history.lastProbeStep < 0
           || step - m_history.lastProbeStep >= m_plan.interval;
}

// Scalars eval/calibration/<who>/<measure>, and the reliability bins as three arrays of
// kCalibrationBins floats (token_diagnostics, sample 0): calibration/<who>/{count,confidence,accuracy}.
void DiagnosticsRunner::storeCalibration(std::int64_t step, const std::string &who,
                                         const Calibration &c, std::map<std::string, double> &metrics)
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
    m_ctx.log.tokens(step, 0, "calibration/" + who + "/count", count);
    m_ctx.log.tokens(step, 0, "calibration/" + who + "/confidence", confidence);
    m_ctx.log.tokens(step, 0, "calibration/" + who + "/accuracy", accuracy);
}

// Diversity of the student's samples: continuations of the first diversity_prompts validation
// prompts at temperature 1 (diag/diversity/...) and, when it differs, at the Diagnostics
// node's temperature (diag/diversity_temp/...); the samples' text goes to the samples table.
void DiagnosticsRunner::probeDiversity(std::int64_t step)
{
    const Plan &plan = m_ctx.plan;
    const auto &validation = m_ctx.data.validationSequences();
    const std::int64_t n = std::min<std::int64_t>(m_plan.diversityPrompts, validation.size(0));
    const std::int64_t P = std::min<std::int64_t>(plan.promptLen, plan.seqLen - 1);
    const std::int64_t total = std::min<std::int64_t>(P + m_plan.diversityLength, plan.seqLen);
    if (n <= 0 || total <= P)
        return;
    auto prompts = validation.slice(0, 0, n).slice(1, 0, P);
    std::vector<double> temperatures{1.0};
    if (std::abs(m_plan.diversityTemperature - 1.0) > 1e-9)
        temperatures.push_back(m_plan.diversityTemperature);
    for (std::size_t k = 0; k < temperatures.size(); ++k) {
        // The same random stream at every evaluation: changes come from the student only.
        auto gen = at::detail::createCPUGenerator(stepSeed(plan.seed, 0, 0xd1e5 + k));
        std::vector<std::vector<double>> probs;
        auto rows = sampleContinuations(m_state.student(), prompts, total, temperatures[k], gen,
                                        m_ctx.device, &probs);
        std::vector<TokenSequence> samples;
        for (std::int64_t i = 0; i < n; ++i) {
            auto row = rows[i].slice(0, P).contiguous();
            samples.emplace_back(row.data_ptr<std::int64_t>(), row.data_ptr<std::int64_t>() + row.numel());
        }
        const DiversityStats s = diversityStats(samples, probs);
        const std::string prefix = k == 0 ? "diag/diversity/" : "diag/diversity_temp/";
        for (const auto &[name, value] : {std::pair<const char *, double>{"distinct1", s.distinct1},
                                          {"distinct2", s.distinct2},
                                          {"distinct3", s.distinct3},
                                          {"self_bleu4", s.selfBleu4},
                                          {"unique_fraction", s.uniqueFraction},
                                          {"token_entropy", s.meanTokenEntropy},
                                          {"mean_length", s.meanLength}})
            m_ctx.log.scalar(prefix + name, step, value);
        if (k == 0 && !m_samplesDescribed) {
            // What a reader needs to mark the prompt in a stored sample.
            m_samplesDescribed = true;
            m_ctx.log.meta("samples/prompt_tokens", std::to_string(P));
            m_ctx.log.meta("samples/unit", m_ctx.data.hasOracle() ? "words" : "bytes");
        }
        if (k == 0)
            for (std::int64_t i = 0; i < n; ++i) {
                auto all = rows[i].contiguous();
                m_ctx.log.sample(step, int(i),
                                 m_ctx.data.decode({all.data_ptr<std::int64_t>(),
                                                    all.data_ptr<std::int64_t>() + all.numel()}));
            }
    }
}

// Teacher hacking (Tiapkin et al. 2025): KL(oracle‖student) turning upward while
// KL(teacher‖student) keeps falling, with power-law fits of both over the evaluations so far.
void DiagnosticsRunner::monitorHacking(std::int64_t step, const std::map<std::string, double> &metrics)
{
    auto oracle = metrics.find("eval/kl_oracle_student");
    auto teacher = metrics.find("eval/kl_teacher_student");
    if (oracle == metrics.end() || teacher == metrics.end())
        return;
    m_history.hackSteps.push_back(step);
    m_history.hackOracle.push_back(oracle->second);
    m_history.hackTeacher.push_back(teacher->second);
    auto report = detectTeacherHacking(m_history.hackSteps, m_history.hackOracle, m_history.hackTeacher);
    if (!report.ok())
        return;
    const auto &r = report.value();
    m_ctx.log.scalar("diag/hacking/flag", step, r.flagged ? 1.0 : 0.0);
    if (r.oracleFit.valid) {
        m_ctx.log.scalar("diag/hacking/oracle_exponent", step, r.oracleFit.b);
        m_ctx.log.scalar("diag/hacking/teacher_exponent", step, r.teacherFit.b);
    }
    if (r.flagged && !m_history.hackReported) {
        m_history.hackReported = true;
        m_ctx.log.meta("teacher_hacking_step", std::to_string(r.flaggedStep));
        spdlog::warn("run {}: teacher hacking: KL(oracle||student) rises after step {} while "
                     "KL(teacher||student) keeps falling",
                     m_ctx.log.run(), r.flaggedStep);
    }
}

} // namespace distillery::core::train
