#!/usr/bin/env bash
# Desktop end-to-end tests of the Dioxus examples in real windows under Xvfb, against a real
# RivetKit server (rivet-test-server); both built natively with their `desktop` feature.
#   dioxus-counter: clicks "Increment" with xdotool and checks on the server (getCount over
#                   HTTP) that the count changed.
#   dioxus-chat:    types a message into the focused message field and presses Enter, then
#                   checks on the server (getHistory over HTTP) that the room stored it under
#                   the app's user name (sent as connection params).
# Screenshots go to $ARTIFACTS/dioxus-desktop-{counter,chat}.png.
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

echo "e2e-desktop: building dioxus-counter and dioxus-chat (desktop) and rivet-test-server"
cargo build --locked -p dioxus-counter -p dioxus-chat --features dioxus-counter/desktop,dioxus-chat/desktop
# shellcheck source=lib/test-server.sh
. scripts/lib/test-server.sh

xvfb_pid="" app_pid="" chat_pid=""
cleanup() {
  set +e
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null
  [ -n "$chat_pid" ] && kill "$chat_pid" 2>/dev/null && wait "$chat_pid" 2>/dev/null
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
  "$CARGO_TARGET_DIR/debug/dioxus-counter" >"$work/app.log" 2>&1 &
app_pid=$!

# The window titled $1 of the app with pid $2 (its log in $3), waiting at most 60 s.
find_window() {
  local found=""
  for _ in $(seq 1 600); do
    found="$(xdotool search --name "^$1\$" 2>/dev/null | head -n1 || true)"
    [ -n "$found" ] && break
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; echo "e2e-desktop: $1 exited" >&2; return 1; }
    sleep 0.1
  done
  [ -n "$found" ] || { cat "$3" >&2; echo "e2e-desktop: no $1 window in 60 s" >&2; return 1; }
  echo "$found"
}
window="$(find_window dioxus-counter "$app_pid" "$work/app.log")"
echo "e2e-desktop: window $window on $DISPLAY"

# The Increment button takes the focus when mounted (a press before the connection is up
# waits for it), so press Enter, and click it too (in the fixed 640x480 window, below the
# title, the server line, the card's header and the count: see examples/style.css;
# CLICK_X/CLICK_Y override it), until the server's count moves (bounded).
xdotool windowmove --sync "$window" 0 0 2>/dev/null || true
after="$before"
for attempt in $(seq 1 30); do
  xdotool windowfocus --sync "$window" 2>/dev/null || true
  xdotool key Return
  xdotool mousemove --window "$window" "${CLICK_X:-100}" "${CLICK_Y:-273}" click 1
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
kill "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null
app_pid=""

# The chat: the app joins a fresh room as `desk`, the message field has the focus; typing a
# message and Enter sends it (queued until connected), and the room's history shows it.
room="dx-desktop-room-$$-$(date +%s)"
history() {
  curl -fsS --max-time 10 -X POST \
    -H 'content-type: application/json' -H 'x-rivet-encoding: json' \
    -H 'x-rivet-conn-params: {"token":"secret","user":"e2e-probe"}' -d '{"args":[]}' \
    "$endpoint/gateway/chatRoom/action/getHistory?rvt-namespace=default&rvt-method=getOrCreate&rvt-runner=default&rvt-key=$room&rvt-crash-policy=sleep"
}
RIVET_ENDPOINT="$endpoint" RIVET_CHAT_ROOM="$room" RIVET_CHAT_USER=desk RIVET_CHAT_TOKEN=secret \
  WEBKIT_DISABLE_DMABUF_RENDERER=1 WEBKIT_DISABLE_COMPOSITING_MODE=1 \
  "$CARGO_TARGET_DIR/debug/dioxus-chat" >"$work/chat.log" 2>&1 &
chat_pid=$!
chat_window="$(find_window dioxus-chat "$chat_pid" "$work/chat.log")"
echo "e2e-desktop: chat window $chat_window"
xdotool windowmove --sync "$chat_window" 0 0 2>/dev/null || true
# Typed slowly: at xdotool's default pace WebKitGTK under Xvfb drops characters of this
# controlled input (each keystroke re-renders it through the desktop IPC).
text="hello desk $$"
sent=0
for attempt in $(seq 1 10); do
  xdotool windowfocus --sync "$chat_window" 2>/dev/null || true
  xdotool type --delay 200 "$text"
  xdotool key Return
  for _ in $(seq 1 25); do
    if history | node -e '
      let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        const ok = JSON.parse(s).output.some((m) => m.user === "desk" && m.text === process.argv[1]);
        process.exit(ok ? 0 : 1);
      });' "$text" 2>/dev/null; then sent=1; break 2; fi
    sleep 0.2
  done
done
sleep 1 # let the message event repaint before the screenshot
import -window root "$artifacts/dioxus-desktop-chat.png"
echo "e2e-desktop: screenshot $artifacts/dioxus-desktop-chat.png"
if [ "$sent" != 1 ]; then
  echo "e2e-desktop: FAIL: the room's history does not hold the desktop's message: $(history)" >&2
  cat "$work/chat.log" >&2
  exit 1
fi
echo "e2e-desktop: ok: a message typed in the desktop chat reached the room as user desk"
