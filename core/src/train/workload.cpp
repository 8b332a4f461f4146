#include "train/workload.h"
#include "distillery/core/errors.h"

#include <utility>

#include <unistd.h>
#include <vector>

namespace distillery::core::train {

namespace {

Status setAll(Graph &g, NodeId id, const std::vector<std::pair<std::string, ParamValue>> &params)
{
    for (const auto &[name, value] : params)
        if (auto st = g.setParam(id, name, value); !st.ok())
            return st;
    return okStatus();
}

} // namespace

Result<Graph> standardWorkload(const WorkloadOptions &o)
{
    auto loaded = loadTemplate("classic-kd");
    if (!loaded.ok())
        return Result<Graph>(loaded.error());
    Graph g = loaded.value();
    const auto node = [&g](const char *kind) { return g.nodesOfKind(kind).front()->id; };
    std::vector<Status> st;
    st.push_back(setAll(g, node("Dataset"), {{"source", std::string("oracle-hmm")},
                                             {"vocab", std::int64_t(512)},
                                             {"train_sequences", std::int64_t(2048)},
                                             {"validation_sequences", std::int64_t(128)}}));
    st.push_back(setAll(g, node("Teacher"), {{"source", std::string("train")},
                                             {"train_steps", std::int64_t(0)},
                                             {"layers", std::int64_t(4)},
                                             {"d_model", std::int64_t(256)},
                                             {"heads", std::int64_t(4)},
                                             {"ffn", std::int64_t(1024)}}));
    st.push_back(setAll(g, node("Student"), {{"layers", std::int64_t(2)},
                                             {"d_model", std::int64_t(128)},
                                             {"heads", std::int64_t(4)},
                                             {"ffn", std::int64_t(512)}}));
    for (const Node *loss : g.nodesOfKind("Loss")) {
        const bool ce = g.paramString(loss->id, "kind") == "cross-entropy";
        st.push_back(setAll(g, loss->id, {{"weight", 0.5}, {"temperature", ce ? 1.0 : 2.0}}));
    }
    // As the PyTorch reference: constant learning rate, no clipping (the norm is still taken).
    st.push_back(setAll(g, node("Optimizer"), {{"kind", std::string("adamw")},
                                               {"lr", 3e-4},
                                               {"weight_decay", 0.01},
                                               {"warmup_steps", std::int64_t(0)},
                                               {"lr_schedule", std::string("constant")},
                                               {"grad_clip", 0.0}}));
    st.push_back(setAll(g, node("Settings"), {{"steps", std::int64_t(o.steps)},
                                              {"batch_size", std::int64_t(16)},
                                              {"seq_len", std::int64_t(128)},
                                              {"eval_interval", std::int64_t(o.evalInterval)},
                                              {"eval_batches", std::int64_t(4)},
                                              {"checkpoint_interval", std::int64_t(0)},
                                              {"device", std::string("cpu")},
                                              {"threads", std::int64_t(o.threads)}}));
    NodeId diag = g.nodesOfKind("Diagnostics").empty() ? g.addNode("Diagnostics")
                                                       : node("Diagnostics");
    st.push_back(g.setParam(diag, "enabled", o.diagnostics));
    for (const auto &s : st)
        if (!s.ok())
            return Result<Graph>::failure(errc::kInvalidInput, "benchmark graph: " + s.error().message);
    return g;
}

ScratchDir::~ScratchDir()
{
    if (m_path.empty())
        return;
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

Result<ScratchDir> makeScratchDir(const std::string &base, const std::string &name)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path dir = fs::path(base.empty() ? fs::temp_directory_path(ec).string() : base)
                         / ("distillery-" + name + "-" + std::to_string(::getpid()));
    fs::create_directories(dir, ec);
    if (ec)
        return Result<ScratchDir>::failure(errc::kIoWrite, "cannot create " + dir.string() + ": " + ec.message());
    return ScratchDir(dir);
}

} // namespace distillery::core::train
