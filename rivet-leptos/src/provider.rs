//! The client in context: [`provide_rivet`], [`RivetProvider`], [`use_rivet_client`].

use leptos::prelude::*;
use rivet_core::Client;

use crate::platform::ThreadBound;

/// What [`provide_rivet`] puts in context.
#[derive(Clone, Debug)]
struct RivetContext(ThreadBound<Client>);

/// Makes `client` available to every hook below the current component (React's
/// `createRivetKit(endpoint)` + `<RivetProvider>`). Call it once near the root.
///
/// Creating a client does no network work, so this is safe under server rendering.
///
/// ```
/// use leptos::prelude::*;
/// use rivet_leptos::{provide_rivet, use_rivet_client};
///
/// # let owner = Owner::new(); owner.set();
/// provide_rivet(rivet_core::Client::new("http://127.0.0.1:6420")?);
/// assert!(use_rivet_client().is_some());
/// # Ok::<(), rivet_core::Error>(())
/// ```
pub fn provide_rivet(client: Client) {
    provide_context(RivetContext(ThreadBound::new(client)));
}

/// The client provided by [`provide_rivet`] or [`RivetProvider`] above this component, if
/// any.
///
/// ```
/// use leptos::prelude::*;
///
/// # let owner = Owner::new(); owner.set();
/// assert!(rivet_leptos::use_rivet_client().is_none()); // nothing provided yet
/// ```
pub fn use_rivet_client() -> Option<Client> {
    use_context::<RivetContext>().map(|context| context.0.get().clone())
}

/// Provides `client` to its children: the component form of [`provide_rivet`].
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::RivetProvider;
///
/// #[component]
/// fn App() -> impl IntoView {
///     let client = rivet_core::Client::new("http://127.0.0.1:6420").expect("valid endpoint");
///     view! { <RivetProvider client=client><p>"children use use_actor here"</p></RivetProvider> }
/// }
/// ```
#[component]
pub fn RivetProvider(
    /// The client every hook below uses.
    client: Client,
    /// The components that use it.
    children: Children,
) -> impl IntoView {
    provide_rivet(client);
    children()
}
