#!/usr/bin/env bash
# Regenerates the README's screenshots under Xvfb: trains the default experiment into a
# temporary store with distillery-cli, then renders the workbench with that store open (newest
# run's curves shown) and the classic-kd graph on the canvas (docs/screenshot.png), and the
# plots panel on its Tokens and Alignment tabs (docs/diagnostics-tokens.png,
# docs/diagnostics-alignment.png), the comparison window of a 3×3 sweep (docs/compare-*.png) and
# the sweep dialog (docs/sweep-dialog.png).
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
# The comparison window's tabs and the sweep dialog (docs/compare-*.png, docs/sweep-dialog.png):
# a 3×3 sweep (temperature × seed) of classic-kd shrunk to seconds per run.
"$build/bin/distillery-cli" templates classic-kd --output "$work/classic-kd.json"
python3 - "$work/classic-kd.json" "$work/small.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
shrink = {"Settings": dict(steps=120, batch_size=8, seq_len=32, eval_interval=10, eval_batches=2,
                           checkpoint_interval=60, threads=1),
          "Dataset": dict(train_sequences=256, validation_sequences=32),
          "Teacher": dict(layers=1, d_model=32, heads=2, ffn=64, train_steps=150),
          "Student": dict(layers=1, d_model=16, heads=2, ffn=32)}
for node in g["nodes"]:
    node["params"].update(shrink.get(node["kind"], {}))
json.dump(g, open(sys.argv[2], "w"), indent=1)
PY
"$build/bin/distillery-cli" sweep "$work/small.json" --store "$work/sweep.sqlite" --set kd.temperature=1,2,4 \
  --set run.seed=1,2,3 --name "temperature sweep" >/dev/null 2>&1
for tab in Config Metrics Curves Trade-off; do
  name="$(echo "$tab" | tr 'A-Z' 'a-z' | tr -d '-')"
  HOME="$work" xvfb-run -a -s "-screen 0 1600x1000x24" \
    "$build/bin/distillery" --store "$work/sweep.sqlite" --compare "group:temperature sweep" --compare-tab "$tab" \
    --screenshot "$(dirname "$out")/compare-$name.png"
done
HOME="$work" xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$build/bin/distillery" --open "$work/small.json" --store "$work/sweep.sqlite" --sweep kd.temperature=1,2,4 \
  --seeds 1,2,3 --screenshot "$(dirname "$out")/sweep-dialog.png"
# Parallel coordinates need several swept parameters: a 2×2×2 sweep of weight, temperature and lr.
"$build/bin/distillery-cli" sweep "$work/small.json" --store "$work/multi.sqlite" --set kd.temperature=1,4 \
  --set kd.weight=0.5,0.9 --set adamw.lr=log:1e-3:1e-2:2 --name multi >/dev/null 2>&1
HOME="$work" xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$build/bin/distillery" --store "$work/multi.sqlite" --compare "group:multi" --compare-tab Parallel \
  --screenshot "$(dirname "$out")/compare-parallel.png"
