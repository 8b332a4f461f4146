#pragma once

// Small text formats shared by the workbench's panels.

#include <QString>

namespace distillery::widgets {

// "m:ss", or "h:mm:ss" from an hour on; "?" for a negative or non-finite value.
QString formatClock(double seconds);

} // namespace distillery::widgets
