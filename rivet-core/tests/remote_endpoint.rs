//! Serverless and remote-engine configuration: an endpoint under a path
//! (`http://127.0.0.1:P/api/rivet`, the real server behind
//! [`PrefixProxy`](rivet_test_support::prefix_proxy::PrefixProxy)), and the metadata lookup
//! the JS client does before its first request (`GET {endpoint}/metadata`, switching to
//! `clientEndpoint` / `clientNamespace` / `clientToken` when the reply carries them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{eventually, unique_key, within};
use futures::StreamExt;
use rivet_core::{Client, ClientConfig, Encoding, Error, Event, RawMessage, RawRequest};
use rivet_test_support::hostile::{HostileGateway, Incoming};
use rivet_test_support::prefix_proxy::PrefixProxy;
use rivet_test_support::TestServer;
use serde_json::{json, Value};

const PREFIX: &str = "/api/rivet";

/// One test of this file at a time (many actors starting at once slow the engine down).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn client(builder: rivet_core::ClientConfigBuilder) -> Client {
    Client::from_config(builder.build().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_keeps_the_endpoints_path_prefix() {
    let _serial = SERIAL.lock().await;
    let proxy = PrefixProxy::start(TestServer::shared().addr(), PREFIX);
    for encoding in Encoding::ALL {
        let client = client(
            ClientConfig::builder()
                .endpoint(format!("{}/", proxy.endpoint()))
                .encoding(encoding),
        );
        assert_eq!(client.config().endpoint(), proxy.endpoint());
        let counter = client.get_or_create("counter", unique_key("prefix"));

        // Stateless action (query gateway URL).
        let n: i64 = within(90, "action", counter.action("increment", (2,)))
            .await
            .unwrap();
        assert_eq!(n, 2, "{encoding}");

        // Connection with events (WebSocket).
        let conn = counter.connect().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let _listener = conn.on("newCount", move |event: &Event| {
            sink.lock().unwrap().push(event.arg::<i64>(0).unwrap());
        });
        within(90, "ready", conn.ready()).await.unwrap();
        let n: i64 = within(90, "conn action", conn.action("increment", (3,)))
            .await
            .unwrap();
        assert_eq!(n, 5, "{encoding}");
        eventually(15, "event through the prefix", || {
            let seen = seen.clone();
            async move { *seen.lock().unwrap() == vec![5] }
        })
        .await;
        conn.dispose().await;

        // Raw fetch.
        let response = within(
            90,
            "raw fetch",
            counter.fetch("/echo?q=1", RawRequest::post(b"prefixed".to_vec())),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 200);
        let echoed: Value = response.json().unwrap();
        assert_eq!(echoed["body"], "prefixed");

        // Raw WebSocket.
        let mut socket = within(90, "raw ws", counter.web_socket("/raw", &[]))
            .await
            .unwrap();
        let hello = within(30, "hello", socket.next()).await;
        assert_eq!(hello, Some(RawMessage::Text("hello".into())));
        socket.send_text("ping").await.unwrap();
        let echo = within(30, "echo", socket.next()).await;
        assert_eq!(echo, Some(RawMessage::Text("ping".into())));
        socket.close(1000, "done").await.unwrap();

        // REST: a key with `,` cannot go through the query gateway, so `get_or_create` is
        // `PUT /actors` and `get` is `GET /actors?…`, then the gateway by id.
        let key = vec![unique_key("prefix-rest"), "a,b".to_owned()];
        let created: i64 = within(
            90,
            "rest get_or_create",
            client
                .get_or_create("counter", key.clone())
                .action("increment", (4,)),
        )
        .await
        .unwrap();
        assert_eq!(created, 4, "{encoding}");
        let got: i64 = within(
            90,
            "rest get",
            client.get("counter", key).action("increment", (1,)),
        )
        .await
        .unwrap();
        assert_eq!(got, 5, "{encoding}");
        client.dispose().await;
    }
    let heads = proxy.requests();
    assert_eq!(proxy.rejected(), 0, "a request lost the prefix: {heads:#?}");
    let paths: Vec<&str> = heads.iter().map(|h| h.path()).collect();
    for wanted in [
        "/connect",
        "/websocket/raw",
        "/request/echo",
        "/action/increment",
    ] {
        assert!(
            heads
                .iter()
                .any(|h| h.path().starts_with("/api/rivet/gateway/") && h.path().ends_with(wanted)),
            "{wanted} not seen: {paths:#?}"
        );
    }
    assert!(
        heads
            .iter()
            .any(|h| h.method == "PUT" && h.path() == "/api/rivet/actors"),
        "{paths:#?}"
    );
    assert!(
        heads
            .iter()
            .any(|h| h.method == "GET" && h.path() == "/api/rivet/actors"),
        "{paths:#?}"
    );
    // The metadata lookup, once per client (one client per encoding), also under the prefix.
    let lookups = heads
        .iter()
        .filter(|h| h.path() == "/api/rivet/metadata")
        .count();
    assert_eq!(lookups, Encoding::ALL.len(), "{paths:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_servers_metadata_switches_nothing_and_costs_one_round_trip() {
    let _serial = SERIAL.lock().await;
    let proxy = PrefixProxy::start(TestServer::shared().addr(), PREFIX);
    let endpoint = proxy.endpoint();
    let lookup_client = client(ClientConfig::builder().endpoint(&endpoint));
    let counter = lookup_client.get_or_create("counter", unique_key("meta-real"));
    let n: i64 = within(90, "action", counter.action("increment", (1,)))
        .await
        .unwrap();
    assert_eq!(n, 1);
    // Nothing switched: the local engine's metadata has no clientEndpoint.
    assert_eq!(lookup_client.config().endpoint(), endpoint);
    assert_eq!(lookup_client.config().namespace(), "default");
    assert!(lookup_client.config().token().is_none());
    let metadata: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|h| h.path() == "/api/rivet/metadata")
        .collect();
    assert_eq!(metadata.len(), 1);
    assert_eq!(metadata[0].query("namespace").as_deref(), Some("default"));

    // The cost of the lookup on a client's first call: first action of fresh clients with and
    // without it (same warm actor), median of several. Reported, not asserted.
    let key = unique_key("meta-cost");
    let warm = client(ClientConfig::builder().endpoint(&endpoint));
    let _: i64 = within(
        90,
        "warm",
        warm.get_or_create("counter", key.as_str())
            .action("increment", (1,)),
    )
    .await
    .unwrap();
    let mut with_lookup = Vec::new();
    let mut without_lookup = Vec::new();
    for _ in 0..7 {
        for lookup in [true, false] {
            let fresh = client(
                ClientConfig::builder()
                    .endpoint(&endpoint)
                    .metadata_lookup(lookup),
            );
            let handle = fresh.get_or_create("counter", key.as_str());
            let started = Instant::now();
            let _: i64 = within(90, "first call", handle.action("increment", (1,)))
                .await
                .unwrap();
            let took = started.elapsed();
            if lookup {
                with_lookup.push(took);
            } else {
                without_lookup.push(took);
            }
        }
    }
    with_lookup.sort();
    without_lookup.sort();
    println!(
        "first call of a fresh client, median of 7: with metadata lookup {:?}, without {:?}",
        with_lookup[3], without_lookup[3]
    );
}

/// What the serverless gateway saw.
#[derive(Default)]
struct Seen {
    metadata: AtomicUsize,
    others: AtomicUsize,
    metadata_auth: Mutex<Vec<Option<String>>>,
}

/// A gateway that answers `GET /metadata` with `reply` and 404s everything else, so calls
/// only work if the client switched to the endpoint the reply names.
fn serverless_gateway(reply: Value, seen: Arc<Seen>) -> HostileGateway {
    HostileGateway::start_with_metadata(move |incoming| {
        let reply = reply.clone();
        let seen = seen.clone();
        async move {
            match incoming {
                Incoming::Http(req) if req.path().starts_with("/metadata") => {
                    seen.metadata.fetch_add(1, Ordering::SeqCst);
                    seen.metadata_auth
                        .lock()
                        .unwrap()
                        .push(req.header("authorization").map(str::to_owned));
                    // Slow enough that concurrent first calls all wait for this lookup.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    req.respond(
                        200,
                        &[("content-type", "application/json")],
                        reply.to_string(),
                    )
                    .await;
                }
                Incoming::Http(req) => {
                    seen.others.fetch_add(1, Ordering::SeqCst);
                    req.respond(404, &[("content-type", "text/plain")], "not here")
                        .await;
                }
                Incoming::WebSocket(up) => {
                    seen.others.fetch_add(1, Ordering::SeqCst);
                    up.reject(404, "not here").await;
                }
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_switches_endpoint_namespace_and_token_once_for_concurrent_calls() {
    let _serial = SERIAL.lock().await;
    // The real server behind a recording proxy, as the client endpoint the metadata names.
    let proxy = PrefixProxy::start(TestServer::shared().addr(), PREFIX);
    let seen = Arc::new(Seen::default());
    let gateway = serverless_gateway(
        json!({
            "runtime": "engine",
            "version": "2.3.19",
            "clientEndpoint": proxy.endpoint(),
            "clientNamespace": "default",
            "clientToken": "SWITCHED-SECRET-TOKEN",
        }),
        seen.clone(),
    );
    // A namespace the real server does not have: only the switched one works.
    let client = client(
        ClientConfig::builder()
            .endpoint(gateway.endpoint())
            .namespace("serverless-ns")
            .token("ORIGINAL-SECRET-TOKEN"),
    );
    let key = unique_key("meta-switch");
    // Distinct keys: concurrent first `getOrCreate`s of one key race in the engine
    // (`actor.destroyed_during_creation`), which is not what this test is about.
    let calls: Vec<_> = (0..8)
        .map(|i| {
            // Clones share the lookup.
            let client = client.clone();
            let key = format!("{key}-{i}");
            async move {
                client
                    .get_or_create("counter", key.as_str())
                    .action::<i64>("increment", (1,))
                    .await
            }
        })
        .collect();
    let results = within(
        120,
        "concurrent first calls",
        futures::future::join_all(calls),
    )
    .await;
    for result in &results {
        assert!(result.is_ok(), "{result:?}");
    }
    let totals: Vec<i64> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(totals, vec![1; 8]);
    assert_eq!(
        seen.metadata.load(Ordering::SeqCst),
        1,
        "one lookup for every call"
    );
    assert_eq!(
        seen.others.load(Ordering::SeqCst),
        0,
        "nothing else went to the gateway"
    );
    // The lookup itself carries the configured token, as the JS client's `apiCall` does.
    assert_eq!(
        seen.metadata_auth.lock().unwrap().as_slice(),
        &[Some("Bearer ORIGINAL-SECRET-TOKEN".to_owned())]
    );

    // A connection and a raw WebSocket go to the switched endpoint too.
    let counter = client.get_or_create("counter", format!("{key}-0"));
    let conn = counter.connect().unwrap();
    within(90, "ready", conn.ready()).await.unwrap();
    let n: i64 = within(90, "conn action", conn.action("increment", (1,)))
        .await
        .unwrap();
    assert_eq!(n, 2);
    conn.dispose().await;
    let mut socket = within(90, "raw ws", counter.web_socket("/raw", &[]))
        .await
        .unwrap();
    let hello = within(30, "hello", socket.next()).await;
    assert_eq!(hello, Some(RawMessage::Text("hello".into())));
    socket.close(1000, "done").await.unwrap();
    assert_eq!(seen.metadata.load(Ordering::SeqCst), 1);

    // Every request that reached the real server used the switched namespace and token.
    let heads = proxy.requests();
    assert_eq!(proxy.rejected(), 0);
    assert!(!heads.is_empty());
    for head in &heads {
        let token = head
            .query("rvt-token")
            .or_else(|| head.header("x-rivet-token").map(str::to_owned));
        if let Some(namespace) = head.query("rvt-namespace") {
            assert_eq!(namespace, "default", "{head:?}");
        }
        if head.path().starts_with("/api/rivet/gateway/") && !head.is_websocket() {
            assert_eq!(token.as_deref(), Some("SWITCHED-SECRET-TOKEN"), "{head:?}");
        }
        let text = format!("{head:?}");
        assert!(!text.contains("ORIGINAL-SECRET"), "{text}");
    }
    assert!(heads
        .iter()
        .any(|h| h.query("rvt-token").as_deref() == Some("SWITCHED-SECRET-TOKEN")));

    // The switch shows in the config, and no Debug prints the received token.
    assert_eq!(client.config().endpoint(), proxy.endpoint());
    assert_eq!(client.config().namespace(), "default");
    assert_eq!(
        client.config().token().map(|t| t.expose()),
        Some("SWITCHED-SECRET-TOKEN")
    );
    for text in [
        format!("{client:?}"),
        format!("{:?}", client.config()),
        format!("{counter:?}"),
    ] {
        assert!(!text.contains("SECRET"), "{text}");
    }
    client.dispose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_servers_without_metadata_keep_the_endpoint_and_other_failures_are_typed() {
    let _serial = SERIAL.lock().await;
    // 404 for /metadata (servers before the route existed): keep the endpoint.
    let lookups = Arc::new(AtomicUsize::new(0));
    let counted = lookups.clone();
    let gateway = HostileGateway::start_with_metadata(move |incoming| {
        let counted = counted.clone();
        async move {
            if let Incoming::Http(req) = incoming {
                if req.path().starts_with("/metadata") {
                    counted.fetch_add(1, Ordering::SeqCst);
                    req.respond(404, &[], "no such route").await;
                } else {
                    req.respond_action_output(json!(42)).await;
                }
            }
        }
    });
    let old = client(ClientConfig::builder().endpoint(gateway.endpoint()));
    let handle = old.get("counter", "k");
    for _ in 0..3 {
        let n: i64 = within(30, "action", handle.action("x", ())).await.unwrap();
        assert_eq!(n, 42);
    }
    assert_eq!(lookups.load(Ordering::SeqCst), 1);
    assert_eq!(old.config().endpoint(), gateway.endpoint());

    // Turned off: no lookup at all.
    let off = client(
        ClientConfig::builder()
            .endpoint(gateway.endpoint())
            .metadata_lookup(false),
    );
    let n: i64 = within(30, "action", off.get("counter", "k").action("x", ()))
        .await
        .unwrap();
    assert_eq!(n, 42);
    assert_eq!(lookups.load(Ordering::SeqCst), 1);

    // `guard.service_unavailable` (503) is repeated with the call's lifecycle budget; 403 is
    // a typed error, and the next call looks up again.
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = attempts.clone();
    let gateway = HostileGateway::start_with_metadata(move |incoming| {
        let counted = counted.clone();
        async move {
            if let Incoming::Http(req) = incoming {
                if req.path().starts_with("/metadata") {
                    match counted.fetch_add(1, Ordering::SeqCst) {
                        0 | 1 => {
                            req.respond_error(503, "guard", "service_unavailable", "busy")
                                .await
                        }
                        2 => {
                            req.respond_error(403, "auth", "forbidden", "bad token")
                                .await
                        }
                        _ => {
                            req.respond(200, &[("content-type", "application/json")], "{}")
                                .await
                        }
                    }
                } else {
                    req.respond_action_output(json!(7)).await;
                }
            }
        }
    });
    let flaky = client(ClientConfig::builder().endpoint(gateway.endpoint()));
    let handle = flaky.get("counter", "k");
    let err = within(30, "action", handle.action::<i64>("x", ()))
        .await
        .unwrap_err();
    assert_eq!(attempts.load(Ordering::SeqCst), 3, "{err}");
    assert!(
        matches!(err, Error::Rejected(_) | Error::Http { .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("forbidden"), "{err:?}");
    let n: i64 = within(30, "action", handle.action("x", ())).await.unwrap();
    assert_eq!(n, 7);
    assert_eq!(attempts.load(Ordering::SeqCst), 4);

    // A lookup that never answers is bounded by the call's deadline.
    let gateway = HostileGateway::start_with_metadata(|incoming| async move {
        if let Incoming::Http(req) = incoming {
            req.stall().await;
        }
    });
    let stalled = client(ClientConfig::builder().endpoint(gateway.endpoint()));
    let started = Instant::now();
    let err = within(
        30,
        "action",
        stalled.get("counter", "k").action_with::<i64>(
            "x",
            (),
            rivet_core::ActionOptions::new().timeout(Duration::from_secs(1)),
        ),
    )
    .await
    .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
