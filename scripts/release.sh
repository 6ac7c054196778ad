#!/usr/bin/env bash
# Publishes the crates of scripts/lib/published.sh at the workspace's version, and refuses to
# unless every release check passes first. This is the only documented way to release (README,
# "Releasing"), so a release cannot skip the API comparison by accident:
#   1. the working tree is clean and `CHANGELOG.md` has a `## [<version>]` section;
#   2. no published crate already has this version on crates.io;
#   3. scripts/release-check.sh: `cargo deny` (licenses, bans, sources) and `cargo semver-checks`
#      of every crate against its last version on crates.io (a crate never published yet has
#      nothing to compare with and is said to be so);
#   4. scripts/package.sh: metadata, `cargo package` of all crates together, docs for every
#      docs.rs target, no reference outside the repository;
#   5. `cargo publish` of all crates in one call (cargo orders them and waits for each to appear
#      in the index), then the tag `v<version>`.
# The full test suite (scripts/test.sh) is CI's job on the same commit; run it first.
#
#   bash scripts/release.sh [--dry-run]
#     --dry-run: steps 1-4, then `cargo publish --dry-run`; nothing is uploaded or tagged.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rivet-rs/target}"
# shellcheck source=lib/published.sh
. scripts/lib/published.sh

dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1; shift ;;
    *) echo "release.sh: unknown argument $1 (see the header of this script)" >&2; exit 2 ;;
  esac
done
fail() { echo "release.sh: $*" >&2; exit 1; }
step() { printf '\n\033[1;34m[release]\033[0m %s\n' "$*"; }

version="$(cargo metadata --no-deps --format-version 1 --locked | node -e '
  const meta = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const versions = new Set(process.argv.slice(1).map((n) => meta.packages.find((p) => p.name === n).version));
  if (versions.size !== 1) { console.error(`the published crates disagree on their version: ${[...versions].join(", ")}`); process.exit(1); }
  console.log([...versions][0]);
' "${PUBLISHED_CRATES[@]}")"

step "1. releasing $version: clean tree and CHANGELOG section"
[ -z "$(git status --porcelain)" ] || fail "the working tree has uncommitted changes (git status); commit or stash them first"
grep -qE "^## \[$(sed 's/\./\\./g' <<<"$version")\]" CHANGELOG.md \
  || fail "CHANGELOG.md has no '## [$version]' section: move the Unreleased entries under it (Keep a Changelog)"

step "2. $version is not on crates.io yet"
for crate in "${PUBLISHED_CRATES[@]}"; do
  if out="$(cargo info --registry crates-io "$crate@$version" 2>&1)"; then
    fail "$crate $version is already on crates.io: bump [workspace.package] version in Cargo.toml"
  elif ! grep -q "could not find \`$crate" <<<"$out"; then
    fail "could not ask crates.io about $crate $version: $out"
  fi
done

step "3. cargo deny and cargo semver-checks (scripts/release-check.sh)"
bash scripts/release-check.sh

step "4. packaging and docs (scripts/package.sh)"
bash scripts/package.sh

publish_args=()
for crate in "${PUBLISHED_CRATES[@]}"; do publish_args+=(-p "$crate"); done
if [ "$dry_run" = 1 ]; then
  step "5. cargo publish --dry-run (nothing is uploaded)"
  cargo publish --locked --dry-run "${publish_args[@]}"
  echo "dry run of $version passed; run without --dry-run to publish"
else
  step "5. cargo publish $version"
  cargo publish --locked "${publish_args[@]}"
  git tag -a "v$version" -m "rivet-client $version"
  echo "published $version and tagged v$version: git push origin v$version"
fi
