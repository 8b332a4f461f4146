#!/usr/bin/env bash
# Installs the dependencies, configures, builds and runs every test. Non-zero exit on any failure.
# Usage: packaging/test.sh [ctest arguments...]   (e.g. -L unit, -LE slow)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DISTILLERY_BUILD_DIR:-$root/build}"

"$root/packaging/install-deps.sh"
"$root/packaging/build.sh"

export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
ctest --test-dir "$build" --output-on-failure -j "${DISTILLERY_TEST_JOBS:-2}" "$@"
