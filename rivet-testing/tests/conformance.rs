//! Conformance: the same client scenarios against the real RivetKit 2.3.19 server
//! (`tests/server/server.mjs`) and against the fake (the same actors, `common/mod.rs`), in
//! every encoding, and against the fake in memory (the client's `test-transport`, as in the
//! browser). Each scenario records what the client saw; the records must be equal, so
//! the fake cannot drift from the server on what apps rely on: typed actions, events,
//! params, errors, keys, create input, status transitions and the connection hooks' events.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    client_for, shared_fake, shared_memory_fake, unique_key, within, Chat, ChatActions, ChatParams,
    Counter, CounterActions,
};
use futures::{FutureExt, StreamExt};
use rivet_core::{Client, ConnStatus, ConnectOptions, CreateOptions, Encoding, Error};
use rivet_test_support::TestServer;
use serde_json::{json, Value};

/// `(server name, a client for it in an encoding)` for the real server, the fake on loopback
/// and the fake in memory (through the client's test transport).
type Server = (&'static str, fn(Encoding) -> Client);

fn servers() -> [Server; 3] {
    [
        ("real", |encoding| {
            client_for(&TestServer::shared().endpoint(), encoding)
        }),
        ("fake", |encoding| {
            client_for(&shared_fake().endpoint(), encoding)
        }),
        ("memory", |encoding| {
            Client::from_config(
                shared_memory_fake()
                    .client_config()
                    .encoding(encoding)
                    .build()
                    .unwrap(),
            )
            .unwrap()
        }),
    ]
}

/// What the client saw of an error: its kind, group, code and metadata.
fn seen_err(err: &Error) -> String {
    let kind = match err {
        Error::Actor(_) => "Actor",
        Error::Rejected(_) => "Rejected",
        Error::NotFound(_) => "NotFound",
        Error::Unavailable(_) => "Unavailable",
        Error::Disconnected { .. } => "Disconnected",
        Error::Http { .. } => "Http",
        _ => "other",
    };
    format!(
        "{kind} {}.{} {}",
        err.group().unwrap_or("-"),
        err.code().unwrap_or("-"),
        err.metadata().map_or("-".to_owned(), Value::to_string)
    )
}

/// Runs `scenario` against both servers and checks they saw the same; returns what they saw.
async fn conform<F, Fut>(what: &str, scenario: F) -> Vec<String>
where
    F: Fn(fn(Encoding) -> Client, Encoding) -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    // One scenario at a time: the real server (one engine on a busy machine) answered late
    // when all of them created actors at once.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut records = Vec::new();
    for (server, client) in servers() {
        // `CONFORMANCE_ONLY=fake,memory` compares those two only.
        if std::env::var("CONFORMANCE_ONLY").is_ok_and(|only| !only.split(',').any(|s| s == server))
        {
            continue;
        }
        let mut record = Vec::new();
        for encoding in Encoding::ALL {
            let what = format!("{what} against the {server} server in {encoding}");
            let seen = within(180, &what, scenario(client, encoding)).await;
            record.extend(seen.into_iter().map(|s| format!("{encoding}: {s}")));
        }
        records.push((server, record));
    }
    if records.len() < 2 {
        return records.pop().map(|(_, record)| record).unwrap_or_default();
    }
    let (first, reference) = (records[0].0, &records[0].1);
    for (other, record) in &records[1..] {
        let differences: Vec<_> = reference
            .iter()
            .zip(record)
            .filter(|(r, f)| r != f)
            .map(|(r, f)| format!("{first}: {r}\n {other}: {f}"))
            .collect();
        assert!(
            differences.is_empty() && reference.len() == record.len(),
            "{what}: the {other} server differs from the {first} one:\n{}\n({first} {} \
             records, {other} {})",
            differences.join("\n"),
            reference.len(),
            record.len()
        );
    }
    reference.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_actions_stateless_and_connected() {
    let seen = conform("typed actions", |client, encoding| async move {
        let counter = client(encoding).get_or_create(Counter, unique_key("typed"));
        let mut seen = vec![
            format!("increment {}", counter.increment(5).await.unwrap()),
            format!("get_count {}", counter.get_count().await.unwrap()),
        ];
        let live = counter.connect().unwrap();
        live.ready().await.unwrap();
        seen.push(format!(
            "connected increment {}",
            live.increment(2).await.unwrap()
        ));
        let echoed: Value = counter
            .action("echo", (1, "two", json!({"three": [3]})))
            .await
            .unwrap();
        seen.push(format!("echo {echoed}"));
        live.dispose().await;
        seen
    })
    .await;
    assert!(
        seen.contains(&"bare: connected increment 7".to_owned()),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_broadcast_to_subscribers_and_sent_to_one_connection() {
    let seen = conform("events", |client, encoding| async move {
        let counter = client(encoding).get_or_create(Counter, unique_key("events"));
        let live = counter.connect().unwrap();
        let mut counts = live.events(Counter::NEW_COUNT);
        let mut direct = live.untyped().events("direct");
        let mut multi = live.untyped().events("multi");
        live.ready().await.unwrap();
        live.increment(3).await.unwrap();
        let mut seen = vec![format!(
            "newCount {}",
            within(10, "newCount", counts.next())
                .await
                .unwrap()
                .unwrap()
        )];
        // A stateless call's events reach the subscribed connection too.
        counter.increment(4).await.unwrap();
        seen.push(format!(
            "newCount {}",
            within(10, "newCount", counts.next())
                .await
                .unwrap()
                .unwrap()
        ));
        let _: bool = live.action("sendToMe", ("hi",)).await.unwrap();
        let event = within(10, "direct", direct.next()).await.unwrap();
        seen.push(format!("direct {:?}", event.args().unwrap()));
        let _: bool = live.action("multiArgEvent", ()).await.unwrap();
        let event = within(10, "multi", multi.next()).await.unwrap();
        seen.push(format!("multi {:?}", event.args().unwrap()));
        live.dispose().await;
        seen
    })
    .await;
    assert!(seen.contains(&"json: newCount 7".to_owned()), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn params_accepted_and_rejected() {
    let seen = conform("params", |client, encoding| async move {
        let client = client(encoding);
        let key = unique_key("params");
        let params = |token: &str| ChatParams {
            token: token.to_owned(),
            user: "ada".to_owned(),
        };
        let mut seen = Vec::new();

        let good = client
            .get_or_create(Chat, key.as_str())
            .with_params(&params("secret"))
            .unwrap();
        let entry = good.send_message("hello".to_owned()).await.unwrap();
        seen.push(format!("stateless {entry:?}"));
        let live = good.connect().unwrap();
        live.ready().await.unwrap();
        let history = live.get_history().await.unwrap();
        seen.push(format!("history {history:?}"));
        live.dispose().await;

        let bad = client
            .get_or_create(Chat, key.as_str())
            .with_params(&params("nope"))
            .unwrap();
        let err = bad.get_history().await.unwrap_err();
        seen.push(format!("stateless rejected {}", seen_err(&err)));
        let conn = bad.connect().unwrap();
        let err = conn.ready().await.unwrap_err();
        seen.push(format!("connect rejected {}", seen_err(&err)));
        let state = conn.state();
        seen.push(format!(
            "state {} terminal {}",
            state.status, state.terminal
        ));
        seen
    })
    .await;
    assert!(
        seen.iter()
            .any(|s| s.contains(r#"connect rejected Rejected user.unauthorized {"got":"nope"}"#)),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joined_and_left_reach_the_other_connections() {
    let seen = conform("joined/left", |client, encoding| async move {
        let key = unique_key("joined");
        // Two visitors, each with a client of its own.
        let clients = [client(encoding), client(encoding)];
        let connect = |n: usize, user: &str| {
            clients[n]
                .get_or_create(Chat, key.as_str())
                .with_params(&ChatParams {
                    token: "secret".to_owned(),
                    user: user.to_owned(),
                })
                .unwrap()
                .connect()
                .unwrap()
        };
        let ada = connect(0, "ada");
        let mut ada_joined = ada.events(Chat::JOINED);
        let mut ada_left = ada.events(Chat::LEFT);
        ada.ready().await.unwrap();
        // A round trip: ada's subscriptions have reached the actor.
        ada.get_history().await.unwrap();

        let bob = connect(1, "bob");
        let mut bob_joined = bob.events(Chat::JOINED);
        bob.ready().await.unwrap();
        let joined = within(10, "joined", ada_joined.next()).await.unwrap();
        let mut seen = vec![format!("ada saw joined {:?}", joined.unwrap())];
        // bob's own `joined` went out before his Init: he was not subscribed yet.
        bob.get_history().await.unwrap();
        let own = bob_joined.next().now_or_never().is_some();
        seen.push(format!("bob saw his own joined {own}"));

        bob.dispose().await;
        let left = within(10, "left", ada_left.next()).await.unwrap();
        seen.push(format!("ada saw left {:?}", left.unwrap()));
        ada.dispose().await;
        seen
    })
    .await;
    assert_eq!(
        seen[..3],
        [
            r#"json: ada saw joined Some("bob")"#,
            "json: bob saw his own joined false",
            r#"json: ada saw left Some("bob")"#,
        ],
        "{seen:?}"
    );
}

/// What `onConnect` sends to the new connection reaches the socket before its `Init`; the
/// client delivers it once connected, after every reconnect too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_sent_from_on_connect_reaches_the_new_connection() {
    let seen = conform("welcome", |client, encoding| async move {
        let greeter = client(encoding).get_or_create("greeter", unique_key("welcome"));
        // The stream exists before the socket opens: in memory, on a multi-thread runtime,
        // the connection can be up before a listener registered after `connect()`.
        let (live, mut welcome) = greeter
            .connect_with_setup(ConnectOptions::default(), |live| live.events("welcome"))
            .unwrap();
        live.ready().await.unwrap();
        let mut seen = Vec::new();
        let first = within(10, "welcome", welcome.next()).await.unwrap();
        seen.push(format!("welcome {:?}", first.args().unwrap()));
        // The server closes the connection; the client reconnects and is greeted again.
        let _ = live.action::<Value>("leave", ()).await;
        let second = within(30, "welcome again", welcome.next()).await.unwrap();
        seen.push(format!("welcome {:?}", second.args().unwrap()));
        let greeted: i64 = live.action("greeted", ()).await.unwrap();
        seen.push(format!("greeted {greeted}"));
        live.dispose().await;
        seen
    })
    .await;
    assert_eq!(
        seen[..3],
        [
            r#"json: welcome [String("hello #1")]"#,
            r#"json: welcome [String("hello #2")]"#,
            "json: greeted 2",
        ],
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_errors_keep_group_code_and_metadata() {
    let seen = conform("errors", |client, encoding| async move {
        let counter = client(encoding).get_or_create("counter", unique_key("errors"));
        let mut seen = Vec::new();
        for action in ["boom", "boomPlain", "crash", "noSuchAction"] {
            let err = counter.action::<Value>(action, ()).await.unwrap_err();
            seen.push(format!("stateless {action} {}", seen_err(&err)));
        }
        let live = counter.connect().unwrap();
        live.ready().await.unwrap();
        for action in ["boom", "boomPlain", "crash", "noSuchAction"] {
            let err = live.action::<Value>(action, ()).await.unwrap_err();
            seen.push(format!("connected {action} {}", seen_err(&err)));
        }
        // The connection survives an action's error.
        seen.push(format!(
            "after {}",
            live.action::<i64>("increment", (1,)).await.unwrap()
        ));
        live.dispose().await;
        seen
    })
    .await;
    assert!(
        seen.contains(&r#"cbor: connected boom Actor user.boom_code {"a":1,"b":"two"}"#.to_owned()),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_create_input() {
    let seen = conform("keys", |client, encoding| async move {
        let client = client(encoding);
        let base = unique_key("keys");
        let mut seen = Vec::new();
        // Plain, several parts, with `,` (resolved through the REST API), with `/`.
        for (i, parts) in [
            vec![base.clone()],
            vec![base.clone(), "two".to_owned()],
            vec![format!("{base},comma")],
            vec![format!("{base}/slash"), String::new()],
        ]
        .into_iter()
        .enumerate()
        {
            let options = CreateOptions::new().input(&json!({"n": i})).unwrap();
            let actor = client.get_or_create_with("withInput", parts.clone(), options);
            let key: Vec<String> = actor.action("getKey", ()).await.unwrap();
            let input: Value = actor.action("getInput", ()).await.unwrap();
            // The same key from another handle reaches the same actor (the first input).
            let again = client.get("withInput", parts.clone());
            let input_again: Value = again.action("getInput", ()).await.unwrap();
            seen.push(format!(
                "key {i} matches {} input {input} again {input_again}",
                key == parts
            ));
        }
        let missing = client.get("withInput", unique_key("missing"));
        let err = missing.action::<Value>("getInput", ()).await.unwrap_err();
        seen.push(format!("missing {}", seen_err(&err)));
        seen
    })
    .await;
    assert!(
        seen.iter().all(|s| !s.contains("matches false")),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_connecting_connected_then_reconnects_after_a_disconnect() {
    let seen = conform("status", |client, encoding| async move {
        let counter = client(encoding).get_or_create(Counter, unique_key("status"));
        let live = counter.connect().unwrap();
        let mut states = live.states();
        live.ready().await.unwrap();
        let first_id = live.state().connection_id;
        // The server closes the connection (1000): the client reconnects on its own.
        let _ = live.action::<Value>("disconnectMe", ()).await;
        let mut seen: Vec<ConnStatus> = Vec::new();
        while let Some(state) = within(30, "states", states.next()).await {
            if seen.last() != Some(&state.status) {
                seen.push(state.status);
            }
            if state.status == ConnStatus::Connected && state.connection_id != first_id {
                break;
            }
        }
        // Usable again, with a new connection id.
        let after = live.increment(1).await.unwrap();
        let changed = live.state().connection_id != first_id;
        live.dispose().await;
        let statuses: Vec<_> = seen
            .iter()
            .map(|s| s.as_str())
            .skip_while(|s| *s != "disconnected")
            .collect();
        vec![format!("{statuses:?} new id {changed} then {after}")]
    })
    .await;
    assert_eq!(
        seen[0],
        r#"json: ["disconnected", "connecting", "connected"] new id true then 1"#
    );
}
