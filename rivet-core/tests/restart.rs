//! A full server restart (node and engine) under a live connection: the client notices,
//! backs off while nothing listens, and comes back by itself with its subscriptions.

mod common;

use std::time::Duration;

use common::{client_for, unique_key, within};
use futures::StreamExt;
use rivet_core::{ConnStatus, Encoding};
use rivet_test_support::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_recovers_from_a_full_server_restart() {
    let mut server = tokio::task::spawn_blocking(TestServer::start)
        .await
        .unwrap()
        .unwrap();
    let client = client_for(&server.endpoint(), Encoding::Bare);
    let key = unique_key("restart");
    let conn = client
        .get_or_create("counter", key.as_str())
        .connect()
        .unwrap();
    let mut counts = conn.events("newCount");
    within(30, "ready", conn.ready()).await.unwrap();
    let n: i64 = conn.action("increment", (1,)).await.unwrap();
    assert_eq!(n, 1);
    let first = conn.connection_id();

    let server = tokio::task::spawn_blocking(move || server.restart().map(|()| server));
    let state = within(
        30,
        "disconnect noticed",
        conn.observable_state().wait_for(|s| !s.is_connected()),
    )
    .await;
    assert_ne!(state.status, ConnStatus::Connected);
    let mut server = within(120, "restart", server).await.unwrap().unwrap();
    within(
        60,
        "reconnected",
        conn.observable_state()
            .wait_for(|s| s.is_connected() && s.connection_id != first),
    )
    .await;

    // State survived in the engine's data dir; the subscription was re-sent.
    let n: i64 = conn.action("increment", (1,)).await.unwrap();
    assert_eq!(n, 2);
    let mut last = None;
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(5), counts.next()).await {
        last = Some(event.arg::<i64>(0).unwrap());
        if last == Some(2) {
            break;
        }
    }
    assert_eq!(last, Some(2));
    client.dispose().await;
    tokio::task::spawn_blocking(move || server.stop())
        .await
        .unwrap();
}
