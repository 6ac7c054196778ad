#!/usr/bin/env bash
# The demo: starts a real local RivetKit server (tests/server, rivetkit 2.3.19), runs the native
# counter example against it, then serves the Leptos counter and chat examples (built for the
# browser) and prints their URLs; Ctrl-C stops everything started here.
#   RIVET_DEMO_PORT    gateway port (default 6420; 6421 and 6430 are used too)
#   RIVET_DEMO_WEB=0   skip the web examples (native example only)
#   RIVET_DEMO_CHECK=1 serve the pages, fetch each once and exit (for automated checks)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rivet-rs/target}"
port="${RIVET_DEMO_PORT:-6420}"

bash scripts/setup.sh
echo "==> building the examples"
cargo build -q --locked -p counter-cli
web_examples=(leptos-counter leptos-chat)
if [ "${RIVET_DEMO_WEB:-1}" = "1" ]; then
  bash scripts/build-web.sh "${web_examples[@]}" >/dev/null
fi

data="$(mktemp -d "${TMPDIR:-/tmp}/rivet-demo-XXXXXX")"
node_pid=""
cleanup() {
  if [ -n "$node_pid" ]; then
    kill -TERM -- "-$node_pid" 2>/dev/null || true
  fi
  local runtime="$data/.rivetkit/var/engine/runtime.json"
  if [ -f "$runtime" ]; then
    local engine
    engine="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).pid)' "$runtime" 2>/dev/null || true)"
    [ -n "$engine" ] && kill -TERM "$engine" 2>/dev/null || true
  fi
  sleep 1
  rm -rf "$data"
}
trap cleanup EXIT INT TERM

echo "==> starting RivetKit on http://127.0.0.1:$port (data in $data)"
setsid env RIVET_RUN_ENGINE_PORT="$port" RIVET_RUN_ENGINE_HOST=127.0.0.1 \
  RIVETKIT_STORAGE_PATH="$data" RIVET_RUN_SERVICES=0 RIVET_TEST_PARENT_PID=$$ \
  node tests/server/server.mjs >"$data/server.log" 2>&1 &
node_pid=$!

# Ready means an action answers, not just /health.
node -e '
  const url = `http://127.0.0.1:${process.argv[1]}/gateway/counter/action/getCount?rvt-namespace=default&rvt-method=getOrCreate&rvt-runner=default&rvt-key=__ready&rvt-crash-policy=sleep`;
  const deadline = Date.now() + 90000;
  (async () => {
    for (;;) {
      try {
        const r = await fetch(url, { method: "POST", headers: { "x-rivet-encoding": "json" }, body: "{\"args\":[]}" });
        if (r.status === 200) process.exit(0);
      } catch {}
      if (Date.now() > deadline) { console.error("server not ready after 90 s"); process.exit(1); }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
' "$port" || { tail -n 40 "$data/server.log" >&2; exit 1; }
echo "==> server ready"

RIVET_ENDPOINT="http://127.0.0.1:$port" "$CARGO_TARGET_DIR/debug/counter-cli"

if [ "${RIVET_DEMO_WEB:-1}" = "1" ]; then
  echo "==> web examples (server on http://127.0.0.1:$port):"
  dirs=()
  for example in "${web_examples[@]}"; do dirs+=("${WEB_DIST:-$root/target/web}/$example"); done
  node scripts/serve-web.mjs "http://127.0.0.1:$port" "${dirs[@]}"
fi
