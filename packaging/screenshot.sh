#!/usr/bin/env bash
# Regenerates the README's screenshots under Xvfb: trains the default experiment into a
# temporary store with distillery-cli, then renders the workbench with that store open (newest
# run's curves shown) and the classic-kd graph on the canvas (docs/screenshot.png), and the
# plots panel on its Tokens and Alignment tabs (docs/diagnostics-tokens.png,
# docs/diagnostics-alignment.png).
# Usage: packaging/screenshot.sh [OUT.png]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DISTILLERY_BUILD_DIR:-$root/build}"
out="${1:-$root/docs/screenshot.png}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

[ -x "$build/bin/distillery" ] || { echo "screenshot.sh: build the GUI first (packaging/build.sh)" >&2; exit 2; }
"$build/bin/distillery-cli" run "$root/resources/templates/classic-kd.json" --store "$work/runs.sqlite" \
  --name classic-kd >/dev/null
# A private HOME: no saved window layout or theme from the user's settings.
HOME="$work" xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$build/bin/distillery" --template classic-kd --store "$work/runs.sqlite" --select 5 \
  --screenshot "$out"
for tab in tokens alignment; do
  HOME="$work" xvfb-run -a -s "-screen 0 1600x1000x24" \
    "$build/bin/distillery" --template classic-kd --store "$work/runs.sqlite" --runs 1 \
    --plots-tab "$tab" --plots-screenshot "$(dirname "$out")/diagnostics-$tab.png"
done
