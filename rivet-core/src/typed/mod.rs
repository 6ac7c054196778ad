//! Typed actors: declare an actor's interface once with [`actor`](crate::actor), then call
//! it with compile-checked actions, events, params, input and queues.
//!
//! ```no_run
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Clone, Debug)]
//! pub struct Message { pub user: String, pub text: String }
//!
//! #[rivet_core::actor(name = "chatRoom")]
//! pub trait ChatRoom {
//!     /// Posts a message; returns it as stored.
//!     fn send_message(text: String) -> Message;
//!     fn get_history() -> Vec<Message>;
//!     #[event]
//!     fn new_message(message: Message);
//! }
//!
//! # async fn demo() -> rivet_core::Result<()> {
//! let client = rivet_core::Client::new("http://127.0.0.1:6420")?;
//! let room = client.get_or_create(ChatRoom, ["general"]);
//! let history = room.get_history().await?;            // stateless, over HTTP
//!
//! let live = room.connect()?;                            // one WebSocket
//! let _sub = live.on(ChatRoom::NEW_MESSAGE, |m| println!("{}: {}", m.user, m.text));
//! live.send_message("hello".to_owned()).await?;
//! # Ok(()) }
//! ```
//!
//! What the declaration generates, for `pub trait ChatRoom`:
//! * `pub struct ChatRoom;` implementing [`Actor`] (the name, params and input types), with
//!   one constant per action ([`ActionDef`]), event ([`EventDef`]) and queue ([`QueueDef`]):
//!   `ChatRoom::SEND_MESSAGE`, `ChatRoom::NEW_MESSAGE`;
//! * `pub trait ChatRoomActions`, one async method per action, implemented for every
//!   [`Caller`] of the actor: [`Handle<ChatRoom>`], [`Connection<ChatRoom>`] and the hooks.
//!   Import it next to the struct (`use crate::actors::{ChatRoom, ChatRoomActions};`).
//!
//! Arguments are always sent as a positional list: `send_message(text)` sends `[text]`,
//! an `Option` argument that is `None` sends `[null]`, a `Vec` argument is one argument.

mod actor;
mod caller;
mod connection;
mod defs;
mod handle;

pub use crate::runtime::{MaybeSend, MaybeSync};
pub use actor::{Actor, ActorKind};
pub use caller::Caller;
pub use connection::{Connection, Payloads};
pub use defs::{ActionDef, EventDef, QueueDef};
pub use handle::Handle;
