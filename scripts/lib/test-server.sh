# Sourced by the test scripts: one real RivetKit server (plus its fault proxy) for browser and
# desktop tests, from the rivet-test-support bin `rivet-test-server`. The server runs while fd 9
# (its stdin) is open; closing it stops node and the engine and removes the data dir.
#
#   start_test_server [DIR] builds and starts it with its files in DIR (default: a new temporary
#                           directory, removed again by stop_test_server; its path is in
#                           $test_server_dir), waits until ready (at most 3 min) and exports its
#                           RIVET_TEST_* variables (ENDPOINT, PROXY_ENDPOINT, CONTROL); fails
#                           with the server's log otherwise
#   stop_test_server        closes fd 9 and waits for the server to end
#   run_test_server         start_test_server in a temporary directory, stopped (and the
#                           directory removed) when the script exits or is interrupted
# Needs CARGO_TARGET_DIR set.

test_server_pid=""
test_server_dir=""
test_server_owns_dir=0

start_test_server() {
  if [ -n "${1:-}" ]; then
    test_server_dir="$1"
  else
    test_server_dir="$(mktemp -d "${TMPDIR:-/tmp}/rivet-test-server-XXXXXX")"
    test_server_owns_dir=1
  fi
  local dir="$test_server_dir"
  cargo build --locked --quiet -p rivet-test-support --bin rivet-test-server
  mkfifo "$dir/server-stdin"
  "$CARGO_TARGET_DIR/debug/rivet-test-server" <"$dir/server-stdin" >"$dir/server.env" 2>"$dir/server.log" &
  test_server_pid=$!
  exec 9<>"$dir/server-stdin" # hold the write end open for as long as the server should run
  for _ in $(seq 1 360); do
    grep -q '^RIVET_TEST_READY=1$' "$dir/server.env" && break
    kill -0 "$test_server_pid" 2>/dev/null || break
    sleep 0.5
  done
  if ! grep -q '^RIVET_TEST_READY=1$' "$dir/server.env"; then
    echo "rivet-test-server did not come up:" >&2
    cat "$dir/server.log" >&2
    return 1
  fi
  set -a
  # shellcheck disable=SC1091
  . "$dir/server.env"
  set +a
}

stop_test_server() {
  if [ -n "$test_server_pid" ]; then
    exec 9>&-
    wait "$test_server_pid" 2>/dev/null || true
    test_server_pid=""
  fi
  if [ "$test_server_owns_dir" = "1" ]; then
    rm -rf "$test_server_dir"
    test_server_owns_dir=0
  fi
}

run_test_server() {
  trap stop_test_server EXIT
  trap 'exit 130' INT TERM
  start_test_server
}
