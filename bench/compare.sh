#!/usr/bin/env bash
# Side-by-side benchmark of the standard distillation workload: distillery-cli bench (teacher
# overlapped and in turn) against the PyTorch-eager Python reference on 1 and 2 threads,
# interleaved over several rounds on the same machine. Prints every round, the medians and the
# ratios to the reference's best median.
# Usage: bench/compare.sh [ROUNDS]   (env: DISTILLERY_BUILD_DIR, REFERENCE=path/to/reference.py)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DISTILLERY_BUILD_DIR:-$root/build}"
cli="$build/bin/distillery-cli"
reference="${REFERENCE:-$root/../shared/bench/pytorch_reference_kd.py}"
rounds="${1:-5}"
steps="${BENCH_STEPS:-20}"
python=/usr/bin/python3 # Debian's python3-torch

[ -x "$cli" ] || { echo "compare.sh: $cli not found; build first (packaging/build.sh)" >&2; exit 2; }
[ -f "$reference" ] || { echo "compare.sh: reference script $reference not found (set REFERENCE)" >&2; exit 2; }

declare -A results
configs=(overlap in-turn python-1 python-2)
run_config() {
  case "$1" in
    overlap) "$cli" bench --steps "$steps" 2>/dev/null | awk '/^tokens\/s/ {print $2}' ;;
    in-turn) "$cli" bench --steps "$steps" --no-overlap 2>/dev/null | awk '/^tokens\/s/ {print $2}' ;;
    python-1) OMP_NUM_THREADS=1 "$python" "$reference" --threads 1 --steps "$steps" | awk '{print $3}' ;;
    python-2) OMP_NUM_THREADS=2 "$python" "$reference" --threads 2 --steps "$steps" | awk '{print $3}' ;;
  esac
}

echo "machine: $(nproc) cores; $steps timed steps per measurement; $rounds rounds"
printf '%-8s' round; printf '%12s' "${configs[@]}"; echo
for ((r = 1; r <= rounds; r++)); do
  printf '%-8s' "$r"
  for c in "${configs[@]}"; do
    v=$(run_config "$c")
    results[$c]+="$v "
    printf '%12s' "$v"
  done
  echo
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '%-8s' median
declare -A med
for c in "${configs[@]}"; do med[$c]=$(echo "${results[$c]}" | median); printf '%12s' "${med[$c]}"; done
echo
best_ref=$(printf '%s\n' "${med[python-1]}" "${med[python-2]}" | sort -n | tail -1)
for c in overlap in-turn; do
  awk -v a="${med[$c]}" -v b="$best_ref" -v c="$c" 'BEGIN {printf "%s / best python median: %.2fx\n", c, a / b}'
done
