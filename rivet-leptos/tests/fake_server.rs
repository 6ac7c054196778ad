//! Recipe: testing a Leptos component against `rivet-testing`'s fake server, with no node
//! process and no Rivet engine. The "component" is a reactive owner using `use_actor` with
//! params, and the view it shows derived from the hook's signals: connected, rejected, and
//! reconnected after the test dropped its connection.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::future::Future;
use std::time::Duration;

use leptos::prelude::*;
use rivet_core::{Client, ConnStatus};
use rivet_leptos::prelude::*;
use rivet_testing::{ActorError, FakeActor, FakeServer};
use serde_json::{json, Value};

/// A chat room that admits `{"token": "secret"}` and rejects anything else.
fn fake_server() -> FakeServer {
    FakeServer::builder()
        .actor(
            FakeActor::with_state("chatRoom", |_| Vec::<Value>::new())
                .on_connect(|params| match params["token"].as_str() {
                    Some("secret") => Ok(()),
                    _ => Err(ActorError::user("unauthorized", "bad token")),
                })
                .action("sendMessage", |ctx, args| {
                    let entry = json!({"user": ctx.params()["user"], "text": args[0]});
                    ctx.state.push(entry.clone());
                    ctx.broadcast("message", vec![entry.clone()]);
                    Ok(entry)
                }),
        )
        .start()
        .unwrap()
}

/// The component under test: what it would render, as text.
fn chat_status(token: &str) -> Signal<String> {
    let actor = use_actor_with_options(
        UseActorOptions::new("chatRoom", "lobby").params(json!({"token": token, "user": "ada"})),
    );
    let latest = use_latest_event_untyped(&actor, "message");
    Signal::derive(move || match (actor.status.get(), actor.error.get()) {
        (_, Some(error)) if error.code() == Some("unauthorized") => "Access denied".to_owned(),
        (ConnStatus::Connected, _) => match latest.get() {
            Some(event) => format!(
                "Last message: {}",
                event
                    .args()
                    .map(|a| a[0]["text"].to_string())
                    .unwrap_or_default()
            ),
            None => "Connected".to_owned(),
        },
        _ => "Connecting…".to_owned(),
    })
}

/// Runs `test` on a current-thread runtime inside a `LocalSet`, with Leptos's executor on it.
fn run<F: Future<Output = ()>>(test: F) {
    let _ = any_spawner::Executor::init_tokio();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&runtime, async {
        tokio::time::timeout(Duration::from_secs(30), test)
            .await
            .expect("test did not finish within 30 s");
    });
}

/// Mounts the component with the client provided.
fn mount<T>(client: &Client, body: impl FnOnce() -> T) -> (Owner, T) {
    let owner = Owner::new();
    let value = owner.with(|| {
        provide_rivet(client.clone());
        body()
    });
    (owner, value)
}

/// Lets effects and tasks run until `check` holds, for at most `secs` seconds.
async fn until(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        any_spawner::Executor::tick().await;
        if check() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not true within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn chat_status_shows_connected_rejected_and_reconnected() {
    let server = fake_server();
    run(async {
        let client = Client::new(server.endpoint()).unwrap();
        client.manager().set_grace_period(Duration::ZERO);

        // Connected, then an event from the server shows up in the view.
        let (owner, view) = mount(&client, || chat_status("secret"));
        assert_eq!(view.get_untracked(), "Connecting…");
        until(10, "connected", || view.get_untracked() == "Connected").await;
        until(10, "subscribed", || {
            server.subscriptions("chatRoom", "lobby", "message") == 1
        })
        .await;
        server.emit("chatRoom", "lobby", "message", vec![json!({"text": "hi"})]);
        until(10, "message shown", || {
            view.get_untracked() == "Last message: \"hi\""
        })
        .await;

        // The network drops: the view goes back to connecting, then reconnects on its own.
        let attempts = server.websocket_attempts();
        assert_eq!(server.drop_connections("chatRoom", "lobby"), 1);
        until(10, "reconnected", || {
            server.websocket_attempts() > attempts && server.connections("chatRoom", "lobby") == 1
        })
        .await;
        until(10, "connected again", || {
            view.get_untracked().starts_with("Last message")
        })
        .await;

        // Wrong params: the actor rejects them and the view says so.
        let (rejected_owner, rejected) = mount(&client, || chat_status("nope"));
        until(10, "rejected", || {
            rejected.get_untracked() == "Access denied"
        })
        .await;

        owner.cleanup();
        rejected_owner.cleanup();
        until(10, "closed on unmount", || {
            server.connections("chatRoom", "lobby") == 0
        })
        .await;
    });
}
