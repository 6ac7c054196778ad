#!/usr/bin/env bash
# Builds web example crates for the browser, without trunk or dx:
#   cargo build --target wasm32-unknown-unknown  ->  wasm-bindgen --target web  ->  index.html
# Usage: bash scripts/build-web.sh [--release] CRATE... (crates under examples/, each with an
# index.html beside its Cargo.toml that loads ./<crate_name>.js). Output: $WEB_DIST/<crate>/
# (default target/web/<crate>). --release uses the size profile `release-small` and runs
# wasm-opt -Oz from npm binaryen (tests/e2e/node_modules), never Debian's, which breaks modules.
# Extra cargo flags (e.g. --features web) can be passed in WEB_CARGO_FLAGS.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rivet-rs/target}"
dist_root="${WEB_DIST:-$root/target/web}"

profile="debug"
cargo_profile=()
if [ "${1:-}" = "--release" ]; then
  profile="release-small"
  cargo_profile=(--profile release-small)
  shift
fi
[ "$#" -gt 0 ] || { echo "usage: $0 [--release] CRATE..." >&2; exit 2; }

packages=()
for crate in "$@"; do packages+=(-p "$crate"); done
# One cargo call for all crates: shared dependencies compile once.
# shellcheck disable=SC2086
cargo build --locked --target wasm32-unknown-unknown "${cargo_profile[@]}" "${packages[@]}" ${WEB_CARGO_FLAGS:-}

for crate in "$@"; do
  lib="${crate//-/_}"
  wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/$lib.wasm"
  [ -f "$wasm" ] || wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/$crate.wasm"
  [ -f "$wasm" ] || { echo "no wasm output for $crate under $CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile" >&2; exit 1; }
  out="$dist_root/$crate"
  rm -rf "$out"
  mkdir -p "$out"
  wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name "$lib" "$wasm"
  if [ "$profile" = "release-small" ]; then
    wasm_opt="$root/tests/e2e/node_modules/.bin/wasm-opt"
    if [ -x "$wasm_opt" ]; then
      "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types \
        "$out/${lib}_bg.wasm" -o "$out/${lib}_bg.wasm"
    else
      echo "wasm-opt (npm binaryen) not installed: run scripts/setup.sh; size not optimised" >&2
    fi
  fi
  example_dir="$(cargo metadata --format-version 1 --no-deps --locked \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s).packages.find(p=>p.name===process.argv[1]);console.log(p?require("path").dirname(p.manifest_path):"")})' "$crate")"
  if [ -n "$example_dir" ] && [ -f "$example_dir/index.html" ]; then
    cp "$example_dir/index.html" "$out/index.html"
    [ -d "$example_dir/assets" ] && cp -r "$example_dir/assets" "$out/assets"
  fi
  echo "built $crate -> $out ($(du -b "$out/${lib}_bg.wasm" | cut -f1) bytes wasm)"
done
