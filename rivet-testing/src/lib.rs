//! A fake Rivet Actors server for testing apps built on `rivet-core` (crate `rivet-client`)
//! and its Leptos and Dioxus hooks, without node or a Rivet engine: tests run in
//! milliseconds.
//!
//! [`FakeServer`] serves actors you define with Rust closures, or typed by an
//! `#[rivet_core::actor]` declaration, on `127.0.0.1:<free port>`
//! (`FakeServerBuilder::start`, native targets), or in memory with no socket at all
//! ([`FakeServerBuilder::in_memory`], native and the browser: its clients, from
//! [`FakeServer::client`], reach it through `rivet-client`'s `test-transport`). It speaks the client
//! protocol of RivetKit 2.3.19 in JSON, CBOR and BARE (metadata, the REST actors API, gateway
//! routes by key and by id, HTTP actions, WebSocket connections with actions, subscriptions,
//! events and errors), so the real client talks to it unchanged. Its controls drop
//! connections, refuse or delay connects, fail actions and emit events, to test a component's
//! disconnected, rejected and reconnected views.
//!
//! ```
//! use rivet_core::{Client, ConnStatus};
//! use rivet_testing::{ActorError, FakeActor, FakeServer};
//!
//! #[rivet_core::actor]
//! pub trait Counter {
//!     type Params = serde_json::Value;
//!     fn increment(amount: i64) -> i64;
//!     #[event]
//!     fn new_count(count: i64);
//! }
//!
//! let server = FakeServer::builder()
//!     .actor(
//!         FakeActor::with_state(Counter, |_| 0i64)
//!             .on_connect(|params| match params["token"].as_str() {
//!                 Some("secret") => Ok(()),
//!                 _ => Err(ActorError::user("unauthorized", "bad token")),
//!             })
//!             .on_action(Counter::INCREMENT, |ctx, (amount,)| {
//!                 *ctx.state += amount;
//!                 let count = *ctx.state;
//!                 ctx.emit(Counter::NEW_COUNT, &count)?;
//!                 Ok(count)
//!             }),
//!     )
//!     .start()
//!     .unwrap();
//!
//! # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! # runtime.block_on(async {
//! let client = Client::new(&server.endpoint()).unwrap();
//! let counter = client
//!     .get_or_create(Counter, ["mine"])
//!     .with_params(&serde_json::json!({"token": "secret"}))
//!     .unwrap();
//! let live = counter.connect().unwrap();
//! live.ready().await.unwrap();
//! assert_eq!(live.increment(5).await.unwrap(), 5);
//! assert_eq!(server.connections(Counter, ["mine"]), 1);
//! server.drop_connections(Counter, ["mine"]); // the client reconnects
//! # });
//! ```
//!
//! In the browser (wasm32, e.g. `wasm-bindgen-test` in headless Chromium) only the in-memory
//! server exists:
//!
//! ```
//! # use rivet_testing::{FakeActor, FakeServer};
//! let server = FakeServer::builder()
//!     .actor(FakeActor::new("echo").action("echo", |_, args| Ok(args.into())))
//!     .in_memory()
//!     .unwrap();
//! let client = server.client().unwrap(); // give it to `provide_rivet` / the hooks
//! ```
//!
//! Time: on native targets the in-memory server runs on the client's own tokio clock, so a
//! `#[tokio::test(start_paused = true)]` pauses and advances everything, connect delays and
//! the client's backoff and timeouts included. The loopback server runs on its own thread and
//! real time: there `PausedClock::pause()` (native) stops the test's clock without tokio's
//! auto-advance, so awaiting the server over a socket fires no deadline early and
//! `clock.advance(delay)` skips a reconnect backoff. In the browser time is the page's:
//! nothing can be paused.
//!
//! Where the fake differs from a real server is listed in the crate's README.

mod actor;
#[cfg(not(target_arch = "wasm32"))]
mod clock;
mod memory;
mod protocol;
mod server;
#[cfg(not(target_arch = "wasm32"))]
mod tcp;
pub mod wire;

pub use actor::{ActorError, Create, Ctx, FakeActor};
#[cfg(not(target_arch = "wasm32"))]
pub use clock::{ClockError, PausedClock};
pub use server::{FakeServer, FakeServerBuilder, FakeServerError};
