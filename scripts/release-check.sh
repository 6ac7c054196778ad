#!/usr/bin/env bash
# Before a release (opt-in, not part of scripts/test.sh: compiling the two tools cold costs more
# than the rest of the release checks together, see README "Releasing"):
#   cargo deny check licenses bans sources   (deny.toml)
#   cargo semver-checks for every published crate (scripts/lib/published.sh) against a baseline:
#     default: the last version on crates.io (a crate not published yet is skipped, saying so);
#     --baseline-rev REV: the crates as they are at git revision REV (before the first release,
#       e.g. `--baseline-rev main` on a branch, or the tag of the last release).
# The tools are installed, pinned, with `cargo install --locked` into $CARGO_TARGET_DIR/tools
# (kept between runs like the rest of the target directory; nothing outside it but cargo's
# registry cache).
#
#   bash scripts/release-check.sh [--baseline-rev REV] [--skip-deny] [--skip-semver]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rivet-rs/target}"
# shellcheck source=lib/published.sh
. scripts/lib/published.sh

CARGO_DENY_VERSION=0.20.2
CARGO_SEMVER_CHECKS_VERSION=0.51.0

baseline=()
run_deny=1
run_semver=1
while [ $# -gt 0 ]; do
  case "$1" in
    --baseline-rev) baseline=(--baseline-rev "${2:?--baseline-rev needs a git revision}"); shift 2 ;;
    --skip-deny) run_deny=0; shift ;;
    --skip-semver) run_semver=0; shift ;;
    *) echo "release-check.sh: unknown argument $1 (see the header of this script)" >&2; exit 2 ;;
  esac
done

tools="$CARGO_TARGET_DIR/tools"
export PATH="$tools/bin:$PATH"
install_tool() { # crate version command
  if [ "$("$3" --version 2>/dev/null | awk '{print $NF}')" != "$2" ]; then
    local started=$SECONDS
    echo "cargo install --locked $1 --version =$2 (into $tools)"
    CARGO_TARGET_DIR="$tools/build" cargo install --locked --quiet "$1" --version "=$2" --root "$tools"
    echo "$1 $2 installed in $((SECONDS - started)) s"
  fi
}

if [ "$run_deny" = 1 ]; then
  install_tool cargo-deny "$CARGO_DENY_VERSION" cargo-deny
  # No `advisories`: its database is fetched from outside the package registries.
  cargo deny --locked check licenses bans sources
fi

if [ "$run_semver" = 1 ]; then
  install_tool cargo-semver-checks "$CARGO_SEMVER_CHECKS_VERSION" cargo-semver-checks
  for crate in "${PUBLISHED_CRATES[@]}"; do
    # A proc-macro crate has no Rust API for rustdoc to compare; its interface is the output
    # it generates, which the rivet-client checks see through the re-export.
    if cargo metadata --no-deps --format-version 1 --locked \
        | node -e 'const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
                   const p = m.packages.find((q) => q.name === process.argv[1]);
                   process.exit(p.targets.some((t) => t.kind.includes("proc-macro")) ? 0 : 1)' "$crate"; then
      echo "semver-checks: $crate skipped (proc-macro)"
      continue
    fi
    if [ ${#baseline[@]} -eq 0 ]; then
      # Against crates.io: a crate that was never published has no baseline (the first
      # release); anything else cargo cannot answer is a failure, not a skip.
      if ! out="$(cargo info --registry crates-io "$crate" 2>&1)"; then
        if grep -q "could not find \`$crate" <<<"$out"; then
          echo "semver-checks: $crate skipped (not on crates.io yet: its first release has no baseline)"
          continue
        fi
        echo "release-check.sh: could not ask crates.io about $crate: $out" >&2
        exit 1
      fi
    fi
    echo "semver-checks: $crate against ${baseline[*]:-the last version on crates.io}"
    cargo semver-checks check-release --package "$crate" "${baseline[@]}"
  done
fi
