#!/usr/bin/env bash
# Browser end-to-end tests: builds every web example, starts one real RivetKit server (with a
# fault proxy in front of it), and runs each spec tests/e2e/*.mjs (except lib.mjs) in headless
# Chromium against it. Exits non-zero if a build or any spec fails.
#
#   bash scripts/e2e.sh              all specs
#   bash scripts/e2e.sh leptos       only tests/e2e/leptos.mjs (several names allowed)
#
# Web examples: every crate under examples/ whose name ends in -counter or -chat and that has
# an index.html, built in one build-web.sh call. An example that needs cargo features for the
# browser lists them (space separated) in examples/<name>/web-features.
# tests/e2e/ssr.mjs also needs the server-rendered app of tests/ssr-app, built here too
# (SSR_APP_BIN, SSR_APP_PKG).
# Specs get: RIVET_ENDPOINT (the server), RIVET_PROXY_ENDPOINT (the server through the proxy),
# RIVET_CONTROL (the proxy's control endpoint: GET /drop, /refuse/{on,off}, /stats), WEB_DIST
# (built examples, one directory per crate) and ARTIFACTS (screenshots; default
# target/e2e-artifacts). Other knobs: E2E_SKIP_BUILD=1 reuses target/web; E2E_RELEASE=1 uses
# size-optimised builds (build-web.sh --release).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rivet-rs/target}"
export WEB_DIST="${WEB_DIST:-$root/target/web}"
export ARTIFACTS="${ARTIFACTS:-$root/target/e2e-artifacts}"

step() { printf '\n\033[1;32m==> %s\033[0m\n' "$*"; }

if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  step "npm install (tests/e2e)"
  (cd tests/e2e && npm install --no-audit --no-fund)
fi

# The specs to run.
specs=()
if [ "$#" -gt 0 ]; then
  for name in "$@"; do
    spec="tests/e2e/${name%.mjs}.mjs"
    [ -f "$spec" ] || { echo "no spec $spec" >&2; exit 2; }
    specs+=("$spec")
  done
else
  for spec in tests/e2e/*.mjs; do
    [ "$(basename "$spec")" = "lib.mjs" ] || specs+=("$spec")
  done
fi

# The web examples, and the features some of them need.
examples=()
features=()
for dir in examples/*/; do
  name="$(basename "$dir")"
  case "$name" in *-counter | *-chat) ;; *) continue ;; esac
  [ -f "$dir/index.html" ] && [ -f "$dir/Cargo.toml" ] || continue
  examples+=("$name")
  if [ -f "$dir/web-features" ]; then
    for feature in $(cat "$dir/web-features"); do features+=("$name/$feature"); done
  fi
done

if [ "${E2E_SKIP_BUILD:-0}" != "1" ]; then
  step "building web examples: ${examples[*]}"
  flags="${WEB_CARGO_FLAGS:-}"
  [ "${#features[@]}" -gt 0 ] && flags="$flags --features ${features[*]}"
  release=()
  [ "${E2E_RELEASE:-0}" = "1" ] && release=(--release)
  WEB_CARGO_FLAGS="$flags" bash scripts/build-web.sh "${release[@]}" "${examples[@]}"
fi

# The server-rendered app of tests/e2e/ssr.mjs: its server (native, `ssr`) and its browser
# bundle (wasm32, `hydrate`), two builds of tests/ssr-app.
export SSR_APP_BIN="$CARGO_TARGET_DIR/debug/rivet-ssr-app"
export SSR_APP_PKG="$WEB_DIST/ssr-app/pkg"
if [ "${E2E_SKIP_BUILD:-0}" != "1" ] && printf '%s\n' "${specs[@]}" | grep -q '/ssr\.mjs$'; then
  step "building the SSR app (tests/ssr-app: server with ssr, bundle with hydrate)"
  ssr_started=$SECONDS
  cargo build --locked -p rivet-ssr-app --features ssr --bin rivet-ssr-app
  cargo build --locked -p rivet-ssr-app --features hydrate --lib --target wasm32-unknown-unknown
  rm -rf "$SSR_APP_PKG"
  mkdir -p "$SSR_APP_PKG"
  wasm-bindgen --target web --no-typescript --out-dir "$SSR_APP_PKG" --out-name rivet_ssr_app \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/debug/rivet_ssr_app.wasm"
  echo "SSR app built in $((SECONDS - ssr_started)) s"
fi

step "starting the test server (rivet-test-server: server + fault proxy)"
# shellcheck source=lib/test-server.sh
. scripts/lib/test-server.sh
run_test_server
export RIVET_ENDPOINT="$RIVET_TEST_ENDPOINT"
export RIVET_PROXY_ENDPOINT="$RIVET_TEST_PROXY_ENDPOINT"
export RIVET_CONTROL="$RIVET_TEST_CONTROL"
echo "server $RIVET_ENDPOINT, proxy $RIVET_PROXY_ENDPOINT, control $RIVET_CONTROL"
mkdir -p "$ARTIFACTS"

failed=()
for spec in "${specs[@]}"; do
  step "spec $spec"
  started=$SECONDS
  if ! timeout 600 node "$spec"; then
    failed+=("$spec")
  fi
  echo "($((SECONDS - started)) s)"
done

stop_test_server
echo
echo "screenshots: $ARTIFACTS"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "e2e FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "e2e: all ${#specs[@]} spec(s) passed"
