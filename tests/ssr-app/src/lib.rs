//! A Leptos app rendered on the server (`ssr` feature, the `rivet-ssr-app` binary) and
//! hydrated in the browser (`hydrate` feature, wasm32), for `tests/e2e/ssr.mjs`: a counter
//! using `use_actor`, `use_latest_event` and `use_action`.
//!
//! The page reads its endpoint and actor key from the query string (`?endpoint=…&key=…`), on
//! the server from the request and in the browser from `location`, so both render the same.

use leptos::prelude::*;
use rivet_example_actors::Counter;
use rivet_leptos::prelude::*;

/// The app: provides a client for `endpoint` unless one is provided already (the server
/// provides its one shared client before rendering), and shows the counter `key`.
#[component]
pub fn App(
    /// The RivetKit endpoint the browser connects to.
    endpoint: String,
    /// The counter's key.
    key: String,
) -> impl IntoView {
    if use_rivet_client().is_none() {
        if let Ok(client) = rivet_core::Client::new(endpoint.as_str()) {
            provide_rivet(client);
        }
    }
    view! {
        <main>
            <h1>"rivet-leptos, rendered on the server"</h1>
            <p>"counter " <code id="key">{key.clone()}</code></p>
            <CounterView key=key/>
        </main>
    }
}

#[component]
fn CounterView(key: String) -> impl IntoView {
    let counter = use_actor(Counter, key);
    let latest = use_latest_event(&counter, Counter::NEW_COUNT);
    let increment = use_action(&counter, Counter::INCREMENT);
    let count = move || {
        latest
            .get()
            .or_else(|| increment.value().get())
            .map_or_else(|| "…".to_owned(), |n| n.to_string())
    };
    view! {
        <p>"status " <span id="status">{move || counter.status().get().as_str()}</span></p>
        <p id="count">{count}</p>
        <button id="increment" on:click=move |_| increment.dispatch((1,))>"+1"</button>
    }
}

/// The browser entry point, called by the page's script once the module is loaded.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    let query = |name: &str| -> String {
        web_sys::window()
            .and_then(|w| w.location().search().ok())
            .and_then(|search| web_sys::UrlSearchParams::new_with_str(&search).ok())
            .and_then(|params| params.get(name))
            .unwrap_or_default()
    };
    let (endpoint, key) = (query("endpoint"), query("key"));
    leptos::mount::hydrate_body(move || view! { <App endpoint=endpoint key=key/> });
}
