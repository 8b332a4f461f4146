#!/usr/bin/env bash
# Side-by-side benchmark of the standard distillation workload in one run, rounds interleaved:
#   distillery          distillery-cli bench in the default environment (it chooses its BLAS
#                       kernels itself, blas.h), teacher overlapped
#   in-turn             the same with --no-overlap
#   sse3                distillery-cli bench on OpenBLAS's Prescott (SSE3) kernels, what an
#                       OpenBLAS that does not know the CPU falls back to
#   python-1/2          the PyTorch-eager reference on 1 and 2 threads, default environment
#   python-1/2 best     the reference on the best kernel set the CPU supports
#                       (OPENBLAS_CORETYPE set as `distillery-cli system` names it)
# Prints every round, the medians, and the ratios of distillery to the reference's best median.
# Usage: bench/compare.sh [ROUNDS]   (env: DISTILLERY_BUILD_DIR, REFERENCE=path/to/reference.py,
#                                     BENCH_STEPS=timed steps per measurement)
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

# Nobody's choice but each configuration's own.
unset OPENBLAS_CORETYPE DISTILLERY_BLAS_CORETYPE DISTILLERY_BLAS_RESTARTED
best=$("$cli" system | awk '/^best kernel set/ {print $4}')
kernels=$("$cli" system | sed -n 's/^BLAS kernels *//p')

declare -A results
configs=(distillery in-turn sse3 python-1 python-2 python-1-best python-2-best)
run_config() {
  case "$1" in
    distillery) "$cli" bench --steps "$steps" 2>/dev/null | awk '/^tokens\/s/ {print $2}' ;;
    in-turn) "$cli" bench --steps "$steps" --no-overlap 2>/dev/null | awk '/^tokens\/s/ {print $2}' ;;
    sse3) OPENBLAS_CORETYPE=Prescott "$cli" bench --steps "$steps" 2>/dev/null | awk '/^tokens\/s/ {print $2}' ;;
    python-1) OMP_NUM_THREADS=1 "$python" "$reference" --threads 1 --steps "$steps" | awk '{print $3}' ;;
    python-2) OMP_NUM_THREADS=2 "$python" "$reference" --threads 2 --steps "$steps" | awk '{print $3}' ;;
    python-1-best) OPENBLAS_CORETYPE="$best" OMP_NUM_THREADS=1 "$python" "$reference" --threads 1 --steps "$steps" | awk '{print $3}' ;;
    python-2-best) OPENBLAS_CORETYPE="$best" OMP_NUM_THREADS=2 "$python" "$reference" --threads 2 --steps "$steps" | awk '{print $3}' ;;
  esac
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "distillery's BLAS kernels: $kernels; best kernel set for this CPU: $best"
echo "$steps timed steps per measurement; $rounds rounds"
printf '%-8s' round; printf '%15s' "${configs[@]}"; echo
for ((r = 1; r <= rounds; r++)); do
  printf '%-8s' "$r"
  for c in "${configs[@]}"; do
    v=$(run_config "$c")
    results[$c]+="$v "
    printf '%15s' "$v"
  done
  echo
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '%-8s' median
declare -A med
for c in "${configs[@]}"; do med[$c]=$(echo "${results[$c]}" | median); printf '%15s' "${med[$c]}"; done
echo
best_ref=$(printf '%s\n' "${med[python-1]}" "${med[python-2]}" "${med[python-1-best]}" "${med[python-2-best]}" | sort -n | tail -1)
for c in distillery in-turn sse3; do
  awk -v a="${med[$c]}" -v b="$best_ref" -v c="$c" 'BEGIN {printf "%-10s / best python median: %.2fx\n", c, a / b}'
done
awk -v a="${med[distillery]}" -v b="${med[sse3]}" 'BEGIN {printf "distillery / sse3 (the kernel choice): %.2fx\n", a / b}'
