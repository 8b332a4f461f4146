#!/usr/bin/env bash
# Distilling from a GPT-2-124M-shaped Hugging Face teacher (bench/make_gpt2_124m.py, random
# weights, F16 file) into a small Llama-style student on the CPU: the student phase's tokens/s,
# the teacher pass per step and the process's peak memory, with the teacher held in fp32 and
# in bf16 (Teacher.precision), alternating in each round. Medians over ROUNDS rounds of the
# per-step series (the first 3 steps dropped as warm-up).
# Usage: bench/hf_distill_bench.sh [ROUNDS] [STEPS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"
steps="${2:-12}"
cli="$root/build/bin/distillery-cli"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/bench/make_gpt2_124m.py" "$work/gpt2" F16
"$cli" templates classic-kd > "$work/classic-kd.json"
for precision in fp32 bf16; do
  /usr/bin/python3 - "$work" "$precision" "$steps" <<'PY'
import json, sys
work, precision, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
g = json.load(open(work + "/classic-kd.json"))
for n in g["nodes"]:
    p = n.setdefault("params", {})
    if n["kind"] == "Teacher":
        p.update({"source": "hf", "path": work + "/gpt2", "precision": precision})
    elif n["kind"] == "Student":
        p.update({"architecture": "llama", "layers": 2, "d_model": 128, "heads": 4, "kv_heads": 2, "ffn": 344})
    elif n["kind"] == "Dataset":
        p.update({"vocab": 50257, "train_sequences": 256, "validation_sequences": 8})
    elif n["kind"] == "Settings":
        p.update({"steps": steps, "batch_size": 8, "seq_len": 128, "eval_interval": 100000, "eval_batches": 1,
                  "checkpoint_interval": 100000})
json.dump(g, open(f"{work}/{precision}.json", "w"))
PY
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
series() { # store key -> values after the warm-up steps
  "$cli" metrics last --store "$1" "$2" --csv | tail -n +2 | awk -F, '$1 > 3 {print $3}'
}
for r in $(seq "$rounds"); do
  for precision in fp32 bf16; do
    store="$work/$precision-$r.sqlite"
    /usr/bin/time -f "%M" -o "$work/$precision-$r.rss" "$cli" run "$work/$precision.json" --store "$store" >/dev/null 2>&1
    series "$store" train/tokens_per_s >> "$work/$precision.tps"
    series "$store" perf/teacher_ms >> "$work/$precision.teacher"
    cat "$work/$precision-$r.rss" >> "$work/$precision.rsslist"
  done
done
echo "GPT-2 124M teacher (F16 file) -> llama student L2 d128 (V 50257), batch 8 x 128 tokens, $rounds rounds x $steps steps, medians:"
for precision in fp32 bf16; do
  tps=$(median < "$work/$precision.tps")
  tms=$(median < "$work/$precision.teacher")
  rss=$(median < "$work/$precision.rsslist")
  printf "  teacher %-4s  %8.0f tokens/s   teacher pass %7.1f ms/step   peak RSS %5d MiB\n" "$precision" "$tps" "$tms" $((rss / 1024))
  eval "tps_$precision=$tps; rss_$precision=$rss"
done
awk -v a="$tps_bf16" -v b="$tps_fp32" -v c="$rss_bf16" -v d="$rss_fp32" \
  'BEGIN {printf "  bf16 / fp32: %.2fx the tokens/s, %.2fx the peak memory\n", a / b, c / d}'
