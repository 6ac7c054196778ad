#!/usr/bin/env bash
# Release readiness of the published crates (scripts/lib/published.sh), run by scripts/test.sh:
#   1. the list and the workspace agree, and each crate has the metadata crates.io and docs.rs
#      show (description, license, repository, readme, keywords, categories, rust-version,
#      docs.rs targets) and no dependency that only a path can find;
#   2. `cargo package` of all of them together: each .crate is built from its packaged sources,
#      the workspace dependencies resolved from the other packaged crates (cargo's local
#      registry overlay), as crates.io will see them;
#   3. each package carries its README and LICENSE, and its docs build for every docs.rs target
#      (wasm32 included) with warnings denied;
#   4. the documentation refers to nothing outside the repository.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rivet-rs/target}"
# shellcheck source=lib/published.sh
. scripts/lib/published.sh

fail() { echo "package.sh: $*" >&2; exit 1; }

echo "published crates: ${PUBLISHED_CRATES[*]}"

# 1. Metadata (from `cargo metadata`, read with node, which the suite installs anyway).
cargo metadata --no-deps --format-version 1 --locked >"$CARGO_TARGET_DIR/package-metadata.json"
node - "$CARGO_TARGET_DIR/package-metadata.json" "${PUBLISHED_CRATES[@]}" <<'EOF'
const fs = require("fs");
const path = require("path");
const [file, ...listed] = process.argv.slice(2);
const meta = JSON.parse(fs.readFileSync(file, "utf8"));
const members = new Set(meta.workspace_members);
const pkgs = meta.packages.filter((p) => members.has(p.id));
const byName = new Map(pkgs.map((p) => [p.name, p]));
const publishable = pkgs.filter((p) => p.publish === null).map((p) => p.name);
const problems = [];
for (const name of publishable) {
  if (!listed.includes(name)) {
    problems.push(`${name}: publishable (no \`publish = false\`) but not in scripts/lib/published.sh`);
  }
}
listed.forEach((name, index) => {
  const p = byName.get(name);
  if (!p) return problems.push(`${name}: listed in scripts/lib/published.sh but not a workspace member`);
  if (p.publish !== null) problems.push(`${name}: listed but has \`publish = false\``);
  const dir = path.dirname(p.manifest_path);
  for (const field of ["description", "license", "repository", "readme", "rust_version"]) {
    if (!p[field]) problems.push(`${name}: no \`${field.replace("_", "-")}\` in ${p.manifest_path}`);
  }
  if (p.readme && !fs.existsSync(path.join(dir, p.readme))) problems.push(`${name}: readme ${p.readme} missing in ${dir}`);
  if (p.readme && /\]\((?!https?:|#)[^)]*\)/.test(fs.readFileSync(path.join(dir, p.readme), "utf8"))) {
    problems.push(`${name}: ${p.readme} has a relative link, which crates.io cannot follow`);
  }
  if (!fs.existsSync(path.join(dir, "LICENSE"))) problems.push(`${name}: no LICENSE in ${dir}`);
  for (const field of ["keywords", "categories"]) {
    if (!(p[field].length >= 1 && p[field].length <= 5)) problems.push(`${name}: ${field} needs 1 to 5 entries`);
  }
  const procMacro = p.targets.some((t) => t.kind.includes("proc-macro"));
  const targets = (((p.metadata || {}).docs || {}).rs || {}).targets || [];
  if (!procMacro && !targets.includes("wasm32-unknown-unknown")) {
    problems.push(`${name}: [package.metadata.docs.rs] targets must list wasm32-unknown-unknown (the browser API)`);
  }
  for (const dep of p.dependencies) {
    // An exact requirement reaches every app that depends on the crate: cargo allows one
    // release per semver-compatible range, so `=1.0.229` against an app's `1.0.230` fails to
    // resolve. Cargo.lock pins the versions the suite builds with.
    if (dep.kind !== "dev" && /(^|,\s*)=/.test(dep.req)) {
      problems.push(`${name}: dependency ${dep.name} = "${dep.req}" is an exact requirement; use a caret one ("${dep.req.replace(/^=\s*/, "")}") and let Cargo.lock pin the version`);
    }
    if (!dep.path) continue;
    const target = byName.get(dep.name);
    if (dep.kind === "dev" && dep.req === "*") continue; // stripped from the published manifest
    if (dep.req === "*") problems.push(`${name}: dependency ${dep.name} has a path but no version`);
    if (!target || target.publish !== null) {
      problems.push(`${name}: depends on ${dep.name}, which is not published`);
    } else if (listed.indexOf(dep.name) > index) {
      problems.push(`${name}: depends on ${dep.name}, listed after it (publish order)`);
    }
  }
});
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`metadata complete for ${listed.length} crates; every publishable member is listed`);
EOF

# One line per crate: name, version, docs.rs targets.
crates_info="$(node -e '
  const meta = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const name of process.argv.slice(2)) {
    const p = meta.packages.find((q) => q.name === name);
    console.log([p.name, p.version, ...((((p.metadata || {}).docs || {}).rs || {}).targets || [])].join(" "));
  }
' "$CARGO_TARGET_DIR/package-metadata.json" "${PUBLISHED_CRATES[@]}")"

# Cargo unpacks the packages of its local overlay registry (below) into
# $CARGO_HOME/registry/src/-<hash of the target dir>/<crate>-<version> and, when that directory
# is already there from an earlier run with the same target dir and version, builds the stale
# sources instead of the new package (a removed feature came back as "no `RawValue` in
# `value`"). The overlay registries (the `-<hash>` directories) hold nothing but packages of
# this kind, so drop our crates' unpacked copies there before packaging.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
while read -r crate version _; do
  for stale in "$cargo_home"/registry/src/-*/"$crate-$version"; do
    if [ -d "$stale" ]; then rm -rf -- "$stale"; fi
  done
done <<<"$crates_info"

# 2. Package and verify together (cargo >= 1.90 resolves the workspace dependencies of a
#    crate being packaged against the other packages of the same run, not crates.io).
package_args=()
for crate in "${PUBLISHED_CRATES[@]}"; do package_args+=(-p "$crate"); done
# The tests and benches stay in the repository (they need the workspace's test server), so
# cargo's "ignoring test/benchmark … not included in the published package" is expected.
cargo package --locked "${package_args[@]}" \
  2> >(grep -v -E '^warning: ignoring (test|benchmark|example) `[^`]*` as `[^`]*` is not included in the published package$' >&2)

# 3. README and LICENSE inside each package; docs for every docs.rs target.
host="$(rustc -vV | sed -n 's/^host: //p')"
while read -r crate version _; do
  contents="$(tar -tzf "$CARGO_TARGET_DIR/package/$crate-$version.crate")"
  for file in README.md LICENSE Cargo.toml; do
    grep -qx "$crate-$version/$file" <<<"$contents" || fail "$crate-$version.crate has no $file"
  done
done <<<"$crates_info"
for target in $(awk '{for (i = 3; i <= NF; i++) print $i}' <<<"$crates_info" | sort -u); do
  doc_args=()
  for crate in $(awk -v t="$target" '{for (i = 3; i <= NF; i++) if ($i == t) print $1}' <<<"$crates_info"); do
    doc_args+=(-p "$crate")
  done
  echo "docs for $target: ${doc_args[*]}"
  # The host's docs without --target: the same build as the suite's docs step, not a second one.
  target_args=(--target "$target")
  [ "$target" = "$host" ] && target_args=()
  RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --quiet "${target_args[@]}" "${doc_args[@]}"
done

# 4. Nothing refers outside the repository: no `../shared`, and every relative Markdown link
#    names a file of the repository.
if git grep -n -I -E '\.\./shared\b' -- ':!scripts/package.sh'; then
  fail "the lines above refer to ../shared, outside the repository"
fi
git ls-files -z -- '*.md' | node -e '
  const fs = require("fs");
  const path = require("path");
  const files = fs.readFileSync(0, "utf8").split("\0").filter(Boolean);
  const root = process.cwd();
  const bad = [];
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = m[1].split("#")[0];
      if (!link || /^[a-z][a-z0-9+.-]*:/i.test(m[1])) continue;
      const target = path.resolve(path.dirname(file), link);
      if (!target.startsWith(root + path.sep) || !fs.existsSync(target)) bad.push(`${file}: ${m[1]}`);
    }
  }
  if (bad.length) {
    console.error("links to files outside the repository or missing:\n" + bad.join("\n"));
    process.exit(1);
  }
  console.log(`${files.length} Markdown files: every relative link resolves inside the repository`);
'
