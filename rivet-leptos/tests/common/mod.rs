//! Helpers shared by the native hook tests: a "component" (an owner with the client
//! provided) and a bounded wait that lets effects and tasks run.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use leptos::prelude::*;
use rivet_core::Client;
use rivet_leptos::prelude::*;

/// A "component": a fresh owner with the client provided, running `body`.
pub fn mount<T>(client: &Client, body: impl FnOnce() -> T) -> (Owner, T) {
    let owner = Owner::new();
    let value = owner.with(|| {
        provide_rivet(client.clone());
        body()
    });
    (owner, value)
}

/// Lets effects and tasks run until `check` holds, for at most `secs` seconds.
pub async fn until(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        any_spawner::Executor::tick().await;
        if check() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not true within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
