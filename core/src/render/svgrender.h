#pragma once

// SVG documents rendered to PNG with librsvg and cairo, headless (no display, no Qt): the
// model card's plots. A module of its own, so that GLib's headers never meet LibTorch's.

#include "distillery/core/result.h"

#include <string>

namespace distillery::core::render {

// The PNG bytes of `svg` drawn at `scale` times its own width and height (2 = for high-DPI
// screens), on the SVG's own background. `what` names the document in errors.
Result<std::string> svgToPng(const std::string &svg, double scale, const std::string &what);

} // namespace distillery::core::render
