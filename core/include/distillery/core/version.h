#pragma once

namespace distillery::core {

const char *versionString();

} // namespace distillery::core
