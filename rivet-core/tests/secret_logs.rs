//! No log line, ours or a dependency's, shows a token or connection params: everything
//! `tracing` and `log` emit at TRACE is captured during connect, actions, failures and a
//! reconnect against the real server, and searched for the secrets.
//!
//! One test in its own binary: the subscriber and the `log` bridge are process-wide.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::logs::Captured;
use common::{eventually, unique_key, within};
use rivet_core::{
    Client, ClientConfig, ConnectOptions, Encoding, LifecycleRetries, ReconnectPolicy,
};
use rivet_test_support::{TcpProxy, TestServer};
use serde_json::{json, Value};

const TOKEN: &str = "SECRET-TOKEN-5be2";
const PARAM: &str = "SECRET-PARAM-c4d9";

/// Captures every `tracing` event and span field, and every `log` record (tungstenite,
/// reqwest, hyper, rustls), at TRACE.
fn capture_everything() -> Captured {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_target(true)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(captured.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    tracing_log::LogTracer::init_with_filter(tracing_log::log::LevelFilter::Trace).unwrap();
    captured
}

/// The forms a secret can take on the wire or in a dump: as is, percent-encoded, hex.
fn forms(secret: &str) -> Vec<String> {
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    let percent: String = secret.bytes().map(|b| format!("%{b:02X}")).collect();
    vec![secret.to_owned(), hex, percent, secret.replace('-', "%2D")]
}

fn client_for(endpoint: &str) -> Client {
    let authority = endpoint.trim_start_matches("http://");
    Client::from_config(
        ClientConfig::builder()
            .endpoint(format!("http://default:{TOKEN}@{authority}"))
            .encoding(Encoding::Json)
            .lifecycle_retries(LifecycleRetries::none())
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_at_any_level_shows_a_token_or_params() {
    let captured = capture_everything();
    // Through a proxy, so the socket can be cut for a real reconnect.
    let proxy = TcpProxy::start(TestServer::shared().addr());
    let client = client_for(&proxy.endpoint());
    let params = json!({"token": PARAM, "user": "ada"});

    // Stateless actions by key and by id (`@token` in the path).
    let counter = client
        .get_or_create("counter", unique_key("logs"))
        .with_params(&params)
        .unwrap();
    let n: i64 = within(60, "action", counter.action("increment", (2,)))
        .await
        .unwrap();
    assert_eq!(n, 2);
    let id = within(60, "resolve", counter.resolve()).await.unwrap();
    let by_id = client
        .get_for_id("counter", &id)
        .with_params(&params)
        .unwrap();
    let n: i64 = within(60, "action by id", by_id.action("increment", (1,)))
        .await
        .unwrap();
    assert_eq!(n, 3);

    // A connection with params: action, a reconnect, another action.
    let conn = counter
        .connect_with(ConnectOptions::new().params(&params).unwrap())
        .unwrap();
    within(60, "ready", conn.ready()).await.unwrap();
    let first_id = conn.connection_id();
    let n: i64 = within(60, "ws action", conn.action("increment", (1,)))
        .await
        .unwrap();
    assert_eq!(n, 4);
    assert!(proxy.drop_all() > 0);
    eventually(60, "reconnected", || {
        let conn = &conn;
        let first_id = first_id.clone();
        async move { conn.is_connected() && conn.connection_id() != first_id }
    })
    .await;
    let n: i64 = within(
        60,
        "ws action after reconnect",
        conn.action("increment", (1,)),
    )
    .await
    .unwrap();
    assert_eq!(n, 5);
    conn.dispose().await;

    // A shared connection: the manager logs its identity when the last lease goes.
    let manager = client.manager();
    manager.set_grace_period(std::time::Duration::ZERO);
    let lease = manager
        .acquire(
            rivet_core::manager::ActorOptions::new("counter", unique_key("logs"))
                .params(&params)
                .unwrap(),
        )
        .unwrap();
    within(60, "lease ready", lease.ready()).await.unwrap();
    drop(lease);
    eventually(60, "lease closed", || async {
        manager.connection_count() == 0
    })
    .await;

    // Failures: params the actor rejects, and a refused connect.
    let rejected = client
        .get_or_create("chatRoom", unique_key("logs"))
        .connect_with(
            ConnectOptions::new()
                .params(&json!({"token": "wrong", "user": PARAM}))
                .unwrap(),
        )
        .unwrap();
    let err = within(60, "rejected", rejected.ready()).await.unwrap_err();
    assert!(err.to_string().contains("unauthorized"), "{err}");
    rejected.dispose().await;
    let refused_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let nowhere = client_for(&format!("http://127.0.0.1:{refused_port}"));
    let handle = nowhere
        .get_or_create("counter", "refused")
        .with_params(&params)
        .unwrap();
    let err = within(
        60,
        "refused action",
        handle.action::<Value>("increment", (1,)),
    )
    .await
    .unwrap_err();
    assert!(err.is_connect(), "{err}");
    let refused =
        handle
            .connect_with(ConnectOptions::new().params(&params).unwrap().reconnect(
                ReconnectPolicy {
                    max_attempts: Some(2),
                    ..Default::default()
                },
            ))
            .unwrap();
    assert!(within(60, "refused connect", refused.ready())
        .await
        .is_err());
    refused.dispose().await;
    nowhere.dispose().await;
    client.dispose().await;

    let text = captured.text();
    // The capture works: dependency `log` records and our own events are in it.
    for expected in ["tungstenite", "reqwest", "rivet_core"] {
        assert!(
            text.contains(expected),
            "nothing from {expected} captured; the bridge is broken"
        );
    }
    for secret in [TOKEN, PARAM] {
        for form in forms(secret) {
            if let Some(at) = text.find(&form) {
                let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
                panic!(
                    "a log line shows {secret} (as {form}):\n{}",
                    &text[line_start..line_end]
                );
            }
        }
    }
}
