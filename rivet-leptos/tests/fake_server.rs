//! Recipe: testing a Leptos component against `rivet-testing`'s fake server, with no node
//! process and no Rivet engine. The actor is declared once (`#[rivet_core::actor]`); the fake
//! implements the declaration and the component uses the typed hooks (`use_actor_with` with
//! params, `use_latest_event`). The test checks the view derived from the hooks' signals:
//! connected, after a server event, reconnected after the test dropped its connection, and
//! rejected. A complete example, the chat's real components: `examples/leptos-chat/tests/chat.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::future::Future;
use std::time::Duration;

use common::{mount, until};
use leptos::prelude::*;
use rivet_core::{Client, ConnStatus};
use rivet_leptos::prelude::*;
use rivet_testing::{ActorError, FakeActor, FakeServer};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ChatParams {
    pub token: String,
    pub user: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Message {
    pub user: Option<String>,
    pub text: String,
}

/// The app's declaration of the actor, shared by the component and the fake.
#[rivet_core::actor(name = "chatRoom")]
pub trait ChatRoom {
    type Params = ChatParams;
    fn send_message(text: String) -> Message;
    #[event]
    fn message(message: Message);
}

/// A chat room that admits the token `secret` and rejects anything else.
fn fake_server() -> FakeServer {
    FakeServer::builder()
        .actor(
            FakeActor::with_state(ChatRoom, |_| Vec::<Message>::new())
                .on_connect(|params| match params["token"].as_str() {
                    Some("secret") => Ok(()),
                    _ => Err(ActorError::user("unauthorized", "bad token")),
                })
                .on_action(ChatRoom::SEND_MESSAGE, |ctx, (text,)| {
                    let user = ctx.params_as::<ChatParams>().map(|p| p.user);
                    let message = Message { user, text };
                    ctx.state.push(message.clone());
                    ctx.emit(ChatRoom::MESSAGE, &message)?;
                    Ok(message)
                }),
        )
        .start()
        .unwrap()
}

/// The component under test: what it would render, as text.
fn chat_status(token: &str) -> Signal<String> {
    let token = token.to_owned();
    let actor = use_actor_with(move || {
        ActorOptions::new(ChatRoom, "lobby").params(&ChatParams {
            token: token.clone(),
            user: "ada".to_owned(),
        })
    });
    let latest = use_latest_event(&actor, ChatRoom::MESSAGE);
    let (status, error) = (actor.status(), actor.error());
    Signal::derive(move || match (status.get(), error.get()) {
        (_, Some(error)) if error.code() == Some("unauthorized") => "Access denied".to_owned(),
        (ConnStatus::Connected, _) => match latest.get() {
            Some(message) => format!("Last message: {}", message.text),
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
            server.subscriptions(ChatRoom, "lobby", "message") == 1
        })
        .await;
        let hi = Message {
            user: None,
            text: "hi".to_owned(),
        };
        server.emit(
            ChatRoom,
            "lobby",
            "message",
            ChatRoom::MESSAGE.encode(&hi).unwrap(),
        );
        until(10, "message shown", || {
            view.get_untracked() == "Last message: hi"
        })
        .await;

        // The network drops: the view goes back to connecting, then reconnects on its own.
        let attempts = server.websocket_attempts();
        assert_eq!(server.drop_connections(ChatRoom, "lobby"), 1);
        until(10, "reconnected", || {
            server.websocket_attempts() > attempts && server.connections(ChatRoom, "lobby") == 1
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
            server.connections(ChatRoom, "lobby") == 0
        })
        .await;
    });
}
