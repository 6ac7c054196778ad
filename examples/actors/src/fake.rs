//! The demo server's actors as `rivet-testing` fakes (feature `fake`): the examples' component
//! tests run against them with no node process. Each behaves as its twin in
//! `tests/server/server.mjs` does for what a client can see.
//!
//! ```
//! use rivet_example_actors::{fake, ChatRoom};
//! use rivet_testing::FakeServer;
//!
//! let server = FakeServer::builder().actor(fake::chat_room()).start().unwrap();
//! assert_eq!(server.connections(ChatRoom, "general"), 0);
//! ```

use rivet_testing::{ActorError, FakeActor};
use serde_json::json;

use crate::{ChatMessage, ChatRoom};

/// The token the fake room accepts, as the demo server's does.
pub const CHAT_TOKEN: &str = "secret";

/// The `chatRoom` actor: `sendMessage` stores the message under the caller's `user` and
/// broadcasts it as `message`; `getHistory` answers every message so far; a connection or a
/// call whose params lack the token [`CHAT_TOKEN`] is rejected with `user.unauthorized` (metadata
/// `{"got": token}`). Not mirrored: the `joined` / `left` events (the fake has no connect hook)
/// and `connCount`.
///
/// ```
/// let room = rivet_example_actors::fake::chat_room();
/// ```
pub fn chat_room() -> FakeActor<Vec<ChatMessage>> {
    FakeActor::with_state(ChatRoom, |_| Vec::new())
        .on_connect(|params| match params["token"].as_str() {
            Some(CHAT_TOKEN) => Ok(()),
            token => Err(ActorError::user("unauthorized", "bad token")
                .with_metadata(json!({ "got": token }))),
        })
        .on_action(ChatRoom::SEND_MESSAGE, |ctx, (text,)| {
            let user = ctx.params()["user"].as_str().map(str::to_owned);
            let entry = ChatMessage { user, text };
            ctx.state.push(entry.clone());
            ctx.emit(ChatRoom::MESSAGE, &entry)?;
            Ok(entry)
        })
        .on_action(ChatRoom::GET_HISTORY, |ctx, ()| Ok(ctx.state.clone()))
}
