#include "train/trainingstate.h"
#include "train/studentinit.h"

#include "train/runcontext.h"
#include "torchio.h"

#include <filesystem>
#include <type_traits>

namespace distillery::core::train {

namespace {

torch::Tensor longs(const std::vector<std::int64_t> &v)
{
    return torch::tensor(v, torch::kLong);
}
torch::Tensor doubles(const std::vector<double> &v)
{
    return torch::tensor(v, torch::kDouble);
}
template <typename T>
std::vector<T> values(const torch::Tensor &t)
{
    torch::Tensor c = t.to(torch::kCPU, std::is_same_v<T, double> ? torch::kDouble : torch::kLong).contiguous();
    return std::vector<T>(c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
}

// The updates a saved state has done; -1 when it records none. States of schema-1 stores
// held the 0-based index of their last step under "step".
std::int64_t stepsDoneIn(torch::serialize::InputArchive &archive)
{
    torch::Tensor t;
    if (archive.try_read("steps_done", t) && t.numel() == 1)
        return t.item<std::int64_t>();
    if (archive.try_read("step", t) && t.numel() == 1)
        return t.item<std::int64_t>() + 1;
    return -1;
}

} // namespace

TrainingState::TrainingState(const Plan &plan, const std::vector<Teacher> &teachers,
                             const torch::Device &device)
{
    torch::manual_seed(std::uint64_t(plan.seed));
    auto student = makeStudent(plan, &teachers);
    if (!student.ok())
        throw std::runtime_error(student.error().message);
    m_student = std::move(student.value());
    m_student->to(device);
    m_parameters = m_student->parameters();
    for (const auto &term : plan.terms) {
        for (const HiddenSource *src : {&term.studentHidden, &term.teacherHidden}) {
            if (src->projection == kInvalidNode || m_projections.count(src->projection))
                continue;
            std::int64_t in = 0;
            if (src->isStudent)
                in = plan.student.dModel;
            else
                for (const auto &t : teachers)
                    if (t.plan.node == src->model)
                        in = t.model->info().hidden;
            auto proj = torch::nn::Linear(
                torch::nn::LinearOptions(in, src->projectionOut).bias(src->projectionBias));
            proj->to(device);
            m_projections.emplace(src->projection, proj);
            for (auto &p : proj->parameters())
                m_parameters.push_back(p);
        }
        if (term.isTaid()) {
            losses::TaidState s;
            s.t = term.taidStart;
            m_taid[term.node] = s;
        }
    }
    const auto &o = plan.optimizer;
    if (o.kind == "sgd")
        m_optimizer = std::make_unique<torch::optim::SGD>(
            m_parameters,
            torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weightDecay));
    else
        m_optimizer = std::make_unique<torch::optim::AdamW>(
            m_parameters,
            torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).weight_decay(o.weightDecay));
}

torch::Tensor TrainingState::project(NodeId projection, const torch::Tensor &hidden)
{
    return m_projections.at(projection)->forward(hidden);
}

void TrainingState::setLearningRate(double lr)
{
    for (auto &group : m_optimizer->param_groups())
        group.options().set_lr(lr);
}

void TrainingState::save(const std::string &path, std::int64_t stepsDone) const
{
    Status written = okStatus();
    try {
        torch::serialize::OutputArchive archive;
        archive.write("steps_done", torch::tensor({stepsDone}, torch::kLong));
        torch::serialize::OutputArchive student;
        m_student->saveState(student);
        archive.write("student", student);
        for (const auto &[id, proj] : m_projections) {
            torch::serialize::OutputArchive a;
            proj->save(a);
            archive.write("projection" + std::to_string(id), a);
        }
        torch::serialize::OutputArchive opt;
        m_optimizer->save(opt);
        archive.write("optimizer", opt);
        for (const auto &[id, s] : m_taid)
            archive.write("taid" + std::to_string(id),
                          torch::tensor({s.t, s.momentum, s.previousLoss}, torch::kDouble));
        archive.write("rng", at::detail::getDefaultCPUGenerator().get_state());
        torch::serialize::OutputArchive diag;
        diag.write("hack_steps", longs(diagnostics.hackSteps));
        diag.write("hack_oracle", doubles(diagnostics.hackOracle));
        diag.write("hack_teacher", doubles(diagnostics.hackTeacher));
        diag.write("flags", longs({diagnostics.hackReported ? 1 : 0, diagnostics.lastProbeStep,
                                   diagnostics.probeTokensStored ? 1 : 0}));
        archive.write("diagnostics", diag);
        written = saveArchiveAtomically(archive, path);
    } catch (const std::exception &e) {
        throw RunFailure("cannot write the checkpoint " + path + ": " + torchErrorText(e));
    }
    if (!written.ok())
        throw RunFailure("cannot write the checkpoint: " + written.error().message);
}

std::string TrainingState::checkReadable(const std::string &path)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return path + ": the checkpoint file is missing";
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(path, torch::kCPU);
        if (stepsDoneIn(archive) < 0)
            return path + ": not a Distillery training checkpoint (no step)";
        torch::serialize::InputArchive student;
        if (!archive.try_read("student", student))
            return path + ": not a Distillery training checkpoint (no student)";
    } catch (const std::exception &e) {
        return path + ": cannot read the checkpoint (truncated or damaged?): " + torchErrorText(e);
    }
    return {};
}

void TrainingState::restore(const std::string &path, const torch::Device &device)
{
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(path, device);
        const std::int64_t stepsDone = stepsDoneIn(archive);
        if (stepsDone < 0)
            throw RunFailure("no step");
        torch::serialize::InputArchive student;
        archive.read("student", student);
        m_student->loadState(student);
        for (auto &[id, proj] : m_projections) {
            torch::serialize::InputArchive a;
            archive.read("projection" + std::to_string(id), a);
            proj->load(a);
        }
        torch::serialize::InputArchive opt;
        archive.read("optimizer", opt);
        m_optimizer->load(opt);
        for (auto &[id, s] : m_taid) {
            torch::Tensor t;
            archive.read("taid" + std::to_string(id), t);
            const auto v = values<double>(t);
            s.t = v.at(0);
            s.momentum = v.at(1);
            s.previousLoss = v.at(2);
        }
        torch::Tensor rng;
        if (archive.try_read("rng", rng))
        {
            at::Generator generator = at::detail::getDefaultCPUGenerator();
            generator.set_state(rng.to(torch::kCPU));
        }
        // Checkpoints written before the diagnostics' history was saved restore without it.
        torch::serialize::InputArchive diag;
        if (archive.try_read("diagnostics", diag)) {
            torch::Tensor steps, oracle, teacher, flags;
            diag.read("hack_steps", steps);
            diag.read("hack_oracle", oracle);
            diag.read("hack_teacher", teacher);
            diag.read("flags", flags);
            diagnostics.hackSteps = values<std::int64_t>(steps);
            diagnostics.hackOracle = values<double>(oracle);
            diagnostics.hackTeacher = values<double>(teacher);
            const auto f = values<std::int64_t>(flags);
            diagnostics.hackReported = f.at(0) != 0;
            diagnostics.lastProbeStep = f.at(1);
            diagnostics.probeTokensStored = f.at(2) != 0;
        }
        firstStep = stepsDone;
    } catch (const std::exception &e) {
        throw RunFailure("cannot restore the checkpoint " + path + ": " + torchErrorText(e));
    }
}

} // namespace distillery::core::train
