#!/usr/bin/env bash
# Loading a GPT-2-124M-shaped Hugging Face folder (F16 safetensors, written by
# bench/make_gpt2_124m.py): wall time and peak resident memory of `distillery-cli model
# inspect`, which loads the whole model, against the same command on a one-block GPT-2 of the
# same vocabulary (the process's own baseline). Medians of ROUNDS runs.
# Usage: bench/hf_load_bench.sh [ROUNDS] [F16|BF16|F32]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-5}"
dtype="${2:-F16}"
cli="$root/build/bin/distillery-cli"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/bench/make_gpt2_124m.py" "$work/gpt2" "$dtype"
# The baseline: the same config with one block and 8 positions.
mkdir -p "$work/tiny"
/usr/bin/python3 - "$work" <<'PY'
import json, struct, sys
w = sys.argv[1]
shapes = {"wte.weight": [4, 8], "wpe.weight": [8, 8], "ln_f.weight": [8], "ln_f.bias": [8]}
for k, s in [("ln_1.weight", [8]), ("ln_1.bias", [8]), ("attn.c_attn.weight", [8, 24]), ("attn.c_attn.bias", [24]),
             ("attn.c_proj.weight", [8, 8]), ("attn.c_proj.bias", [8]), ("ln_2.weight", [8]), ("ln_2.bias", [8]),
             ("mlp.c_fc.weight", [8, 32]), ("mlp.c_fc.bias", [32]), ("mlp.c_proj.weight", [32, 8]), ("mlp.c_proj.bias", [8])]:
    shapes["h.0." + k] = s
header, off = {}, 0
for k, s in shapes.items():
    n = 1
    for d in s:
        n *= d
    header[k] = {"dtype": "F32", "shape": s, "data_offsets": [off, off + 4 * n]}
    off += 4 * n
text = json.dumps(header).encode()
text += b" " * ((8 - len(text) % 8) % 8)
open(w + "/tiny/model.safetensors", "wb").write(struct.pack("<Q", len(text)) + text + bytes(off))
json.dump({"model_type": "gpt2", "vocab_size": 4, "n_positions": 8, "n_embd": 8, "n_layer": 1, "n_head": 2},
          open(w + "/tiny/config.json", "w"))
PY
measure() { # folder -> "seconds kilobytes" per line
  for _ in $(seq "$rounds"); do
    /usr/bin/time -f "%e %M" "$cli" model inspect "$1" 2>&1 >/dev/null | tail -1
  done
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
big="$(measure "$work/gpt2")"
base="$(measure "$work/tiny")"
t=$(echo "$big" | awk '{print $1}' | median)
rss=$(echo "$big" | awk '{print $2}' | median)
t0=$(echo "$base" | awk '{print $1}' | median)
rss0=$(echo "$base" | awk '{print $2}' | median)
fp32=$((124439808 * 4 / 1024))
echo "GPT-2 124M ($dtype file, $(du -m "$work/gpt2/model.safetensors" | cut -f1) MiB), $rounds rounds, medians:"
echo "  load (whole process)    $t s   (the baseline process: $t0 s)"
echo "  peak RSS                $((rss / 1024)) MiB   (baseline $((rss0 / 1024)) MiB)"
echo "  model's share           $(((rss - rss0) / 1024)) MiB = $(awk -v a=$((rss - rss0)) -v b=$fp32 'BEGIN {printf "%.2f", a / b}')x the float32 weights ($((fp32 / 1024)) MiB)"
