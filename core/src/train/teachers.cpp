#include "train/teachers.h"

namespace distillery::core::train {

namespace {

Error teacherError(const TeacherPlan &t, const Error &e)
{
    return Error{e.code, "teacher '" + t.label + "': " + e.message};
}

Error badTeacher(const TeacherPlan &t, const std::string &code, const std::string &what)
{
    return Error{code, "teacher '" + t.label + "' (" + t.path + "): " + what};
}

} // namespace

torch::ScalarType teacherDtype(const TeacherPlan &plan)
{
    return plan.precision == "bf16" ? torch::kBFloat16 : plan.precision == "fp16" ? torch::kHalf : torch::kFloat;
}

Result<std::vector<Teacher>> loadTeachers(const Plan &plan, const data::Dataset &data, const LoadProgress &progress)
{
    std::vector<Teacher> teachers;
    for (const auto &tp : plan.teachers) {
        Teacher t;
        t.plan = tp;
        if (tp.source == "torchscript") {
            auto m = models::loadTorchScript(tp.path, data.vocab(),
                                             std::min<std::int64_t>(plan.seqLen, 16));
            if (!m.ok())
                return teacherError(tp, m.error());
            t.model = std::move(m.value());
            if (plan.needsTeacherHidden(tp.node) && t.model->info().hidden < 0)
                return badTeacher(tp, "bad-teacher",
                                  "a hidden-state loss needs hidden states, but forward returns "
                                  "only logits (return a tuple (logits, hidden...))");
        } else if (tp.source == "checkpoint" || tp.source == "hf") {
            models::LoadOptions options;
            options.dtype = teacherDtype(tp);
            if (progress)
                options.progress = [&](std::int64_t done, std::int64_t total) { return progress(tp, done, total); };
            auto m = tp.source == "hf" ? models::loadHfModel(tp.path, options) : models::loadCheckpoint(tp.path);
            if (!m.ok())
                return teacherError(tp, m.error());
            t.model = std::move(m.value());
            if (tp.source == "checkpoint")
                if (auto st = t.model->setPrecision(options.dtype); !st.ok())
                    return teacherError(tp, st.error());
            const ModelInfo &info = t.model->info();
            if (info.vocab != data.vocab())
                return badTeacher(tp, "vocab-mismatch",
                                  "vocabulary " + std::to_string(info.vocab)
                                      + ", but the dataset's is " + std::to_string(data.vocab()));
            if (info.maxLength > 0 && info.maxLength < plan.seqLen)
                return badTeacher(tp, "bad-teacher",
                                  "trained for sequences up to " + std::to_string(info.maxLength)
                                      + " tokens, the run uses seq_len "
                                      + std::to_string(plan.seqLen));
        }
        teachers.push_back(std::move(t));
    }
    return teachers;
}

} // namespace distillery::core::train
