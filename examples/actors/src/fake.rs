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

use rivet_core::Client;
use rivet_testing::{ActorError, FakeActor};
use serde_json::json;

use crate::{ChatMessage, ChatParams, ChatRoom, ChatRoomActions};

/// The token the fake room accepts, as the demo server's does.
pub const CHAT_TOKEN: &str = "secret";

/// The `chatRoom` actor: `sendMessage` stores the message under the caller's `user` and
/// broadcasts it as `message`; `getHistory` answers every message so far; a connection or a
/// call whose params lack the token [`CHAT_TOKEN`] is rejected with `user.unauthorized` (metadata
/// `{"got": token}`); when a connection opens and closes, `joined` and `left` with its `user`
/// go to the other subscribed connections (the new one misses its own `joined`, as on the
/// demo server). Not mirrored: `connCount`.
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
        .on_connected(|ctx| {
            let user = ctx.params()["user"].as_str().map(str::to_owned);
            ctx.emit(ChatRoom::JOINED, &user)
        })
        .on_disconnected(|ctx| {
            let user = ctx.params()["user"].as_str().map(str::to_owned);
            ctx.emit(ChatRoom::LEFT, &user)
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

/// Posts `text` to the chat room `room` as `user` with the right token, without a connection
/// (a stateless call), as another visitor would.
///
/// # Errors
/// The call's error, e.g. a transport error if nothing listens at the client's endpoint.
///
/// ```no_run
/// # async fn demo(client: rivet_core::Client) -> rivet_core::Result<()> {
/// rivet_example_actors::fake::post_as(&client, "general", "bob", "hi").await?;
/// # Ok(()) }
/// ```
pub async fn post_as(
    client: &Client,
    room: &str,
    user: &str,
    text: &str,
) -> rivet_core::Result<ChatMessage> {
    client
        .get_or_create(ChatRoom, room)
        .with_params(&ChatParams {
            token: CHAT_TOKEN.to_owned(),
            user: user.to_owned(),
        })?
        .send_message(text.to_owned())
        .await
}

/// What a component test reads in rendered markup (Leptos's `to_html`, `dioxus-ssr`): enough
/// for the examples' views, not an HTML parser.
pub mod html {
    /// The start tag of the element with `id`, if there is one.
    fn start_tag<'a>(html: &'a str, id: &str) -> Option<&'a str> {
        let at = html.find(&format!("id=\"{id}\""))?;
        let start = html[..at].rfind('<')?;
        let end = at + html[at..].find('>')?;
        Some(&html[start..=end])
    }

    /// The text of the element with `id` up to its first child element or its end (`None`
    /// without such an element).
    ///
    /// ```
    /// use rivet_example_actors::fake::html::text_of;
    /// let html = r#"<p><span id="status" class="status connected">connected</span></p>"#;
    /// assert_eq!(text_of(html, "status").as_deref(), Some("connected"));
    /// ```
    pub fn text_of(html: &str, id: &str) -> Option<String> {
        let tag = start_tag(html, id)?;
        let rest = &html[html.find(tag)? + tag.len()..];
        Some(rest[..rest.find('<').unwrap_or(rest.len())].to_owned())
    }

    /// Whether the element with `id` has the attribute `attribute` (e.g. `disabled`).
    ///
    /// ```
    /// use rivet_example_actors::fake::html::has_attribute;
    /// let html = r#"<button id="send" disabled>send</button>"#;
    /// assert!(has_attribute(html, "send", "disabled"));
    /// ```
    pub fn has_attribute(html: &str, id: &str, attribute: &str) -> bool {
        start_tag(html, id).is_some_and(|tag| {
            tag.split(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .any(|part| part == attribute || part.starts_with(&format!("{attribute}=")))
        })
    }
}
