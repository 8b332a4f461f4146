#include "distillery/core/losses.h"
#include "distillery/core/errors.h"

#include "losses/losses.h"

#include <cmath>
#include <exception>
#include <sstream>

namespace distillery::core {

namespace {

using R = Result<LossInspection>;

std::string number(double v)
{
    std::ostringstream s;
    s << v;
    return s.str();
}

R badParam(const std::string &message)
{
    return R::failure(errc::kBadParam, message);
}

std::string knownKinds()
{
    std::string names;
    for (const auto &k : lossKinds())
        names += (names.empty() ? "" : ", ") + k.name;
    return names;
}

// Empty when every value is finite, otherwise "<what>[i] is not finite (value)".
std::string nonFinite(const std::vector<double> &values, const std::string &what)
{
    for (std::size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i]))
            return what + "[" + std::to_string(i) + "] is not finite (" + number(values[i]) + ")";
    return {};
}

torch::Tensor row(const std::vector<double> &values)
{
    return torch::tensor(values, torch::kFloat64).reshape({1, -1});
}

std::vector<double> toVector(const torch::Tensor &t)
{
    auto c = t.detach().to(torch::kFloat64).contiguous().reshape({-1});
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

bool isInteger(double v)
{
    return std::floor(v) == v;
}

} // namespace

Result<LossInspection> inspectLoss(const std::string &kind,
                                   const std::map<std::string, double> &params,
                                   const std::vector<double> &teacherLogits,
                                   const std::vector<double> &studentLogits)
{
    const auto *entry = losses::find(kind);
    if (!entry)
        return R::failure(errc::kUnknownLoss,
                          "loss kind '" + kind + "' is unknown; expected one of: " + knownKinds());
    const LossKind &needs = *entry->kind;

    const std::string inputName = needs.needsHidden ? "hidden" : "logits";
    if (studentLogits.empty())
        return badParam("student " + inputName + ": expected at least one value, got none");
    const auto v = static_cast<std::int64_t>(studentLogits.size());
    const bool teacherOptional =
        !needs.needsTeacherLogits && !needs.needsTopk && !needs.needsHidden;
    if (teacherLogits.empty() && !teacherOptional)
        return badParam("teacher " + inputName + ": expected " + std::to_string(v) +
                        " values (as many as the student's), got none");
    if (!teacherLogits.empty() && teacherLogits.size() != studentLogits.size())
        return badParam("teacher " + inputName + ": expected " + std::to_string(v) +
                        " values (as many as the student's), got " +
                        std::to_string(teacherLogits.size()));
    if (auto e = nonFinite(studentLogits, "student " + inputName); !e.empty())
        return badParam(e + "; expected finite numbers");
    if (auto e = nonFinite(teacherLogits, "teacher " + inputName); !e.empty())
        return badParam(e + "; expected finite numbers");

    losses::LossConfig cfg;
    cfg.topK = static_cast<int>(std::min<std::int64_t>(cfg.topK, v));
    std::int64_t label = -1;
    for (const auto &[name, value] : params) {
        if (!std::isfinite(value))
            return badParam("parameter '" + name + "' is not finite (" + number(value) +
                            "); expected a finite number");
        const auto unit = [&](double &field) -> std::string {
            if (value < 0 || value > 1)
                return "parameter '" + name + "' = " + number(value) +
                       ": expected a value in [0, 1]";
            field = value;
            return {};
        };
        std::string problem;
        if (name == "temperature") {
            if (value <= 0)
                problem = "parameter 'temperature' = " + number(value) + ": expected a value > 0";
            cfg.temperature = value;
        } else if (name == "beta") {
            problem = unit(cfg.beta);
        } else if (name == "alpha") {
            problem = unit(cfg.alpha);
        } else if (name == "label_smoothing") {
            problem = unit(cfg.labelSmoothing);
        } else if (name == "taid_t") {
            problem = unit(cfg.taidT);
        } else if (name == "label") {
            if (!isInteger(value) || value < 0 || value >= double(v))
                problem = "parameter 'label' = " + number(value) +
                          ": expected the index of the true token, an integer in [0, " +
                          std::to_string(v - 1) + "]";
            label = static_cast<std::int64_t>(value);
        } else if (name == "top_k") {
            if (!isInteger(value) || value < 1 || value > double(v))
                problem = "parameter 'top_k' = " + number(value) + ": expected an integer in [1, " +
                          std::to_string(v) + "] (the vocabulary size)";
            cfg.topK = static_cast<int>(value);
        } else {
            problem = "parameter '" + name +
                      "' is unknown; expected temperature, beta, alpha, label_smoothing, label, "
                      "top_k or taid_t";
        }
        if (!problem.empty())
            return badParam(problem);
    }
    if (needs.needsLabels && label < 0)
        return badParam("parameter 'label' is missing: " + kind +
                        " needs the index of the true token, an integer in [0, " +
                        std::to_string(v - 1) + "]");

    try {
        auto student = row(studentLogits).requires_grad_(true);
        losses::LossInputs in;
        in.mask = torch::ones({1}, torch::kFloat64);
        torch::Tensor teacher;
        if (!teacherLogits.empty())
            teacher = row(teacherLogits);
        if (needs.needsHidden) {
            in.studentHidden = student;
            in.teacherHidden = teacher;
        } else {
            in.studentLogits = student;
            in.teacherLogits = teacher;
        }
        if (needs.needsLabels)
            in.labels = torch::tensor({label}, torch::kLong);
        if (needs.needsTopk) {
            auto [logProbs, indices] = losses::topkFromLogits(teacher, cfg.topK, cfg.temperature);
            in.topkLogProbs = logProbs;
            in.topkIndices = indices;
        }
        auto loss = entry->fn(in, cfg);
        loss.backward();

        LossInspection out;
        out.value = loss.item<double>();
        out.gradient = toVector(student.grad());
        if (!needs.needsHidden) {
            out.studentProbs = toVector(torch::softmax(student.detach() / cfg.temperature, -1));
            if (teacher.defined())
                out.teacherProbs = toVector(torch::softmax(teacher / cfg.temperature, -1));
        }
        return out;
    } catch (const c10::Error &e) {
        return R::failure(errc::kLossFailed, kind + ": " + e.what_without_backtrace());
    } catch (const std::exception &e) {
        return R::failure(errc::kLossFailed, kind + ": " + e.what());
    }
}

} // namespace distillery::core
