//! The [`Client`] context: provide it once near the root, use it in every hook below.

use dioxus::prelude::*;
use rivet_core::Client;

/// Provides a [`Client`] to every component below this one (the Dioxus counterpart of
/// React's `createRivetKit(...)` + provider) and returns it. `init` runs on the first render
/// only.
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_dioxus::use_rivet_provider;
///
/// #[component]
/// fn App() -> Element {
///     use_rivet_provider(|| rivet_core::Client::new("http://127.0.0.1:6420").expect("valid endpoint"));
///     rsx! { "children use use_actor(...) here" }
/// }
/// ```
#[track_caller]
#[doc(alias = "RivetProvider")]
#[doc(alias = "createRivetKit")]
pub fn use_rivet_provider(init: impl FnOnce() -> Client) -> Client {
    use_context_provider(init)
}

/// The [`Client`] provided by [`use_rivet_provider`] above this component, if any.
///
/// ```no_run
/// use dioxus::prelude::*;
///
/// #[component]
/// fn Status() -> Element {
///     let connected = rivet_dioxus::use_rivet_client().is_some();
///     rsx! { "client provided: {connected}" }
/// }
/// ```
#[track_caller]
#[must_use]
pub fn use_rivet_client() -> Option<Client> {
    use_hook(try_consume_context::<Client>)
}
