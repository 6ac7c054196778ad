#!/usr/bin/env bash
# Installs what building and testing rivet-rs needs on a fresh Debian machine with rustup.
# Idempotent: every step is skipped when its result is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
command -v cargo >/dev/null 2>&1 || { echo "cargo not found: install Rust with rustup first" >&2; exit 1; }

if command -v rustup >/dev/null 2>&1; then
  rustup target list --installed | grep -qx wasm32-unknown-unknown || {
    log "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  }
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
fi

# The real RivetKit server the tests and the demo talk to (rivetkit pinned in package-lock.json).
if [ ! -d "$root/tests/server/node_modules/rivetkit" ]; then
  # Not `npm ci`: the registry reachable here lacks the other platforms' optional packages, so
  # the lockfile cannot list them and `npm ci` rejects it as out of sync. With the lockfile
  # present, `npm install --no-save` installs exactly the locked versions.
  log "npm install (tests/server: rivetkit 2.3.19, as locked)"
  (cd "$root/tests/server" && npm install --no-save --no-audit --no-fund --loglevel=error)
fi

# Browser end-to-end tests (playwright-core driving Debian's Chromium) and wasm-opt (npm
# binaryen; Debian's wasm-opt breaks modules).
if [ ! -d "$root/tests/e2e/node_modules/playwright-core" ] || [ ! -d "$root/tests/e2e/node_modules/binaryen" ]; then
  log "npm install (tests/e2e: playwright-core, binaryen, as locked)"
  (cd "$root/tests/e2e" && npm install --no-save --no-audit --no-fund --loglevel=error)
fi

# Dioxus desktop: webkit2gtk to build; Xvfb, xdotool and ImageMagick to run it headless in tests.
apt_install libwebkit2gtk-4.1-dev libgtk-3-dev libxdo-dev pkg-config xvfb xdotool imagemagick

# Browser tests: headless Chromium + chromedriver (Debian's; browser downloads do not work here).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  apt_install chromium chromium-driver
fi

# wasm-bindgen-cli (wasm-bindgen-test-runner) at exactly the wasm-bindgen version in Cargo.lock:
# the CLI and the library must match. No --locked: the CLI's own lockfile pins a crate version
# the registry lacks.
wbg_version="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' "$root/Cargo.lock")"
if [ -z "$wbg_version" ]; then
  echo "wasm-bindgen not found in Cargo.lock" >&2
  exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbg_version" ] \
    || ! command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
  log "cargo install wasm-bindgen-cli --version =$wbg_version (about 4 min)"
  env -u CARGO_TARGET_DIR cargo install wasm-bindgen-cli --version "=$wbg_version" --force --quiet
fi
