#!/usr/bin/env bash
# The layering and the error conventions, checked on the sources and with the compiler:
#   1. no Qt header in core/;
#   2. no LibTorch header in widgets/ or app/, and with the include path those targets get,
#      #include <torch/torch.h> and <torch/script.h> do not compile while core's public
#      headers do;
#   3. a dropped Result does not compile;
#   4. every error code written in core/src follows the scheme of errors.h ("area.reason").
# Usage: check_layering.sh SOURCE_DIR COMPILER FLAGS_FILE
set -uo pipefail
src="$1"
cxx="$2"
flags_file="$3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }

# 1. Qt stays out of the engine.
qt=$(grep -rlE '#include *[<"](Q[A-Z][A-Za-z]*|Qt[A-Za-z]*/[A-Za-z]*|qcustomplot\.h)[>"]' "$src/core" 2>/dev/null)
[ -z "$qt" ] && pass "no Qt header in core/" || fail "core/ includes Qt headers: $qt"

# 2. LibTorch stays in core/src.
torch=$(grep -rlE '#include *[<"](torch|ATen|c10)/' "$src/widgets" "$src/app" 2>/dev/null)
[ -z "$torch" ] && pass "no LibTorch header in widgets/ or app/" || fail "LibTorch headers in: $torch"

read -r -a flags < "$flags_file"
compile() { "$cxx" -std=c++17 -fsyntax-only -Werror=unused-result "${flags[@]}" -x c++ "$1" 2> "$work/err.txt"; }

printf '#include "distillery/core/trainer.h"\n#include "distillery/core/store.h"\nint main() { return 0; }\n' > "$work/public.cpp"
if compile "$work/public.cpp"; then pass "core's public headers compile with the app's include path"
else fail "core's public headers do not compile with the app's include path: $(head -3 "$work/err.txt")"; fi

for header in torch/torch.h torch/script.h ATen/ATen.h; do
  printf '#include <%s>\nint main() { return 0; }\n' "$header" > "$work/torch.cpp"
  if compile "$work/torch.cpp"; then fail "#include <$header> compiles with the app's include path"
  else pass "#include <$header> does not compile there ($(grep -m1 -oE 'error: .*' "$work/err.txt" | cut -c1-90))"; fi
done

# 3. Results are [[nodiscard]].
printf '#include "distillery/core/result.h"\nusing namespace distillery::core;\nStatus f() { return okStatus(); }\nint main() { f(); return 0; }\n' > "$work/dropped.cpp"
if compile "$work/dropped.cpp"; then fail "a dropped Status compiles"
else pass "a dropped Status does not compile"; fi
printf '#include "distillery/core/result.h"\nusing namespace distillery::core;\nStatus f() { return okStatus(); }\nint main() { return f().ok() ? 0 : 1; }\n' > "$work/used.cpp"
if compile "$work/used.cpp"; then pass "a used Status compiles"
else fail "a used Status does not compile: $(head -3 "$work/err.txt")"; fi

# 4. Error codes: failure("...") and Error{"...", ...} literals are "area.reason".
bad=$(find "$src/core/src" -name '*.cpp' -exec perl -0777 -ne \
  'while (/(?:failure\(|Error\{)\s*"([^"]*)"/g) { print "$ARGV: \"$1\"\n" unless $1 =~ /^[a-z]+\.[a-z0-9_]+$/ }' {} +)
[ -z "$bad" ] && pass "error codes in core/src follow area.reason" || fail "error codes outside the scheme: $bad"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all layering checks passed"
