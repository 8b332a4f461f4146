#!/usr/bin/env bash
# The main job: builds Distillery and runs the default experiment (a teacher trained in-graph,
# then distilled into a smaller student) on the built-in synthetic oracle language.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DISTILLERY_BUILD_DIR:-$root/build}"
store="${DISTILLERY_DEMO_STORE:-$root/demo-runs.sqlite}"

"$root/packaging/install-deps.sh"
"$root/packaging/build.sh" >/dev/null

cli="$build/bin/distillery-cli"
"$cli" validate "$root/resources/templates/classic-kd.json"
"$cli" run "$root/resources/templates/classic-kd.json" --store "$store" --name demo-classic-kd "$@"
"$cli" show last --store "$store"
echo
echo "Run store: $store  (inspect with: $cli runs --store $store)"
