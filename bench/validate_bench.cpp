// Graph validation on large graphs: the hidden-state template with a chain of N Projections
// between the Student and the hidden loss, and with N extra Loss nodes on the Combine.
// Prints the median of 5 timings of validateGraph (and of loading the file) per size.
// Usage: validate_bench [N...]   (default 1000 4000 10000)
// Built with the project (bench/CMakeLists.txt); README, "Robustness", has the numbers.

#include "distillery/core/graph.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace distillery::core;

namespace {

std::string node(int id, const char *kind, const std::string &params = "{}")
{
    return "{\"id\":" + std::to_string(id) + ",\"kind\":\"" + kind + "\",\"params\":" + params + "}";
}

std::string edge(int from, const char *fromPort, int to, const char *toPort)
{
    return "{\"from\":" + std::to_string(from) + ",\"from_port\":\"" + fromPort + "\",\"to\":" +
           std::to_string(to) + ",\"to_port\":\"" + toPort + "\"}";
}

// The hidden-state experiment; `projections` Projections in a chain and `losses` more
// forward-KL losses into the Combine.
std::string graphText(int projections, int losses)
{
    std::vector<std::string> nodes{node(1, "Dataset"), node(2, "Teacher"), node(3, "Student"),
                                   node(5, "Loss", R"({"kind":"cross-entropy"})"),
                                   node(7, "Loss", R"({"kind":"hidden-cosine"})"),
                                   node(8, "Combine"), node(9, "Optimizer"), node(10, "Settings")};
    std::vector<std::string> edges{edge(1, "tokens", 2, "tokens"), edge(1, "tokens", 3, "tokens"),
                                   edge(3, "logits", 5, "student"), edge(1, "labels", 5, "labels"),
                                   edge(2, "hidden", 7, "teacher_hidden"), edge(5, "loss", 8, "terms"),
                                   edge(7, "loss", 8, "terms"), edge(8, "loss", 9, "loss")};
    int previous = 3, id = 100;
    for (int i = 0; i < projections; ++i, ++id) {
        nodes.push_back(node(id, "Projection"));
        edges.push_back(edge(previous, "hidden", id, "hidden"));
        previous = id;
    }
    edges.push_back(edge(previous, "hidden", 7, "student_hidden"));
    for (int i = 0; i < losses; ++i, ++id) {
        nodes.push_back(node(id, "Loss", R"({"kind":"forward-kl"})"));
        edges.push_back(edge(3, "logits", id, "student"));
        edges.push_back(edge(2, "logits", id, "teacher"));
        edges.push_back(edge(id, "loss", 8, "terms"));
    }
    std::string text = R"({"format":"distillery.graph","version":1,"nodes":[)";
    for (std::size_t i = 0; i < nodes.size(); ++i)
        text += (i ? "," : "") + nodes[i];
    text += "],\"edges\":[";
    for (std::size_t i = 0; i < edges.size(); ++i)
        text += (i ? "," : "") + edges[i];
    return text + "]}";
}

template<typename F>
double medianMs(F &&f)
{
    std::vector<double> ms;
    for (int r = 0; r < 5; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[2];
}

} // namespace

int main(int argc, char **argv)
{
    std::vector<int> sizes;
    for (int i = 1; i < argc; ++i)
        sizes.push_back(std::atoi(argv[i]));
    if (sizes.empty())
        sizes = {1000, 4000, 10000};
    std::printf("%-26s %8s %12s %12s %8s\n", "graph", "nodes", "load ms", "validate ms", "issues");
    for (int n : sizes)
        for (const auto &[what, projections, losses] :
             {std::tuple<const char *, int, int>{"Projection chain", n, 0},
              std::tuple<const char *, int, int>{"Loss nodes", 1, n}}) {
            const std::string text = graphText(projections, losses);
            auto graph = graphFromJson(text, "bench.json");
            if (!graph.ok()) {
                std::fprintf(stderr, "%s\n", graph.error().message.c_str());
                return 1;
            }
            std::size_t issues = 0;
            const double load = medianMs([&] { (void)graphFromJson(text, "bench.json"); });
            const double validate = medianMs([&] { issues = validateGraph(graph.value()).size(); });
            std::printf("%-26s %8zu %12.2f %12.2f %8zu\n", what, graph.value().nodes().size(), load,
                        validate, issues);
        }
    return 0;
}
