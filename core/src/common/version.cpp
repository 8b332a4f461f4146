#include "distillery/core/version.h"

namespace distillery::core {

const char *versionString()
{
    return "0.1.0";
}

} // namespace distillery::core
