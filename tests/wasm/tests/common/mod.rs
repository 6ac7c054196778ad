//! Shared helpers of the browser suites: endpoints baked in at compile time, deadlines,
//! polling, and the fault proxy's control endpoint.
// A missing endpoint is a clear runtime failure (not a compile error), so `clippy --tests` works
// without a server.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::option_env_unwrap
)]

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::{select, Either};
use rivet_core::{Client, ClientConfig, Encoding, LifecycleRetries};

/// The gateway of the server `scripts/test.sh` started (compile-time `RIVET_TEST_ENDPOINT`).
pub fn endpoint() -> &'static str {
    option_env!("RIVET_TEST_ENDPOINT").expect(
        "RIVET_TEST_ENDPOINT was not set when the browser tests were built: run them through \
         scripts/test.sh, or start `rivet-test-server` and export what it prints",
    )
}

/// The same gateway through the fault-injecting TCP proxy.
pub fn proxy_endpoint() -> &'static str {
    option_env!("RIVET_TEST_PROXY_ENDPOINT").expect("RIVET_TEST_PROXY_ENDPOINT was not set")
}

/// The proxy's control endpoint (`/drop`, `/refuse/on`, ...).
pub fn control_endpoint() -> &'static str {
    option_env!("RIVET_TEST_CONTROL").expect("RIVET_TEST_CONTROL was not set")
}

/// A client for `endpoint` in `encoding`.
pub fn client_for(endpoint: &str, encoding: Encoding) -> Client {
    Client::from_config(
        ClientConfig::builder()
            .endpoint(endpoint)
            .encoding(encoding)
            .build()
            .unwrap(),
    )
    .unwrap()
}

/// A client for the server in `encoding`.
pub fn client(encoding: Encoding) -> Client {
    client_for(endpoint(), encoding)
}

/// A client that never repeats failed calls (fast error tests).
pub fn client_without_retries(encoding: Encoding) -> Client {
    Client::from_config(
        ClientConfig::builder()
            .endpoint(endpoint())
            .encoding(encoding)
            .lifecycle_retries(LifecycleRetries::none())
            .build()
            .unwrap(),
    )
    .unwrap()
}

/// A key no other test (or run) uses.
pub fn unique_key(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let random = (js_sys::Math::random() * 1e12) as u64;
    format!("{prefix}-wasm-{n}-{random:x}")
}

/// Milliseconds since the epoch (the page's clock).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Waits `ms` milliseconds.
pub async fn sleep_ms(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// Fails the test if `future` takes longer than `secs` seconds: no test may hang.
pub async fn within<F: Future>(secs: u32, what: &str, future: F) -> F::Output {
    let future = std::pin::pin!(future);
    let timer = std::pin::pin!(sleep_ms(secs * 1000));
    match select(future, timer).await {
        Either::Left((output, _)) => output,
        Either::Right(((), _)) => panic!("{what} did not finish within {secs} s"),
    }
}

/// Polls `check` every 50 ms until it returns true, for at most `secs` seconds.
pub async fn eventually<F, Fut>(secs: u32, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = now_ms() + f64::from(secs) * 1000.0;
    loop {
        if check().await {
            return;
        }
        if now_ms() > deadline {
            panic!("{what}: not true within {secs} s");
        }
        sleep_ms(50).await;
    }
}

/// Calls the proxy's control endpoint, e.g. `control("/drop")`, and returns its answer.
pub async fn control(path: &str) -> String {
    let url = format!("{}{path}", control_endpoint());
    let response = within(
        10,
        "control request",
        fetch(&url, web_sys::RequestInit::new()),
    )
    .await
    .unwrap_or_else(|e| panic!("control {path}: {e:?}"));
    assert_eq!(response.status(), 200, "control {path}");
    let text = wasm_bindgen_futures::JsFuture::from(response.text().unwrap())
        .await
        .unwrap();
    text.as_string().unwrap()
}

/// The page's own `fetch`, for checks below the client.
pub async fn fetch(
    url: &str,
    init: web_sys::RequestInit,
) -> Result<web_sys::Response, wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    let window = web_sys::window().expect("a window");
    let request = web_sys::Request::new_with_str_and_init(url, &init)?;
    let response =
        wasm_bindgen_futures::JsFuture::from(window.fetch_with_request(&request)).await?;
    Ok(response.unchecked_into())
}

/// Dispatches a bare event named `name` on `window` (e.g. `online`).
pub fn dispatch_window_event(name: &str) {
    let window = web_sys::window().expect("a window");
    let event = web_sys::Event::new(name).unwrap();
    window.dispatch_event(&event).unwrap();
}

/// `Duration` from milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The scenario gateway (`rivet_test_support::scenarios`): the actor name picks the fault.
pub fn hostile_endpoint() -> &'static str {
    option_env!("RIVET_TEST_HOSTILE_ENDPOINT").expect("RIVET_TEST_HOSTILE_ENDPOINT was not set")
}

/// What the scenario gateway saw for actor `name` and key `key`: `(websocket, http)` requests.
pub async fn hostile_stats(name: &str, key: &str) -> (u64, u64) {
    let url = format!("{}/__stats?name={name}&key={key}", hostile_endpoint());
    let response = within(
        10,
        "stats request",
        fetch(&url, web_sys::RequestInit::new()),
    )
    .await
    .unwrap_or_else(|e| panic!("stats: {e:?}"));
    let text = wasm_bindgen_futures::JsFuture::from(response.text().unwrap())
        .await
        .unwrap()
        .as_string()
        .unwrap();
    let stats: serde_json::Value = serde_json::from_str(&text).unwrap();
    (
        stats["websocket"].as_u64().unwrap(),
        stats["http"].as_u64().unwrap(),
    )
}
