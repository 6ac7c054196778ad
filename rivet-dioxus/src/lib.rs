//! Dioxus 0.7 hooks for [Rivet Actors](https://rivet.dev), on web (wasm32) and desktop, over
//! `rivet-core`'s shared connection manager — the Dioxus counterpart of `@rivetkit/react`,
//! with the same names and shapes as `rivet-leptos`.
//!
//! * [`use_rivet_provider`] / [`use_rivet_endpoint`] put a [`Client`] in context.
//! * [`use_actor`] / [`use_actor_with`] hold a shared connection to a declared actor while the
//!   component is mounted; the returned [`UseActor`] is `Copy`, has `status()`, `error()`,
//!   `is_connected()` and `state()` signals, and the actor's actions as methods.
//! * [`use_event`] / [`use_latest_event`] follow a typed event across reconnects.
//! * [`use_action`] gives an action pending / value / error signals.
//! * For actors without a declaration: [`use_actor_untyped`], [`use_actor_with_options`],
//!   [`use_event_untyped`], [`use_latest_event_untyped`], [`use_actor_action`].
//!
//! ```no_run
//! use dioxus::prelude::*;
//! use rivet_dioxus::{use_actor, use_event, use_rivet_provider};
//!
//! #[rivet_core::actor]
//! pub trait Counter {
//!     fn increment(amount: i64) -> i64;
//!     #[event]
//!     fn new_count(count: i64);
//! }
//!
//! #[component]
//! fn App() -> Element {
//!     use_rivet_provider(|| rivet_core::Client::new("http://127.0.0.1:6420").expect("endpoint"));
//!     rsx! { CounterView {} }
//! }
//!
//! #[component]
//! fn CounterView() -> Element {
//!     let counter = use_actor(Counter, "my-counter");           // useActor({ name, key })
//!     let mut count = use_signal(|| 0i64);
//!     use_event(&counter, Counter::NEW_COUNT, move |n| count.set(n)); // counter.useEvent(...)
//!     rsx! {
//!         p { "{counter.status()}: {count}" }                     // counter.connStatus
//!         button { onclick: move |_| async move {                 // counter.connection.increment(1)
//!             let _ = counter.increment(1).await;
//!         }, "+1" }
//!     }
//! }
//! ```
//!
//! Every hook keeps the rules of `dioxus-hooks`: state lives in signals written only on the
//! `VirtualDom`'s thread (core's streams are bridged by tasks spawned on it), leases and
//! subscriptions are released when the component unmounts, and nothing connects during
//! server-side rendering (connections are made in effects).
//!
//! The features `json`, `cbor` and `bare` (all on by default) are rivet-core's wire encodings:
//! a browser app that uses one keeps the other codecs out of its bundle with
//! `rivet-dioxus = { version = "0.1", default-features = false, features = ["json"] }` (see
//! [`rivet_core::Encoding::is_compiled`]).

// The crate's README (shown by crates.io and docs.rs), its examples compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

mod engine;
mod input;
mod options;
mod provider;
mod untyped;
mod use_action;
mod use_actor;
mod use_event;

pub use input::Input;
pub use options::UseActorOptions;
pub use provider::{use_rivet_client, use_rivet_endpoint, use_rivet_provider};
pub use rivet_core::manager::ActorOptions;
pub use rivet_core::typed::Caller;
pub use untyped::{use_actor_untyped, use_actor_with_options, UseActorReturn};
pub use use_action::{use_action, use_actor_action, UseAction, UseActorAction};
pub use use_actor::{use_actor, use_actor_with, UseActor};
pub use use_event::{use_event, use_event_untyped, use_latest_event, use_latest_event_untyped};

pub use rivet_core;
pub use rivet_core::connection::Event;
pub use rivet_core::{Client, ConnStatus, ConnectionState, Error};
