// Gradient alignment on probe sequences: how well the run's objective points where the ideal
// loss (toward the oracle, or the true tokens) would, per token in logit space and at a few
// positions in parameter space.

#include "train/diagnosticsrunner.h"

#include "distillery/core/utf8.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <limits>

namespace distillery::core::train {

namespace {

// The index of the last update after `stepsDone` updates (for the weight and temperature
// schedules the probe's objective follows).
std::int64_t lastUpdate(std::int64_t stepsDone)
{
    return std::max<std::int64_t>(0, stepsDone - 1);
}

models::ParameterScope scopeOf(const std::string &name)
{
    if (name == "head")
        return models::ParameterScope::Head;
    if (name == "all")
        return models::ParameterScope::All;
    return models::ParameterScope::LastBlock;
}

// Mean of the finite values added.
struct FiniteMean
{
    double sum = 0;
    int count = 0;
    void add(double v)
    {
        if (std::isfinite(v)) {
            sum += v;
            ++count;
        }
    }
    double value() const { return count ? sum / count : std::numeric_limits<double>::quiet_NaN(); }
};

} // namespace

// The probe sequences once per run: the T inputs and the last target, so token t + 1 is what
// position t predicts; and how to show a token (bytes of text, or oracle symbol ids).
void DiagnosticsRunner::storeProbeTokens(const data::Batch &batch)
{
    if (m_history.probeTokensStored)
        return;
    for (std::int64_t i = 0; i < batch.inputs.size(0); ++i) {
        std::string tokens;
        auto row = torch::cat({batch.inputs[i], batch.targets[i].slice(0, -1)}).to(torch::kCPU);
        for (std::int64_t j = 0; j < row.size(0); ++j)
            tokens += (j ? "," : "") + std::to_string(row[j].item<std::int64_t>());
        m_ctx.log.meta("probe/" + std::to_string(i) + "/tokens", tokens);
        if (m_ctx.data.tokenizer()) {
            // BPE pieces as text, for the token view (a piece that splits a character shows U+FFFD).
            nlohmann::json pieces = nlohmann::json::array();
            for (std::int64_t j = 0; j < row.size(0); ++j)
                pieces.push_back(sanitizeUtf8(m_ctx.data.decode({row[j].item<std::int64_t>()})));
            m_ctx.log.meta("probe/" + std::to_string(i) + "/pieces", pieces.dump());
        }
    }
    // Every token's piece (up to 300,000), so that the top-k lists show text too; a piece of one
    // byte that is no character on its own shows as <0xAB>.
    if (const auto &tok = m_ctx.data.tokenizer(); tok && tok->vocabSize() <= 300000) {
        nlohmann::json pieces = nlohmann::json::array();
        for (std::int64_t id = 0; id < tok->vocabSize(); ++id) {
            const std::string piece = tok->piece(id);
            const auto b = piece.size() == 1 ? static_cast<unsigned char>(piece[0]) : 0;
            char hex[8];
            std::snprintf(hex, sizeof hex, "<0x%02X>", unsigned(b));
            pieces.push_back(piece.size() == 1 && (b >= 0x80 || (b < 0x20 && b != '\n' && b != '\t')) ? std::string(hex)
                                                                                                   : sanitizeUtf8(piece));
        }
        m_ctx.log.meta("probe/vocab_pieces", pieces.dump());
    }
    m_ctx.log.meta("probe/token_format", m_ctx.data.hasOracle() ? "ids" : m_ctx.data.tokenizer() ? "pieces" : "bytes");
    m_history.probeTokensStored = true;
}

// Per-token alignment on the first probe_samples validation sequences: every quantity of
// TokenAlignment per position into token_diagnostics, and their means as diag/align/* scalars.
void DiagnosticsRunner::probeAlignment(std::int64_t step)
{
    const std::int64_t n = std::min<std::int64_t>(m_plan.probeSamples,
                                                   m_ctx.data.validationSequences().size(0));
    if (n <= 0 || m_teachers.empty())
        return;
    auto batch = m_ctx.data.validationBatch(0, n);
    auto inputs = batch.inputs.to(m_ctx.device);
    models::CausalLm &student = m_state.student();
    torch::Tensor studentLogits;
    std::map<NodeId, torch::Tensor> teacherLogits;
    {
        torch::NoGradGuard noGrad;
        student.setTraining(false);
        studentLogits = student.forward(inputs).logits;
        student.setTraining(true);
        for (const auto &t : m_teachers)
            teacherLogits[t.plan.node] = t.model->forward(inputs).logits;
    }
    torch::Tensor oracle;
    if (m_ctx.data.hasOracle())
        oracle = m_ctx.data.oracle()->nextTokenDistributions(batch.inputs).to(m_ctx.device);
    const NodeId first = m_teachers.front().plan.node;
    storeProbeTokens(batch);

    FiniteMean cosine, cosineRight, cosineWrong;
    double kl = 0, agree = 0;
    std::map<std::string, std::array<FiniteMean, 3>> perTeacher; // cosine, kl, agreement
    for (std::int64_t i = 0; i < batch.inputs.size(0); ++i) {
        std::map<NodeId, torch::Tensor> rows;
        for (const auto &[node, logits] : teacherLogits)
            rows[node] = logits[i];
        auto labels = batch.targets[i].to(m_ctx.device);
        auto mask = batch.mask[i].to(m_ctx.device);
        const auto oracleRow = oracle.defined() ? oracle[i] : torch::Tensor();
        const TokenAlignment a = diagnostics::tokenAlignment(
            studentLogits[i], rows.at(first), labels, oracleRow,
            m_objective.ofLogits(lastUpdate(step), rows, labels, mask));
        for (const auto &[name, values] : alignmentQuantities(a))
            m_ctx.log.tokens(step, int(i), name, *values);
        for (const auto &[name, values] : alignmentTopTokens(a))
            m_ctx.log.tokens(step, int(i), name, *values);
        // With several teachers, each one's terms against the ideal gradient on their own.
        if (m_teachers.size() > 1)
            for (const auto &t : m_teachers) {
                const TokenAlignment ta = diagnostics::tokenAlignment(
                    studentLogits[i], rows.at(t.plan.node), labels, oracleRow,
                    m_objective.ofLogits(lastUpdate(step), rows, labels, mask, t.plan.node));
                auto &sums = perTeacher[t.plan.label];
                sums[0].add(ta.meanGradCosine);
                sums[1].add(ta.meanKl);
                sums[2].add(ta.meanTop1Agree);
            }
        cosine.add(a.meanGradCosine);
        cosineRight.add(a.meanGradCosineCorrect);
        cosineWrong.add(a.meanGradCosineIncorrect);
        kl += a.meanKl;
        agree += a.meanTop1Agree;
    }
    const double samples = double(batch.inputs.size(0));
    m_ctx.log.scalar("diag/align/grad_cosine", step, cosine.value());
    m_ctx.log.scalar("diag/align/grad_cosine_correct", step, cosineRight.value());
    m_ctx.log.scalar("diag/align/grad_cosine_incorrect", step, cosineWrong.value());
    m_ctx.log.scalar("diag/align/kl", step, kl / samples);
    m_ctx.log.scalar("diag/align/top1_agree", step, agree / samples);
    for (const auto &[label, sums] : perTeacher) {
        const std::string prefix = "diag/align/teacher/" + label + "/";
        m_ctx.log.scalar(prefix + "grad_cosine", step, sums[0].value());
        m_ctx.log.scalar(prefix + "kl", step, sums[1].value());
        m_ctx.log.scalar(prefix + "top1_agree", step, sums[2].value());
    }
    if (m_plan.paramTokens > 0) {
        const auto t0 = Clock::now();
        probeParameterAlignment(step, batch, teacherLogits, oracle);
        m_ctx.log.scalar("diag/seconds/param_alignment", step, secondsSince(t0));
    }
}

// Parameter-space alignment on param_tokens positions of the first probe sequence, spread
// evenly over its counted positions: per position the cosine between the gradients, w.r.t. the
// student's parameters in param_scope, of the objective's and the ideal loss's contributions
// there. Stored as the token_diagnostics array param_cosine (NaN at positions not probed) and
// its mean as diag/align/param_cosine.
void DiagnosticsRunner::probeParameterAlignment(std::int64_t step, const data::Batch &batch,
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
    const std::size_t k = std::min<std::size_t>(counted.size(), std::size_t(m_plan.paramTokens));
    std::vector<std::int64_t> positions;
    for (std::size_t j = 0; j < k; ++j)
        positions.push_back(counted[(2 * j + 1) * counted.size() / (2 * k)]);

    std::map<NodeId, torch::Tensor> rows;
    for (const auto &[node, logits] : teacherLogits)
        rows[node] = logits[0];
    auto labels = batch.targets[0].to(m_ctx.device);
    auto rowMask = batch.mask[0].to(m_ctx.device);
    models::CausalLm &student = m_state.student();
    std::vector<float> cosines;
    {
        torch::AutoGradMode enable(true);
        student.setTraining(false);
        auto logits = student.forward(batch.inputs.slice(0, 0, 1).to(m_ctx.device)).logits[0];
        student.setTraining(true);
        cosines = diagnostics::parameterAlignment(
            logits, labels, oracle.defined() ? oracle[0] : torch::Tensor(),
            m_objective.ofLogits(lastUpdate(step), rows, labels, rowMask), positions,
            student.parameters(scopeOf(m_plan.paramScope)));
    }
    std::vector<float> perPosition(std::size_t(mask.size(0)), std::numeric_limits<float>::quiet_NaN());
    FiniteMean mean;
    for (std::size_t j = 0; j < positions.size() && j < cosines.size(); ++j) {
        perPosition[std::size_t(positions[j])] = cosines[j];
        mean.add(cosines[j]);
    }
    m_ctx.log.tokens(step, 0, "param_cosine", perPosition);
    m_ctx.log.scalar("diag/align/param_cosine", step, mean.value());
}

} // namespace distillery::core::train
