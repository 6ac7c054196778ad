//! A chat room: the room is the actor key, the user name travels as connection params
//! `{token, user}` to the test server's `chatRoom` actor, which rejects a wrong token.
//! Messages arrive as `message` events.
//!
//! Run it with `bash scripts/demo.sh` (starts a RivetKit server, builds and serves both Leptos
//! examples, prints their URLs). Query parameters:
//! `?endpoint=` (default http://127.0.0.1:6420), `?room=`, `?user=`, `?token=`.

use leptos::prelude::*;
use rivet_leptos::prelude::*;
use serde_json::{json, Value};

/// Where the RivetKit server is, unless `?endpoint=` says otherwise.
const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:6420";

fn main() {
    leptos::mount::mount_to_body(App);
}

/// A query parameter of the page's URL.
fn query(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
        .filter(|value| !value.is_empty())
}

/// One chat line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Message {
    user: String,
    text: String,
}

impl Message {
    fn from_value(value: &Value) -> Self {
        Self {
            user: value["user"].as_str().unwrap_or("?").to_owned(),
            text: value["text"].as_str().unwrap_or_default().to_owned(),
        }
    }
}

#[component]
fn App() -> impl IntoView {
    let endpoint = query("endpoint").unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
    match rivet_core::Client::new(endpoint.as_str()) {
        Ok(client) => provide_rivet(client),
        Err(error) => {
            return view! { <p class="error" id="error">"bad endpoint: " {error.to_string()}</p> }
                .into_any()
        }
    }
    view! {
        <h1>"rivet-leptos chat"</h1>
        <p>"server " <code>{endpoint}</code></p>
        <Chat/>
    }
    .into_any()
}

#[component]
fn Chat() -> impl IntoView {
    // What the form holds, and what was joined with (changing the latter reconnects).
    let room_input = RwSignal::new(query("room").unwrap_or_else(|| "general".to_owned()));
    let user_input = RwSignal::new(query("user").unwrap_or_else(|| "guest".to_owned()));
    let token_input = RwSignal::new(query("token").unwrap_or_else(|| "secret".to_owned()));
    let room = RwSignal::new(room_input.get_untracked());
    let user = RwSignal::new(user_input.get_untracked());
    let token = RwSignal::new(token_input.get_untracked());

    let chat = use_actor_with_options(
        UseActorOptions::new("chatRoom", "")
            .key(Signal::derive(move || room.get().into()))
            .params(Signal::derive(
                move || json!({ "token": token.get(), "user": user.get() }),
            )),
    );
    let messages = RwSignal::new(Vec::<Message>::new());
    let history = use_actor_action::<(), Vec<Value>>(&chat, "getHistory");
    let send = use_actor_action::<(String,), Value>(&chat, "sendMessage");
    let draft = RwSignal::new(String::new());

    use_event_untyped(&chat, "message", move |event| {
        if let Ok(value) = event.arg::<Value>(0) {
            messages.update(|m| m.push(Message::from_value(&value)));
        }
    });
    // A new room starts empty; every (re)connection loads the history.
    Effect::new(move |_| {
        room.track();
        messages.set(Vec::new());
    });
    Effect::new(move |_| {
        if chat.is_connected.get() {
            history.dispatch(());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(entries)) = history.value().get() {
            messages.set(entries.iter().map(Message::from_value).collect());
        }
    });

    let join = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        room.set(room_input.get_untracked());
        user.set(user_input.get_untracked());
        token.set(token_input.get_untracked());
    };
    let post = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = draft.get_untracked();
        if !text.trim().is_empty() {
            send.dispatch((text,));
            draft.set(String::new());
        }
    };
    let status = move || chat.status.get().as_str();
    view! {
        <form id="join" on:submit=join>
            <label>"room " <input id="room" bind:value=room_input/></label>
            " "
            <label>"user " <input id="user" bind:value=user_input/></label>
            " "
            <label>"token " <input id="token" bind:value=token_input/></label>
            " "
            <button id="join-button" type="submit">"join"</button>
        </form>
        <p>
            "status: " <span id="status" class=move || format!("status {}", status())>{status}</span>
            " · room " <code id="current-room">{room}</code> " as " <code>{user}</code>
        </p>
        <p class="error" id="error">
            {move || {
                let send_error = send.value().get().and_then(Result::err);
                chat.error.get().or(send_error).map(|e| e.to_string())
            }}
        </p>
        <ul id="messages">
            <For
                each=move || messages.get().into_iter().enumerate()
                key=|(i, m)| (*i, m.clone())
                children=|(_, m)| view! { <li><b>{m.user}</b> ": " <span class="text">{m.text}</span></li> }
            />
        </ul>
        <form id="compose" on:submit=post>
            <input id="text" placeholder="say something" bind:value=draft/>
            " "
            <button id="send" type="submit" disabled=move || !chat.is_connected.get()>"send"</button>
        </form>
    }
}
