//! `skip_ready_wait` on raw fetch and raw WebSockets (the JS client's `skipReadyWait`),
//! against the real server: what goes on the wire (seen at a recording TLS proxy), and what
//! it changes for an actor in its sleep grace period (`slowSleep` in `tests/server`: sleeps
//! after 1 s idle and takes 3 s to stop).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{unique_key, within};
use futures::StreamExt;
use rivet_core::{Client, ClientConfig, Error, LifecycleRetries, RawMessage, RawRequest};
use rivet_test_support::tls_proxy::{TestCa, TlsProxy};
use rivet_test_support::TestServer;
use serde_json::Value;

/// One test of this file at a time: on a busy machine the engine stalls resolving actor
/// routes (`route_resolve_query_timeout` after 15 s) when many actors start at once.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Into the middle of `slowSleep`'s sleep grace period: it starts sleeping 1 s after the
/// last request and takes 3 s to stop.
const INTO_GRACE: Duration = Duration::from_millis(2500);

/// A client with the default retries (the engine answers `route_resolve_query_timeout` now
/// and then on a busy machine), or, with `retries: false`, one that shows the first answer.
fn client(endpoint: &str, ca: Option<&TestCa>, retries: bool) -> Client {
    let retries = if retries {
        LifecycleRetries::default()
    } else {
        LifecycleRetries::none()
    };
    let mut builder = ClientConfig::builder()
        .endpoint(endpoint)
        .token("tok-SECRET")
        .lifecycle_retries(retries);
    if let Some(ca) = ca {
        builder = builder.add_root_certificate(ca.cert_pem());
    }
    Client::from_config(builder.build().unwrap()).unwrap()
}

async fn stats_by_fetch(
    actor: &rivet_core::ActorHandle,
    request: RawRequest,
) -> Result<Value, Error> {
    let response = within(90, "fetch", actor.fetch("/stats", request)).await?;
    assert_eq!(response.status(), 200, "{}", response.text());
    Ok(response.json().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_ready_wait_goes_on_the_wire_like_the_js_client() {
    let _serial = SERIAL.lock().await;
    let ca = TestCa::new();
    let proxy = TlsProxy::start(TestServer::shared().addr(), &ca);
    let client = client(&proxy.endpoint(), Some(&ca), true);
    let by_key = client
        .get_or_create("counter", unique_key("srw-wire"))
        .with_skip_ready_wait(true);
    let response = within(90, "fetch", by_key.fetch("/echo", RawRequest::get()))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen: Value = response.json().unwrap();
    assert_eq!(seen["headers"]["x-rivet-skip-ready-wait"], "1");
    let mut socket = within(90, "raw ws", by_key.web_socket("/raw", &[]))
        .await
        .unwrap();
    assert_eq!(
        within(90, "hello", socket.next()).await,
        Some(RawMessage::Text("hello".into()))
    );
    socket.close(1000, "done").await.unwrap();

    // By id: routed by header, as the JS client does in this mode.
    let id = within(90, "resolve", by_key.resolve()).await.unwrap();
    let by_id = client.get_for_id("counter", &id).with_skip_ready_wait(true);
    let response = within(
        90,
        "fetch by id",
        by_id.fetch("/echo?q=1", RawRequest::get()),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.header("x-rivet-actor"), Some(id.as_str()));
    let mut socket = within(90, "raw ws by id", by_id.web_socket("/raw", &[]))
        .await
        .unwrap();
    assert_eq!(
        within(90, "hello", socket.next()).await,
        Some(RawMessage::Text("hello".into()))
    );
    socket.close(1000, "done").await.unwrap();
    // A per-request override turns it off again.
    let response = within(
        90,
        "fetch without",
        by_id.fetch("/echo", RawRequest::get().skip_ready_wait(false)),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);

    // Requests the engine made us repeat (it answers `route_resolve_query_timeout` now and
    // then on a busy machine) show up more than once: check every copy.
    let heads = proxy.requests();
    let fetches: Vec<_> = heads
        .iter()
        .filter(|h| h.path().ends_with("/echo"))
        .collect();
    let by_key: Vec<_> = fetches
        .iter()
        .filter(|h| h.query("rvt-method").is_some())
        .collect();
    let by_id_skipping: Vec<_> = fetches
        .iter()
        .filter(|h| h.path() == "/request/echo")
        .collect();
    let by_id_plain: Vec<_> = fetches
        .iter()
        .filter(|h| h.path().starts_with(&format!("/gateway/{id}")))
        .collect();
    assert!(
        !by_key.is_empty() && !by_id_skipping.is_empty() && !by_id_plain.is_empty(),
        "{heads:#?}"
    );
    for head in &by_key {
        assert_eq!(head.query("rvt-skip-ready-wait").as_deref(), Some("true"));
        assert_eq!(head.header("x-rivet-skip-ready-wait"), Some("1"));
    }
    for head in &by_id_skipping {
        assert_eq!(head.target, "/request/echo?q=1");
        assert_eq!(head.header("x-rivet-target"), Some("actor"));
        assert_eq!(head.header("x-rivet-actor"), Some(id.as_str()));
        assert_eq!(head.header("x-rivet-token"), Some("tok-SECRET"));
        assert_eq!(head.header("x-rivet-skip-ready-wait"), Some("1"));
    }
    for head in &by_id_plain {
        assert_eq!(head.header("x-rivet-skip-ready-wait"), None);
        assert_eq!(head.query("rvt-skip-ready-wait"), None);
    }
    let sockets: Vec<_> = heads.iter().filter(|h| h.is_websocket()).collect();
    let protocols = |h: &rivet_test_support::tls_proxy::RequestHead| {
        h.header("sec-websocket-protocol")
            .unwrap_or_default()
            .to_owned()
    };
    let by_key: Vec<_> = sockets
        .iter()
        .filter(|h| h.query("rvt-method").is_some())
        .collect();
    let by_id: Vec<_> = sockets
        .iter()
        .filter(|h| h.path() == "/websocket/raw")
        .collect();
    assert!(!by_key.is_empty() && !by_id.is_empty(), "{heads:#?}");
    for head in &by_key {
        assert_eq!(head.query("rvt-skip-ready-wait").as_deref(), Some("true"));
        assert!(
            protocols(head).contains("rivet_skip_ready_wait"),
            "{}",
            protocols(head)
        );
    }
    for head in &by_id {
        for expected in [
            "rivet_target.actor".to_owned(),
            format!("rivet_actor.{id}"),
            "rivet_token.tok-SECRET".to_owned(),
            "rivet_skip_ready_wait".to_owned(),
        ] {
            assert!(
                protocols(head).contains(&expected),
                "{expected}: {}",
                protocols(head)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_fetch_in_the_sleep_grace_period_waits_for_the_restart_unless_it_skips_the_ready_wait()
{
    let _serial = SERIAL.lock().await;
    let endpoint = TestServer::shared().endpoint();
    let client = client(&endpoint, None, true);

    // Without skipping: the gateway holds the request until the actor has stopped and woken
    // again, and the new instance answers.
    let actor = client.get_or_create("slowSleep", unique_key("srw-plain"));
    let first = stats_by_fetch(&actor, RawRequest::get()).await.unwrap();
    assert_eq!(first["wakes"], 1);
    tokio::time::sleep(INTO_GRACE).await;
    let second = stats_by_fetch(&actor, RawRequest::get()).await.unwrap();
    assert_eq!(
        (second["wakes"].as_u64(), second["sleeps"].as_u64()),
        (Some(2), Some(1))
    );

    // Skipping: the request goes to the instance that is going to sleep, at once; it is
    // answered by its handler, or refused by the runner because that instance is stopping.
    let actor = client.get_or_create("slowSleep", unique_key("srw-skip"));
    let first = stats_by_fetch(&actor, RawRequest::get()).await.unwrap();
    assert_eq!(first["wakes"], 1);
    tokio::time::sleep(INTO_GRACE).await;
    // The first answer, not a retry after it.
    let once = self::client(&endpoint, None, false)
        .get_or_create("slowSleep", actor.key().unwrap().clone());
    match stats_by_fetch(&once, RawRequest::get().skip_ready_wait(true)).await {
        Ok(stats) => assert_eq!(stats["wakes"], 1, "{stats}"),
        Err(err) => assert_eq!(err.code(), Some("actor_generation_mismatch"), "{err}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_websocket_in_the_sleep_grace_period_waits_for_the_restart_unless_it_skips_the_ready_wait(
) {
    let _serial = SERIAL.lock().await;
    let endpoint = TestServer::shared().endpoint();
    let client = client(&endpoint, None, true);
    let first_message = |actor: rivet_core::ActorHandle| async move {
        let mut socket = within(90, "raw ws", actor.web_socket("/", &[])).await?;
        Ok::<_, Error>(within(90, "first message", socket.next()).await)
    };

    let actor = client.get_or_create("slowSleep", unique_key("srw-ws-plain"));
    let _ = first_message(actor.clone()).await.unwrap();
    tokio::time::sleep(INTO_GRACE).await;
    match first_message(actor).await.unwrap() {
        Some(RawMessage::Text(text)) => {
            let stats: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                (stats["wakes"].as_u64(), stats["sleeps"].as_u64()),
                (Some(2), Some(1)),
                "{stats}"
            );
        }
        other => panic!("{other:?}"),
    }

    let key = unique_key("srw-ws-skip");
    let _ = first_message(client.get_or_create("slowSleep", key.as_str()))
        .await
        .unwrap();
    tokio::time::sleep(INTO_GRACE).await;
    // The first answer, not a retry after it.
    let once = self::client(&endpoint, None, false)
        .get_or_create("slowSleep", key.as_str())
        .with_skip_ready_wait(true);
    match first_message(once).await {
        Ok(Some(RawMessage::Text(text))) => {
            let stats: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(stats["wakes"], 1, "{stats}");
        }
        // Refused by the stopping instance: closed or failed, but not held for the restart.
        Ok(Some(RawMessage::Closed { .. })) | Ok(None) | Err(_) => {}
        Ok(other) => panic!("{other:?}"),
    }
}
