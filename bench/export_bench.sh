#!/usr/bin/env bash
# The exported student's speed in its consumers, side by side in one run, rounds interleaved:
#   distillery    distillery-cli model time on the run's student.pt (the engine's own model)
#   torch.jit     Python's torch.jit.load of the TorchScript export (python3-torch)
#   onnxruntime   onnxruntime-node on the ONNX export
# each a forward pass over [16, 128] tokens on one thread, with OPENBLAS_CORETYPE set on both
# LibTorch sides to the best kernel set `distillery-cli system` names; and the time each export
# takes. The student is the benchmark workload's: V = 512, 2 layers, d_model 128, 4 heads,
# FFN 512, 128 positions. Prints every round, the medians and the ratios to Distillery's.
# Usage: bench/export_bench.sh [ROUNDS]   (env: DISTILLERY_BUILD_DIR, DISTILLERY_NPM_DIR)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DISTILLERY_BUILD_DIR:-$root/build}"
cli="$build/bin/distillery-cli"
rounds="${1:-5}"
modules="${DISTILLERY_NPM_DIR:-$HOME/.cache/distillery/npm}/node_modules"
python=/usr/bin/python3
[ -x "$cli" ] || { echo "export_bench.sh: $cli not found; build first" >&2; exit 2; }
[ -d "$modules/onnxruntime-node" ] || { echo "export_bench.sh: no onnxruntime-node in $modules (packaging/install-deps.sh)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export OPENBLAS_CORETYPE="$("$cli" system | awk '/^best kernel set/ {print $4}')"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
echo "kernels: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE on the LibTorch sides; 1 thread everywhere"

"$cli" templates classic-kd --output "$work/g.json" >/dev/null
"$python" - "$work/g.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
for n in g["nodes"]:
    p = n.setdefault("params", {})
    if n["kind"] == "Settings": p.update(steps=2, batch_size=16, seq_len=128, eval_interval=0, threads=1)
    if n["kind"] == "Dataset": p.update(vocab=512, train_sequences=64, validation_sequences=16)
    if n["kind"] == "Teacher": p.update(layers=1, d_model=64, heads=4, ffn=128, train_steps=2)
    if n["kind"] == "Student": p.update(layers=2, d_model=128, heads=4, ffn=512)
json.dump(g, open(sys.argv[1], "w"))
PY
"$cli" run "$work/g.json" --store "$work/runs.sqlite" >/dev/null 2>&1
student="$work/runs.sqlite.artifacts/run-1/student.pt"
for f in hf torchscript onnx; do
  line=$("$cli" export 1 --store "$work/runs.sqlite" --format $f --out "$work/$f" 2>/dev/null | head -1)
  echo "export $f: ${line##* in }"
done

cat > "$work/jit.py" <<'PY'
import sys, time, torch
torch.set_num_threads(1)
m = torch.jit.load(sys.argv[1])
x = torch.randint(0, 512, (16, 128))
with torch.no_grad():
    for _ in range(2): m(x)
    ms = []
    for _ in range(int(sys.argv[2])):
        t0 = time.perf_counter(); m(x).sum().item(); ms.append((time.perf_counter() - t0) * 1e3)
ms.sort(); print(f"{ms[len(ms) // 2]:.3f}")
PY
cat > "$work/ort.js" <<'JS'
const ort = require('onnxruntime-node');
(async () => {
  const s = await ort.InferenceSession.create(process.argv[2], {intraOpNumThreads: 1, interOpNumThreads: 1});
  const ids = BigInt64Array.from({length: 16 * 128}, () => BigInt(Math.floor(Math.random() * 512)));
  const feeds = {input_ids: new ort.Tensor('int64', ids, [16, 128])};
  for (let i = 0; i < 2; ++i) await s.run(feeds);
  const ms = [];
  for (let i = 0; i < Number(process.argv[3]); ++i) {
    const t0 = process.hrtime.bigint(); await s.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b); console.log(ms[Math.floor(ms.length / 2)].toFixed(3));
})();
JS

declare -a d j o
for ((r = 1; r <= rounds; ++r)); do
  d+=("$("$cli" model time "$student" --repeat 20 --threads 1 | awk '{print $2}')")
  j+=("$("$python" "$work/jit.py" "$work/torchscript/model.pt" 20)")
  o+=("$(NODE_PATH="$modules" node "$work/ort.js" "$work/onnx/model.onnx" 20)")
  echo "round $r: distillery ${d[-1]} ms, torch.jit ${j[-1]} ms, onnxruntime ${o[-1]} ms"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
md=$(median "${d[@]}"); mj=$(median "${j[@]}"); mo=$(median "${o[@]}")
echo "medians over $rounds rounds (ms per [16,128] forward): distillery $md, torch.jit $mj, onnxruntime $mo"
awk -v d="$md" -v j="$mj" -v o="$mo" 'BEGIN {printf "time relative to distillery: torch.jit %.2f, onnxruntime %.2f\n", j / d, o / d}'
