//! Leptos 0.8 hooks for [Rivet Actors](https://rivet.dev), over `rivet-core`'s shared
//! connection manager: the Leptos side of `@rivetkit/react`.
//!
//! * [`provide_rivet`] / [`RivetProvider`] put a [`Client`](rivet_core::Client) in context.
//! * [`use_actor`] / [`use_actor_with_options`] hold a shared connection while the component
//!   lives and expose its status, error, connection and handle as signals.
//! * [`use_event`] / [`use_latest_event`] follow an event across reconnects.
//! * [`use_actor_action`] calls an action as a Leptos `Action` (pending + result).
//!
//! ```no_run
//! use leptos::prelude::*;
//! use rivet_leptos::prelude::*;
//!
//! #[component]
//! fn Counter() -> impl IntoView {
//!     let counter = use_actor("counter", "demo");
//!     let increment = use_actor_action::<(i64,), i64>(&counter, "increment");
//!     let count = RwSignal::new(0_i64);
//!     use_event(&counter, "newCount", move |e| count.set(e.arg(0).unwrap_or_default()));
//!     view! {
//!         <p>{move || counter.status.get().as_str()} " " {count}</p>
//!         <button on:click=move |_| { increment.dispatch((1,)); }>"+1"</button>
//!     }
//! }
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     provide_rivet(rivet_core::Client::new("http://127.0.0.1:6420").expect("valid endpoint"));
//!     view! { <Counter/> }
//! }
//! ```
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

mod platform;
mod provider;
mod use_action;
mod use_actor;
mod use_event;

pub use platform::{ConnStorage, MaybeSend, MaybeSendSync};
pub use provider::{provide_rivet, use_rivet_client, RivetProvider, RivetProviderProps};
pub use use_action::use_actor_action;
pub use use_actor::{use_actor, use_actor_with_options, UseActorOptions, UseActorReturn};
pub use use_event::{use_event, use_latest_event};

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
        provide_rivet, use_actor, use_actor_action, use_actor_with_options, use_event,
        use_latest_event, use_rivet_client, RivetProvider, UseActorOptions, UseActorReturn,
    };
    pub use rivet_core::{ConnStatus, Event};
}
