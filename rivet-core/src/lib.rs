//! Rust client for [Rivet Actors](https://rivet.dev) (RivetKit 2.3).
//!
//! One API on native targets (tokio) and in the browser (wasm32). Declare an actor's interface
//! once with [`actor`] and call it with compile-checked actions, events, params and input
//! (see [`typed`]), over HTTP or a persistent connection:
//!
//! ```no_run
//! # async fn demo() -> rivet_core::Result<()> {
//! #[rivet_core::actor]
//! pub trait Counter {
//!     fn increment(amount: i64) -> i64;
//!     #[event]
//!     fn new_count(count: i64);
//! }
//!
//! let client = rivet_core::Client::new("http://127.0.0.1:6420")?;
//! let counter = client.get_or_create(Counter, ["my-counter"]);
//! let count = counter.increment(1).await?;
//! assert!(count >= 1);
//!
//! let live = counter.connect()?;
//! let _listener = live.on(Counter::NEW_COUNT, |count| println!("count is {count}"));
//! # Ok(()) }
//! ```
//!
//! Without a declaration, address the actor by name and call actions by name, with any
//! `serde` arguments: `client.get_or_create("counter", ["my-counter"])` gives an
//! [`ActorHandle`] with `action::<i64>("increment", (1,))`.
//!
//! Errors are one enum, [`Error`], that can be asked what happened ([`Error::is_retryable`],
//! [`Error::code`], [`Error::metadata`]). Keys the query gateway cannot carry (a part with `,`,
//! the key `[""]`) are resolved through the REST API and addressed by id, never sent to the
//! wrong actor.
//!
//! # Cargo features
//!
//! | feature | default | what it compiles in |
//! |---|---|---|
//! | `macros` | on | `#[rivet_core::actor]`, the typed actor declaration (compile time only) |
//! | `json` | on | the [`Encoding::Json`] codec (text frames, JSON bodies) |
//! | `cbor` | on | the [`Encoding::Cbor`] codec (binary frames, CBOR bodies) |
//! | `bare` | on | the [`Encoding::Bare`] codec (BARE v4 with CBOR payloads; the JS client's default) |
//! | `test-transport` | off | **tests only**: `ClientConfigBuilder::test_transport` and the `test_transport` module, an in-memory transport in place of the network (what `rivet-client-testing`'s in-memory fake server plugs in) |
//!
//! Every build talks to every RivetKit server; the encoding features only decide which encodings
//! a client can be configured with. A browser app that uses one of them keeps the others' codecs
//! out of its bundle:
//! `rivet-core = { version = "0.1", default-features = false, features = ["macros", "json"] }`
//! (`json` alone gives the smallest wasm, since the gateway's JSON errors and the REST API need a
//! JSON parser in every build). A client configured with a compiled-out encoding fails to build
//! with [`Error::InvalidInput`] (field `"encoding"`, naming the feature to enable); at least one
//! encoding feature must be on.

// In the browser everything runs on one thread; `Arc` keeps one type for both targets.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

// The crate's README (shown by crates.io and docs.rs), its examples compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

mod addressing;
mod b64;
mod bytes;
pub mod client;
pub mod config;
pub mod connection;
mod endpoint_url;
pub mod error;
mod gateway;
pub mod handle;
mod http;
mod identity;
pub mod key;
pub mod manager;
mod metadata;
pub mod observable;
pub mod protocol;
mod queue;
pub mod raw;
pub mod raw_ws;
mod rest;
pub mod runtime;
mod shared;
mod tls;
mod tracker;
mod transport;
pub mod typed;

#[cfg(feature = "macros")]
pub use rivet_macros::actor;

pub use bytes::Bytes;
pub use client::{Client, CreateOptions};
pub use config::{
    ClientConfig, ClientConfigBuilder, LifecycleRetries, Token, DEFAULT_ENDPOINT,
    DEFAULT_MAX_RAW_RESPONSE_SIZE, DEFAULT_MAX_RESPONSE_SIZE,
};
pub use connection::{
    ActorConnection, CallbackGuard, ConnParams, ConnStatus, ConnectOptions, ConnectionState, Event,
    EventStream, EventSubscription, ReconnectPolicy,
};
pub use error::{Error, Result, ServerError, TransportErrorKind};
pub use handle::{ActionOptions, ActorHandle};
pub use key::ActorKey;
pub use manager::{ActorIdentity, ActorOptions, ConnectionManager, Lease};
pub use protocol::{ActorSpecifier, Encoding, QueueSendResponse};
pub use raw::{RawRequest, RawResponse};
pub use raw_ws::{RawMessage, RawWebSocket};
#[cfg(feature = "test-transport")]
pub use transport::test_transport;
