#!/usr/bin/env bash
# Configures and builds Distillery into $DISTILLERY_BUILD_DIR (default: build/) with Ninja and ccache.
# Extra arguments go to CMake's configure step (e.g. -DDISTILLERY_BUILD_GUI=OFF).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DISTILLERY_BUILD_DIR:-$root/build}"
jobs="${DISTILLERY_JOBS:-$(nproc)}"

generator=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "$build/Makefile" ]; then generator=(-G Ninja); fi
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build "$build" -j "$jobs"
