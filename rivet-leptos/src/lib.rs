//! Leptos 0.8 hooks for [Rivet Actors](https://rivet.dev), over `rivet-core`'s shared
//! connection manager: the Leptos side of `@rivetkit/react`.
//!
//! * [`provide_rivet`] / [`RivetProvider`] put a [`Client`](rivet_core::Client) in context.
//! * [`use_actor`] / [`use_actor_with`] hold a shared connection to a declared actor while
//!   the component lives; the returned [`UseActor`] is `Copy`, has `status()`, `error()`,
//!   `is_connected()` and `state()` signals, and the actor's actions as methods
//!   (`counter.increment(1).await`).
//! * [`use_event`] / [`use_latest_event`] follow a typed event across reconnects.
//! * [`use_action`] gives an action pending / value / error signals.
//! * For actors without a declaration: [`use_actor_untyped`], [`use_actor_with_options`],
//!   [`use_event_untyped`], [`use_latest_event_untyped`], [`use_actor_action`].
//!
//! ```no_run
//! use leptos::prelude::*;
//! use rivet_leptos::prelude::*;
//!
//! #[rivet_core::actor]
//! pub trait Counter {
//!     fn increment(amount: i64) -> i64;
//!     #[event]
//!     fn new_count(count: i64);
//! }
//!
//! #[component]
//! fn CounterView() -> impl IntoView {
//!     let counter = use_actor(Counter, "demo");
//!     let count = RwSignal::new(0_i64);
//!     use_event(&counter, Counter::NEW_COUNT, move |n| count.set(n));
//!     let increment = use_action(&counter, Counter::INCREMENT);
//!     view! {
//!         <p>{move || counter.status().get().as_str()} " " {count}</p>
//!         <button on:click=move |_| increment.dispatch((1,))>"+1"</button>
//!     }
//! }
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     provide_rivet(rivet_core::Client::new("http://127.0.0.1:6420").expect("valid endpoint"));
//!     view! { <CounterView/> }
//! }
//! ```
//!
//! The same hooks exist in `rivet-dioxus`, with the same names and shapes.
//!
//! Under the `ssr` feature the hooks do no network work: effects do not run on the server,
//! so every hook reports `Idle` with no connection, and hydration starts from there.
//!
//! The features `json`, `cbor` and `bare` (all on by default) are rivet-core's wire encodings:
//! a browser app that uses one keeps the other codecs out of its bundle with
//! `rivet-leptos = { version = "0.1", default-features = false, features = ["json"] }` (see
//! [`rivet_core::Encoding::is_compiled`]).

// The crate's README (shown by crates.io and docs.rs), its examples compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

mod engine;
mod platform;
mod provider;
mod untyped;
mod use_action;
mod use_actor;
mod use_event;

pub use platform::{ConnStorage, MaybeSend, MaybeSendSync};
pub use provider::{provide_rivet, use_rivet_client, RivetProvider, RivetProviderProps};
pub use untyped::{use_actor_untyped, use_actor_with_options, UseActorOptions, UseActorReturn};
pub use use_action::{use_action, use_actor_action, UseAction};
pub use use_actor::{use_actor, use_actor_with, UseActor};
pub use use_event::{use_event, use_event_untyped, use_latest_event, use_latest_event_untyped};

/// Everything a component needs: `use rivet_leptos::prelude::*;`.
///
/// ```
/// use rivet_leptos::prelude::*;
///
/// # let owner = leptos::prelude::Owner::new(); owner.set();
/// let options: UseActorOptions = UseActorOptions::new("counter", "demo");
/// assert_eq!(ConnStatus::default().as_str(), "idle");
/// ```
pub mod prelude {
    pub use crate::{
        provide_rivet, use_action, use_actor, use_actor_action, use_actor_untyped, use_actor_with,
        use_actor_with_options, use_event, use_event_untyped, use_latest_event,
        use_latest_event_untyped, use_rivet_client, RivetProvider, UseAction, UseActor,
        UseActorOptions, UseActorReturn,
    };
    pub use rivet_core::manager::ActorOptions;
    pub use rivet_core::typed::Caller;
    pub use rivet_core::{ConnStatus, Event};
}
