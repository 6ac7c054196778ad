//! Persistent connections against a real RivetKit 2.3.19 server: actions, events, status,
//! params, lifetime — in every encoding.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{client, eventually, unique_key, within};
use futures::StreamExt;
use rivet_core::{ConnStatus, ConnectOptions, Encoding, Error, Event, RawMessage, ReconnectPolicy};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_actions_and_receives_events_in_every_encoding() {
    for encoding in Encoding::ALL {
        let client = client(encoding);
        let conn = client
            .get_or_create("counter", unique_key("conn"))
            .connect()
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let _listener = conn.on("newCount", move |event: &Event| {
            sink.lock().unwrap().push(event.arg::<i64>(0).unwrap());
        });
        within(60, "ready", conn.ready()).await.unwrap();
        assert!(conn.actor_id().is_some() && conn.connection_id().is_some());
        let a: i64 = conn.action("increment", (2,)).await.unwrap();
        let b: i64 = conn.action("increment", (3,)).await.unwrap();
        assert_eq!((a, b), (2, 5), "{encoding}");
        eventually(10, "events arrive", || {
            let seen = seen.clone();
            async move { *seen.lock().unwrap() == vec![2, 5] }
        })
        .await;
        let err = conn.action::<Value>("boom", ()).await.unwrap_err();
        assert_eq!(err.code(), Some("boom_code"), "{encoding}");
        assert_eq!(err.metadata(), Some(&json!({"a": 1, "b": "two"})));
        assert!(
            conn.is_connected(),
            "an action error keeps the connection open"
        );
        let echoed: Value = conn
            .action("echo", (json!(["$x", 1]), "zoë"))
            .await
            .unwrap();
        assert_eq!(echoed, json!([["$x", 1], "zoë"]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_actions_in_flight_resolve_out_of_order() {
    let conn = client(Encoding::Bare)
        .get_or_create("counter", unique_key("flight"))
        .connect()
        .unwrap();
    within(60, "ready", conn.ready()).await.unwrap();
    let slow = conn.action::<u64>("slow", (600,));
    let fast = async {
        let n: i64 = conn.action("increment", (1,)).await.unwrap();
        (n, std::time::Instant::now())
    };
    let (slow, (n, fast_done)) = tokio::join!(
        async { (slow.await.unwrap(), std::time::Instant::now()) },
        fast
    );
    assert_eq!(slow.0, 600);
    assert_eq!(n, 1);
    assert!(
        fast_done < slow.1,
        "the fast answer did not wait for the slow one"
    );
    let all =
        futures::future::join_all((0..200).map(|_| conn.action::<i64>("increment", (1,)))).await;
    let mut values: Vec<i64> = all.into_iter().map(Result::unwrap).collect();
    values.sort_unstable();
    assert_eq!(values, (2..=201).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_streams_direct_and_multi_argument_events() {
    for encoding in Encoding::ALL {
        let conn = client(encoding)
            .get_or_create("counter", unique_key("ev"))
            .connect()
            .unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let _once = conn.once("newCount", move |_| {
            h.fetch_add(1, Ordering::SeqCst);
        });
        let mut multi = conn.events("multi");
        let mut direct = conn.events("direct");
        within(60, "ready", conn.ready()).await.unwrap();
        let _: i64 = conn.action("increment", (1,)).await.unwrap();
        let _: i64 = conn.action("increment", (1,)).await.unwrap();
        let _: Value = conn.action("multiArgEvent", ()).await.unwrap();
        let event = within(10, "multi", multi.next()).await.unwrap();
        assert_eq!(
            event.args().unwrap(),
            vec![json!(1), json!("two"), json!({"three": 3})],
            "{encoding}"
        );
        let (one, two, three): (i64, String, Value) = event.args_as().unwrap();
        assert_eq!((one, two.as_str(), three), (1, "two", json!({"three": 3})));
        let _: Value = conn.action("sendToMe", ("hello",)).await.unwrap();
        let event = within(10, "direct", direct.next()).await.unwrap();
        assert_eq!(
            event.args().unwrap(),
            vec![json!("hello"), json!("second-arg")],
            "{encoding}"
        );
        assert_eq!(
            hits.load(Ordering::SeqCst),
            1,
            "{encoding}: once fires once"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribing_stops_broadcasts_but_keeps_other_listeners() {
    let conn = client(Encoding::Json)
        .get_or_create("counter", unique_key("unsub"))
        .connect()
        .unwrap();
    let a = Arc::new(AtomicUsize::new(0));
    let b = Arc::new(AtomicUsize::new(0));
    let (ac, bc) = (a.clone(), b.clone());
    let first = conn.on("newCount", move |_| {
        ac.fetch_add(1, Ordering::SeqCst);
    });
    let second = conn.on("newCount", move |_| {
        bc.fetch_add(1, Ordering::SeqCst);
    });
    within(60, "ready", conn.ready()).await.unwrap();
    let _: i64 = conn.action("increment", (1,)).await.unwrap();
    eventually(10, "both fire", || {
        let (a, b) = (a.clone(), b.clone());
        async move { a.load(Ordering::SeqCst) == 1 && b.load(Ordering::SeqCst) == 1 }
    })
    .await;
    drop(first);
    let _: i64 = conn.action("increment", (1,)).await.unwrap();
    eventually(10, "second fires", || {
        let b = b.clone();
        async move { b.load(Ordering::SeqCst) == 2 }
    })
    .await;
    assert_eq!(a.load(Ordering::SeqCst), 1);
    drop(second);
    assert_eq!(conn.listener_count(), 0);
    // After the unsubscribe is processed no broadcast reaches us: a sentinel action round
    // trip orders it behind the unsubscribe message.
    let mut stream_after = conn.events("other");
    let _: i64 = conn.action("increment", (1,)).await.unwrap();
    let _: Value = conn.action("broadcast", ("other", 1)).await.unwrap();
    within(10, "other", stream_after.next()).await.unwrap();
    assert_eq!(
        b.load(Ordering::SeqCst),
        2,
        "the dropped listener got nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_goes_connecting_then_connected_and_ready_resolves() {
    let conn = client(Encoding::Bare)
        .get_or_create("counter", unique_key("status"))
        .connect()
        .unwrap();
    let mut states = conn.states();
    within(60, "ready", conn.ready()).await.unwrap();
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_params_end_in_a_terminal_state_and_ready_fails() {
    for encoding in Encoding::ALL {
        let room = client(encoding).get_or_create("chatRoom", unique_key("reject"));
        let conn = room
            .with_params(&json!({"token": "nope"}))
            .unwrap()
            .connect()
            .unwrap();
        let err = within(60, "ready", conn.ready()).await.unwrap_err();
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
        let err = within(
            5,
            "action after terminal",
            conn.action::<Value>("getHistory", ()),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Rejected(_)), "{err:?}");

        let good = room
            .with_params(&json!({"token": "secret", "user": "ada"}))
            .unwrap()
            .connect()
            .unwrap();
        within(60, "ready", good.ready()).await.unwrap();
        let entry: Value = good.action("sendMessage", ("hello",)).await.unwrap();
        assert_eq!(entry["user"], "ada");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_to_a_missing_actor_with_get_fails_ready() {
    let conn = client(Encoding::Cbor)
        .get("counter", unique_key("gone"))
        .connect()
        .unwrap();
    let err = within(60, "ready", conn.ready()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_subscription_closes_with_auth_forbidden() {
    let guarded = client(Encoding::Json).get_or_create("guarded", unique_key("guard"));
    let conn = guarded.connect().unwrap();
    within(60, "ready", conn.ready()).await.unwrap();
    let _secret = conn.on("secret", |_| {});
    let state = within(
        10,
        "terminal",
        conn.observable_state().wait_for(|s| s.terminal),
    )
    .await;
    assert!(
        matches!(state.last_error, Some(Error::Rejected(ref e)) if e.is("auth", "forbidden")),
        "{state:?}"
    );

    let admin = guarded
        .with_params(&json!({"admin": true}))
        .unwrap()
        .connect()
        .unwrap();
    let mut secrets = admin.events("secret");
    within(60, "ready", admin.ready()).await.unwrap();
    let _: Value = admin.action("emitBoth", ()).await.unwrap();
    within(10, "secret event", secrets.next()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_handle_closes_the_socket_on_the_server() {
    let client = client(Encoding::Bare);
    let key = unique_key("drop");
    let room = client
        .get_or_create("chatRoom", key.as_str())
        .with_params(&json!({"token": "secret", "user": "u"}))
        .unwrap();
    let observer = room.clone();
    let conn = room.connect().unwrap();
    within(60, "ready", conn.ready()).await.unwrap();
    let clone = conn.clone();
    // The HTTP call that counts is itself a (short-lived) connection.
    let count: i64 = observer.action("connCount", ()).await.unwrap();
    assert_eq!(count, 2, "the socket plus the counting call");
    drop(conn);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(clone.is_connected(), "a clone keeps the connection");
    drop(clone);
    eventually(10, "server sees the close", || {
        let observer = observer.clone();
        async move { observer.action::<i64>("connCount", ()).await.unwrap() == 1 }
    })
    .await;
    eventually(5, "task ended", || async { client.live_connections() == 0 }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispose_rejects_pending_work_and_client_dispose_ends_every_task() {
    let client = client(Encoding::Bare);
    let a = client
        .get_or_create("counter", unique_key("d1"))
        .connect()
        .unwrap();
    let b = client
        .get_or_create("counter", unique_key("d2"))
        .connect()
        .unwrap();
    within(60, "ready", a.ready()).await.unwrap();
    let pending = tokio::spawn({
        let a = a.clone();
        async move { a.action::<u64>("slow", (5000,)).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(client.live_connections(), 2);
    within(10, "dispose", client.dispose()).await;
    assert_eq!(client.live_connections(), 0);
    let err = within(5, "pending action", pending)
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::Disposed { .. }), "{err:?}");
    let err = within(5, "after dispose", b.action::<Value>("getCount", ()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Disposed { .. }), "{err:?}");
    assert!(b.state().terminal);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_have_deadlines_and_the_connection_survives_them() {
    let conn = client(Encoding::Bare)
        .get_or_create("counter", unique_key("deadline"))
        .connect_with(ConnectOptions::new().action_timeout(Duration::from_millis(400)))
        .unwrap();
    within(60, "ready", conn.ready()).await.unwrap();
    let err = conn.action::<u64>("slow", (3000,)).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    let n: i64 = conn.action("increment", (1,)).await.unwrap();
    assert_eq!(n, 1);
    let ms: u64 = conn
        .action_with_timeout("slow", (700,), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(ms, 700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_action_fails_locally_and_keeps_the_socket() {
    let conn = client(Encoding::Json)
        .get_or_create("counter", unique_key("big"))
        .connect()
        .unwrap();
    within(60, "ready", conn.ready()).await.unwrap();
    let before = conn.connection_id();
    let err = conn
        .action::<Value>("echo", ("z".repeat(70_000),))
        .await
        .unwrap_err();
    // The error the server gives over HTTP, without sending anything.
    assert_eq!(err.code(), Some("incoming_too_long"), "{err:?}");
    assert_eq!(err.group(), Some("message"), "{err:?}");
    let err = conn.action::<Value>("big", (1_100_000,)).await.unwrap_err();
    assert_eq!(err.code(), Some("outgoing_too_long"));
    let n: i64 = conn.action("increment", (1,)).await.unwrap();
    assert_eq!(n, 1);
    assert_eq!(conn.connection_id(), before, "no reconnect happened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_disconnect_reconnects_and_reports_the_close() {
    let conn = client(Encoding::Bare)
        .get_or_create("counter", unique_key("kick"))
        .connect()
        .unwrap();
    within(60, "ready", conn.ready()).await.unwrap();
    let first = conn.connection_id();
    let mut states = conn.states();
    let _ = conn.action::<Value>("disconnectMe", ()).await;
    let state = within(10, "closed", async {
        loop {
            let state = states.next().await.unwrap();
            if !state.is_connected() {
                break state;
            }
        }
    })
    .await;
    assert!(
        matches!(state.last_error, Some(Error::Disconnected { code: Some(1000), ref reason }) if reason == "bye-reason"),
        "{state:?}"
    );
    assert!(!state.terminal, "{state:?}");
    within(
        30,
        "reconnected",
        conn.observable_state()
            .wait_for(|s| s.is_connected() && s.connection_id != first),
    )
    .await;
    let n: i64 = conn.action("increment", (1,)).await.unwrap();
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_params_are_asked_for_on_every_attempt() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let options = ConnectOptions::new().params_fn(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move { Ok(json!({"token": "secret", "user": format!("user-{n}")})) }
    });
    let conn = client(Encoding::Cbor)
        .get_or_create("chatRoom", unique_key("dyn"))
        .connect_with(options)
        .unwrap();
    let mut states = conn.states();
    within(60, "ready", conn.ready()).await.unwrap();
    let entry: Value = conn.action("sendMessage", ("x",)).await.unwrap();
    let asked = calls.load(Ordering::SeqCst);
    let mut history = Vec::new();
    let mut attempts = 0;
    let mut previous = None;
    while let Ok(Some(s)) = tokio::time::timeout(Duration::from_millis(50), states.next()).await {
        if s.status == ConnStatus::Connecting && previous != Some(ConnStatus::Connecting) {
            attempts += 1;
        }
        previous = Some(s.status);
        history.push(format!("{} {:?}", s.status, s.last_error));
    }
    assert_eq!(
        entry["user"],
        format!("user-{}", asked - 1),
        "the newest params were used: {history:#?}"
    );
    // One call per attempt: usually one attempt, more when a busy engine times out the first
    // (`pegboard.route_resolve_query_timeout`), which is not what this test is about.
    assert!(attempts >= 1, "{history:#?}");
    assert_eq!(asked, attempts, "one call per attempt: {history:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_websocket_echoes_text_and_binary() {
    let actor = client(Encoding::Bare).get_or_create("counter", unique_key("rawws"));
    // Create the actor first through a call that is retried: a busy engine may time out the
    // first route to a new actor (`pegboard.route_resolve_query_timeout`), and raw sockets are
    // never retried.
    let _: i64 = within(60, "actor created", actor.action("getCount", ()))
        .await
        .unwrap();
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
    socket.close(1000, "done").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_policy_stops_after_the_first_failure() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = common::client_for(&format!("http://127.0.0.1:{port}"), Encoding::Bare);
    let conn = client
        .get_or_create("counter", "x")
        .connect_with(ConnectOptions::new().reconnect(ReconnectPolicy::never()))
        .unwrap();
    let err = within(10, "ready", conn.ready()).await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
}

/// `onConnect` runs before the server sends `Init`, so an event it sends to the new connection
/// (`conn.send`) reaches the socket before `Init`. It is delivered to the listeners registered
/// when the connection was opened (`connect_with_setup`), once the connection is `Connected`,
/// and again on every reconnect (each runs `onConnect`). Before: dropped as "message before
/// Init", in every encoding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_sent_from_on_connect_reaches_the_new_connection() {
    for encoding in Encoding::ALL {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let (conn, _welcome) = client(encoding)
            .get_or_create("greeter", unique_key("welcome"))
            .connect_with_setup(ConnectOptions::default(), |conn| {
                let status = conn.clone();
                conn.on("welcome", move |event: &Event| {
                    sink.lock()
                        .unwrap()
                        .push((event.arg::<String>(0).unwrap(), status.status()));
                })
            })
            .unwrap();
        within(60, "ready", conn.ready()).await.unwrap();
        eventually(10, "the first welcome", || {
            let seen = seen.clone();
            async move { seen.lock().unwrap().len() == 1 }
        })
        .await;
        assert_eq!(
            seen.lock().unwrap()[0],
            ("hello #1".to_owned(), ConnStatus::Connected),
            "{encoding}: delivered once connected"
        );

        // The server closes this connection; the reconnect is greeted again.
        let _ = conn.action::<Value>("leave", ()).await;
        eventually(30, "the welcome after the reconnect", || {
            let seen = seen.clone();
            async move { seen.lock().unwrap().len() == 2 }
        })
        .await;
        assert_eq!(seen.lock().unwrap()[1].0, "hello #2", "{encoding}");
        let greeted: i64 = conn.action("greeted", ()).await.unwrap();
        assert_eq!(greeted, 2, "{encoding}");
        conn.dispose().await;
    }
}
