#pragma once

// For test set-up that must succeed: a failed Result ends the test program loudly with the
// expression, file and line (a Qt Test macro inside a helper or a lambda would only leave the
// helper, and the test would go on).

#include "distillery/core/result.h"

#include <QtGlobal>

namespace distillery::testsupport {

template <typename T>
const T &ensure(const core::Result<T> &result, const char *expression, const char *file, int line)
{
    if (!result.ok())
        qFatal("%s:%d: %s failed: %s", file, line, expression, result.error().message.c_str());
    return result.value();
}

} // namespace distillery::testsupport

#define ENSURE(expression) ::distillery::testsupport::ensure((expression), #expression, __FILE__, __LINE__)
