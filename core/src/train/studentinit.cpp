#include "train/studentinit.h"

#include "distillery/core/errors.h"

namespace distillery::core::train {

std::vector<std::int64_t> keptLayers(std::int64_t layers, std::int64_t stride)
{
    std::vector<std::int64_t> kept;
    for (std::int64_t i = 0; i < layers; i += std::max<std::int64_t>(1, stride))
        kept.push_back(i);
    return kept;
}

Result<std::unique_ptr<models::CausalLm>> makeStudent(const Plan &plan, const std::vector<Teacher> *teachers)
{
    using R = Result<std::unique_ptr<models::CausalLm>>;
    const StudentInit &init = plan.studentInit;
    if (init.kind == "hf") {
        auto loaded = models::loadHfModel(init.path);
        if (!loaded.ok())
            return Error{loaded.error().code, "Student init_path: " + loaded.error().message};
        return R(std::move(loaded.value()));
    }
    if (init.kind != "teacher-layers")
        return R(models::makeTransformer(plan.student));
    const TeacherPlan &tp = plan.teachers.at(init.teacher);
    std::unique_ptr<models::CausalLm> read; // the teacher's folder, when no ready teacher is given
    const models::CausalLm *from = nullptr;
    if (teachers) {
        from = teachers->at(init.teacher).model.get();
    } else if (tp.source == "hf") {
        auto loaded = models::loadHfModel(tp.path);
        if (!loaded.ok())
            return Error{loaded.error().code, "teacher '" + tp.label + "': " + loaded.error().message};
        read = std::move(loaded.value());
        from = read.get();
    } else {
        return R(models::makeTransformer(plan.student)); // the same shape as the trained teacher's copy
    }
    if (!from)
        return Error{errc::kInternal, "teacher '" + tp.label + "' is not ready for init 'teacher-layers'"};
    auto copy = from->withLayers(keptLayers(from->info().layers, init.stride));
    if (!copy)
        return Error{errc::kBadTeacher, "teacher '" + tp.label + "': init 'teacher-layers' copies built-in models "
                                        "and Hugging Face folders' models; this teacher is " + from->describe()};
    return R(std::move(copy));
}

} // namespace distillery::core::train
