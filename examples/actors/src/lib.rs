//! The actors the examples talk to, declared once. They mirror what the demo server
//! (`tests/server/server.mjs`, RivetKit 2.3.19) registers: the `counter` and `chatRoom`
//! actors. Each example imports the actor's struct and its `…Actions` trait:
//!
//! ```no_run
//! use rivet_example_actors::{Counter, CounterActions};
//!
//! # async fn demo() -> rivet_core::Result<()> {
//! let client = rivet_core::Client::new("http://127.0.0.1:6420")?;
//! let counter = client.get_or_create(Counter, ["demo"]);
//! let count = counter.increment(1).await?;
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};

#[cfg(feature = "fake")]
pub mod fake;

/// A counter shared by everyone who addresses the same key.
#[rivet_core::actor]
pub trait Counter {
    /// Adds `amount` to the count and returns the new count; every connection then gets
    /// [`Counter::NEW_COUNT`].
    fn increment(amount: i64) -> i64;
    /// The current count.
    fn get_count() -> i64;
    /// How many connections the actor has, counting the caller's own (a stateless call is a
    /// short-lived connection of its own).
    fn conn_count() -> u32;
    /// Always fails, with a user error: group `user`, code `boom_code`, metadata
    /// `{"a": 1, "b": "two"}`.
    fn boom();
    /// The new count, after every increment.
    #[event]
    fn new_count(count: i64);
}

/// What a chat connection presents: the room's shared token, and the name its messages carry.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChatParams {
    /// The room's token; the demo server only accepts `"secret"` (and rejects anything else
    /// with the error `user.unauthorized`).
    pub token: String,
    /// The name shown next to this connection's messages.
    pub user: String,
}

/// One chat message, as the room stores and broadcasts it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChatMessage {
    /// Who sent it: the `user` of the sender's [`ChatParams`].
    pub user: Option<String>,
    /// What was said.
    pub text: String,
}

/// A chat room: its key is the room's name. Connecting needs [`ChatParams`] with the right
/// token.
#[rivet_core::actor(name = "chatRoom")]
pub trait ChatRoom {
    type Params = ChatParams;
    /// Posts `text` as the caller's user; returns the message as stored.
    fn send_message(text: String) -> ChatMessage;
    /// Every message posted so far, oldest first.
    fn get_history() -> Vec<ChatMessage>;
    /// How many connections the room has, counting the caller's own.
    fn conn_count() -> u32;
    /// A message was posted.
    #[event]
    fn message(message: ChatMessage);
    /// A user connected (`None` when it gave no name).
    #[event]
    fn joined(user: Option<String>);
    /// A user disconnected.
    #[event]
    fn left(user: Option<String>);
}
