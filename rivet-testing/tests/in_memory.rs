//! The fake server in memory (`FakeServerBuilder::in_memory`), natively: no socket at all,
//! the server stops with its value, and the client's clock is the test's (tokio's paused
//! time applies to everything, the fake's connect delay included). The same server runs in
//! the browser (`tests/wasm/tests/fake_server.rs`); `controls.rs` and `conformance.rs` run
//! their scenarios in memory too.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{client_of, within, Counter, CounterActions};
use rivet_core::{Encoding, Error, TransportErrorKind};
use rivet_testing::FakeServer;

fn memory_fake() -> FakeServer {
    FakeServer::builder()
        .actor(common::counter())
        .in_memory()
        .unwrap()
}

#[tokio::test]
async fn in_memory_server_needs_no_socket_and_stops_when_dropped() {
    let server = memory_fake();
    assert!(server.is_in_memory());
    assert_eq!(server.endpoint(), "http://rivet-testing.invalid");
    let client = client_of(&server, Encoding::Cbor);
    let counter = client.get_or_create(Counter, "mem");
    assert_eq!(counter.increment(3).await.unwrap(), 3);
    let live = counter.connect().unwrap();
    within(10, "ready", live.ready()).await.unwrap();
    assert_eq!(live.increment(1).await.unwrap(), 4);
    assert_eq!(server.connections(Counter, "mem"), 1);
    assert_eq!(server.websocket_attempts(), 1);
    assert!(server.http_requests() >= 1);

    // The endpoint alone reaches nothing: only a client with the server's transport does.
    let outsider = rivet_core::Client::from_config(
        rivet_core::ClientConfig::builder()
            .endpoint(server.endpoint())
            .lifecycle_retries(rivet_core::LifecycleRetries::none())
            .request_timeout(Duration::from_secs(5))
            .build()
            .unwrap(),
    )
    .unwrap();
    assert!(outsider
        .get_or_create(Counter, "mem")
        .increment(1)
        .await
        .is_err());

    drop(server);
    let err = within(10, "call after drop", counter.increment(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Transport {
                kind: TransportErrorKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    live.dispose().await;
}

#[tokio::test(start_paused = true)]
async fn paused_time_runs_through_a_long_connect_delay_at_once() {
    let server = memory_fake();
    // Under the client's 30 s open timeout, which runs on the same paused clock.
    server.delay_connects(Duration::from_secs(20));
    let started = (tokio::time::Instant::now(), std::time::Instant::now());
    let live = client_of(&server, Encoding::Json)
        .get_or_create(Counter, "paused")
        .connect()
        .unwrap();
    live.ready().await.unwrap();
    assert!(
        started.0.elapsed() >= Duration::from_secs(20),
        "virtual time"
    );
    assert!(started.1.elapsed() < Duration::from_secs(10), "real time");
    assert_eq!(server.connections(Counter, "paused"), 1);
    live.dispose().await;
}
