//! Shared helpers for the integration tests: one real RivetKit server per test binary.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::time::Duration;

use rivet_core::{Client, ClientConfig, Encoding, LifecycleRetries};
use rivet_test_support::TestServer;

pub use rivet_test_support::unique_key;

pub mod logs;

/// The endpoint of this test binary's server.
pub fn endpoint() -> String {
    TestServer::shared().endpoint()
}

/// A client for the shared server in `encoding`.
pub fn client(encoding: Encoding) -> Client {
    client_for(&endpoint(), encoding)
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

/// Fails the test if `future` takes longer than `secs` seconds: no test may hang.
pub async fn within<F: Future>(secs: u64, what: &str, future: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(secs), future).await {
        Ok(output) => output,
        Err(_) => panic!("{what} did not finish within {secs} s"),
    }
}

/// Polls `check` every 50 ms until it returns true, for at most `secs` seconds.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("{what}: not true within {secs} s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
