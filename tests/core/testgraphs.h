#pragma once

// Small experiment graphs for tests: the shipped templates shrunk to seconds of work.

#include "distillery/core/graph.h"

#include <QtGlobal>

namespace distillery::core::testing {

inline void setAll(Graph &g, const std::string &kind, const std::map<std::string, ParamValue> &values)
{
    for (const Node *n : g.nodesOfKind(kind))
        for (const auto &[k, v] : values) {
            auto st = g.setParam(n->id, k, v);
            if (!st.ok())
                qFatal("setParam %s.%s: %s", kind.c_str(), k.c_str(), st.error().message.c_str());
        }
}

// The id of the node with this title (the templates title every node).
inline NodeId byTitle(const Graph &g, const std::string &title)
{
    for (const Node &n : g.nodes())
        if (n.title == title)
            return n.id;
    qFatal("no node titled %s", title.c_str());
    return kInvalidNode;
}

// A template shrunk to a few seconds of work.
inline Graph tiny(const std::string &name, std::int64_t steps = 8)
{
    auto loaded = loadTemplate(name);
    if (!loaded.ok())
        qFatal("%s", loaded.error().message.c_str());
    Graph g = loaded.value();
    setAll(g, "Settings",
           {{"steps", steps}, {"batch_size", std::int64_t(4)}, {"seq_len", std::int64_t(16)},
            {"eval_interval", std::int64_t(4)}, {"eval_batches", std::int64_t(1)},
            {"checkpoint_interval", std::int64_t(4)}, {"threads", std::int64_t(1)},
            {"prompt_len", std::int64_t(4)}});
    setAll(g, "Dataset",
           {{"train_sequences", std::int64_t(64)}, {"validation_sequences", std::int64_t(8)},
            {"vocab", std::int64_t(16)}, {"hidden_states", std::int64_t(8)}});
    setAll(g, "Teacher",
           {{"layers", std::int64_t(1)}, {"d_model", std::int64_t(16)}, {"heads", std::int64_t(2)},
            {"ffn", std::int64_t(32)}, {"train_steps", std::int64_t(5)}});
    setAll(g, "Student",
           {{"layers", std::int64_t(1)}, {"d_model", std::int64_t(8)}, {"heads", std::int64_t(2)},
            {"ffn", std::int64_t(16)}});
    for (const Node *n : g.nodesOfKind("Loss"))
        if (g.paramString(n->id, "kind") == "topk-kl" && !g.setParam(n->id, "top_k", std::int64_t(4)).ok())
            qFatal("setParam Loss.top_k failed");
    return g;
}

} // namespace distillery::core::testing
