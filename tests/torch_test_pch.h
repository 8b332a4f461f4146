#pragma once
// Precompiled header for tests that check tensors. Compiled with QT_NO_KEYWORDS.
#include <QtTest>
#include <torch/torch.h>
