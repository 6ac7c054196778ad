//! A chat room: the room is the actor key, the user name travels as connection params
//! (`ChatParams { token, user }`) to the demo server's `chatRoom` actor, which rejects a wrong
//! token. Messages arrive as `message` events.
//!
//! The `chatRoom` actor's interface is declared once, in `rivet-example-actors`: the params,
//! the actions (`ChatRoom::SEND_MESSAGE`, `ChatRoom::GET_HISTORY`) and the event payload
//! (`ChatMessage`) are all typed.
//!
//! Run it with `bash scripts/demo.sh` (starts a RivetKit server, builds and serves both Leptos
//! examples, prints their URLs). Query parameters:
//! `?endpoint=` (default http://127.0.0.1:6420), `?room=`, `?user=`, `?token=`.

use leptos::prelude::*;
use rivet_core::{ConnStatus, Error};
use rivet_example_actors::{ChatMessage, ChatParams, ChatRoom};
use rivet_leptos::prelude::*;

/// Where the RivetKit server is, unless `?endpoint=` says otherwise.
const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:6420";

/// The examples' one stylesheet (no CSS framework).
const STYLE: &str = include_str!("../../style.css");

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

#[component]
fn App() -> impl IntoView {
    let endpoint = query("endpoint").unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
    let body = match rivet_core::Client::new(endpoint.as_str()) {
        Ok(client) => {
            provide_rivet(client);
            view! { <Chat/> }.into_any()
        }
        Err(error) => {
            view! { <p class="error" id="error">"bad endpoint: " {error.to_string()}</p> }
                .into_any()
        }
    };
    view! {
        <style>{STYLE}</style>
        <main>
            <header><h1>"rivet-leptos chat"</h1></header>
            <p class="meta">"server " <code>{endpoint}</code></p>
            {body}
        </main>
    }
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

    let chat = use_actor_with(move || {
        ActorOptions::new(ChatRoom, room.get()).params(&ChatParams {
            token: token.get(),
            user: user.get(),
        })
    });
    let messages = RwSignal::new(Vec::<ChatMessage>::new());
    let history = use_action(&chat, ChatRoom::GET_HISTORY);
    let send = use_action(&chat, ChatRoom::SEND_MESSAGE);
    let draft = RwSignal::new(String::new());

    use_event(&chat, ChatRoom::MESSAGE, move |message| {
        messages.update(|m| m.push(message));
    });
    // A new room starts empty; every (re)connection loads the history.
    Effect::new(move |_| {
        room.track();
        messages.set(Vec::new());
    });
    Effect::new(move |_| {
        if chat.is_connected().get() {
            history.dispatch(());
        }
    });
    Effect::new(move |_| {
        if let Some(entries) = history.value().get() {
            messages.set(entries);
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
    view! {
        <section class="card">
            <form id="join" class="row" on:submit=join>
                <label>"room" <input id="room" bind:value=room_input/></label>
                <label>"user" <input id="user" bind:value=user_input/></label>
                <label>"token" <input id="token" bind:value=token_input/></label>
                <button id="join-button" type="submit">"join"</button>
            </form>
        </section>
        <p class="error" id="error">
            {move || {
                let send_error = send.error().get();
                chat.error().get().or(send_error).map(|e| e.to_string())
            }}
        </p>
        <section class="card">
            <header>
                <span class="meta">"room " <code id="current-room">{room}</code> " as " <code>{user}</code></span>
                <StatusBadge status=chat.status() error=chat.error()/>
            </header>
            <ul id="messages">
                <For
                    each=move || messages.get().into_iter().enumerate()
                    key=|(i, m)| (*i, m.clone())
                    children=|(_, m)| view! {
                        <li><b>{m.user.unwrap_or_else(|| "?".to_owned())}</b> ": " <span class="text">{m.text}</span></li>
                    }
                />
            </ul>
            <form id="compose" on:submit=post>
                <input id="text" placeholder="say something" bind:value=draft/>
                <button id="send" type="submit" disabled=move || !chat.is_connected().get()>"send"</button>
            </form>
        </section>
    }
}

/// The connection's status as a colored badge: `connecting`, `connected`, `reconnecting`
/// (connecting again after having been connected), `disconnected` (a retry is scheduled),
/// `error` (stopped on an error that retrying cannot fix, such as a rejected token), `idle`.
#[component]
fn StatusBadge(status: Signal<ConnStatus>, error: Signal<Option<Error>>) -> impl IntoView {
    let was_connected = RwSignal::new(false);
    Effect::new(move |_| {
        if status.get() == ConnStatus::Connected {
            was_connected.set(true);
        }
    });
    let label = move || {
        let fatal = error.with(|e| e.as_ref().is_some_and(|e| !e.is_retryable()));
        match status.get() {
            ConnStatus::Connected => "connected",
            ConnStatus::Connecting if was_connected.get() => "reconnecting",
            ConnStatus::Connecting => "connecting",
            ConnStatus::Disconnected | ConnStatus::Idle if fatal => "error",
            ConnStatus::Disconnected => "disconnected",
            ConnStatus::Idle => "idle",
        }
    };
    view! { <span id="status" class=move || format!("status {}", label())>{label}</span> }
}
