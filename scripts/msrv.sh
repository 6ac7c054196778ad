#!/usr/bin/env bash
# Checks the minimum supported Rust version that each published crate declares (`rust-version`,
# scripts/lib/published.sh): installs that toolchain with rustup (minimal profile + the wasm32
# target) and runs `cargo check` of the crates' libraries, default features, for the host and
# for wasm32-unknown-unknown. Tests, examples and benches are not covered (their dev-dependencies
# and the tools they need ask for a newer Rust).
#
# Dependencies: the committed Cargo.lock, except the crates in it whose own `rust-version` is
# above the toolchain's, which are moved to their newest release that supports it (cargo's
# MSRV-aware resolver, `incompatible-rust-versions = fallback`) — what a user on that Rust gets.
# This happens in a copy of the workspace under $CARGO_TARGET_DIR/msrv: the repository's
# Cargo.lock is never touched. Called by scripts/test.sh; runs alone too.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rivet-rs/target}"
# shellcheck source=lib/published.sh
. scripts/lib/published.sh

msrv_dir="$CARGO_TARGET_DIR/msrv"
ws="$msrv_dir/workspace"
host="$(rustc -vV | sed -n 's/^host: //p')"

# "rust-version crate" for every published crate.
crates_by_version="$(cargo metadata --no-deps --format-version 1 --locked | node -e '
  const meta = JSON.parse(require("fs").readFileSync(0, "utf8"));
  for (const name of process.argv.slice(1)) {
    const p = meta.packages.find((q) => q.name === name);
    if (!p || !p.rust_version) { console.error(`${name}: no rust-version`); process.exit(1); }
    console.log(`${p.rust_version} ${name}`);
  }
' "${PUBLISHED_CRATES[@]}")"

# The workspace as it is (tracked and new files, not ignored ones), without the lockfile's
# downgrades of an earlier run.
rm -rf "$ws"
mkdir -p "$ws"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' file; do
  [ -e "$file" ] || [ -L "$file" ] || continue # deleted in the work tree
  printf '%s\0' "$file"
done | xargs -0 cp -P --parents -t "$ws"

for version in $(awk '{print $1}' <<<"$crates_by_version" | sort -uV); do
  toolchain="$version"
  crates=()
  for crate in $(awk -v v="$version" '$1 == v {print $2}' <<<"$crates_by_version"); do crates+=(-p "$crate"); done
  started=$SECONDS
  if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1 \
      || ! rustup target list --toolchain "$toolchain" --installed | grep -qx wasm32-unknown-unknown; then
    echo "rustup toolchain install $toolchain (minimal, with wasm32-unknown-unknown)"
    rustup toolchain install "$toolchain" --profile minimal --target wasm32-unknown-unknown --no-self-update
  fi
  installed=$((SECONDS - started))
  targets=(--target "$host" --target wasm32-unknown-unknown)
  # Move the locked crates that need a newer Rust (cargo names them, then refuses) to their
  # newest release that this Rust supports; repeat in case a moved crate brings another one.
  # (Without such crates this is the check itself, and the one below finds everything fresh.)
  for _ in 1 2 3; do
    too_new="$(cd "$ws" && CARGO_TARGET_DIR="$msrv_dir/target" cargo "+$toolchain" check --locked "${crates[@]}" "${targets[@]}" 2>&1 >/dev/null \
      | sed -n 's/^ *\([A-Za-z0-9_-]*@[^ ]*\) requires rustc .*/\1/p' | sort -u || true)"
    [ -z "$too_new" ] && break
    echo "Rust $version: moving $(wc -w <<<"$too_new") locked crates to releases that support it: $(tr '\n' ' ' <<<"$too_new")"
    # shellcheck disable=SC2086  # one argument per crate
    (cd "$ws" && CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo "+$toolchain" update --quiet $too_new)
  done
  echo "Rust $version: cargo check ${crates[*]} for $host and wasm32-unknown-unknown"
  (cd "$ws" && CARGO_TARGET_DIR="$msrv_dir/target" cargo "+$toolchain" check --locked --quiet "${crates[@]}" "${targets[@]}")
  echo "Rust $version: ok (toolchain install ${installed} s, check $((SECONDS - started - installed)) s)"
done
