#!/usr/bin/env bash
# Builds the fuzzers with clang in build-fuzz/ and runs each for SECONDS (default 60) on its
# checked-in seed corpus (fuzz/corpus/<target>), with new inputs kept in build-fuzz/corpus/.
# Exit status: 0 when no target found a crash; a crash's input is left in build-fuzz/.
#   fuzz/run.sh            # 60 s each
#   fuzz/run.sh 3600       # the longer run
#   fuzz/run.sh 20 fuzz_graph
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(fuzz_graph fuzz_corpus fuzz_checkpoint fuzz_safetensors fuzz_tokenizer); fi
build="${DISTILLERY_FUZZ_BUILD:-$root/build-fuzz}"
clang="$(command -v clang++-14 || command -v clang++ || true)"
if [ -z "$clang" ]; then
  echo "fuzz: clang++ not found (packaging/install-deps.sh installs clang-14)" >&2
  exit 2
fi
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$clang" "${launcher[@]}" >/dev/null
cmake --build "$build" -j2 >/dev/null
status=0
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t"
  log="$build/$t.log"
  if ! (cd "$build" && ASAN_OPTIONS=detect_leaks=1 "./$t" -max_total_time="$seconds" \
        -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "corpus/$t" "$here/corpus/$t" >"$log" 2>&1); then
    echo "fuzz: $t FOUND A CRASH (see $log and the crash-* file in $build)" >&2
    tail -30 "$log" >&2
    status=1
  fi
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "?")
  took=$(grep -Eo "Done [0-9]+ runs in [0-9]+ second" "$log" | grep -Eo "in [0-9]+" | grep -Eo "[0-9]+" || echo "?")
  echo "fuzz: $t: $runs executions in ${took} s"
done
exit $status
