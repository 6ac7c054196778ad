//! A [`HostileGateway`] whose misbehaviour is chosen by the actor name in the URL, so tests
//! that cannot start a gateway themselves (the wasm32 suite in Chromium) reach every fault
//! through one endpoint, and native tests can run the very same faults.
//!
//! | actor name | HTTP | WebSocket `/connect` |
//! |---|---|---|
//! | `echo` (and any other name) | action output `{"bytes": n}` (the request body's size) | `Init`, then answers every action with its first argument |
//! | `storm-close` | – | `Init`, then close 1011 `guard.actor_wake_retries_exceeded` |
//! | `storm-garbage` | – | `Init`, then an undecodable message |
//! | `storm-reset` | – | `Init`, then a TCP reset (browsers see 1006) |
//! | `drain` | – | the first connection of a key: `Init`, close 1000 `bye` after 300 ms; later ones: served like `echo` |
//! | `conn-error` | – | `Init`, then a connection-level `Error` (`user.kicked`) while the socket stays open |
//! | `stall` | never answers | `Init`, then silence (never reads again) |
//! | `slow503` | 503 `guard.actor_ready_timeout` after 800 ms | – |
//! | `notfound` | 404 `actor.not_found` | close 1011 `actor.not_found` |
//! | `maybe-ran` | 503 `guard.actor_stopped_while_waiting` | – |
//! | `huge` | 200 with a 200 MB body (streamed, never buffered here) | – |
//! | `redirect` | 307 to another origin (`http://127.0.0.1:9/…`, where nothing listens) | – |
//!
//! `GET /__stats?name=N&key=K` answers `{"websocket":w,"http":h}`: the requests seen for that
//! actor name and `rvt-key`. Every answer allows any origin (CORS), and `OPTIONS` preflights are
//! answered, so a page on another port can use it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::json;

use crate::hostile::{HostileGateway, Incoming, RequestHead};

const CORS: [(&str, &str); 2] = [
    ("access-control-allow-origin", "*"),
    ("access-control-expose-headers", "*"),
];

#[derive(Default)]
struct Seen {
    /// (name, key) → (websocket, http)
    counts: HashMap<(String, String), (u64, u64)>,
}

/// The actor name and `rvt-key` of a gateway path (`/gateway/{name}/…?rvt-key=…`).
fn target(head: &RequestHead) -> (String, String) {
    let (path, query) = head.path.split_once('?').unwrap_or((&head.path, ""));
    let name = path
        .strip_prefix("/gateway/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("")
        .to_owned();
    let key = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("rvt-key="))
        .unwrap_or("")
        .to_owned();
    (name, key)
}

fn query_param<'a>(path: &'a str, name: &str) -> &'a str {
    path.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
        .unwrap_or("")
}

/// Starts the scenario gateway (see the module docs for what each actor name does).
pub fn scenario_gateway() -> HostileGateway {
    let seen = Arc::new(Mutex::new(Seen::default()));
    HostileGateway::start(move |incoming| {
        let seen = seen.clone();
        async move {
            let count = |name: &str, key: &str, websocket: bool| -> u64 {
                let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
                let entry = seen
                    .counts
                    .entry((name.to_owned(), key.to_owned()))
                    .or_default();
                if websocket {
                    entry.0 += 1;
                    entry.0
                } else {
                    entry.1 += 1;
                    entry.1
                }
            };
            match incoming {
                Incoming::Http(request) => {
                    if request.method() == "OPTIONS" {
                        request
                            .respond(
                                204,
                                &[
                                    ("access-control-allow-origin", "*"),
                                    ("access-control-allow-methods", "*"),
                                    ("access-control-allow-headers", "*"),
                                    ("access-control-max-age", "600"),
                                ],
                                Vec::new(),
                            )
                            .await;
                        return;
                    }
                    if request.path().starts_with("/__stats") {
                        let name = query_param(request.path(), "name").to_owned();
                        let key = query_param(request.path(), "key").to_owned();
                        let (ws, http) = seen
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .counts
                            .get(&(name, key))
                            .copied()
                            .unwrap_or_default();
                        let body = json!({"websocket": ws, "http": http}).to_string();
                        let mut headers = CORS.to_vec();
                        headers.push(("content-type", "application/json"));
                        request.respond(200, &headers, body).await;
                        return;
                    }
                    let (name, key) = target(request.head());
                    count(&name, &key, false);
                    http_scenario(&name, request).await;
                }
                Incoming::WebSocket(upgrade) => {
                    let (name, key) = target(upgrade.head());
                    let nth = count(&name, &key, true);
                    if name == "notfound" {
                        let mut socket = upgrade.accept().await;
                        socket
                            .send_message(close_message(1011, "actor.not_found#scn"))
                            .await;
                        return;
                    }
                    let mut socket = upgrade.accept().await;
                    socket.send_init().await;
                    match name.as_str() {
                        "storm-close" => {
                            socket
                                .close(1011, "guard.actor_wake_retries_exceeded#scn")
                                .await
                        }
                        "storm-garbage" => {
                            socket.send_binary(vec![0xff, 0x00, 0x13, 0x37]).await;
                            socket.send_text("{not json").await;
                            let _ =
                                tokio::time::timeout(Duration::from_secs(1), socket.next_message())
                                    .await;
                        }
                        "storm-reset" => socket.reset(),
                        "drain" if nth == 1 => {
                            tokio::time::sleep(Duration::from_millis(300)).await;
                            socket.close(1000, "bye").await;
                        }
                        "conn-error" => {
                            socket
                                .send_error(None, "user", "kicked", "you were kicked")
                                .await;
                            socket.serve_actions(|_, args| first(args)).await;
                        }
                        "stall" => socket.stall().await,
                        _ => socket.serve_actions(|_, args| first(args)).await,
                    }
                }
            }
        }
    })
}

fn first(args: &serde_json::Value) -> serde_json::Value {
    args.get(0).cloned().unwrap_or(serde_json::Value::Null)
}

fn close_message(code: u16, reason: &str) -> tokio_tungstenite::tungstenite::Message {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    tokio_tungstenite::tungstenite::Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_owned().into(),
    }))
}

async fn http_scenario(name: &str, request: crate::hostile::HttpExchange) {
    let mut json_headers = CORS.to_vec();
    json_headers.push(("content-type", "application/json"));
    json_headers.push(("x-rivet-error", "true"));
    let error = |group: &str, code: &str, message: &str| {
        json!({"group": group, "code": code, "message": message}).to_string()
    };
    match name {
        "slow503" => {
            tokio::time::sleep(Duration::from_millis(800)).await;
            let body = error("guard", "actor_ready_timeout", "actor not ready");
            request.respond(503, &json_headers, body).await;
        }
        "notfound" => {
            let body = error("actor", "not_found", "no such actor");
            request.respond(404, &json_headers, body).await;
        }
        "maybe-ran" => {
            let body = error(
                "guard",
                "actor_stopped_while_waiting",
                "actor stopped while the request was in flight",
            );
            request.respond(503, &json_headers, body).await;
        }
        "huge" => {
            let total = 200 * 1024 * 1024;
            let chunk = vec![b'7'; 64 * 1024];
            let mut headers = CORS.to_vec();
            headers.push(("content-type", "application/json"));
            request
                .respond_streaming(200, &headers, Some(total), total, &chunk)
                .await;
        }
        "stall" => request.stall().await,
        "redirect" => {
            let mut headers = CORS.to_vec();
            headers.push(("location", "http://127.0.0.1:9/elsewhere"));
            request.respond(307, &headers, Vec::new()).await;
        }
        _ => {
            let encoding = request
                .header("x-rivet-encoding")
                .unwrap_or("json")
                .to_owned();
            let wire = crate::hostile::WireEncoding::from_name(&encoding);
            let body = wire.http_action_response(&json!({"bytes": request.body.len()}));
            let mut headers = CORS.to_vec();
            headers.push(("content-type", wire.content_type()));
            request.respond(200, &headers, body).await;
        }
    }
}
