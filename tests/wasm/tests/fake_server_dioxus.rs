//! Recipe: a Dioxus component tested in headless Chromium against `rivet-testing`'s fake
//! server **in memory** (`FakeServer::builder()…in_memory()`): the real client, the typed
//! hooks (`use_actor_with` with params, `use_event`) and Dioxus's web renderer, no server
//! process, no socket. The component is mounted into a `<div>` of the page with
//! `dioxus::web::run` (the future `dioxus::launch` spawns, given a root element), spawned
//! abortable so the test can unmount it; the test reads the DOM's text when connected, after
//! an event the test emits, after the fake drops the connection (reconnected), with params the
//! actor rejects, and checks that unmounting closes the connection.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::{eventually, within};
use dioxus::prelude::*;
use futures::future::{abortable, AbortHandle};
use rivet_core::{Client, ConnStatus};
use rivet_dioxus::{use_actor_with, use_event, use_rivet_provider, ActorOptions};
use rivet_testing::{ActorError, FakeActor, FakeServer};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ChatParams {
    pub token: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Message {
    pub text: String,
}

/// The app's declaration of the actor, shared by the component and the fake.
#[rivet_core::actor(name = "chatRoom")]
pub trait ChatRoom {
    type Params = ChatParams;
    fn send_message(message: Message) -> bool;
    #[event]
    fn message(message: Message);
}

/// A chat room that admits `{"token": "secret"}` and rejects anything else.
fn fake_server() -> FakeServer {
    FakeServer::builder()
        .actor(
            FakeActor::with_state(ChatRoom, |_| Vec::<Message>::new())
                .on_connect(|params| match params["token"].as_str() {
                    Some("secret") => Ok(()),
                    _ => Err(ActorError::user("unauthorized", "bad token")),
                })
                .on_action(ChatRoom::SEND_MESSAGE, |ctx, (message,)| {
                    ctx.state.push(message.clone());
                    ctx.emit(ChatRoom::MESSAGE, &message)?;
                    Ok(true)
                }),
        )
        .in_memory()
        .unwrap()
}

#[derive(Clone, Props)]
struct ChatStatusProps {
    client: Client,
    token: String,
}

impl PartialEq for ChatStatusProps {
    fn eq(&self, other: &Self) -> bool {
        self.token == other.token
    }
}

/// The component under test.
#[allow(non_snake_case)]
fn ChatStatus(props: ChatStatusProps) -> Element {
    let client = props.client.clone();
    use_rivet_provider(move || client);
    let token = props.token.clone();
    let chat = use_actor_with(move || {
        ActorOptions::new(ChatRoom, "lobby").params(&ChatParams {
            token: token.clone(),
        })
    });
    let mut messages = use_signal(Vec::<String>::new);
    use_event(&chat, ChatRoom::MESSAGE, move |message: Message| {
        messages.write().push(message.text);
    });
    let line = match (chat.status()(), chat.error()()) {
        (_, Some(error)) if error.code() == Some("unauthorized") => "Access denied".to_owned(),
        (ConnStatus::Connected, _) if messages.read().is_empty() => "Connected".to_owned(),
        (ConnStatus::Connected, _) => format!("Connected, messages: {}", messages.read().join(",")),
        _ => "Connecting…".to_owned(),
    };
    rsx! { p { "{line}" } }
}

/// A fresh `<div>` in the page's body to mount into.
fn container() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let div = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

/// Mounts `ChatStatus` into `element`. `dioxus::web::run` drives the `VirtualDom` forever;
/// aborting the returned handle drops the future and with it the `VirtualDom`: the unmount
/// (the DOM it rendered stays, the hooks' connections close).
fn mount(element: &web_sys::HtmlElement, client: &Client, token: &str) -> AbortHandle {
    let dom = VirtualDom::new_with_props(
        ChatStatus,
        ChatStatusProps {
            client: client.clone(),
            token: token.to_owned(),
        },
    );
    let config = dioxus::web::Config::new().rootelement(element.clone().into());
    let (app, handle) = abortable(dioxus::web::run(dom, config));
    wasm_bindgen_futures::spawn_local(async move {
        let _aborted = app.await;
    });
    handle
}

/// Waits (bounded) until the element's text is `expected`.
async fn shows(element: &web_sys::HtmlElement, expected: &str) {
    let what = format!("the component shows {expected:?}");
    eventually(15, &what, || {
        let shown = element.text_content().unwrap_or_default();
        async move { shown == expected }
    })
    .await;
}

#[wasm_bindgen_test]
async fn dioxus_component_against_the_in_memory_fake_connects_reconnects_and_is_rejected() {
    within(60, "the recipe", async {
        let server = fake_server();
        let client = server.client().unwrap();
        client.manager().set_grace_period(Duration::ZERO);

        // Connected, then an event the test emits shows up in the DOM.
        let element = container();
        let mounted = mount(&element, &client, "secret");
        shows(&element, "Connected").await;
        eventually(10, "subscribed", || {
            let n = server.subscriptions(ChatRoom, "lobby", "message");
            async move { n == 1 }
        })
        .await;
        let hi = Message {
            text: "hi".to_owned(),
        };
        let args = ChatRoom::MESSAGE.encode(&hi).unwrap();
        assert_eq!(server.emit(ChatRoom, "lobby", "message", args), 1);
        shows(&element, "Connected, messages: hi").await;

        // The network drops: the hook reconnects on its own (the fake counts the attempt) and
        // the view is connected again.
        let attempts = server.websocket_attempts();
        assert_eq!(server.drop_connections(ChatRoom, "lobby"), 1);
        eventually(15, "reconnected", || {
            let again = server.websocket_attempts() > attempts
                && server.connections(ChatRoom, "lobby") == 1;
            async move { again }
        })
        .await;
        shows(&element, "Connected, messages: hi").await;
        // Resubscribed after the reconnect: a later event arrives too.
        eventually(10, "resubscribed", || {
            let n = server.subscriptions(ChatRoom, "lobby", "message");
            async move { n == 1 }
        })
        .await;
        let again = ChatRoom::MESSAGE
            .encode(&Message {
                text: "again".to_owned(),
            })
            .unwrap();
        assert_eq!(server.emit(ChatRoom, "lobby", "message", again), 1);
        shows(&element, "Connected, messages: hi,again").await;

        // Wrong params: the actor rejects them and the view says so.
        let rejected_element = container();
        let rejected = mount(&rejected_element, &client, "nope");
        shows(&rejected_element, "Access denied").await;

        // Unmounting (dropping the VirtualDom) releases the connection.
        mounted.abort();
        rejected.abort();
        eventually(10, "closed on unmount", || {
            let n = server.connections(ChatRoom, "lobby");
            async move { n == 0 }
        })
        .await;
    })
    .await;
}
