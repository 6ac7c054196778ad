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

step "clippy (wasm32: rivet-core)"
cargo clippy -p rivet-core --target wasm32-unknown-unknown --locked -- -D warnings

step "the wasm32 build pulls no native-only crates"
if cargo tree -p rivet-core --target wasm32-unknown-unknown -e normal --locked \
    | grep -E '^[^a-z]*(tokio|mio|reqwest|rustls|tokio-tungstenite|getrandom) v'; then
  echo "native-only crates in the wasm32 dependency tree (above)" >&2
  exit 1
fi

step "docs (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc -p rivet-core --no-deps --locked --quiet

engine_pids() { ps -eo pid=,args= | awk '/[r]ivet-engine start/ {print $1}' | sort; }
engines_before="$(engine_pids)"

step "tests (real RivetKit servers)"
cargo test --workspace --locked --no-fail-fast

step "no orphaned rivet-engine"
# Servers of test binaries are stopped by their harness (or its watchdog, within seconds).
for _ in $(seq 1 40); do
  leaked="$(comm -13 <(echo "$engines_before") <(engine_pids) | grep . || true)"
  [ -z "$leaked" ] && break
  sleep 0.5
done
if [ -n "$leaked" ]; then
  echo "rivet-engine processes started by the tests are still running: $leaked" >&2
  ps -o pid,args -p $(echo $leaked | tr ' ' ',') >&2 || true
  exit 1
fi
echo "none"
