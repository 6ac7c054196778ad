#!/usr/bin/env bash
# Desktop end-to-end test of examples/dioxus-counter: builds it natively with the `desktop`
# feature, starts a real RivetKit server (rivet-test-server), runs the app in a real window
# under Xvfb, clicks "Increment" with xdotool and checks on the server (getCount over HTTP)
# that the count changed. A screenshot goes to $ARTIFACTS/dioxus-desktop-counter.png.
#
# Needs: libwebkit2gtk-4.1-dev libgtk-3-dev libxdo-dev pkg-config (build), xvfb xdotool
# imagemagick (run). Every wait is bounded; everything started here is stopped by pid.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rivet-rs/target}"
artifacts="${ARTIFACTS:-$root/target/e2e-artifacts}"
mkdir -p "$artifacts"
work="$(mktemp -d "${TMPDIR:-/tmp}/rivet-e2e-desktop.XXXXXX")"

for tool in Xvfb xdotool import curl; do
  command -v "$tool" >/dev/null || { echo "e2e-desktop: $tool is missing (apt-get install xvfb xdotool imagemagick curl)" >&2; exit 1; }
done

echo "e2e-desktop: building dioxus-counter (desktop) and rivet-test-server"
cargo build --locked -p dioxus-counter --features desktop
app="$CARGO_TARGET_DIR/debug/dioxus-counter"
# shellcheck source=lib/test-server.sh
. scripts/lib/test-server.sh

xvfb_pid="" app_pid=""
cleanup() {
  set +e
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null && wait "$xvfb_pid" 2>/dev/null
  stop_test_server
  rm -rf "$work"
}
trap cleanup EXIT

start_test_server "$work"
endpoint="$RIVET_TEST_ENDPOINT"
echo "e2e-desktop: server at $endpoint"

key="dx-desktop-$$-$(date +%s)"
get_count() {
  curl -fsS --max-time 10 -X POST \
    -H 'content-type: application/json' -H 'x-rivet-encoding: json' -d '{"args":[]}' \
    "$endpoint/gateway/counter/action/getCount?rvt-namespace=default&rvt-method=getOrCreate&rvt-runner=default&rvt-key=$key&rvt-crash-policy=sleep" \
    | sed -n 's/.*"output":\([-0-9]*\).*/\1/p'
}
before="$(get_count)"
echo "e2e-desktop: count before = $before"

# A free display number.
display=""
for n in $(seq 90 130); do
  if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then display=":$n"; break; fi
done
[ -n "$display" ] || { echo "e2e-desktop: no free X display" >&2; exit 1; }
Xvfb "$display" -screen 0 1024x768x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 1 100); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
export DISPLAY="$display"

RIVET_ENDPOINT="$endpoint" RIVET_COUNTER_KEY="$key" \
  WEBKIT_DISABLE_DMABUF_RENDERER=1 WEBKIT_DISABLE_COMPOSITING_MODE=1 \
  "$app" >"$work/app.log" 2>&1 &
app_pid=$!

window=""
for _ in $(seq 1 600); do
  window="$(xdotool search --name '^dioxus-counter$' 2>/dev/null | head -n1 || true)"
  [ -n "$window" ] && break
  kill -0 "$app_pid" 2>/dev/null || { cat "$work/app.log" >&2; echo "e2e-desktop: app exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$window" ] || { cat "$work/app.log" >&2; echo "e2e-desktop: no window in 60 s" >&2; exit 1; }
echo "e2e-desktop: window $window on $DISPLAY"

# The button is disabled until the app is connected, so click until the server's count
# moves (bounded). Its position in the fixed 640x480 window: below the title, status and
# count (see STYLE in examples/dioxus-counter/src/main.rs); CLICK_X/CLICK_Y override it.
xdotool windowmove --sync "$window" 0 0 2>/dev/null || true
after="$before"
for attempt in $(seq 1 30); do
  xdotool mousemove --window "$window" "${CLICK_X:-110}" "${CLICK_Y:-225}" click 1
  for _ in $(seq 1 10); do
    after="$(get_count)"
    [ "$after" != "$before" ] && break 2
    sleep 0.2
  done
done
sleep 1 # let the newCount event repaint before the screenshot
import -window root "$artifacts/dioxus-desktop-counter.png"
echo "e2e-desktop: screenshot $artifacts/dioxus-desktop-counter.png"
if [ "$after" = "$before" ] || [ -z "$after" ]; then
  echo "e2e-desktop: FAIL: the count did not change on the server ($before -> $after)" >&2
  cat "$work/app.log" >&2
  exit 1
fi
echo "e2e-desktop: ok: clicking Increment changed the server's count $before -> $after"
