#include "distillery/core/errors.h"

namespace distillery::core {

std::string errorArea(const Error &error)
{
    const auto dot = error.code.find('.');
    return dot == std::string::npos ? error.code : error.code.substr(0, dot);
}

bool isInputError(const Error &error)
{
    const std::string area = errorArea(error);
    return area == "graph" || area == "input" || area == "data" || area == "model" || area == "loss"
           || (area == "export" && error.code != "export.cancelled")
           || error.code == "store.not_found" || error.code == "store.not_sqlite"
           || error.code == "store.not_a_store" || error.code == "store.newer_schema"
           || error.code == "store.no_such_run" || error.code == "store.run_active" || error.code == "store.read_only"
           || error.code == "store.bad_tag" || error.code == "store.bad_group";
}

} // namespace distillery::core
