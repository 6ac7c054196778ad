#!/usr/bin/env bash
# Builds one or more wasm counters the way scripts/bench.sh does (release-small, wasm-bindgen
# --target web, wasm-opt -Oz) and prints "<crate> <raw> <gz>" for .wasm + .js glue, gzip -9.
# Usage: benches/bundle-one.sh leptos-counter [dioxus-counter]
# RIVET_BUNDLE_NIGHTLY=1 builds with the nightly smallest-build recipe (README, "Bundle size").
# Output goes to target/bench/bundle-one/<crate>[-nightly]/ (pre-opt wasm kept for twiggy).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rivet-rs/target-bench}"
wasm_opt="${WASM_OPT:-$root/tests/e2e/node_modules/.bin/wasm-opt}"
nightly="${RIVET_BUNDLE_NIGHTLY:-0}"
pkgs=()
for c in "$@"; do pkgs+=(-p "$c"); done
suffix=""
if [ "$nightly" = "1" ]; then
  suffix="-nightly"
  # Own target dir: stable and nightly would otherwise share release-small/<crate>.wasm.
  export CARGO_TARGET_DIR="$CARGO_TARGET_DIR/nightly-bundle"
  RUSTFLAGS="-Zlocation-detail=none -Zfmt-debug=none -Zunstable-options -Cpanic=immediate-abort" \
    cargo +nightly build -q --target wasm32-unknown-unknown --profile release-small \
    -Z build-std=std,panic_abort "${pkgs[@]}" >&2
else
  cargo build -q --target wasm32-unknown-unknown --profile release-small "${pkgs[@]}" >&2
fi
for crate in "$@"; do
  lib="${crate//-/_}"
  wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release-small/$lib.wasm"
  [ -f "$wasm" ] || wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release-small/$crate.wasm"
  dist="$root/target/bench/bundle-one/$crate$suffix"
  rm -rf "$dist" && mkdir -p "$dist"
  wasm-bindgen --target web --no-typescript --out-dir "$dist" --out-name "$lib" "$wasm" >&2
  cp "$dist/${lib}_bg.wasm" "$dist/${lib}_bg.pre-opt.wasm"
  "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types \
    "$dist/${lib}_bg.wasm" -o "$dist/${lib}_bg.wasm" >&2
  raw="$(cat "$dist/${lib}_bg.wasm" "$dist/$lib.js" | wc -c)"
  gz="$(cat "$dist/${lib}_bg.wasm" "$dist/$lib.js" | gzip -9 -c | wc -c)"
  echo "$crate$suffix $raw $gz"
done
