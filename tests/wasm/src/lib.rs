//! Browser tests of `rivet-core`, in `tests/`: `wasm-bindgen-test` suites that run in headless
//! Chromium against a real RivetKit 2.3.19 server, and `tests/fake_server.rs`, the
//! `rivet-client-testing` recipe: a Leptos component against the fake server in memory (no
//! server needed). Nothing in this library.
//!
//! Run them with `scripts/test.sh` (step "browser tests"), which starts the server with the
//! `rivet-test-server` bin of `tests/support`, passes its endpoints to the build as
//! `RIVET_TEST_ENDPOINT`, `RIVET_TEST_PROXY_ENDPOINT` and `RIVET_TEST_CONTROL`, and runs
//! `cargo test -p rivet-wasm-tests --target wasm32-unknown-unknown` with
//! `wasm-bindgen-test-runner` and chromedriver. The page is served by the runner on its own
//! port, so every request is cross-origin, as in a real deployment.
//!
//! On native targets the test files compile to nothing.
