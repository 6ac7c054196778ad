//! Rust client for [Rivet Actors](https://rivet.dev) (RivetKit 2.3).
//!
//! One API on native targets (tokio) and in the browser (wasm32). Address an actor by name and
//! key, call its actions over HTTP, send to its queues, or talk to its raw HTTP handler:
//!
//! ```no_run
//! # async fn demo() -> rivet_core::Result<()> {
//! use rivet_core::Client;
//!
//! let client = Client::new("http://127.0.0.1:6420")?;
//! let counter = client.get_or_create("counter", ["my-counter"]);
//! let count: i64 = counter.action("increment", (1,)).await?;
//! assert!(count >= 1);
//! # Ok(()) }
//! ```
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
//! | `json` | on | the [`Encoding::Json`] codec (text frames, JSON bodies) |
//! | `cbor` | on | the [`Encoding::Cbor`] codec (binary frames, CBOR bodies) |
//! | `bare` | on | the [`Encoding::Bare`] codec (BARE v4 with CBOR payloads; the JS client's default) |
//!
//! Every build talks to every RivetKit server; these only decide which encodings a client can
//! be configured with. A browser app that uses one of them keeps the others' codecs out of its
//! bundle: `rivet-core = { version = "0.1", default-features = false, features = ["json"] }`
//! (`json` alone gives the smallest wasm, since the gateway's JSON errors and the REST API need a
//! JSON parser in every build). A client configured with a compiled-out encoding fails to build
//! with [`Error::InvalidInput`] (field `"encoding"`, naming the feature to enable); at least one
//! feature must be on.

// In the browser everything runs on one thread; `Arc` keeps one type for both targets.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

mod b64;
pub mod client;
pub mod config;
pub mod connection;
mod endpoint_url;
pub mod error;
mod gateway;
pub mod handle;
mod http;
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
mod tls;
mod tracker;
mod transport;

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
