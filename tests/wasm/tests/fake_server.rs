//! Recipe: a Leptos component tested in headless Chromium against `rivet-testing`'s fake
//! server **in memory** (`FakeServer::builder()…in_memory()`): the real client, hooks and
//! DOM, no server process, no socket. The component is mounted into the page; the test reads
//! its text when connected, after an event the test emits, after the fake drops the
//! connection (reconnected), with params the actor rejects, and checks that unmounting
//! closes the connection.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::{eventually, within};
use leptos::prelude::*;
use rivet_core::ConnStatus;
use rivet_leptos::prelude::*;
use rivet_testing::{ActorError, FakeActor, FakeServer};
use serde_json::{json, Value};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

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
                    ctx.state.push(args[0].clone());
                    ctx.broadcast("message", vec![args[0].clone()]);
                    Ok(json!(true))
                }),
        )
        .in_memory()
        .unwrap()
}

/// The component under test.
#[component]
fn ChatStatus(token: &'static str) -> impl IntoView {
    let actor = use_actor_with_options(
        UseActorOptions::new("chatRoom", "lobby").params(json!({"token": token})),
    );
    let latest = use_latest_event_untyped(&actor, "message");
    let status = move || match (actor.status.get(), actor.error.get()) {
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
    };
    view! { <p>{status}</p> }
}

/// A fresh `<div>` in the page's body to mount into.
fn container() -> web_sys::HtmlElement {
    let document = document();
    let div = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

fn text(element: &web_sys::HtmlElement) -> String {
    element.text_content().unwrap_or_default()
}

/// Waits (bounded) until the component's text is `expected`.
async fn shows(element: &web_sys::HtmlElement, expected: &str) {
    let what = format!("the component shows {expected:?}");
    eventually(15, &what, || {
        let shown = text(element);
        async move { shown == expected }
    })
    .await;
}

#[wasm_bindgen_test]
async fn leptos_component_against_the_in_memory_fake_connects_reconnects_and_is_rejected() {
    within(60, "the recipe", async {
        let server = fake_server();
        let client = server.client().unwrap();
        client.manager().set_grace_period(Duration::ZERO);

        // Connected, then an event the test emits shows up in the view. The mounts run under
        // an owner of the test's, whose `cleanup()` is the unmount (dropping a mount's handle
        // only takes its DOM away).
        let owner = Owner::new();
        let element = container();
        let mounted = owner.with(|| {
            let client = client.clone();
            leptos::mount::mount_to(element.clone(), move || {
                provide_rivet(client);
                view! { <ChatStatus token="secret"/> }
            })
        });
        shows(&element, "Connected").await;
        eventually(10, "subscribed", || {
            let n = server.subscriptions("chatRoom", "lobby", "message");
            async move { n == 1 }
        })
        .await;
        assert_eq!(
            server.emit("chatRoom", "lobby", "message", vec![json!({"text": "hi"})]),
            1
        );
        shows(&element, "Last message: \"hi\"").await;

        // The network drops: the hook reconnects on its own (the fake counts the attempt).
        let attempts = server.websocket_attempts();
        assert_eq!(server.drop_connections("chatRoom", "lobby"), 1);
        eventually(15, "reconnected", || {
            let again = server.websocket_attempts() > attempts
                && server.connections("chatRoom", "lobby") == 1;
            async move { again }
        })
        .await;
        shows(&element, "Last message: \"hi\"").await;

        // Wrong params: the actor rejects them and the view says so.
        let rejected_element = container();
        let rejected = owner.with(|| {
            let client = client.clone();
            leptos::mount::mount_to(rejected_element.clone(), move || {
                provide_rivet(client);
                view! { <ChatStatus token="nope"/> }
            })
        });
        shows(&rejected_element, "Access denied").await;

        // Unmounting releases the connection.
        owner.cleanup();
        drop(mounted);
        drop(rejected);
        eventually(10, "closed on unmount", || {
            let n = server.connections("chatRoom", "lobby");
            async move { n == 0 }
        })
        .await;
    })
    .await;
}
