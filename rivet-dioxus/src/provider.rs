//! The [`Client`] context: provide it once near the root, use it in every hook below.

use dioxus::prelude::*;
use rivet_core::{Client, Error};

/// What the provider puts in context: the client, or why it could not be made (which
/// every [`use_actor`](crate::use_actor) below then reports as its error).
#[derive(Clone)]
pub(crate) struct RivetContext(pub(crate) Result<Client, Error>);

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
    let client = use_hook(init);
    let provided = client.clone();
    use_context_provider(move || RivetContext(Ok(provided)));
    client
}

/// Provides a [`Client`] for `endpoint` (e.g. `http://127.0.0.1:6420`, or with a namespace and
/// token: `https://ns:token@host`) to every component below, created on the first render.
/// An invalid endpoint is not a panic: it is returned, and every
/// [`use_actor`](crate::use_actor) below reports it in its `error` signal.
///
/// ```no_run
/// use dioxus::prelude::*;
///
/// #[component]
/// fn App() -> Element {
///     if let Err(error) = rivet_dioxus::use_rivet_endpoint("http://127.0.0.1:6420") {
///         return rsx! { p { "bad endpoint: {error}" } };
///     }
///     rsx! { "…" }
/// }
/// ```
#[track_caller]
pub fn use_rivet_endpoint(endpoint: impl Into<String>) -> Result<Client, Error> {
    let endpoint = endpoint.into();
    use_context_provider(move || RivetContext(Client::new(endpoint))).0
}

/// The [`Client`] provided by [`use_rivet_provider`] or [`use_rivet_endpoint`] above this
/// component, if any.
///
/// ```no_run
/// use dioxus::prelude::*;
///
/// #[component]
/// fn Status() -> Element {
///     let provided = rivet_dioxus::use_rivet_client().is_some();
///     rsx! { "client provided: {provided}" }
/// }
/// ```
#[track_caller]
#[must_use]
pub fn use_rivet_client() -> Option<Client> {
    use_hook(|| try_consume_context::<RivetContext>().and_then(|c| c.0.ok()))
}

/// The provided client, or why there is none.
pub(crate) fn use_rivet_context() -> Result<Client, Error> {
    use_hook(|| match try_consume_context::<RivetContext>() {
        Some(RivetContext(result)) => result,
        None => Err(Error::InvalidInput {
            field: "client",
            value: "none".to_owned(),
            reason: "no rivet_core::Client in context; call use_rivet_provider or \
                     use_rivet_endpoint in an ancestor component"
                .to_owned(),
        }),
    })
}
