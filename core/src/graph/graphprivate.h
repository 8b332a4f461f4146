#pragma once

// Shared by the graph's mutations, its validator and its loader.

#include "distillery/core/graph.h"

namespace distillery::core::graphdetail {

// The value in the parameter's storage type (Float stores a double, Int takes integral
// doubles), or an error whose message says what the parameter expects ("expects an integer,
// got 'abc'"). Ranges are not checked here: validateGraph reports them.
Result<ParamValue> coerceParamValue(const ParamSpec &spec, const ParamValue &value);

// The numeric value of an Int or Float parameter value, if it has one.
std::optional<double> numericValue(const ParamValue &value);

// "a, b, c"
std::string joined(const std::vector<std::string> &items);

// Whether `target` can be reached from `start` along the edges (start reaches itself).
bool reaches(const std::vector<Edge> &edges, NodeId start, NodeId target);

// The node kinds, for messages about an unknown one: "Dataset, Teacher, ...".
std::string knownKindNames();

} // namespace distillery::core::graphdetail
