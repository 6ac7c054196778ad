//! The chat example's components: a chat room on the demo server's `chatRoom` actor, the
//! room as the actor key and the user name as connection params (`ChatParams { token, user }`;
//! the actor rejects a wrong token). Messages arrive as `message` events.
//!
//! The `chatRoom` actor's interface is declared once, in `rivet-example-actors`: the params,
//! the actions (`ChatRoom::SEND_MESSAGE`, `ChatRoom::GET_HISTORY`) and the event payload
//! (`ChatMessage`) are all typed.
//!
//! The pieces, each usable (and tested) on its own: [`use_chat_room`] holds the connection and
//! the messages; [`ChatView`] shows them ([`StatusBadge`], [`MessageList`], [`Composer`]);
//! [`Chat`] adds the join form; [`App`] the page. `tests/chat.rs` renders them against
//! `rivet-testing`'s fake chat room, with no server process.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use leptos_chat::{App, Settings};
//!
//! leptos::mount::mount_to_body(|| view! { <App settings=Settings::default()/> });
//! ```

use leptos::prelude::*;
use rivet_core::{ConnStatus, Error};
use rivet_example_actors::{ChatMessage, ChatParams, ChatRoom};
use rivet_leptos::prelude::*;

/// Where the RivetKit server is, unless the page says otherwise.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:6420";

/// The examples' one stylesheet (no CSS framework).
const STYLE: &str = include_str!("../../style.css");

/// What the page starts with: the server, and the room, user and token the join form shows.
///
/// ```
/// let settings = leptos_chat::Settings::default();
/// assert_eq!((settings.room.as_str(), settings.token.as_str()), ("general", "secret"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The RivetKit endpoint.
    pub endpoint: String,
    /// The room joined first (the actor key).
    pub room: String,
    /// The user name the messages carry.
    pub user: String,
    /// The room's token.
    pub token: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            room: "general".to_owned(),
            user: "guest".to_owned(),
            token: "secret".to_owned(),
        }
    }
}

/// The page: a client for `settings.endpoint` provided to [`Chat`], or the error if the
/// endpoint is not a URL.
#[component]
pub fn App(
    /// The server, and the room, user and token to start with.
    settings: Settings,
) -> impl IntoView {
    let endpoint = settings.endpoint.clone();
    let body = match rivet_core::Client::new(endpoint.as_str()) {
        Ok(client) => {
            provide_rivet(client);
            view! { <Chat settings/> }.into_any()
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

/// The join form (room, user, token) and the room joined with it; submitting the form joins
/// again with the new values. Needs a client provided (`provide_rivet`).
#[component]
pub fn Chat(
    /// The room, user and token the form starts with (`endpoint` is not used here).
    settings: Settings,
) -> impl IntoView {
    // What the form holds, and what was joined with (changing the latter reconnects).
    let room_input = RwSignal::new(settings.room);
    let user_input = RwSignal::new(settings.user);
    let token_input = RwSignal::new(settings.token);
    let room = RwSignal::new(room_input.get_untracked());
    let user = RwSignal::new(user_input.get_untracked());
    let token = RwSignal::new(token_input.get_untracked());
    let chat = use_chat_room(room.into(), user.into(), token.into());

    let join = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        room.set(room_input.get_untracked());
        user.set(user_input.get_untracked());
        token.set(token_input.get_untracked());
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
        <ChatView chat room=room.into() user=user.into()/>
    }
}

/// A joined room: the connection, the messages shown, the send action and the status label.
/// `Copy`, so views and handlers take it by value. Made by [`use_chat_room`].
#[derive(Clone, Copy, Debug)]
pub struct ChatRoomState {
    /// The connection to the room's actor.
    pub actor: UseActor<ChatRoom>,
    /// The messages shown: the history of every (re)connection, then the `message` events.
    pub messages: RwSignal<Vec<ChatMessage>>,
    /// `sendMessage`: its error is shown under the form.
    pub send: UseAction<(String,), ChatMessage>,
    /// The badge's label (see [`use_status_label`]).
    pub status: Signal<&'static str>,
}

impl ChatRoomState {
    /// Sends `text` (the composer's submit); blank text is not sent. Returns whether it was
    /// sent. The message shows up when the room broadcasts it.
    ///
    /// ```no_run
    /// # use leptos::prelude::*;
    /// # let chat = leptos_chat::use_chat_room(Signal::stored("general".into()), Signal::stored("ada".into()), Signal::stored("secret".into()));
    /// assert!(chat.say("hello".into()));
    /// assert!(!chat.say("  ".into()));
    /// ```
    pub fn say(&self, text: String) -> bool {
        if text.trim().is_empty() {
            return false;
        }
        self.send.dispatch((text,));
        true
    }

    /// The error to show: the connection's, else the last send's.
    pub fn error(&self) -> Signal<Option<String>> {
        let (actor, send) = (self.actor, self.send);
        Signal::derive(move || {
            let send_error = send.error().get();
            actor.error().get().or(send_error).map(|e| e.to_string())
        })
    }
}

/// Joins `room` as `user` with `token` (changing any of them joins again): the connection,
/// the history loaded on every (re)connection (it also covers messages missed while away),
/// then each `message` event appended. Needs a client provided (`provide_rivet`).
///
/// ```no_run
/// # use leptos::prelude::*;
/// let chat = leptos_chat::use_chat_room(
///     Signal::stored("general".to_owned()),
///     Signal::stored("ada".to_owned()),
///     Signal::stored("secret".to_owned()),
/// );
/// let count = move || chat.messages.with(Vec::len);
/// ```
pub fn use_chat_room(
    room: Signal<String>,
    user: Signal<String>,
    token: Signal<String>,
) -> ChatRoomState {
    let actor = use_actor_with(move || {
        ActorOptions::new(ChatRoom, room.get()).params(&ChatParams {
            token: token.get(),
            user: user.get(),
        })
    });
    let messages = RwSignal::new(Vec::<ChatMessage>::new());
    let history = use_action(&actor, ChatRoom::GET_HISTORY);
    let send = use_action(&actor, ChatRoom::SEND_MESSAGE);

    use_event(&actor, ChatRoom::MESSAGE, move |message| {
        messages.update(|m| m.push(message));
    });
    // A new room starts empty; every (re)connection loads the history.
    Effect::new(move |_| {
        room.track();
        messages.set(Vec::new());
    });
    Effect::new(move |_| {
        if actor.is_connected().get() {
            history.dispatch(());
        }
    });
    Effect::new(move |_| {
        if let Some(entries) = history.value().get() {
            messages.set(entries);
        }
    });
    let status = use_status_label(actor.status(), actor.error());
    ChatRoomState {
        actor,
        messages,
        send,
        status,
    }
}

/// The connection's status as a word: `connecting`, `connected`, `reconnecting` (connecting
/// again after having been connected), `disconnected` (a retry is scheduled), `error` (stopped
/// on an error that retrying cannot fix, such as a rejected token), `idle`.
///
/// ```no_run
/// # use leptos::prelude::*;
/// # use rivet_core::ConnStatus;
/// let label = leptos_chat::use_status_label(
///     Signal::stored(ConnStatus::Connecting),
///     Signal::stored(None),
/// );
/// assert_eq!(label.get_untracked(), "connecting");
/// ```
pub fn use_status_label(
    status: Signal<ConnStatus>,
    error: Signal<Option<Error>>,
) -> Signal<&'static str> {
    let was_connected = RwSignal::new(false);
    Effect::new(move |_| {
        if status.get() == ConnStatus::Connected {
            was_connected.set(true);
        }
    });
    Signal::derive(move || {
        let fatal = error.with(|e| e.as_ref().is_some_and(|e| !e.is_retryable()));
        match status.get() {
            ConnStatus::Connected => "connected",
            ConnStatus::Connecting if was_connected.get() => "reconnecting",
            ConnStatus::Connecting => "connecting",
            ConnStatus::Disconnected | ConnStatus::Idle if fatal => "error",
            ConnStatus::Disconnected => "disconnected",
            ConnStatus::Idle => "idle",
        }
    })
}

/// A joined room: the error line, the header with the [`StatusBadge`], the [`MessageList`]
/// and the [`Composer`].
#[component]
pub fn ChatView(
    /// The joined room.
    chat: ChatRoomState,
    /// The room's name, shown in the header.
    room: Signal<String>,
    /// The user's name, shown in the header.
    user: Signal<String>,
) -> impl IntoView {
    let error = chat.error();
    view! {
        <p class="error" id="error">{error}</p>
        <section class="card">
            <header>
                <span class="meta">"room " <code id="current-room">{room}</code> " as " <code>{user}</code></span>
                <StatusBadge label=chat.status/>
            </header>
            <MessageList messages=chat.messages.into()/>
            <Composer chat/>
        </section>
    }
}

/// The messages, oldest first: the sender in bold, then the text.
#[component]
pub fn MessageList(
    /// The messages to show, oldest first.
    messages: Signal<Vec<ChatMessage>>,
) -> impl IntoView {
    view! {
        <ul id="messages">
            <For
                each=move || messages.get().into_iter().enumerate()
                key=|(i, m)| (*i, m.clone())
                children=|(_, m)| view! {
                    <li><b>{m.user.unwrap_or_else(|| "?".to_owned())}</b> ": " <span class="text">{m.text}</span></li>
                }
            />
        </ul>
    }
}

/// The message box and its send button, disabled while not connected.
#[component]
pub fn Composer(
    /// The room the messages go to.
    chat: ChatRoomState,
) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let post = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if chat.say(draft.get_untracked()) {
            draft.set(String::new());
        }
    };
    let connected = chat.actor.is_connected();
    view! {
        <form id="compose" on:submit=post>
            <input id="text" placeholder="say something" bind:value=draft/>
            <button id="send" type="submit" disabled=move || !connected.get()>"send"</button>
        </form>
    }
}

/// The status label as a colored badge (`class="status <label>"`).
#[component]
pub fn StatusBadge(
    /// The word to show (see [`use_status_label`]).
    label: Signal<&'static str>,
) -> impl IntoView {
    view! { <span id="status" class=move || format!("status {}", label.get())>{label}</span> }
}
