#!/usr/bin/env bash
# The whole test suite: installs what it needs, then lints, builds for native and wasm32, and
# runs every test against real RivetKit servers that the tests start and stop themselves.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rivet-rs/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n\033[1;32m==> %s\033[0m\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "format"
cargo fmt --all -- --check

step "clippy (native, all targets)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "clippy (wasm32: rivet-core, the hook crates and the browser tests)"
cargo clippy -p rivet-client -p rivet-client-leptos -p rivet-client-dioxus --target wasm32-unknown-unknown --locked -- -D warnings
cargo clippy -p rivet-wasm-tests --target wasm32-unknown-unknown --tests --locked -- -D warnings
# On its own: it turns on rivet-client's `test-transport`, which the line above must not see.
cargo clippy -p rivet-client-testing --target wasm32-unknown-unknown --locked -- -D warnings

step "rivet-core with one encoding (features json / cbor / bare), native and wasm32 (lib only)"
for encoding in json cbor bare; do
  for target in "" "--target wasm32-unknown-unknown"; do
    # shellcheck disable=SC2086
    cargo clippy -p rivet-client --no-default-features --features "$encoding" $target --locked -- -D warnings
  done
done

step "the wasm32 build pulls no native-only crates"
if cargo tree -p rivet-client --target wasm32-unknown-unknown -e normal --locked \
    | grep -E '^[^a-z]*(tokio|mio|reqwest|rustls|tokio-tungstenite|getrandom) v'; then
  echo "native-only crates in the wasm32 dependency tree (above)" >&2
  exit 1
fi

# The test transport is for tests only: no default or app build compiles it in (dev edges
# excluded: the test kit, a dev-dependency, turns it on for tests only).
for package in rivet-client leptos-counter dioxus-counter; do
  if cargo tree -p "$package" --target wasm32-unknown-unknown -e features,no-dev --locked | grep -q 'test-transport'; then
    echo "rivet-client's test-transport feature is on in the wasm32 build of $package" >&2
    exit 1
  fi
done

# The web examples' own trees (the frameworks may bring getrandom with its browser backend),
# and the test kit's (its in-memory fake server runs in the browser).
for example in leptos-counter dioxus-counter rivet-client-testing; do
  if cargo tree -p "$example" --target wasm32-unknown-unknown -e normal --locked \
      | grep -E '^[^a-z]*(tokio|mio|reqwest|rustls|tokio-tungstenite) v'; then
    echo "native-only crates in the wasm32 build of $example (above)" >&2
    exit 1
  fi
done

step "docs (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc -p rivet-client -p rivet-client-leptos -p rivet-client-dioxus --no-deps --locked --quiet

# Every process the suite starts inherits this id, rivet-engine included: the orphan check at
# the end counts only the engines of this run, not other RivetKit servers on the machine.
export RIVET_SUITE_ID="suite-$$-$RANDOM$RANDOM"
engine_pids() {
  local pid
  for pid in $(ps -eo pid=,args= | awk '/[r]ivet-engine start/ {print $1}'); do
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "RIVET_SUITE_ID=$RIVET_SUITE_ID" && echo "$pid"
  done | sort
}

step "tests (real RivetKit servers)"
cargo test --workspace --locked --no-fail-fast

step "server rendering (rivet-client-leptos with its ssr feature: the hooks open nothing)"
# Its own feature set, so leptos and its reactive crates compile a second time (with `ssr`).
ssr_started=$SECONDS
cargo test -p rivet-client-leptos --features ssr --test ssr --locked
echo "ssr tests took $((SECONDS - ssr_started)) s (build included)"

step "reliability table (measured by rivet-core/tests/reliability.rs above; docs/reliability.md)"
cat "$CARGO_TARGET_DIR/tmp/reliability.md" 2>/dev/null || echo "(not written: the reliability test did not run)"

step "browser tests (wasm32 in headless Chromium, against a real server)"
# The suites in tests/wasm run in Chromium (wasm-bindgen-test-runner + chromedriver) on a page
# the runner serves on its own port, so every request is cross-origin. The server comes from the
# rivet-test-server bin: it prints its endpoints and runs until its stdin closes (or, if this
# script is killed, until its watchdogs notice). The endpoints are compiled into the tests.
# shellcheck source=lib/test-server.sh
. scripts/lib/test-server.sh
run_test_server
wasm_tmp="$test_server_dir"
cat "$wasm_tmp/server.env"
# The committed webdriver.json (Chromium flags) plus a fresh profile directory.
node -e '
  const fs = require("fs");
  const [src, dst, profile] = process.argv.slice(1);
  const caps = JSON.parse(fs.readFileSync(src, "utf8"));
  caps["goog:chromeOptions"].args.push("--user-data-dir=" + profile);
  fs.writeFileSync(dst, JSON.stringify(caps, null, 2));
' tests/wasm/webdriver.json "$wasm_tmp/webdriver.json" "$wasm_tmp/chromium-profile"
wasm_started=$SECONDS
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  CHROMEDRIVER=/usr/bin/chromedriver \
  WASM_BINDGEN_TEST_WEBDRIVER_JSON="$wasm_tmp/webdriver.json" \
  WASM_BINDGEN_TEST_DRIVER_TIMEOUT=30 \
  WASM_BINDGEN_TEST_TIMEOUT=300 \
  cargo test --locked -p rivet-wasm-tests --target wasm32-unknown-unknown
echo "browser tests took $((SECONDS - wasm_started)) s (build included)"
stop_test_server

step "web examples end to end (Leptos and Dioxus web in headless Chromium, real server)"
bash scripts/e2e.sh

step "Dioxus desktop examples (counter and chat) in real windows (Xvfb), real server"
bash scripts/e2e-desktop.sh

step "the demo serves its pages"
RIVET_DEMO_CHECK=1 RIVET_DEMO_PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')" \
  bash scripts/demo.sh

step "packaging: every published crate as crates.io and docs.rs see it (scripts/package.sh)"
package_started=$SECONDS
bash scripts/package.sh
echo "packaging took $((SECONDS - package_started)) s"

step "minimum supported Rust versions, native and wasm32 (scripts/msrv.sh)"
msrv_started=$SECONDS
bash scripts/msrv.sh
echo "MSRV checks took $((SECONDS - msrv_started)) s (toolchain downloads included)"

step "no orphaned rivet-engine"
# Servers of test binaries are stopped by their harness (or its watchdog, within seconds).
for _ in $(seq 1 40); do
  leaked="$(engine_pids)"
  [ -z "$leaked" ] && break
  sleep 0.5
done
if [ -n "$leaked" ]; then
  echo "rivet-engine processes started by this run are still running: $leaked" >&2
  ps -o pid,args -p $(echo $leaked | tr ' ' ',') >&2 || true
  exit 1
fi
echo "none"
