# The crates published to crates.io, in publish order (every crate after the workspace crates it
# depends on). Adding a crate is one line here; scripts/package.sh checks that this list and the
# workspace agree (every member without `publish = false` is listed) and that each listed crate
# has complete metadata, and packages them all. Sourced by scripts/package.sh, scripts/msrv.sh and
# scripts/release-check.sh.
# shellcheck shell=bash
# shellcheck disable=SC2034  # used by the scripts that source this file
PUBLISHED_CRATES=(
  rivet-client-macros # rivet-macros/
  rivet-client        # rivet-core/
  rivet-client-leptos # rivet-leptos/
  rivet-client-dioxus # rivet-dioxus/
)
