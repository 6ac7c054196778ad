//! A chat room on the `chatRoom` actor with rivet-dioxus, for web and desktop from one
//! crate: a room key and a user name (sent as connection params `ChatParams { token, user }`;
//! the actor rejects a wrong token and the error is shown), live `message` events,
//! `sendMessage` and the history from `getHistory`.
//!
//! The actor's interface is declared once, in `rivet-example-actors`: params, actions and the
//! event payload (`ChatMessage`) are typed.
//!
//! Web: `bash scripts/build-web.sh dioxus-chat`, serve `target/web/dioxus-chat`, open
//! `/?endpoint=http://127.0.0.1:6420&room=general&user=ada`. Desktop: `RIVET_ENDPOINT=…
//! cargo run -p dioxus-chat --features desktop` (`RIVET_CHAT_ROOM`, `RIVET_CHAT_USER`,
//! `RIVET_CHAT_TOKEN`).

use dioxus::prelude::*;
use rivet_dioxus::{
    use_action, use_actor_with, use_event, use_rivet_endpoint, ActorOptions, ConnStatus, Error,
};
use rivet_example_actors::{ChatMessage, ChatParams, ChatRoom, ChatRoomActions};

mod platform;

/// The examples' one stylesheet (no CSS framework).
const STYLE: &str = include_str!("../../style.css");

fn main() {
    platform::launch(App);
}

#[component]
fn App() -> Element {
    let endpoint = use_hook(platform::endpoint);
    let client = use_rivet_endpoint(endpoint.clone());
    let mut room = use_signal(|| {
        platform::setting("room", "RIVET_CHAT_ROOM").unwrap_or_else(|| "general".into())
    });
    let mut user = use_signal(|| {
        platform::setting("user", "RIVET_CHAT_USER").unwrap_or_else(|| "guest".into())
    });
    let mut token = use_signal(|| {
        platform::setting("token", "RIVET_CHAT_TOKEN").unwrap_or_else(|| "secret".into())
    });
    rsx! {
        style { {STYLE} }
        main {
            header { h1 { "rivet-dioxus chat" } }
            p { class: "meta", "server ", code { "{endpoint}" } }
            match client {
                Ok(_) => rsx! {
                    section { class: "card",
                        div { class: "row",
                            label { "room" input { id: "room", value: "{room}", onchange: move |e| room.set(e.value()) } }
                            label { "user" input { id: "user", value: "{user}", onchange: move |e| user.set(e.value()) } }
                            label { "token" input { id: "token", value: "{token}", onchange: move |e| token.set(e.value()) } }
                        }
                    }
                    Chat { room, user, token }
                },
                Err(error) => rsx! { p { class: "error", id: "error", "invalid endpoint {endpoint}: {error}" } },
            }
        }
    }
}

#[component]
fn Chat(room: ReadSignal<String>, user: ReadSignal<String>, token: ReadSignal<String>) -> Element {
    // Changing the room, the user or the token reconnects with the new params.
    let chat = use_actor_with(move || {
        ActorOptions::new(ChatRoom, room()).params(&ChatParams {
            token: token(),
            user: user(),
        })
    });
    let mut lines = use_signal(Vec::<ChatMessage>::new);
    let mut draft = use_signal(String::new);
    let send = use_action(&chat, ChatRoom::SEND_MESSAGE);

    // The history on every (re)connection: it also covers messages missed while away.
    use_effect(move || {
        if chat.is_connected()() {
            spawn(async move {
                if let Ok(history) = chat.get_history().await {
                    lines.set(history);
                }
            });
        }
    });
    use_event(&chat, ChatRoom::MESSAGE, move |message| {
        lines.write().push(message)
    });

    let mut submit = move || {
        let text = draft();
        if !text.trim().is_empty() {
            send.dispatch((text,));
            draft.set(String::new());
        }
    };
    let error = chat.error()()
        .map(|e| e.to_string())
        .or_else(|| send.error()().map(|e| format!("send failed: {e}")));
    rsx! {
        if let Some(error) = error {
            p { id: "error", class: "error", "{error}" }
        }
        section { class: "card",
            header {
                span { class: "meta", "room ", code { "{room}" }, " as ", code { "{user}" } }
                StatusBadge { status: chat.status(), error: chat.error() }
            }
            ul { id: "messages",
                for (i, line) in lines().into_iter().enumerate() {
                    li { key: "{i}", class: "message",
                        b { {line.user.unwrap_or_else(|| "?".to_owned())} }
                        ": {line.text}"
                    }
                }
            }
            div { id: "compose",
                // Focused on mount, so the desktop test can type into it; a message sent
                // before the connection is up waits for it.
                input {
                    id: "draft",
                    placeholder: "say something",
                    value: "{draft}",
                    onmounted: move |e| async move { let _ = e.set_focus(true).await; },
                    oninput: move |e| draft.set(e.value()),
                    onkeydown: move |e| if e.key() == Key::Enter { submit() },
                }
                button { id: "send", disabled: !chat.is_connected()(), onclick: move |_| submit(), "Send" }
            }
        }
    }
}

/// The connection's status as a colored badge: `connecting`, `connected`, `reconnecting`
/// (connecting again after having been connected), `disconnected` (a retry is scheduled),
/// `error` (stopped on an error that retrying cannot fix, such as a rejected token), `idle`.
#[component]
fn StatusBadge(status: ReadSignal<ConnStatus>, error: ReadSignal<Option<Error>>) -> Element {
    let mut was_connected = use_signal(|| false);
    use_effect(move || {
        if status() == ConnStatus::Connected {
            was_connected.set(true);
        }
    });
    let fatal = error.read().as_ref().is_some_and(|e| !e.is_retryable());
    let label = match status() {
        ConnStatus::Connected => "connected",
        ConnStatus::Connecting if was_connected() => "reconnecting",
        ConnStatus::Connecting => "connecting",
        ConnStatus::Disconnected | ConnStatus::Idle if fatal => "error",
        ConnStatus::Disconnected => "disconnected",
        ConnStatus::Idle => "idle",
    };
    rsx! { span { id: "status", class: "status {label}", "{label}" } }
}
