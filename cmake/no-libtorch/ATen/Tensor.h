// Found instead of LibTorch's <ATen/Tensor.h> in widgets/ and app/, which stop here: they use core's
// LibTorch-free public API only (ARCHITECTURE.md, layers). LibTorch stays in core/src.
#error "LibTorch is not part of distillery_core's interface: widgets/ and app/ cannot include <ATen/Tensor.h>"
