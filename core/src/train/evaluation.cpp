#include "train/evaluation.h"
#include <spdlog/spdlog.h>

namespace distillery::core::train {

// Means over the counted validation tokens:
//   eval/student_nll = −log p_S(y), eval/student_acc = [argmax p_S = y],
//   eval/teacher_nll, eval/teacher_acc, eval/kl_teacher_student = KL(p_T ‖ p_S) (first teacher),
//   eval/kl_oracle_student = KL(p* ‖ p_S), eval/oracle_nll, eval/kl_oracle_teacher (oracle data).
// No validation data (validation_fraction = 0, or a corpus of one window): no metric at all,
// rather than means over nothing that read as zeros; the run says why once.
bool Evaluator::haveValidationData()
{
    if (m_ctx.data.validationSize() > 0)
        return true;
    if (!m_warned) {
        m_warned = true;
        const std::string why =
            "no validation data (" + m_ctx.data.describe() +
            "): evaluation metrics and diagnostics are not computed; hold out data with "
            "Dataset.validation_fraction > 0 or a longer corpus";
        spdlog::warn("run {}: {}", m_ctx.log.run(), why);
        m_ctx.log.meta("warning/evaluation", why);
    }
    return false;
}

Evaluation Evaluator::run(std::int64_t step)
{
    torch::NoGradGuard noGrad;
    const Plan &plan = m_ctx.plan;
    const data::Dataset &data = m_ctx.data;
    const torch::Device &device = m_ctx.device;
    Evaluation e;
    e.step = step;
    if (!haveValidationData())
        return e;
    for (auto *o : m_observers)
        o->beginEvaluation(step);
    m_student.setTraining(false);
    models::CausalLm *teacher = m_teachers.empty() ? nullptr : m_teachers.front().model.get();
    double sNll = 0, sAcc = 0, tNll = 0, tAcc = 0, klTS = 0, klOS = 0, klOT = 0, oNll = 0, count = 0;
    const std::int64_t batches = std::min(plan.evalBatches, data.validationBatchCount(plan.batchSize));
    for (std::int64_t b = 0; b < std::max<std::int64_t>(1, batches); ++b) {
        auto batch = data.validationBatch(b, plan.batchSize);
        auto inputs = batch.inputs.to(device);
        EvalBatch eb;
        eb.targets = batch.targets.to(device).reshape({-1});
        eb.mask = batch.mask.to(device).reshape({-1});
        const auto &targets = eb.targets;
        auto masked = [&](const torch::Tensor &x) { return (x * eb.mask).sum().item<double>(); };
        const double n = eb.mask.sum().item<double>();
        auto sLogp = torch::log_softmax(m_student.forward(inputs).logits.to(torch::kFloat), -1);
        eb.studentLogp = sLogp.reshape({-1, sLogp.size(-1)});
        sNll += masked(-eb.studentLogp.gather(1, targets.unsqueeze(1)).squeeze(1));
        sAcc += masked((eb.studentLogp.argmax(-1) == targets).to(torch::kFloat));
        torch::Tensor oracle, oracleLog;
        if (data.hasOracle()) {
            auto o = data.oracle()->nextTokenDistributions(batch.inputs).to(device);
            oracle = o.reshape({-1, o.size(-1)});
            oracleLog = torch::log(oracle.clamp_min(1e-30));
            klOS += masked((oracle * (oracleLog - eb.studentLogp)).sum(-1));
            oNll += masked(-oracleLog.gather(1, targets.unsqueeze(1)).squeeze(1));
        }
        if (teacher) {
            auto tLogp = torch::log_softmax(teacher->forward(inputs).logits.to(torch::kFloat), -1);
            eb.teacherLogp = tLogp.reshape({-1, tLogp.size(-1)});
            tNll += masked(-eb.teacherLogp.gather(1, targets.unsqueeze(1)).squeeze(1));
            tAcc += masked((eb.teacherLogp.argmax(-1) == targets).to(torch::kFloat));
            klTS += masked((eb.teacherLogp.exp() * (eb.teacherLogp - eb.studentLogp)).sum(-1));
            if (oracle.defined())
                klOT += masked((oracle * (oracleLog - eb.teacherLogp)).sum(-1));
        }
        for (auto *o : m_observers)
            o->onBatch(eb);
        count += n;
    }
    m_student.setTraining(true);
    if (count <= 0)
        return e; // every position masked: nothing to average
    auto &m = e.metrics;
    m["eval/student_nll"] = sNll / count;
    m["eval/student_acc"] = sAcc / count;
    if (teacher) {
        m["eval/teacher_nll"] = tNll / count;
        m["eval/teacher_acc"] = tAcc / count;
        m["eval/kl_teacher_student"] = klTS / count;
    }
    if (data.hasOracle()) {
        m["eval/kl_oracle_student"] = klOS / count;
        m["eval/oracle_nll"] = oNll / count;
        if (teacher)
            m["eval/kl_oracle_teacher"] = klOT / count;
    }
    for (auto *o : m_observers)
        o->onEvaluation(e);
    for (const auto &[k, v] : m)
        m_ctx.log.scalar(k, step, v);
    m_ctx.log.flush(true);
    return e;
}

} // namespace distillery::core::train
