// Structural diffs of two experiment graphs: nodes matched across them, parameter changes,
// nodes and edges added or removed.

#include "distillery/core/compare.h"

#include <algorithm>
#include <map>
#include <set>

namespace distillery::core {

namespace {

// before id -> after id: by title (unique on both sides, same kind), then by id and kind (a
// renamed node keeps its id). Anything else is a node removed and another added.
std::map<NodeId, NodeId> matchNodes(const Graph &a, const Graph &b)
{
    std::map<NodeId, NodeId> match;
    std::set<NodeId> usedB;
    auto uniqueTitle = [](const Graph &g, const std::string &title) {
        return !title.empty() && std::count_if(g.nodes().begin(), g.nodes().end(),
                                               [&](const Node &n) { return n.title == title; }) == 1;
    };
    for (const Node &na : a.nodes()) {
        if (!uniqueTitle(a, na.title) || !uniqueTitle(b, na.title))
            continue;
        for (const Node &nb : b.nodes())
            if (nb.title == na.title && nb.kind == na.kind) {
                match[na.id] = nb.id;
                usedB.insert(nb.id);
            }
    }
    for (const Node &na : a.nodes()) {
        if (match.count(na.id))
            continue;
        if (const Node *nb = b.node(na.id); nb && nb->kind == na.kind && !usedB.count(nb->id)) {
            match[na.id] = nb->id;
            usedB.insert(nb->id);
        }
    }
    return match;
}

std::string edgeText(const Graph &g, const Edge &e)
{
    return nodeLabel(g, e.fromNode) + "." + e.fromPort + " -> " + nodeLabel(g, e.toNode) + "." + e.toPort;
}

std::string valueText(const Graph &g, const Node &node, const std::string &param)
{
    return paramValueToString(g.param(node.id, param));
}

} // namespace

bool GraphDiff::structural() const
{
    if (!edges.empty())
        return true;
    for (const NodeDiff &n : nodes)
        if (n.change == NodeDiff::Change::Added || n.change == NodeDiff::Change::Removed ||
            n.kindBefore != n.kindAfter)
            return true;
    return false;
}

std::vector<std::string> GraphDiff::structuralLines() const
{
    std::vector<std::string> lines;
    for (const NodeDiff &n : nodes) {
        if (n.change == NodeDiff::Change::Added)
            lines.push_back("node '" + n.label + "' (" + n.kindAfter + ") added");
        else if (n.change == NodeDiff::Change::Removed)
            lines.push_back("node '" + n.label + "' (" + n.kindBefore + ") removed");
        else if (n.kindBefore != n.kindAfter)
            lines.push_back("node '" + n.label + "' changed kind: " + n.kindBefore + " -> " + n.kindAfter);
    }
    for (const EdgeDiff &e : edges)
        lines.push_back("edge " + e.description + (e.added ? " added" : " removed"));
    return lines;
}

GraphDiff diffGraphs(const Graph &before, const Graph &after)
{
    GraphDiff diff;
    const std::map<NodeId, NodeId> match = matchNodes(before, after);
    std::set<NodeId> matchedAfter;
    for (const auto &[a, b] : match)
        matchedAfter.insert(b);
    for (const Node &na : before.nodes()) {
        NodeDiff d;
        d.before = na.id;
        d.kindBefore = na.kind;
        const auto it = match.find(na.id);
        if (it == match.end()) {
            d.change = NodeDiff::Change::Removed;
            d.label = nodeLabel(before, na.id);
            d.kindAfter = na.kind;
            diff.nodes.push_back(std::move(d));
            continue;
        }
        const Node &nb = *after.node(it->second);
        d.after = nb.id;
        d.kindAfter = nb.kind;
        d.label = nodeLabel(after, nb.id);
        std::set<std::string> names;
        for (const Node *n : {&na, &nb})
            if (const NodeKindSpec *spec = findNodeKind(n->kind))
                for (const ParamSpec &p : spec->params)
                    names.insert(p.name);
        const NodeKindSpec *specA = findNodeKind(na.kind), *specB = findNodeKind(nb.kind);
        for (const std::string &name : names) {
            const bool inA = specA && specA->param(name), inB = specB && specB->param(name);
            const std::string va = inA ? valueText(before, na, name) : "–";
            const std::string vb = inB ? valueText(after, nb, name) : "–";
            if (va != vb)
                d.params.push_back({name, va, vb});
        }
        if (!d.params.empty() || na.kind != nb.kind || na.title != nb.title)
            d.change = NodeDiff::Change::Changed;
        diff.nodes.push_back(std::move(d));
    }
    for (const Node &nb : after.nodes())
        if (!matchedAfter.count(nb.id)) {
            NodeDiff d;
            d.change = NodeDiff::Change::Added;
            d.after = nb.id;
            d.kindBefore = d.kindAfter = nb.kind;
            d.label = nodeLabel(after, nb.id);
            diff.nodes.push_back(std::move(d));
        }
    // Edges compared in the after graph's ids (an edge of a removed node has no image).
    std::set<std::tuple<NodeId, std::string, NodeId, std::string>> mapped;
    for (const Edge &e : before.edges()) {
        const auto from = match.find(e.fromNode), to = match.find(e.toNode);
        if (from != match.end() && to != match.end())
            mapped.insert({from->second, e.fromPort, to->second, e.toPort});
    }
    std::set<std::tuple<NodeId, std::string, NodeId, std::string>> inAfter;
    for (const Edge &e : after.edges())
        inAfter.insert({e.fromNode, e.fromPort, e.toNode, e.toPort});
    for (const Edge &e : before.edges()) {
        const auto from = match.find(e.fromNode), to = match.find(e.toNode);
        const bool kept = from != match.end() && to != match.end() &&
                          inAfter.count({from->second, e.fromPort, to->second, e.toPort});
        if (!kept)
            diff.edges.push_back({false, e, edgeText(before, e)});
    }
    for (const Edge &e : after.edges())
        if (!mapped.count({e.fromNode, e.fromPort, e.toNode, e.toPort}))
            diff.edges.push_back({true, e, edgeText(after, e)});
    return diff;
}

} // namespace distillery::core
