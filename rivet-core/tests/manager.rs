//! The shared connection manager against the real server: one socket per identity, grace
//! period, churn, a refused server, per-lease event listeners.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{client, eventually, unique_key, within};
use futures::StreamExt;
use rivet_core::manager::ActorOptions;
use rivet_core::{Client, ClientConfig, ConnStatus, Encoding};
use rivet_test_support::{TcpProxy, TestServer};
use serde_json::json;

/// Server-side connections of the actor, minus the HTTP action's own ephemeral one.
#[allow(clippy::unwrap_used)]
async fn socket_count(client: &rivet_core::Client, name: &str, key: &str) -> u64 {
    let n: u64 = client
        .get_or_create(name, key)
        .action("connCount", ())
        .await
        .unwrap();
    n - 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_leases_of_one_identity_share_one_socket() {
    for encoding in Encoding::ALL {
        let client = client(encoding);
        let manager = client.manager();
        let key = unique_key("share");
        let leases: Vec<_> = (0..10)
            .map(|i| {
                // Alternate the two spellings of a one-part key.
                let options = if i % 2 == 0 {
                    ActorOptions::new("counter", key.as_str())
                } else {
                    ActorOptions::new("counter", vec![key.clone()])
                };
                manager.acquire(options).unwrap()
            })
            .collect();
        for lease in &leases {
            within(60, "ready", lease.ready()).await.unwrap();
        }
        assert_eq!(manager.connection_count(), 1, "{encoding}");
        assert_eq!(manager.opened_total(), 1, "{encoding}");
        assert_eq!(manager.lease_count(leases[0].identity()), 10);
        assert_eq!(
            socket_count(&client, "counter", &key).await,
            1,
            "{encoding}"
        );
        // Every lease sees the same connection and state.
        let ids: Vec<_> = leases
            .iter()
            .map(|l| l.connection().unwrap().connection_id())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] == w[1]));
        let n: i64 = leases[3]
            .connection()
            .unwrap()
            .action("increment", (2,))
            .await
            .unwrap();
        assert_eq!(n, 2);
        drop(leases);
        client.dispose().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn params_in_any_key_order_share_one_socket() {
    let client = client(Encoding::Bare);
    let manager = client.manager();
    let key = unique_key("room");
    let a = manager
        .acquire(
            ActorOptions::new("chatRoom", key.as_str())
                .params(&json!({"token": "secret", "user": "ada"}))
                .unwrap(),
        )
        .unwrap();
    let b = manager
        .acquire(
            ActorOptions::new("chatRoom", [key.as_str()])
                .params(&json!({"user": "ada", "token": "secret"}))
                .unwrap(),
        )
        .unwrap();
    within(30, "a ready", a.ready()).await.unwrap();
    within(30, "b ready", b.ready()).await.unwrap();
    assert_eq!(a.identity(), b.identity());
    assert_eq!(manager.opened_total(), 1);
    // A different user is a different connection.
    let c = manager
        .acquire(
            ActorOptions::new("chatRoom", key.as_str())
                .params(&json!({"token": "secret", "user": "bob"}))
                .unwrap(),
        )
        .unwrap();
    within(30, "c ready", c.ready()).await.unwrap();
    assert_eq!(manager.opened_total(), 2);
    assert_ne!(
        a.connection().unwrap().connection_id(),
        c.connection().unwrap().connection_id()
    );
    client.dispose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_closes_after_grace_and_reacquire_inside_it_keeps_the_socket() {
    let client = client(Encoding::Json);
    let manager = client.manager();
    manager.set_grace_period(Duration::from_millis(600));
    let key = unique_key("grace");
    let options = ActorOptions::new("counter", key.as_str());

    let lease = manager.acquire(options.clone()).unwrap();
    within(60, "ready", lease.ready()).await.unwrap();
    let first_id = lease.connection().unwrap().connection_id();
    let mut states = lease.states();
    drop(lease);
    // Remount inside the grace period: same connection, no reconnect.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lease = manager.acquire(options.clone()).unwrap();
    assert_eq!(lease.connection().unwrap().connection_id(), first_id);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(lease.is_connected());
    assert_eq!(manager.opened_total(), 1);
    assert_eq!(socket_count(&client, "counter", &key).await, 1);

    // Release for good: closed once the grace period is over, and the task ends.
    drop(lease);
    assert_eq!(manager.connection_count(), 1, "still in its grace period");
    eventually(10, "connection closed", || async {
        manager.connection_count() == 0 && client.live_connections() == 0
    })
    .await;
    eventually(10, "server saw the socket close", || async {
        socket_count(&client, "counter", &key).await == 0
    })
    .await;
    // The state stream saw the end (Idle, terminal, disposed) and no reconnect in between.
    let seen: Vec<_> = within(10, "states", async {
        let mut seen = Vec::new();
        while let Some(state) = states.next().await {
            seen.push(state.status);
            if state.terminal {
                break;
            }
        }
        seen
    })
    .await;
    assert_eq!(seen, vec![ConnStatus::Connected, ConnStatus::Idle]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_acquire_release_cycles_open_one_connection_and_leak_nothing() {
    let client = client(Encoding::Bare);
    let manager = client.manager();
    manager.set_grace_period(Duration::from_millis(300));
    let key = unique_key("churn");
    let options = ActorOptions::new("counter", key.as_str());
    let keeper = manager.acquire(options.clone()).unwrap();
    within(60, "ready", keeper.ready()).await.unwrap();
    for i in 0..1000 {
        let lease = manager.acquire(options.clone()).unwrap();
        let clone = lease.clone();
        assert_eq!(manager.lease_count(&options.identity()), 3, "cycle {i}");
        drop(clone);
        drop(lease);
    }
    // Churn without a keeper: release to zero and re-acquire inside the grace period.
    drop(keeper);
    for _ in 0..1000 {
        drop(manager.acquire(options.clone()).unwrap());
    }
    assert_eq!(manager.opened_total(), 1);
    let conn_listeners = client.manager().connection_count();
    assert_eq!(conn_listeners, 1);
    eventually(10, "everything closed", || async {
        manager.connection_count() == 0 && client.live_connections() == 0
    })
    .await;
    assert_eq!(manager.opened_total(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_server_is_retried_with_backoff_by_one_connection() {
    let proxy = TcpProxy::start(TestServer::shared().addr());
    proxy.set_refuse(true);
    // No metadata lookup: its HTTP connection would stay in the client's keep-alive pool and
    // count as a proxied connection at the end, where this test checks that the WebSocket
    // closed. (While refused, a lookup replaces each connect attempt one for one.)
    let client = Client::from_config(
        ClientConfig::builder()
            .endpoint(proxy.endpoint())
            .encoding(Encoding::Bare)
            .metadata_lookup(false)
            .build()
            .unwrap(),
    )
    .unwrap();
    let manager = client.manager();
    manager.set_grace_period(Duration::ZERO);
    let key = unique_key("refused");
    let leases: Vec<_> = (0..50)
        .map(|_| {
            manager
                .acquire(ActorOptions::new("counter", key.as_str()))
                .unwrap()
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let attempts = proxy.refused_count();
    // Backoff 250 ms doubling (with jitter) gives about 7 attempts in 10 s; a tight loop
    // (React's) would give thousands.
    assert!(
        (2..=20).contains(&attempts),
        "{attempts} connection attempts in 10 s"
    );
    assert_eq!(manager.opened_total(), 1);
    let state = leases[0].state();
    assert_eq!(state.status, ConnStatus::Disconnected);
    assert!(
        state.last_error.as_ref().is_some_and(|e| e.is_connect()),
        "{state:?}"
    );
    assert!(state.next_retry_in.is_some());

    // The server comes back: the one connection gets through, every lease sees it.
    proxy.set_refuse(false);
    for lease in &leases {
        lease.reconnect();
    }
    within(30, "ready after refusal", leases[49].ready())
        .await
        .unwrap();
    assert!(leases.iter().all(|l| l.is_connected()));
    drop(leases);
    eventually(10, "closed", || async {
        client.live_connections() == 0 && proxy.active_count() == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_leases_each_get_an_event_once_and_one_listener_leaving_keeps_the_other() {
    let client = client(Encoding::Cbor);
    let manager = client.manager();
    let key = unique_key("events");
    let a = manager
        .acquire(ActorOptions::new("counter", key.as_str()))
        .unwrap();
    let b = manager
        .acquire(ActorOptions::new("counter", key.as_str()))
        .unwrap();
    let seen_a = Arc::new(AtomicUsize::new(0));
    let seen_b = Arc::new(AtomicUsize::new(0));
    let listener_a = a.on("newCount", {
        let seen = seen_a.clone();
        move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    let mut stream_b = b.events("newCount");
    let _listener_b = b.on("newCount", {
        let seen = seen_b.clone();
        move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    within(60, "ready", a.ready()).await.unwrap();
    let conn = a.connection().unwrap();
    let _: i64 = conn.action("increment", (1,)).await.unwrap();
    let event = within(10, "event on b's stream", stream_b.next())
        .await
        .unwrap();
    assert_eq!(event.args().unwrap(), [json!(1)]);
    eventually(5, "both callbacks ran", || async {
        seen_a.load(Ordering::SeqCst) == 1 && seen_b.load(Ordering::SeqCst) == 1
    })
    .await;

    // a stops listening; b still gets the next event (the server subscription stays).
    drop(listener_a);
    let _: i64 = conn.action("increment", (1,)).await.unwrap();
    let event = within(10, "second event", stream_b.next()).await.unwrap();
    assert_eq!(event.args().unwrap(), [json!(2)]);
    eventually(5, "b's callback ran again", || async {
        seen_b.load(Ordering::SeqCst) == 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(seen_a.load(Ordering::SeqCst), 1, "a's listener was removed");
    assert_eq!(conn.listener_count(), 2);
    drop(conn);
    client.dispose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_lease_opens_nothing_and_switching_identity_releases_the_old_one() {
    let client = client(Encoding::Json);
    let manager = client.manager();
    manager.set_grace_period(Duration::ZERO);
    let key = unique_key("disabled");
    let lease = manager
        .acquire(ActorOptions::new("counter", key.as_str()).enabled(false))
        .unwrap();
    assert!(!lease.is_enabled());
    assert!(lease.connection().is_none());
    assert_eq!(lease.status(), ConnStatus::Idle);
    assert!(lease.ready().await.is_err());
    let _inert = lease.on("newCount", |_| {});
    assert_eq!(manager.connection_count(), 0);
    assert_eq!(client.live_connections(), 0);

    // Enable: a connection; then switch identity (another key): the old one closes.
    let mut current = manager
        .acquire(ActorOptions::new("counter", key.as_str()))
        .unwrap();
    within(60, "ready", current.ready()).await.unwrap();
    let other = unique_key("disabled-next");
    current = manager
        .acquire(ActorOptions::new("counter", other.as_str()))
        .unwrap();
    within(30, "next ready", current.ready()).await.unwrap();
    eventually(10, "old connection closed", || async {
        manager.connection_count() == 1 && client.live_connections() == 1
    })
    .await;
    assert_eq!(socket_count(&client, "counter", &key).await, 0);
    assert_eq!(socket_count(&client, "counter", &other).await, 1);
    drop(current);
    eventually(10, "all closed", || async {
        client.live_connections() == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_params_are_a_terminal_error_shared_by_every_lease() {
    let client = client(Encoding::Bare);
    let manager = client.manager();
    let key = unique_key("reject");
    let options = ActorOptions::new("chatRoom", key.as_str())
        .params(&json!({"token": "wrong", "user": "eve"}))
        .unwrap();
    let a = manager.acquire(options.clone()).unwrap();
    let b = manager.acquire(options).unwrap();
    let err = within(30, "rejection", a.ready()).await.unwrap_err();
    assert_eq!(err.code(), Some("unauthorized"), "{err:?}");
    assert_eq!(
        b.error()
            .and_then(|e| e.code().map(str::to_owned))
            .as_deref(),
        Some("unauthorized")
    );
    assert!(b.state().terminal);
    assert_eq!(manager.opened_total(), 1);
    client.dispose().await;
    // After dispose, acquiring again opens a fresh connection.
    let c = manager
        .acquire(ActorOptions::new("counter", key.as_str()))
        .unwrap();
    within(30, "ready after dispose", c.ready()).await.unwrap();
    drop(c);
    client.dispose().await;
    assert_eq!(client.live_connections(), 0);
}

#[test]
fn acquire_outside_a_runtime_is_an_error_not_a_panic() {
    let client = rivet_core::Client::new("http://127.0.0.1:9").unwrap();
    let err = client
        .manager()
        .acquire(ActorOptions::new("counter", "x"))
        .unwrap_err();
    assert!(err.to_string().contains("tokio runtime"), "{err}");
    let err = client
        .manager()
        .acquire(ActorOptions::new("", "x"))
        .unwrap_err();
    assert!(err.to_string().contains("actor name"), "{err}");
}
