//! Self-test of the hostile gateway (`rivet_test_support::hostile`): when it behaves, the real
//! client talks to it in all three encodings, so the fault tests built on it test the client's
//! reaction to the fault and nothing else.

mod common;

use std::sync::{Arc, Mutex};

use common::{client_for, unique_key, within};
use rivet_core::Encoding;
use rivet_test_support::hostile::{ClientMessage, HostileGateway, Incoming};
use serde_json::{json, Value};

/// A well-behaved gateway: answers HTTP actions with their first argument, and on a connection
/// sends `Init`, answers actions the same way and sends one `tick` event per subscription.
fn echo_gateway(seen: Arc<Mutex<Vec<ClientMessage>>>) -> HostileGateway {
    HostileGateway::start(move |incoming| {
        let seen = seen.clone();
        async move {
            match incoming {
                Incoming::Http(request) => {
                    let encoding = request
                        .header("x-rivet-encoding")
                        .unwrap_or("json")
                        .to_owned();
                    assert!(
                        request.path().contains("/action/echo"),
                        "{}",
                        request.path()
                    );
                    let output = json!({"encoding": encoding, "len": request.body.len()});
                    request.respond_action_output(output).await;
                }
                Incoming::WebSocket(upgrade) => {
                    let mut socket = upgrade.accept().await;
                    socket.send_init().await;
                    while let Some(message) = socket.next_message().await {
                        if let Ok(mut seen) = seen.lock() {
                            seen.push(message.clone());
                        }
                        match message {
                            ClientMessage::Action { id, args, .. } => {
                                let first = args.get(0).cloned().unwrap_or(Value::Null);
                                socket.send_action_response(id, first).await;
                            }
                            ClientMessage::Subscription {
                                event,
                                subscribe: true,
                            } => {
                                socket
                                    .send_event(&event, vec![json!(1), json!("two")])
                                    .await;
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_well_behaved_hostile_gateway_serves_the_real_client_in_every_encoding() {
    for encoding in Encoding::ALL {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let gateway = echo_gateway(seen.clone());
        let client = client_for(&gateway.endpoint(), encoding);
        let handle = client.get_or_create("counter", unique_key("hostile").as_str());

        let stateless: Value = within(10, "http action", handle.action("echo", (1,)))
            .await
            .unwrap();
        assert_eq!(stateless["encoding"], encoding.as_str(), "{encoding}");

        let conn = handle.connect().unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _listener = conn.on("tick", move |event| {
            let _ = tx.send(event.args().unwrap().to_vec());
        });
        within(10, "ready", conn.ready()).await.unwrap();
        let echoed: Value = within(
            10,
            "ws action",
            conn.action("echo", (json!({"a": [1, 2]}),)),
        )
        .await
        .unwrap();
        assert_eq!(echoed, json!({"a": [1, 2]}), "{encoding}");
        let args = within(10, "event", rx.recv()).await.unwrap();
        assert_eq!(args, vec![json!(1), json!("two")], "{encoding}");

        let messages = seen.lock().unwrap().clone();
        assert!(
            messages.contains(&ClientMessage::Subscription {
                event: "tick".into(),
                subscribe: true
            }),
            "{encoding}: {messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| matches!(m, ClientMessage::Action { name, .. } if name == "echo")),
            "{encoding}: {messages:?}"
        );
        within(10, "dispose", conn.dispose()).await;
        assert_eq!(gateway.websocket_attempts(), 1, "{encoding}");
        assert_eq!(gateway.http_requests(), 1, "{encoding}");
    }
}
