#!/usr/bin/env bash
# The main job: builds Distillery and opens the workbench with the default experiment
# (classic-kd: a teacher trained in-graph, then distilled into a smaller student on the built-in
# synthetic oracle language). `packaging/demo.sh --run` also starts training at once.
# Without a display (or with DISTILLERY_DEMO_HEADLESS=1) it runs the same experiment with
# distillery-cli and prints a summary: teacher vs student quality and where the run is stored.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DISTILLERY_BUILD_DIR:-$root/build}"
store="${DISTILLERY_DEMO_STORE:-$root/demo-runs.sqlite}"

"$root/packaging/install-deps.sh"
"$root/packaging/build.sh" >/dev/null

gui="$build/bin/distillery"
cli="$build/bin/distillery-cli"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x "$gui" ] && [ "${DISTILLERY_DEMO_HEADLESS:-0}" != 1 ]; then
  exec "$gui" --template classic-kd --store "$store" "$@"
fi

# Headless: --run is implied; other arguments go to `distillery-cli run`.
args=()
for a in "$@"; do [ "$a" = "--run" ] || args+=("$a"); done
"$cli" validate "$root/resources/templates/classic-kd.json"
"$cli" run "$root/resources/templates/classic-kd.json" --store "$store" --name demo-classic-kd "${args[@]}"
"$cli" show last --store "$store"
echo
echo "Run store: $store  (inspect with: $cli runs --store $store; or open it in the workbench:"
echo "  $gui --store $store)"
