//! Secrets stay secret: no `Debug`, `Display` or error shows a token or connection params,
//! and no credential follows a redirect to another origin.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::{unique_key, within};
use rivet_core::manager::ActorOptions;
use rivet_core::{
    Client, ClientConfig, ConnParams, ConnectOptions, Encoding, Error, LifecycleRetries,
    RawRequest, ReconnectPolicy,
};
use rivet_test_support::hostile::{HostileGateway, Incoming};
use serde_json::{json, Value};

const TOKEN: &str = "SECRET-TOKEN-7f3a";
const PARAM: &str = "SECRET-PARAM-91cd";

fn assert_clean(what: &str, text: &str) {
    for secret in [TOKEN, PARAM, "SECRET-"] {
        assert!(!text.contains(secret), "{what} shows {secret}: {text}");
    }
}

fn client_with_token(endpoint: &str) -> Client {
    let authority = endpoint.trim_start_matches("http://");
    Client::from_config(
        ClientConfig::builder()
            .endpoint(format!("http://ns:{TOKEN}@{authority}"))
            .encoding(Encoding::Json)
            .lifecycle_retries(LifecycleRetries::none())
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn debug_and_display_never_show_tokens_or_params() {
    // Nothing listens on this port: leases keep retrying in the background, which is all the
    // formatting needs.
    let endpoint = "http://127.0.0.1:9";
    let params = json!({"token": PARAM, "user": "ada"});
    let builder = ClientConfig::builder().endpoint(format!("http://ns:{TOKEN}@127.0.0.1:9"));
    let config = builder.clone().build().unwrap();
    let client = client_with_token(endpoint);
    let handle = client
        .get_or_create("counter", "debug")
        .with_params(&params)
        .unwrap();
    let connect = ConnectOptions::new()
        .params(&params)
        .unwrap()
        .reconnect(ReconnectPolicy::default());
    let conn_params = ConnParams::Static(params.clone());
    let options = ActorOptions::new("counter", "debug")
        .params(&params)
        .unwrap()
        .connect_options(connect.clone());
    let by_fn = ActorOptions::new("counter", "debug")
        .params_fn(&json!({"token": PARAM}), || async {
            Ok(json!({"token": PARAM}))
        })
        .unwrap();
    let identity = options.identity();
    let manager = client.manager();
    let lease = manager.acquire(options.clone()).unwrap();
    let fn_lease = manager.acquire(by_fn.clone()).unwrap();
    let connection = handle.connect_with(connect.clone()).unwrap();

    let mut texts = Vec::new();
    macro_rules! all_formats {
        ($($name:literal => $value:expr),* $(,)?) => {$(
            texts.push(($name, format!("{:?}", $value)));
            texts.push(($name, format!("{:#?}", $value)));
        )*};
    }
    all_formats!(
        "ClientConfigBuilder" => builder,
        "ClientConfig" => config,
        "Client" => client,
        "ActorHandle" => handle,
        "ConnectOptions" => connect,
        "ConnParams" => conn_params,
        "ActorOptions" => options,
        "ActorOptions(params_fn)" => by_fn,
        "ActorIdentity" => identity,
        "Lease" => lease,
        "Lease(params_fn)" => fn_lease,
        "ConnectionManager" => manager,
        "ActorConnection" => connection,
    );
    texts.push(("ActorIdentity Display", identity.to_string()));
    texts.push(("ActorIdentity as_str", identity.as_str().to_owned()));
    texts.push(("Lease identity", lease.identity().to_string()));
    for (what, text) in &texts {
        assert_clean(what, text);
    }
    // Still exact: the identity names the params by hash, and differs for other params.
    assert!(identity.to_string().contains("params#"), "{identity}");
    let other = ActorOptions::new("counter", "debug")
        .params(&json!({"token": "other", "user": "ada"}))
        .unwrap()
        .identity();
    assert_ne!(identity, other);
    assert_ne!(identity.to_string(), other.to_string());
    connection.dispose().await;
    drop((lease, fn_lease));
    client.dispose().await;
}

/// What reached a gateway: method, path and headers of every plain HTTP request, and the
/// path, headers and protocols of every WebSocket upgrade.
type Seen = Arc<Mutex<Vec<String>>>;

/// A gateway that records everything it receives and answers 404.
fn recording_gateway() -> (HostileGateway, Seen) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let gateway = HostileGateway::start(move |incoming: Incoming| {
        let record = record.clone();
        async move {
            match incoming {
                Incoming::Http(req) => {
                    record.lock().unwrap().push(format!("{:?}", req.head()));
                    req.respond_error(404, "actor", "not_found", "nothing here")
                        .await;
                }
                Incoming::WebSocket(up) => {
                    record
                        .lock()
                        .unwrap()
                        .push(format!("WS {:?} {:?}", up.head(), up.protocols()));
                    up.reject(404, "nothing here").await;
                }
            }
        }
    });
    (gateway, seen)
}

/// A gateway that answers every request and upgrade with `status` and a `Location` on
/// `target` (same path and query).
fn redirecting_gateway(status: u16, target: String) -> HostileGateway {
    HostileGateway::start(move |incoming: Incoming| {
        let target = target.clone();
        async move {
            match incoming {
                Incoming::Http(req) => {
                    let location = format!("{target}{}", req.path());
                    req.respond(status, &[("location", location.as_str())], "")
                        .await;
                }
                Incoming::WebSocket(up) => {
                    let location = format!("{target}{}", up.path());
                    let response = format!(
                        "HTTP/1.1 {status} Redirect\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n"
                    );
                    let mut tcp = up.into_tcp();
                    use tokio::io::AsyncWriteExt;
                    let _ = tcp.write_all(response.as_bytes()).await;
                    let _ = tcp.flush().await;
                }
            }
        }
    })
}

#[tokio::test]
async fn credentials_never_follow_a_redirect_to_another_origin() {
    let params = json!({"token": PARAM});
    for status in [301u16, 302, 303, 307, 308] {
        let (target, seen) = recording_gateway();
        let redirector = redirecting_gateway(status, target.endpoint());
        let client = client_with_token(&redirector.endpoint());
        let by_key = client
            .get_or_create("counter", unique_key("redirect"))
            .with_params(&params)
            .unwrap();
        let by_id = client
            .get_for_id("counter", "abc123")
            .with_params(&params)
            .unwrap();

        let mut errors = Vec::new();
        for handle in [&by_key, &by_id] {
            errors.push(
                within(30, "action", handle.action::<Value>("increment", (1,)))
                    .await
                    .unwrap_err(),
            );
            errors.push(
                within(30, "fetch", handle.fetch("/raw?q=1", RawRequest::get()))
                    .await
                    .unwrap_err(),
            );
            let conn = handle
                .connect_with(ConnectOptions::new().reconnect(ReconnectPolicy {
                    max_attempts: Some(1),
                    ..Default::default()
                }))
                .unwrap();
            errors.push(within(30, "connect", conn.ready()).await.unwrap_err());
            conn.dispose().await;
        }
        for err in &errors {
            assert_clean("error", &err.to_string());
            assert_clean("error", &format!("{err:?}"));
            assert!(
                matches!(err, Error::Redirected { status: s, .. } if *s == status)
                    || err.to_string().contains("not followed"),
                "{status}: {err}"
            );
        }
        let seen = seen.lock().unwrap().clone();
        for request in &seen {
            assert_clean("the other origin's request", request);
            assert!(
                !request.to_ascii_lowercase().contains("referer"),
                "{status}: Referer sent to the other origin: {request}"
            );
        }
        assert!(seen.is_empty(), "{status}: the other origin got {seen:?}");
        assert_eq!(target.accepted(), 0, "{status}");
        client.dispose().await;
    }
}

#[tokio::test]
async fn a_same_origin_redirect_is_followed_with_its_credentials() {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let gateway = HostileGateway::start(move |incoming: Incoming| {
        let record = record.clone();
        async move {
            if let Incoming::Http(req) = incoming {
                record
                    .lock()
                    .unwrap()
                    .push(format!("{} {:?}", req.path(), req.head().headers));
                if req.path().starts_with("/moved") {
                    req.respond_error(404, "actor", "not_found", "gone").await;
                } else {
                    req.respond(307, &[("location", "/moved/here")], "").await;
                }
            }
        }
    });
    let client = client_with_token(&gateway.endpoint());
    let err = within(
        30,
        "action",
        client
            .get_or_create("counter", "same-origin")
            .action::<Value>("increment", (1,)),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[1].starts_with("/moved/here"), "{seen:?}");
    assert!(
        seen[1].contains(TOKEN),
        "same origin keeps x-rivet-token: {seen:?}"
    );
    assert!(
        !seen[1].to_ascii_lowercase().contains("referer"),
        "{seen:?}"
    );
    client.dispose().await;
}

/// Every path a client takes carries the token (and, where the protocol has one, the
/// namespace): recorded at a gateway that refuses everything.
#[tokio::test]
async fn namespace_and_token_reach_the_gateway_on_every_path() {
    let (gateway, seen) = recording_gateway();
    let client = client_with_token(&gateway.endpoint());
    let by_key = client.get_or_create("counter", unique_key("paths"));
    let by_get = client.get("counter", unique_key("paths"));
    let by_id = client.get_for_id("counter", "abc123");
    let once = ReconnectPolicy {
        max_attempts: Some(1),
        ..Default::default()
    };
    let mut expected = Vec::new();
    for (label, handle) in [("by key", &by_key), ("by id", &by_id)] {
        let _ = within(30, "action", handle.action::<Value>("increment", (1,))).await;
        expected.push(format!("{label}: action"));
        let _ = within(30, "queue", handle.send("jobs", &json!({"n": 1}))).await;
        expected.push(format!("{label}: queue"));
        let _ = within(30, "fetch", handle.fetch("/raw", RawRequest::get())).await;
        expected.push(format!("{label}: fetch"));
        let _ = within(30, "raw ws", handle.web_socket("/chat", &[])).await;
        expected.push(format!("{label}: raw websocket"));
        let conn = handle
            .connect_with(ConnectOptions::new().reconnect(once.clone()))
            .unwrap();
        let _ = within(30, "connect", conn.ready()).await;
        conn.dispose().await;
        expected.push(format!("{label}: connection"));
    }
    let _ = within(30, "resolve", by_get.resolve()).await;
    let _ = within(30, "resolve", by_key.resolve()).await;
    let _ = within(30, "create", client.create("counter", unique_key("paths"))).await;
    expected.push("REST: lookup, get-or-create, create".to_owned());

    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 13, "{expected:?}: {seen:#?}");
    for request in &seen {
        let lower = request.to_ascii_lowercase();
        let is_rest = lower.contains("path: \"/actors");
        let is_direct = request.contains("/gateway/abc123");
        let has_token = if is_rest {
            request.contains(&format!("Bearer {TOKEN}"))
        } else if is_direct {
            request.contains(&format!("/gateway/abc123@{TOKEN}/"))
        } else {
            request.contains(&format!("rvt-token={TOKEN}"))
        };
        assert!(has_token, "no token: {request}");
        let has_namespace = if is_rest {
            request.contains("namespace=ns")
        } else if is_direct {
            // Direct URLs carry no namespace (the id names the actor everywhere).
            true
        } else {
            request.contains("rvt-namespace=ns")
        };
        assert!(has_namespace, "no namespace: {request}");
    }
    client.dispose().await;
}
