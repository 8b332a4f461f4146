#pragma once
// Precompiled header for core's LibTorch translation units.
#include <torch/torch.h>
#include <nlohmann/json.hpp>
