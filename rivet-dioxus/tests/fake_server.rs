//! Recipe: testing a Dioxus component against `rivet-testing`'s fake server, with no node
//! process and no Rivet engine. The actor is declared once (`#[rivet_core::actor]`); the fake
//! implements the declaration and the component uses the typed hooks (`use_actor_with` with
//! params, `use_latest_event`) and renders a status line; the test drives a native
//! `VirtualDom` and checks the line for the connected, rejected and reconnected views. A
//! complete example, the chat's real components: `examples/dioxus-chat/tests/chat.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use dioxus::core::NoOpMutations;
use dioxus::prelude::*;
use rivet_core::{Client, ConnStatus};
use rivet_dioxus::{use_actor_with, use_latest_event, use_rivet_provider, ActorOptions};
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
    fn get_history() -> Vec<Message>;
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
                .on_action(ChatRoom::GET_HISTORY, |ctx, ()| Ok(ctx.state.clone())),
        )
        .start()
        .unwrap()
}

/// The line the component rendered last.
type Rendered = Rc<RefCell<String>>;

#[derive(Clone, Props)]
struct AppProps {
    client: Client,
    token: String,
    rendered: Rendered,
}

impl PartialEq for AppProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.rendered, &other.rendered)
    }
}

/// The component under test.
#[allow(non_snake_case)]
fn ChatStatus(props: AppProps) -> Element {
    let client = props.client.clone();
    use_rivet_provider(move || client);
    let token = props.token.clone();
    let chat = use_actor_with(move || {
        ActorOptions::new(ChatRoom, "lobby").params(&ChatParams {
            token: token.clone(),
            user: "ada".to_owned(),
        })
    });
    let latest = use_latest_event(&chat, ChatRoom::MESSAGE);
    let line = match (chat.status()(), chat.error()()) {
        (_, Some(error)) if error.code() == Some("unauthorized") => "Access denied".to_owned(),
        (ConnStatus::Connected, _) => match latest.read().as_ref() {
            Some(message) => format!("Last message: {}", message.text),
            None => "Connected".to_owned(),
        },
        _ => "Connecting…".to_owned(),
    };
    *props.rendered.borrow_mut() = line.clone();
    rsx! { p { "{line}" } }
}

fn mount(client: &Client, token: &str) -> (VirtualDom, Rendered) {
    let rendered = Rendered::default();
    let mut dom = VirtualDom::new_with_props(
        ChatStatus,
        AppProps {
            client: client.clone(),
            token: token.to_owned(),
            rendered: rendered.clone(),
        },
    );
    dom.rebuild_in_place();
    (dom, rendered)
}

/// Drives `dom` until `done` holds, for at most `secs` seconds.
async fn pump_until(dom: &mut VirtualDom, secs: u64, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what}: not reached within {secs} s"
        );
        let _ = tokio::time::timeout(Duration::from_millis(20), dom.wait_for_work()).await;
        dom.render_immediate(&mut NoOpMutations);
    }
}

#[test]
fn chat_status_shows_connected_rejected_and_reconnected() {
    let server = fake_server();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = Client::new(server.endpoint()).unwrap();
        client.manager().set_grace_period(Duration::ZERO);

        let (mut dom, rendered) = mount(&client, "secret");
        assert_eq!(*rendered.borrow(), "Connecting…");
        pump_until(&mut dom, 10, "connected", || {
            *rendered.borrow() == "Connected"
        })
        .await;
        pump_until(&mut dom, 10, "subscribed", || {
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
        pump_until(&mut dom, 10, "message shown", || {
            *rendered.borrow() == "Last message: hi"
        })
        .await;

        // The network drops: the component reconnects on its own.
        let attempts = server.websocket_attempts();
        assert_eq!(server.drop_connections(ChatRoom, "lobby"), 1);
        pump_until(&mut dom, 10, "reconnected", || {
            server.websocket_attempts() > attempts
                && server.connections(ChatRoom, "lobby") == 1
                && rendered.borrow().starts_with("Last message")
        })
        .await;

        // Wrong params: the actor rejects them and the component says so.
        let (mut rejected_dom, rejected) = mount(&client, "nope");
        pump_until(&mut rejected_dom, 10, "rejected", || {
            *rejected.borrow() == "Access denied"
        })
        .await;

        drop(dom);
        drop(rejected_dom);
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.connections(ChatRoom, "lobby") != 0 {
            assert!(Instant::now() < deadline, "still connected after unmount");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
}
