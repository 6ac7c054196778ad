//! The chat example's components, for web and desktop from one crate: a chat room on the
//! demo server's `chatRoom` actor, a room key and a user name (sent as connection params
//! `ChatParams { token, user }`; the actor rejects a wrong token and the error is shown), live
//! `message` events, `sendMessage` and the history from `getHistory`.
//!
//! The actor's interface is declared once, in `rivet-example-actors`: params, actions and the
//! event payload (`ChatMessage`) are typed.
//!
//! The pieces, each usable (and tested) on its own: [`use_chat_room`] holds the connection and
//! the messages; [`ChatView`] shows them ([`StatusBadge`], [`MessageList`], [`Composer`]);
//! [`Chat`] joins the room its props name; [`App`] is the page with its settings form.
//! `tests/chat.rs` renders them in a native `VirtualDom` against `rivet-testing`'s fake chat
//! room, with no server process.
//!
//! ```no_run
//! dioxus_chat::platform::launch(dioxus_chat::App);
//! ```

use dioxus::prelude::*;
use rivet_dioxus::{
    use_action, use_actor_with, use_event, use_rivet_endpoint, ActorOptions, ConnStatus, Error,
    UseAction, UseActor,
};
use rivet_example_actors::{ChatMessage, ChatParams, ChatRoom, ChatRoomActions};

pub mod platform;

/// The examples' one stylesheet (no CSS framework).
const STYLE: &str = include_str!("../../style.css");

/// The page: the settings form (room, user, token) and the [`Chat`] they name, on a client
/// for the platform's endpoint (`?endpoint=` on the web, `RIVET_ENDPOINT` on desktop).
#[component]
pub fn App() -> Element {
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

/// Joins `room` as `user` with `token` and shows it; changing any of them joins again with
/// the new params. Needs a client provided (`use_rivet_provider` / `use_rivet_endpoint`).
#[component]
pub fn Chat(
    room: ReadSignal<String>,
    user: ReadSignal<String>,
    token: ReadSignal<String>,
) -> Element {
    let chat = use_chat_room(room, user, token);
    rsx! { ChatView { chat, room, user } }
}

/// A joined room: the connection, the messages shown and the send action. `Copy`, so views
/// and handlers take it by value. Made by [`use_chat_room`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChatRoomState {
    /// The connection to the room's actor.
    pub actor: UseActor<ChatRoom>,
    /// The messages shown: the history of every (re)connection, then the `message` events.
    pub messages: Signal<Vec<ChatMessage>>,
    /// `sendMessage`: its error is shown above the room.
    pub send: UseAction<(String,), ChatMessage>,
}

impl ChatRoomState {
    /// Sends `text` (the composer's submit); blank text is not sent. Returns whether it was
    /// sent. The message shows up when the room broadcasts it; one sent before the connection
    /// is up waits for it.
    pub fn say(&self, text: String) -> bool {
        if text.trim().is_empty() {
            return false;
        }
        self.send.dispatch((text,));
        true
    }

    /// The error to show: the connection's, else the last send's.
    pub fn error(&self) -> Option<String> {
        self.actor.error()()
            .map(|e| e.to_string())
            .or_else(|| self.send.error()().map(|e| format!("send failed: {e}")))
    }
}

/// Joins `room` as `user` with `token` (changing any of them joins again): the connection,
/// the history loaded on every (re)connection (it also covers messages missed while away),
/// then each `message` event appended. Needs a client provided.
///
/// ```no_run
/// use dioxus::prelude::*;
///
/// #[component]
/// fn Room(room: ReadSignal<String>) -> Element {
///     let user = use_signal(|| "ada".to_owned());
///     let token = use_signal(|| "secret".to_owned());
///     let chat = dioxus_chat::use_chat_room(room, user.into(), token.into());
///     rsx! { "{chat.messages.len()} messages" }
/// }
/// ```
pub fn use_chat_room(
    room: ReadSignal<String>,
    user: ReadSignal<String>,
    token: ReadSignal<String>,
) -> ChatRoomState {
    let actor = use_actor_with(move || {
        ActorOptions::new(ChatRoom, room()).params(&ChatParams {
            token: token(),
            user: user(),
        })
    });
    let mut messages = use_signal(Vec::<ChatMessage>::new);
    let send = use_action(&actor, ChatRoom::SEND_MESSAGE);

    // The history on every (re)connection: it also covers messages missed while away.
    use_effect(move || {
        if actor.is_connected()() {
            spawn(async move {
                if let Ok(history) = actor.get_history().await {
                    messages.set(history);
                }
            });
        }
    });
    use_event(&actor, ChatRoom::MESSAGE, move |message| {
        messages.write().push(message)
    });
    ChatRoomState {
        actor,
        messages,
        send,
    }
}

/// A joined room: the error line (when there is one), the header with the [`StatusBadge`],
/// the [`MessageList`] and the [`Composer`].
#[component]
pub fn ChatView(
    chat: ChatRoomState,
    room: ReadSignal<String>,
    user: ReadSignal<String>,
) -> Element {
    rsx! {
        if let Some(error) = chat.error() {
            p { id: "error", class: "error", "{error}" }
        }
        section { class: "card",
            header {
                span { class: "meta", "room ", code { "{room}" }, " as ", code { "{user}" } }
                StatusBadge { status: chat.actor.status(), error: chat.actor.error() }
            }
            MessageList { messages: chat.messages }
            Composer { chat }
        }
    }
}

/// The messages, oldest first: the sender in bold, then the text.
#[component]
pub fn MessageList(messages: ReadSignal<Vec<ChatMessage>>) -> Element {
    rsx! {
        ul { id: "messages",
            for (i, line) in messages().into_iter().enumerate() {
                li { key: "{i}", class: "message",
                    b { {line.user.unwrap_or_else(|| "?".to_owned())} }
                    ": {line.text}"
                }
            }
        }
    }
}

/// The message box (Enter sends) and its send button, disabled while not connected.
#[component]
pub fn Composer(chat: ChatRoomState) -> Element {
    let mut draft = use_signal(String::new);
    let mut submit = move || {
        if chat.say(draft()) {
            draft.set(String::new());
        }
    };
    rsx! {
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
            button { id: "send", disabled: !chat.actor.is_connected()(), onclick: move |_| submit(), "Send" }
        }
    }
}

/// The connection's status as a colored badge: `connecting`, `connected`, `reconnecting`
/// (connecting again after having been connected), `disconnected` (a retry is scheduled),
/// `error` (stopped on an error that retrying cannot fix, such as a rejected token), `idle`.
#[component]
pub fn StatusBadge(status: ReadSignal<ConnStatus>, error: ReadSignal<Option<Error>>) -> Element {
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
