//! `FakeActor::on_connected` / `on_disconnected` (RivetKit's `onConnect` / `onDisconnect`),
//! on loopback and in memory: when each runs, what it sees, where its events go (the other
//! subscribers; the new connection's own events before its `Init`), an `on_connected` error
//! rejecting the connection, and `on_disconnected` on a client's close, on `drop_connections`
//! and when the server stops.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{client_of, within};
use futures::{FutureExt, StreamExt};
use rivet_core::{Encoding, Error};
use rivet_testing::{ActorError, FakeActor, FakeServer};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoomParams {
    pub user: String,
}

#[rivet_core::actor(name = "room")]
pub trait Room {
    type Params = RoomParams;
    fn ping() -> bool;
    #[event]
    fn joined(user: Option<String>);
    #[event]
    fn left(user: Option<String>);
    #[event]
    fn welcome(user: Option<String>);
}

type Log = Arc<Mutex<Vec<String>>>;

/// A room whose hooks log what they saw, broadcast `joined` / `left` and welcome the new
/// connection; the user `boom` is refused by `on_connected`.
fn room(log: &Log) -> FakeActor<u32> {
    let (connected, disconnected) = (log.clone(), log.clone());
    FakeActor::with_state(Room, |_| 0u32)
        .on_connected(move |ctx| {
            let user = ctx.params_as::<RoomParams>().map(|p| p.user);
            *ctx.state += 1;
            connected.lock().unwrap().push(format!(
                "connected {} (conn id {}, {} so far)",
                user.as_deref().unwrap_or("-"),
                ctx.conn_id().is_some(),
                ctx.state
            ));
            if user.as_deref() == Some("boom") {
                return Err(ActorError::user("no_entry", "not today"));
            }
            ctx.emit(Room::JOINED, &user)?;
            ctx.emit_to_caller(Room::WELCOME, &user)
        })
        .on_disconnected(move |ctx| {
            let user = ctx.params_as::<RoomParams>().map(|p| p.user);
            disconnected
                .lock()
                .unwrap()
                .push(format!("disconnected {}", user.as_deref().unwrap_or("-")));
            ctx.emit(Room::LEFT, &user)
        })
        .on_action(Room::PING, |_, ()| Ok(true))
}

/// `memory` or `loopback`, for assertion messages.
fn kind_of(server: &FakeServer) -> &'static str {
    if server.is_in_memory() {
        "memory"
    } else {
        "loopback"
    }
}

fn servers(log: &Log) -> [FakeServer; 2] {
    [
        FakeServer::builder().actor(room(log)).start().unwrap(),
        FakeServer::builder().actor(room(log)).in_memory().unwrap(),
    ]
}

fn logged(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// Waits (bounded) until `log` holds `line` `times` times.
async fn until_logged(log: &Log, line: &str, times: usize) {
    let what = format!("{line:?} logged {times} times (log: {:?})", logged(log));
    within(10, &what, async {
        while logged(log).iter().filter(|l| *l == line).count() < times {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

// One thread: the connection's task runs only when the test awaits, so the listeners below are
// registered before the connection opens.
#[tokio::test]
async fn on_connected_broadcasts_to_the_others_and_sends_to_the_new_one() {
    let log = Log::default();
    for server in servers(&log) {
        log.lock().unwrap().clear();
        let kind = kind_of(&server);
        // A client per user, as two visitors.
        let clients = [
            client_of(&server, Encoding::Json),
            client_of(&server, Encoding::Json),
            client_of(&server, Encoding::Json),
        ];
        let handle = |n: usize, user: &str| {
            clients[n]
                .get_or_create(Room, "lobby")
                .with_params(&RoomParams {
                    user: user.to_owned(),
                })
                .unwrap()
        };

        let ada = handle(0, "ada").connect().unwrap();
        let mut ada_joined = ada.events(Room::JOINED);
        let mut ada_welcome = ada.events(Room::WELCOME);
        within(10, "ada ready", ada.ready()).await.unwrap();
        // Its own event went out before the Init, as on a real server; the client delivers
        // it once connected.
        let welcome = within(10, &format!("welcome ({kind})"), ada_welcome.next())
            .await
            .unwrap();
        assert_eq!(welcome.unwrap(), Some("ada".to_owned()), "{kind}");
        assert_eq!(
            logged(&log),
            ["connected ada (conn id true, 1 so far)"],
            "{kind}"
        );

        // A round trip: ada's subscriptions have reached the actor.
        assert!(ada.ping().await.unwrap());
        let bob = handle(1, "bob").connect().unwrap();
        let mut bob_joined = bob.events(Room::JOINED);
        within(10, "bob ready", bob.ready()).await.unwrap();
        // ada's first `joined` is bob's: she missed her own, as on a real server.
        let joined = within(10, "joined", ada_joined.next()).await.unwrap();
        assert_eq!(joined.unwrap(), Some("bob".to_owned()), "{kind}");
        // bob misses his own too (a round trip later nothing has come).
        assert!(bob.ping().await.unwrap());
        assert!(bob_joined.next().now_or_never().is_none(), "{kind}");
        assert_eq!(server.connections(Room, "lobby"), 2, "{kind}");

        // A failing `on_connected` rejects the connection, which never counts and never
        // runs `on_disconnected`.
        let boom = handle(2, "boom").connect().unwrap();
        let err = within(10, "boom rejected", boom.ready()).await.unwrap_err();
        assert!(matches!(err, Error::Rejected(_)), "{kind}: {err:?}");
        assert_eq!(err.code(), Some("no_entry"), "{kind}");
        assert_eq!(server.connections(Room, "lobby"), 2, "{kind}");

        bob.dispose().await;
        ada.dispose().await;
        assert!(
            !logged(&log).contains(&"disconnected boom".to_owned()),
            "{kind}: {:?}",
            logged(&log)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_disconnected_runs_on_close_on_drop_connections_and_on_stop() {
    let log = Log::default();
    for server in servers(&log) {
        log.lock().unwrap().clear();
        let kind = kind_of(&server);
        let client = client_of(&server, Encoding::Cbor);
        client.manager().set_grace_period(Duration::ZERO);
        let handle = |user: &str| {
            client
                .get_or_create(Room, "lobby")
                .with_params(&RoomParams {
                    user: user.to_owned(),
                })
                .unwrap()
        };
        let ada = handle("ada").connect().unwrap();
        let mut ada_left = ada.events(Room::LEFT);
        within(10, "ada ready", ada.ready()).await.unwrap();
        // A round trip: ada's subscription has reached the actor.
        assert!(ada.ping().await.unwrap());
        let bob = handle("bob").connect().unwrap();
        within(10, "bob ready", bob.ready()).await.unwrap();

        // The client closes: the others get `left`.
        bob.dispose().await;
        let left = within(10, "left", ada_left.next()).await.unwrap();
        assert_eq!(left.unwrap(), Some("bob".to_owned()), "{kind}");
        until_logged(&log, "disconnected bob", 1).await;
        assert_eq!(server.connections(Room, "lobby"), 1, "{kind}");

        // The fake drops the connection: `on_disconnected`, then the client reconnects
        // (`on_connected` again).
        assert_eq!(server.drop_connections(Room, "lobby"), 1, "{kind}");
        until_logged(&log, "disconnected ada", 1).await;
        within(10, "reconnected", async {
            while server.connections(Room, "lobby") != 1 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(
            logged(&log)
                .iter()
                .filter(|l| l.starts_with("connected ada"))
                .count()
                == 2,
            "{kind}: {:?}",
            logged(&log)
        );

        // The server stops: every connection's `on_disconnected` runs.
        drop(server);
        until_logged(&log, "disconnected ada", 2).await;
        ada.dispose().await;
    }
}

/// On the wire, as the real server sends them: what `on_connected` sends to the new connection
/// goes out before its `Init` (RivetKit runs `onConnect`, then sends `Init`). Before: after it.
#[tokio::test]
async fn on_connected_events_to_the_caller_precede_its_init_on_the_wire() {
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

    let log = Log::default();
    let server = FakeServer::builder().actor(room(&log)).start().unwrap();
    let endpoint = server.endpoint();
    let url = format!(
        "{}/gateway/room/connect?rvt-method=getOrCreate&rvt-key=wire",
        endpoint.replacen("http://", "ws://", 1)
    );
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "rivet, rivet_encoding.json, rivet_conn_params.%7B%22user%22%3A%22ada%22%7D"
            .parse()
            .unwrap(),
    );
    let (mut ws, _) = within(10, "upgrade", tokio_tungstenite::connect_async(request))
        .await
        .unwrap();
    let mut tags = Vec::new();
    for _ in 0..2 {
        let frame = within(10, "a frame", ws.next()).await.unwrap().unwrap();
        let Message::Text(text) = frame else {
            panic!("expected a text frame, got {frame:?}")
        };
        let message: serde_json::Value = serde_json::from_str(&text).unwrap();
        let tag = message["body"]["tag"].as_str().unwrap().to_owned();
        let name = message["body"]["val"]["name"].as_str().unwrap_or("");
        tags.push(format!("{tag} {name}").trim_end().to_owned());
    }
    assert_eq!(tags, ["Event welcome", "Init"]);
}
