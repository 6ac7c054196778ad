//! The fake counterparts of the test server's actors (`tests/server/server.mjs`): `counter`,
//! `chatRoom`, `withInput` and `greeter`, with the same behaviour for what the conformance suite and the
//! recipes use.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use rivet_core::{Client, ClientConfig, Encoding};
use rivet_testing::{ActorError, FakeActor, FakeServer};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The test server's `counter` actor, as a Rust program sees it.
#[rivet_core::actor]
pub trait Counter {
    fn increment(amount: i64) -> i64;
    fn get_count() -> i64;
    #[event]
    fn new_count(count: i64);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub user: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatParams {
    pub token: String,
    pub user: String,
}

#[rivet_core::actor(name = "chatRoom")]
pub trait Chat {
    type Params = ChatParams;
    fn send_message(text: String) -> Entry;
    fn get_history() -> Vec<Entry>;
    #[event(name = "message")]
    fn new_message(entry: Entry);
    #[event]
    fn joined(user: Option<String>);
    #[event]
    fn left(user: Option<String>);
}

/// `counter` of `server.mjs`.
pub fn counter() -> FakeActor<i64> {
    FakeActor::with_state(Counter, |_| 0i64)
        .on_action(Counter::INCREMENT, |ctx, (amount,)| {
            *ctx.state += amount;
            let count = *ctx.state;
            ctx.emit(Counter::NEW_COUNT, &count)?;
            Ok(count)
        })
        .on_action(Counter::GET_COUNT, |ctx, ()| Ok(*ctx.state))
        .action("echo", |_, args| Ok(Value::Array(args)))
        .action("boom", |_, _| {
            Err(ActorError::user("boom_code", "boom happened")
                .with_metadata(json!({"a": 1, "b": "two"})))
        })
        .action("boomPlain", |_, _| {
            Err(ActorError::user("user_error", "plain user error"))
        })
        .action("crash", |_, _| Err(ActorError::internal()))
        .action("sendToMe", |ctx, args| {
            let msg = args.first().cloned().unwrap_or(Value::Null);
            ctx.send_to_caller("direct", vec![msg, json!("second-arg")]);
            Ok(json!(true))
        })
        .action("multiArgEvent", |ctx, _| {
            ctx.broadcast("multi", vec![json!(1), json!("two"), json!({"three": 3})]);
            Ok(json!(true))
        })
        .action("disconnectMe", |ctx, _| {
            ctx.disconnect_caller("bye-reason");
            Ok(json!(true))
        })
}

/// `chatRoom` of `server.mjs`: params `{token: "secret", user}` or `user.unauthorized`;
/// `joined` / `left` with the user when a connection opens / closes.
pub fn chat_room() -> FakeActor<Vec<Entry>> {
    FakeActor::with_state(Chat, |_| Vec::new())
        .on_connect(|params| {
            if params["token"] == "secret" {
                return Ok(());
            }
            let got = params.get("token").cloned().unwrap_or(Value::Null);
            Err(ActorError::user("unauthorized", "bad token").with_metadata(json!({"got": got})))
        })
        // `onConnect` / `onDisconnect`: the connection's user (`createConnState`).
        .on_connected(|ctx| {
            let user = ctx.params()["user"].as_str().map(str::to_owned);
            ctx.emit(Chat::JOINED, &user)
        })
        .on_disconnected(|ctx| {
            let user = ctx.params()["user"].as_str().map(str::to_owned);
            ctx.emit(Chat::LEFT, &user)
        })
        .on_action(Chat::SEND_MESSAGE, |ctx, (text,)| {
            let user = ctx.params()["user"].as_str().map(str::to_owned);
            let entry = Entry { user, text };
            ctx.state.push(entry.clone());
            ctx.emit(Chat::NEW_MESSAGE, &entry)?;
            Ok(entry)
        })
        .on_action(Chat::GET_HISTORY, |ctx, ()| Ok(ctx.state.clone()))
}

/// `greeter` of `server.mjs`: `onConnect` counts the connection and sends it `welcome`
/// (`hello #N`), which reaches the socket before its `Init`; `leave` closes the caller.
pub fn greeter() -> FakeActor<i64> {
    FakeActor::with_state("greeter", |_| 0i64)
        .on_connected(|ctx| {
            *ctx.state += 1;
            let greeting = format!("hello #{}", *ctx.state);
            ctx.send_to_caller("welcome", vec![json!(greeting)]);
            Ok(())
        })
        .action("greeted", |ctx, _| Ok(json!(*ctx.state)))
        .action("leave", |ctx, _| {
            ctx.disconnect_caller("leaving");
            Ok(Value::Null)
        })
}

/// `withInput` of `server.mjs`: state `{input, key}`.
pub fn with_input() -> FakeActor<Value> {
    FakeActor::with_state(
        "withInput",
        |create| json!({"input": create.input.clone(), "key": create.key.clone()}),
    )
    .action("getInput", |ctx, _| Ok(ctx.state["input"].clone()))
    .action("getKey", |ctx, _| Ok(ctx.state["key"].clone()))
}

/// A fake server with every actor above.
pub fn start_fake() -> FakeServer {
    FakeServer::builder()
        .actor(counter())
        .actor(chat_room())
        .actor(with_input())
        .actor(greeter())
        .start()
        .unwrap()
}

/// The same fake twice: on loopback, and in memory (through the client's test transport).
pub fn both_fakes() -> [FakeServer; 2] {
    let in_memory = FakeServer::builder()
        .actor(counter())
        .actor(chat_room())
        .actor(with_input())
        .actor(greeter())
        .in_memory()
        .unwrap();
    [start_fake(), in_memory]
}

/// One fake server for the whole test binary.
pub fn shared_fake() -> &'static FakeServer {
    static FAKE: OnceLock<FakeServer> = OnceLock::new();
    FAKE.get_or_init(start_fake)
}

/// One in-memory fake server (no socket) with every actor above, for the whole test binary.
pub fn shared_memory_fake() -> &'static FakeServer {
    static FAKE: OnceLock<FakeServer> = OnceLock::new();
    FAKE.get_or_init(|| {
        FakeServer::builder()
            .actor(counter())
            .actor(chat_room())
            .actor(with_input())
            .actor(greeter())
            .in_memory()
            .unwrap()
    })
}

/// A client for `server` (on loopback or in memory) in `encoding`.
pub fn client_of(server: &FakeServer, encoding: Encoding) -> Client {
    Client::from_config(server.client_config().encoding(encoding).build().unwrap()).unwrap()
}

/// A client for `endpoint` in `encoding`.
pub fn client_for(endpoint: &str, encoding: Encoding) -> Client {
    Client::from_config(
        ClientConfig::builder()
            .endpoint(endpoint)
            .encoding(encoding)
            .build()
            .unwrap(),
    )
    .unwrap()
}

/// Fails the test if `future` takes longer than `secs` seconds: no test may hang.
pub async fn within<F: Future>(secs: u64, what: &str, future: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(secs), future).await {
        Ok(output) => output,
        Err(_) => panic!("{what} did not finish within {secs} s"),
    }
}

/// A key no other test uses.
pub fn unique_key(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{nanos}", NEXT.fetch_add(1, Ordering::SeqCst))
}
