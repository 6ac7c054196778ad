//! Persistent connections from a browser page to a real RivetKit 2.3.19 server on another
//! origin: actions and events in every encoding, status, rejection, reconnection after the
//! socket drops, queueing, params refresh, deadlines, dispose and drop, the raw WebSocket, and
//! the browser's substitutes for pings (probe on `online` / visible again).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use common::{
    client, client_for, control, dispatch_window_event, eventually, ms, now_ms, proxy_endpoint,
    sleep_ms, unique_key, within,
};
use futures::StreamExt;
use rivet_core::{ConnStatus, ConnectOptions, Encoding, Error, Event, RawMessage, ReconnectPolicy};
use serde_json::{json, Value};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Fast retries, so that tests do not wait for the default backoff.
fn quick_retries() -> ReconnectPolicy {
    ReconnectPolicy {
        initial: ms(50),
        max: ms(300),
        ..ReconnectPolicy::default()
    }
}

/// Puts the shared proxy back to forwarding everything (a failed test may have left it
/// refusing or stalled).
async fn reset_proxy() {
    control("/refuse/off").await;
    control("/blackhole/off").await;
}

async fn proxy_stats() -> Value {
    serde_json::from_str(&control("/stats").await).unwrap()
}

#[wasm_bindgen_test]
async fn actions_and_events_in_every_encoding() {
    for encoding in Encoding::ALL {
        let client = client(encoding);
        let conn = client
            .get_or_create("counter", unique_key("conn"))
            .connect()
            .unwrap();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let sink = seen.clone();
        let _listener = conn.on("newCount", move |event: &Event| {
            sink.borrow_mut().push(event.arg::<i64>(0).unwrap());
        });
        let mut multi = conn.events("multi");
        let mut direct = conn.events("direct");
        within(30, "ready", conn.ready()).await.unwrap();
        assert!(conn.actor_id().is_some() && conn.connection_id().is_some());
        // cbor and bare travel as binary frames, json as text: both directions work.
        let a: i64 = conn.action("increment", (2,)).await.unwrap();
        let b: i64 = conn.action("increment", (3,)).await.unwrap();
        assert_eq!((a, b), (2, 5), "{encoding}");
        eventually(10, "events arrive", || {
            let seen = seen.clone();
            async move { *seen.borrow() == vec![2, 5] }
        })
        .await;
        let _: Value = conn.action("multiArgEvent", ()).await.unwrap();
        let event = within(10, "multi", multi.next()).await.unwrap();
        assert_eq!(
            event.args().unwrap(),
            vec![json!(1), json!("two"), json!({"three": 3})],
            "{encoding}"
        );
        let _: Value = conn.action("sendToMe", ("hello",)).await.unwrap();
        let event = within(10, "direct", direct.next()).await.unwrap();
        assert_eq!(event.args().unwrap(), [json!("hello"), json!("second-arg")]);
        let err = conn.action::<Value>("boom", ()).await.unwrap_err();
        assert_eq!(err.code(), Some("boom_code"), "{encoding}");
        assert_eq!(err.metadata(), Some(&json!({"a": 1, "b": "two"})));
        assert!(conn.is_connected(), "an action error keeps the connection");
        let echoed: Value = conn.action("echo", ("zoë 日本 🎉",)).await.unwrap();
        assert_eq!(echoed, json!(["zoë 日本 🎉"]));
        conn.dispose().await;
    }
}

#[wasm_bindgen_test]
async fn status_goes_connecting_then_connected() {
    let conn = client(Encoding::Bare)
        .get_or_create("counter", unique_key("status"))
        .connect()
        .unwrap();
    let mut states = conn.states();
    within(30, "ready", conn.ready()).await.unwrap();
    let mut seen = Vec::new();
    while let Some(state) = within(5, "states", states.next()).await {
        seen.push(state.status);
        if state.status == ConnStatus::Connected {
            assert!(state.connection_id.is_some());
            break;
        }
    }
    assert!(
        seen.ends_with(&[ConnStatus::Connecting, ConnStatus::Connected]),
        "{seen:?}"
    );
    conn.dispose().await;
}

#[wasm_bindgen_test]
async fn rejected_params_end_in_a_terminal_state_and_ready_fails() {
    for encoding in Encoding::ALL {
        let room = client(encoding).get_or_create("chatRoom", unique_key("reject"));
        let conn = room
            .with_params(&json!({"token": "nope"}))
            .unwrap()
            .connect()
            .unwrap();
        let err = within(30, "ready", conn.ready()).await.unwrap_err();
        assert!(
            matches!(&err, Error::Rejected(e) if e.code == "unauthorized"),
            "{encoding}: {err:?}"
        );
        assert_eq!(err.metadata(), Some(&json!({"got": "nope"})));
        let state = conn.state();
        assert!(
            state.terminal && state.status == ConnStatus::Idle,
            "{state:?}"
        );

        let good = room
            .with_params(&json!({"token": "secret", "user": "zoë"}))
            .unwrap()
            .connect()
            .unwrap();
        within(30, "ready", good.ready()).await.unwrap();
        let entry: Value = good.action("sendMessage", ("hello",)).await.unwrap();
        assert_eq!(entry["user"], "zoë");
        good.dispose().await;
    }
}

#[wasm_bindgen_test]
async fn connecting_to_a_missing_actor_with_get_fails_ready() {
    let conn = client(Encoding::Cbor)
        .get("counter", unique_key("gone"))
        .connect()
        .unwrap();
    let err = within(30, "ready", conn.ready()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

#[wasm_bindgen_test]
async fn a_dropped_socket_fails_in_flight_actions_then_reconnects_and_resubscribes() {
    reset_proxy().await;
    for encoding in Encoding::ALL {
        let key = unique_key("drop");
        let conn = client_for(proxy_endpoint(), encoding)
            .get_or_create("counter", key.as_str())
            .connect()
            .unwrap();
        let mut counts = conn.events("newCount");
        within(30, "ready", conn.ready()).await.unwrap();
        // Subscribed after ready: a failed first attempt (a busy engine) is not what this
        // test is about; the stream starts at `Connected`.
        let mut states = conn.states();
        let first_id = conn.connection_id();
        let in_flight = conn.action::<u64>("slow", (3000,));
        let dropper = async {
            sleep_ms(300).await;
            control("/drop").await
        };
        let (result, dropped) = within(10, "in-flight action", async {
            futures::join!(in_flight, dropper)
        })
        .await;
        assert!(dropped.parse::<usize>().unwrap() >= 1);
        let err = result.unwrap_err();
        // The browser reports the abrupt end as 1006, with no detail; the reason says so.
        assert!(
            matches!(err, Error::Disconnected { code: Some(1006), ref reason } if !reason.is_empty()),
            "{encoding}: {err:?}"
        );
        assert!(err.is_retryable());

        let mut seen = Vec::new();
        within(30, "reconnect", async {
            while let Some(state) = states.next().await {
                seen.push(state.status);
                if state.is_connected() && state.connection_id != first_id {
                    break;
                }
            }
        })
        .await;
        let tail: Vec<_> = seen
            .iter()
            .skip_while(|s| **s != ConnStatus::Disconnected)
            .copied()
            .collect();
        assert_eq!(
            tail,
            [
                ConnStatus::Disconnected,
                ConnStatus::Connecting,
                ConnStatus::Connected
            ],
            "{encoding}: {seen:?}"
        );
        // The subscription was sent again: a broadcast from another client reaches us.
        let n: i64 = client(encoding)
            .get_or_create("counter", key.as_str())
            .action("increment", (7,))
            .await
            .unwrap();
        let event = within(10, "event after reconnect", counts.next())
            .await
            .unwrap();
        assert_eq!(event.arg::<i64>(0).unwrap(), n, "{encoding}");
        conn.dispose().await;
    }
}

#[wasm_bindgen_test]
async fn actions_queued_while_disconnected_run_exactly_once_after_reconnect() {
    reset_proxy().await;
    let key = unique_key("queued");
    let conn = client_for(proxy_endpoint(), Encoding::Bare)
        .get_or_create("counter", key.as_str())
        .connect_with(ConnectOptions::new().reconnect(quick_retries()))
        .unwrap();
    within(30, "ready", conn.ready()).await.unwrap();
    control("/refuse/on").await;
    control("/drop").await;
    within(
        10,
        "disconnected",
        conn.observable_state().wait_for(|s| !s.is_connected()),
    )
    .await;
    let done = Rc::new(Cell::new(0));
    let calls = (0..5).map(|_| {
        let conn = conn.clone();
        let done = done.clone();
        async move {
            let n = conn.action::<i64>("increment", (1,)).await;
            done.set(done.get() + 1);
            n
        }
    });
    let release = async {
        sleep_ms(800).await;
        assert_eq!(done.get(), 0, "queued actions wait for the connection");
        control("/refuse/off").await;
    };
    let (results, ()) = within(30, "queued actions", async {
        futures::join!(futures::future::join_all(calls), release)
    })
    .await;
    let mut results: Vec<i64> = results.into_iter().map(Result::unwrap).collect();
    results.sort_unstable();
    assert_eq!(results, [1, 2, 3, 4, 5]);
    let total: i64 = client(Encoding::Json)
        .get("counter", key.as_str())
        .action("getCount", ())
        .await
        .unwrap();
    assert_eq!(total, 5, "each queued action ran exactly once");
    conn.dispose().await;
}

#[wasm_bindgen_test]
async fn refused_connects_back_off_and_the_queue_is_bounded() {
    reset_proxy().await;
    control("/refuse/on").await;
    let before = proxy_stats().await["refused"].as_u64().unwrap();
    let conn = client_for(proxy_endpoint(), Encoding::Bare)
        .get_or_create("counter", unique_key("refused"))
        .connect_with(ConnectOptions::new().max_queued_actions(1))
        .unwrap();
    let queued = conn.action::<i64>("increment", (1,));
    let checks = async {
        sleep_ms(2000).await;
        let attempts = proxy_stats().await["refused"].as_u64().unwrap() - before;
        // 250 ms doubling with jitter: a handful of attempts in 2 s, never a tight loop.
        assert!((2..=7).contains(&attempts), "{attempts} attempts in 2 s");
        let state = conn.state();
        assert!(!state.terminal, "a refused connect is transient: {state:?}");
        assert!(state.last_error.as_ref().is_some_and(Error::is_retryable));
        let err = conn.action::<i64>("increment", (1,)).await.unwrap_err();
        assert!(matches!(err, Error::QueueFull { capacity: 1 }), "{err:?}");
        control("/refuse/off").await;
    };
    let (n, ()) = within(40, "queued action", async {
        futures::join!(queued, checks)
    })
    .await;
    assert_eq!(n.unwrap(), 1);
    conn.dispose().await;
}

#[wasm_bindgen_test]
async fn going_online_again_retries_at_once_instead_of_waiting_for_the_backoff() {
    reset_proxy().await;
    let conn = client_for(proxy_endpoint(), Encoding::Json)
        .get_or_create("counter", unique_key("online"))
        .connect_with(ConnectOptions::new().reconnect(ReconnectPolicy {
            initial: ms(60_000),
            max: ms(60_000),
            jitter: 0.0,
            ..ReconnectPolicy::default()
        }))
        .unwrap();
    within(30, "ready", conn.ready()).await.unwrap();
    let first = conn.connection_id();
    control("/refuse/on").await;
    control("/drop").await;
    // The first retry after an open socket is immediate and refused; the next waits 60 s.
    let state = within(
        10,
        "backing off",
        conn.observable_state()
            .wait_for(|s| s.next_retry_in.is_some_and(|d| d >= ms(30_000))),
    )
    .await;
    assert_eq!(state.status, ConnStatus::Disconnected, "{state:?}");
    control("/refuse/off").await;
    let started = now_ms();
    dispatch_window_event("online");
    within(
        10,
        "reconnected after `online`",
        conn.observable_state()
            .wait_for(|s| s.is_connected() && s.connection_id != first),
    )
    .await;
    assert!(
        now_ms() - started < 5000.0,
        "did not wait for the 60 s backoff"
    );
    let n: i64 = conn.action("increment", (1,)).await.unwrap();
    assert_eq!(n, 1);
    conn.dispose().await;
}

#[wasm_bindgen_test]
async fn a_silent_socket_is_detected_when_the_page_comes_back() {
    reset_proxy().await;
    let conn = client_for(proxy_endpoint(), Encoding::Bare)
        .get_or_create("counter", unique_key("silent"))
        .connect_with(
            ConnectOptions::new()
                .ping(None, ms(700))
                .open_timeout(ms(3000))
                .reconnect(quick_retries()),
        )
        .unwrap();
    within(30, "ready", conn.ready()).await.unwrap();
    let first = conn.connection_id();
    // A live socket answers the probe: the connection stays.
    dispatch_window_event("online");
    sleep_ms(1500).await;
    assert!(conn.is_connected() && conn.connection_id() == first);
    // A stalled one does not: it is replaced.
    control("/blackhole/on").await;
    dispatch_window_event("online");
    let state = within(
        10,
        "silence detected",
        conn.observable_state().wait_for(|s| !s.is_connected()),
    )
    .await;
    assert!(
        matches!(&state.last_error, Some(Error::Disconnected { reason, .. }) if reason.contains("no answer")),
        "{state:?}"
    );
    control("/blackhole/off").await;
    control("/drop").await;
    within(
        30,
        "reconnected",
        conn.observable_state()
            .wait_for(|s| s.is_connected() && s.connection_id != first),
    )
    .await;
    let n: i64 = conn.action("increment", (1,)).await.unwrap();
    assert_eq!(n, 1);
    conn.dispose().await;
}

#[wasm_bindgen_test]
async fn the_params_function_runs_before_every_attempt() {
    reset_proxy().await;
    let calls = Rc::new(Cell::new(0_usize));
    let counter = calls.clone();
    let conn = client_for(proxy_endpoint(), Encoding::Cbor)
        .get_or_create("chatRoom", unique_key("refresh"))
        .connect_with(ConnectOptions::new().params_fn(move || {
            let n = counter.get();
            counter.set(n + 1);
            async move { Ok(json!({"token": "secret", "user": format!("token-{n}")})) }
        }))
        .unwrap();
    within(30, "ready", conn.ready()).await.unwrap();
    assert_eq!(calls.get(), 1);
    let first = conn.connection_id();
    control("/drop").await;
    within(
        30,
        "reconnected",
        conn.observable_state()
            .wait_for(|s| s.is_connected() && s.connection_id != first),
    )
    .await;
    let after = calls.get();
    assert!(after >= 2, "asked again: {after}");
    let entry: Value = conn.action("sendMessage", ("hi",)).await.unwrap();
    assert_eq!(entry["user"], format!("token-{}", after - 1));
    conn.dispose().await;
}

#[wasm_bindgen_test]
async fn actions_have_deadlines_and_the_connection_survives_them() {
    let conn = client(Encoding::Bare)
        .get_or_create("counter", unique_key("deadline"))
        .connect_with(ConnectOptions::new().action_timeout(ms(400)))
        .unwrap();
    within(30, "ready", conn.ready()).await.unwrap();
    let started = now_ms();
    let err = conn.action::<u64>("slow", (3000,)).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(now_ms() - started < 2500.0);
    let n: i64 = conn.action("increment", (1,)).await.unwrap();
    assert_eq!(n, 1);
    let done: u64 = conn
        .action_with_timeout("slow", (500,), ms(5000))
        .await
        .unwrap();
    assert_eq!(done, 500);
    // A deadline longer than a browser timer can hold (2^31 ms) is not "now".
    let n: i64 = conn
        .action_with_timeout("increment", (1,), std::time::Duration::MAX)
        .await
        .unwrap();
    assert_eq!(n, 2);
    conn.dispose().await;
}

#[wasm_bindgen_test]
async fn a_server_side_disconnect_reconnects() {
    let conn = client(Encoding::Json)
        .get_or_create("counter", unique_key("kick"))
        .connect()
        .unwrap();
    within(30, "ready", conn.ready()).await.unwrap();
    let first = conn.connection_id();
    let closes = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let sink = closes.clone();
    let _on_close = conn.on_close(move |e| sink.borrow_mut().push(e.clone()));
    let _ = conn.action::<Value>("disconnectMe", ()).await;
    let state = within(
        30,
        "reconnected",
        conn.observable_state()
            .wait_for(|s| s.is_connected() && s.connection_id != first),
    )
    .await;
    assert!(!state.terminal, "{state:?}");
    assert!(
        matches!(closes.borrow().first(), Some(Error::Disconnected { code: Some(1000), reason }) if reason == "bye-reason"),
        "{:?}",
        closes.borrow()
    );
    let n: i64 = conn.action("increment", (1,)).await.unwrap();
    assert_eq!(n, 1);
    conn.dispose().await;
}

#[wasm_bindgen_test]
async fn dropping_the_last_handle_closes_the_socket_and_dispose_rejects_pending_work() {
    let client = client(Encoding::Bare);
    let room = client
        .get_or_create("chatRoom", unique_key("drop"))
        .with_params(&json!({"token": "secret", "user": "u"}))
        .unwrap();
    let observer = room.clone();
    let conn = room.connect().unwrap();
    within(30, "ready", conn.ready()).await.unwrap();
    let clone = conn.clone();
    let count: i64 = observer.action("connCount", ()).await.unwrap();
    assert_eq!(count, 2, "the socket plus the counting call");
    drop(conn);
    sleep_ms(200).await;
    assert!(clone.is_connected(), "a clone keeps the connection");
    drop(clone);
    eventually(10, "the server sees the close", || {
        let observer = observer.clone();
        async move { observer.action::<i64>("connCount", ()).await.unwrap() == 1 }
    })
    .await;
    eventually(5, "task ended", || async { client.live_connections() == 0 }).await;

    let a = client
        .get_or_create("counter", unique_key("d1"))
        .connect()
        .unwrap();
    let b = client
        .get_or_create("counter", unique_key("d2"))
        .connect()
        .unwrap();
    within(30, "ready", a.ready()).await.unwrap();
    let pending = a.action::<u64>("slow", (5000,));
    let disposer = async {
        sleep_ms(200).await;
        assert_eq!(client.live_connections(), 2);
        within(10, "dispose", client.dispose()).await;
    };
    let (result, ()) = within(10, "pending action", async {
        futures::join!(pending, disposer)
    })
    .await;
    assert!(matches!(result, Err(Error::Disposed { .. })), "{result:?}");
    assert_eq!(client.live_connections(), 0);
    let err = b.action::<Value>("getCount", ()).await.unwrap_err();
    assert!(matches!(err, Error::Disposed { .. }), "{err:?}");
    assert!(b.state().terminal);
}

#[wasm_bindgen_test]
async fn raw_websocket_echoes_text_and_binary() {
    let actor = client(Encoding::Bare).get_or_create("counter", unique_key("rawws"));
    let mut socket = within(30, "open", actor.web_socket("/chat?room=1", &["myproto"]))
        .await
        .unwrap();
    let hello = within(10, "hello", socket.next()).await.unwrap();
    assert_eq!(hello, RawMessage::Text("hello".into()));
    socket.send_text("ping").await.unwrap();
    assert_eq!(
        within(10, "echo", socket.next()).await.unwrap(),
        RawMessage::Text("ping".into())
    );
    socket.send_binary(vec![1, 2, 3]).await.unwrap();
    assert_eq!(
        within(10, "echo", socket.next()).await.unwrap(),
        RawMessage::Binary(vec![1, 2, 3])
    );
    // 1002 is not a code browsers may send: it goes out as 1000 instead of throwing.
    socket.close(1002, "done").await.unwrap();

    // Opening a socket to an address where nothing listens fails (it does not hang).
    let err = client_for("http://127.0.0.1:9", Encoding::Bare)
        .get_or_create("counter", "x")
        .web_socket("/x", &[])
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
}
