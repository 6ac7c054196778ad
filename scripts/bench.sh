#!/usr/bin/env bash
# Benchmarks (see BENCHMARKS.md): installs what it needs, then
#   1. bundle sizes: React counter (esbuild) vs the Leptos / Dioxus counters (wasm, release-small,
#      wasm-bindgen --target web, wasm-opt -Oz from npm binaryen@132)  -> target/bench/bundle.json
#   2. client figures: one isolated RivetKit server, each contender in its own process
#      (rivet-core, bare-socket floor, JS client, rivetkit-client 2.3.31)  -> target/bench/results.json
#   3. codec micro-benchmarks (criterion)                                  -> $CARGO_TARGET_DIR/criterion
# Arguments are passed to the harness (e.g. --quick, --figures conn_latency,pipelined).
# RIVET_BENCH_SKIP_BUNDLE=1 / _FIGURES=1 / _CODECS=1 skip steps 1 / 2 / 3; RIVET_BENCH_SKIP_SETUP=1
# skips scripts/setup.sh (when it already ran). RIVET_BENCH_NIGHTLY=1 adds two rows to bundle.json,
# "leptos-counter (nightly, immediate-abort)" and "dioxus-counter (nightly, immediate-abort)":
# the same counters built with the nightly smallest-build recipe of the README ("Bundle size";
# needs the nightly toolchain with rust-src and the wasm32 target); the stable rows stay the
# headline and are unchanged.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rivet-rs/target-bench}"
out="$root/target/bench"
mkdir -p "$out"
log() { printf '\033[1;34m[bench]\033[0m %s\n' "$*" >&2; }

[ "${RIVET_BENCH_SKIP_SETUP:-0}" = "1" ] || bash scripts/setup.sh

npm_install() { # dir: npm install as locked, once
  if [ ! -d "$1/node_modules/$2" ]; then
    log "npm install ($1)"
    (cd "$1" && npm install --no-save --no-audit --no-fund --loglevel=error)
  fi
}
npm_install benches/js rivetkit

# --- 1. bundle sizes ------------------------------------------------------------------------
sizes() { # files...: {"raw":N,"gzip":N} over the concatenation
  local raw gz
  raw="$(cat "$@" | wc -c)"
  gz="$(cat "$@" | gzip -9 -c | wc -c)"
  printf '{"raw":%s,"gzip":%s' "$raw" "$gz"
}

wasm_opt=""
find_wasm_opt() {
  for c in "$root/tests/e2e/node_modules/.bin/wasm-opt" "$out/tools/node_modules/.bin/wasm-opt"; do
    [ -x "$c" ] && { wasm_opt="$c"; return; }
  done
  log "npm install binaryen@132 (wasm-opt) into $out/tools"
  mkdir -p "$out/tools"
  if (cd "$out/tools" && npm install --no-save --no-audit --no-fund --loglevel=error binaryen@132.0.0 >&2); then
    wasm_opt="$out/tools/node_modules/.bin/wasm-opt"
  fi
}

# The nightly smallest-build recipe (README, "Bundle size"): std rebuilt with immediate-abort
# panics, no panic locations, no Debug formatting. Its own target dir: the stable and nightly
# builds would otherwise share the copied-out release-small/<crate>.wasm.
nightly_flags="-Zlocation-detail=none -Zfmt-debug=none -Zunstable-options -Cpanic=immediate-abort"

bundle_wasm() { # crate [nightly] -> one JSON object
  local crate="$1" nightly="${2:-}" dir="examples/$1"
  if [ ! -f "$dir/Cargo.toml" ]; then
    printf '{"raw":null,"gzip":null,"note":"not built yet: %s does not exist"}' "$dir"
    return
  fi
  local target_dir="$CARGO_TARGET_DIR" dist="$out/bundle/$crate" built=1
  if [ -n "$nightly" ]; then
    target_dir="$CARGO_TARGET_DIR/nightly-bundle"
    dist="$out/bundle/$crate-nightly"
    log "building $crate (wasm32, release-small, nightly immediate-abort)"
    RUSTFLAGS="$nightly_flags" CARGO_TARGET_DIR="$target_dir" cargo +nightly build -q \
      --target wasm32-unknown-unknown --profile release-small -Z build-std=std,panic_abort \
      -p "$crate" >&2 || built=0
  else
    log "building $crate (wasm32, release-small)"
    cargo build -q --target wasm32-unknown-unknown --profile release-small -p "$crate" >&2 || built=0
  fi
  if [ "$built" = "0" ]; then
    printf '{"raw":null,"gzip":null,"note":"cargo build failed"}'
    return
  fi
  local lib="${crate//-/_}" wasm
  wasm="$target_dir/wasm32-unknown-unknown/release-small/$lib.wasm"
  [ -f "$wasm" ] || wasm="$target_dir/wasm32-unknown-unknown/release-small/$crate.wasm"
  [ -f "$wasm" ] || { printf '{"raw":null,"gzip":null,"note":"no .wasm output"}'; return; }
  rm -rf "$dist" && mkdir -p "$dist"
  wasm-bindgen --target web --no-typescript --out-dir "$dist" --out-name "$lib" "$wasm" >&2
  # Kept for attribution: wasm-opt drops the name section that twiggy needs
  # (python3 benches/twiggy-by-part.py target/bench/bundle/*/*.pre-opt.wasm).
  cp "$dist/${lib}_bg.wasm" "$dist/${lib}_bg.pre-opt.wasm"
  local note="wasm-bindgen --target web"
  [ -z "$nightly" ] || note="nightly build-std, immediate-abort, no locations, no Debug; $note"
  [ -n "$wasm_opt" ] || find_wasm_opt
  if [ -n "$wasm_opt" ]; then
    "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
      --enable-mutable-globals --enable-reference-types \
      "$dist/${lib}_bg.wasm" -o "$dist/${lib}_bg.wasm" >&2
    note="$note + wasm-opt -Oz"
  else
    note="$note (no wasm-opt)"
  fi
  sizes "$dist/${lib}_bg.wasm" "$dist/$lib.js"
  printf ',"note":"%s: .wasm + .js glue"}' "$note"
}

if [ "${RIVET_BENCH_SKIP_BUNDLE:-0}" != "1" ]; then
  npm_install benches/react-counter @rivetkit/react
  log "bundling the React counter (esbuild --bundle --minify)"
  (cd benches/react-counter && npm run -s build >&2)
  react="$(sizes benches/react-counter/dist/bundle.js),\"note\":\"@rivetkit/react 2.3.11 + react 19, esbuild --minify\"}"
  leptos="$(bundle_wasm leptos-counter)"
  dioxus="$(bundle_wasm dioxus-counter)"
  extra=""
  if [ "${RIVET_BENCH_NIGHTLY:-0}" = "1" ]; then
    extra=",\"leptos-counter (nightly, immediate-abort)\":$(bundle_wasm leptos-counter nightly)"
    extra="$extra,\"dioxus-counter (nightly, immediate-abort)\":$(bundle_wasm dioxus-counter nightly)"
  fi
  printf '{"react-counter":%s,"leptos-counter":%s,"dioxus-counter":%s%s}\n' "$react" "$leptos" "$dioxus" "$extra" >"$out/bundle.json"
fi

# --- 2. client figures ----------------------------------------------------------------------
if [ "${RIVET_BENCH_SKIP_FIGURES:-0}" != "1" ]; then
  # idle_memory holds one descriptor per connection (10,000 with --count idle_memory=10000):
  # raise the soft limit to the hard one for the harness and its children.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || log "could not raise the file limit (ulimit -n $(ulimit -n))"
  log "building the harness (release)"
  cargo build -q --release -p rivet-bench
  bundle_arg=()
  [ -f "$out/bundle.json" ] && bundle_arg=(--bundle "$out/bundle.json")
  "$CARGO_TARGET_DIR/release/rivet-bench" --out "$out/results.json" \
    --anchor-target-dir "$CARGO_TARGET_DIR/anchor-rust" "${bundle_arg[@]}" "$@"
fi

# --- 3. codec micro-benchmarks ----------------------------------------------------------------
if [ "${RIVET_BENCH_SKIP_CODECS:-0}" != "1" ]; then
  log "codec micro-benchmarks (criterion)"
  cargo bench -q -p rivet-client --bench codecs -- --warm-up-time 1 --measurement-time 2 \
    | tee "$out/codecs.txt"
fi
