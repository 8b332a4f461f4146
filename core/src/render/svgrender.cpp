#include "render/svgrender.h"

#include "distillery/core/errors.h"

#include <cairo.h>
#include <librsvg/rsvg.h>

#include <cmath>
#include <memory>

namespace distillery::core::render {

namespace {

cairo_status_t appendBytes(void *closure, const unsigned char *data, unsigned int length)
{
    static_cast<std::string *>(closure)->append(reinterpret_cast<const char *>(data), length);
    return CAIRO_STATUS_SUCCESS;
}

} // namespace

Result<std::string> svgToPng(const std::string &svg, double scale, const std::string &what)
{
    if (!(scale > 0) || scale > 16)
        return Error{errc::kInternal, what + ": scale " + std::to_string(scale) + " is outside (0, 16]"};
    GError *error = nullptr;
    std::unique_ptr<RsvgHandle, void (*)(gpointer)> handle(
        rsvg_handle_new_from_data(reinterpret_cast<const guint8 *>(svg.data()), gsize(svg.size()), &error),
        g_object_unref);
    if (!handle) {
        const std::string message = error ? error->message : "unknown error";
        if (error)
            g_error_free(error);
        return Error{errc::kInternal, what + ": not an SVG document librsvg can read: " + message};
    }
    gdouble w = 0, h = 0;
    if (!rsvg_handle_get_intrinsic_size_in_pixels(handle.get(), &w, &h) || w <= 0 || h <= 0 || w > 8192 || h > 8192)
        return Error{errc::kInternal, what + ": the SVG needs a width and height in pixels up to 8192"};
    const int pw = int(std::lround(w * scale)), ph = int(std::lround(h * scale));
    std::unique_ptr<cairo_surface_t, void (*)(cairo_surface_t *)> surface(
        cairo_image_surface_create(CAIRO_FORMAT_ARGB32, pw, ph), cairo_surface_destroy);
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
        return Error{errc::kOutOfMemory, what + ": cannot allocate a " + std::to_string(pw) + "×"
                                             + std::to_string(ph) + " image"};
    std::unique_ptr<cairo_t, void (*)(cairo_t *)> cr(cairo_create(surface.get()), cairo_destroy);
    const RsvgRectangle viewport{0, 0, double(pw), double(ph)};
    if (!rsvg_handle_render_document(handle.get(), cr.get(), &viewport, &error)) {
        const std::string message = error ? error->message : "unknown error";
        if (error)
            g_error_free(error);
        return Error{errc::kInternal, what + ": cannot render: " + message};
    }
    cairo_surface_flush(surface.get());
    std::string png;
    if (cairo_surface_write_to_png_stream(surface.get(), appendBytes, &png) != CAIRO_STATUS_SUCCESS)
        return Error{errc::kInternal, what + ": cannot encode the PNG"};
    return png;
}

} // namespace distillery::core::render
