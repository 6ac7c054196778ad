//! A chat room on the `chatRoom` actor with rivet-dioxus, for web and desktop from one
//! crate: a room key and a user name (sent as connection params `{token, user}`; the actor
//! rejects a wrong token and the error is shown), live `message` events, `sendMessage` and
//! the history from `getHistory`.
//!
//! Web: `bash scripts/build-web.sh dioxus-chat`, serve `target/web/dioxus-chat`, open
//! `/?endpoint=http://127.0.0.1:6420&room=general&user=ada`. Desktop: `RIVET_ENDPOINT=…
//! cargo run -p dioxus-chat --features desktop`.

use dioxus::prelude::*;
use rivet_dioxus::{
    use_actor_action, use_actor_with_options, use_event_untyped, use_rivet_endpoint, Input,
    UseActorOptions,
};
use serde_json::{json, Value};

mod platform;

fn main() {
    platform::launch(App);
}

const STYLE: &str = "
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
.status { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; background: #ddd; }
.status.connected { background: #b7f0c0; }
.status.disconnected, .status.idle { background: #f6c2c2; }
.status.connecting { background: #f6e7a8; }
label { margin-right: 1rem; }
#messages { list-style: none; padding: 0; border: 1px solid #ccc; min-height: 8rem; }
#messages li { padding: .2rem .5rem; }
.error { color: #a00; }
";

/// One chat line, as the actor stores and broadcasts it.
#[derive(Clone, PartialEq, Debug)]
struct Line {
    user: String,
    text: String,
}

impl Line {
    fn from_value(value: &Value) -> Option<Line> {
        Some(Line {
            user: value.get("user")?.as_str().unwrap_or("?").to_owned(),
            text: value.get("text")?.as_str()?.to_owned(),
        })
    }
}

#[component]
fn App() -> Element {
    let endpoint = use_hook(platform::endpoint);
    if let Err(error) = use_rivet_endpoint(endpoint.clone()) {
        return rsx! { p { class: "error", "invalid endpoint {endpoint}: {error}" } };
    }
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
        h1 { "rivet-dioxus chat" }
        p {
            label { "room " input { id: "room", value: "{room}", onchange: move |e| room.set(e.value()) } }
            label { "user " input { id: "user", value: "{user}", onchange: move |e| user.set(e.value()) } }
            label { "token " input { id: "token", value: "{token}", onchange: move |e| token.set(e.value()) } }
        }
        Chat { room, user, token }
    }
}

#[component]
fn Chat(room: ReadSignal<String>, user: ReadSignal<String>, token: ReadSignal<String>) -> Element {
    // Changing the room, the user or the token reconnects with the new params.
    let chat = use_actor_with_options(UseActorOptions::new("chatRoom", room).params(
        Input::from_fn(move || json!({ "token": token(), "user": user() })),
    ));
    let mut lines = use_signal(Vec::<Line>::new);
    let mut draft = use_signal(String::new);
    let send = use_actor_action(chat);

    // The history on every (re)connection: it also covers messages missed while away.
    use_effect(move || {
        if (chat.is_connected)() {
            spawn(async move {
                if let Ok(history) = chat.action::<Vec<Value>>("getHistory", ()).await {
                    lines.set(history.iter().filter_map(Line::from_value).collect());
                }
            });
        }
    });
    use_event_untyped(&chat, "message", move |event| {
        if let Some(line) = event.args.first().and_then(Line::from_value) {
            lines.write().push(line);
        }
    });

    let mut submit = move || {
        let text = draft();
        if !text.trim().is_empty() {
            send.call("sendMessage", (text,));
            draft.set(String::new());
        }
    };
    let status = (chat.status)();
    rsx! {
        p { "room {room} as {user} — status: ", span { id: "status", class: "status {status}", "{status}" } }
        if let Some(error) = (chat.error)() {
            p { id: "error", class: "error", "{error}" }
        }
        ul { id: "messages",
            for (i, line) in lines().into_iter().enumerate() {
                li { key: "{i}", class: "message", b { "{line.user}" } ": {line.text}" }
            }
        }
        input {
            id: "draft",
            placeholder: "message",
            value: "{draft}",
            oninput: move |e| draft.set(e.value()),
            onkeydown: move |e| if e.key() == Key::Enter { submit() },
        }
        button { id: "send", disabled: !(chat.is_connected)(), onclick: move |_| submit(), "Send" }
        if let Some(error) = send.error() {
            p { class: "error", "send failed: {error}" }
        }
    }
}
