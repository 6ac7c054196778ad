//! A counter shared by every tab: the count, increment buttons, live updates from other tabs
//! through the actor's `newCount` event, and the connection's status.
//!
//! The `counter` actor's interface is declared once, in `rivet-example-actors`: the hooks
//! below take its typed actions and events (`Counter::INCREMENT`, `Counter::NEW_COUNT`), so a
//! misspelt name or a wrong argument type does not compile.
//!
//! Run it with `bash scripts/demo.sh` (starts a RivetKit server on 127.0.0.1:6420, builds
//! both Leptos examples for the browser, serves them and prints their URLs). Query
//! parameters: `?endpoint=` (default http://127.0.0.1:6420) and `?key=` (the counter's key).

use leptos::prelude::*;
use rivet_core::typed::Actor;
use rivet_core::{ConnStatus, Error};
use rivet_example_actors::Counter;
use rivet_leptos::prelude::*;

/// Where the RivetKit server is, unless `?endpoint=` says otherwise.
const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:6420";

/// The examples' one stylesheet (no CSS framework).
const STYLE: &str = include_str!("../../style.css");

fn main() {
    leptos::mount::mount_to_body(App);
}

/// A query parameter of the page's URL.
fn query(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
        .filter(|value| !value.is_empty())
}

/// Provides the client and lets the counter be unmounted (its connection then closes).
#[component]
fn App() -> impl IntoView {
    let endpoint = query("endpoint").unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
    let key = query("key").unwrap_or_else(|| "leptos-counter".to_owned());
    let shown = RwSignal::new(true);
    let client = rivet_core::Client::new(endpoint.as_str());
    let body = match client {
        Ok(client) => {
            provide_rivet(client);
            view! {
                <Show when=move || shown.get() fallback=|| view! { <section class="card"><p id="unmounted">"unmounted"</p></section> }>
                    <CounterCard key=key.clone()/>
                </Show>
                <button id="toggle" class="secondary" on:click=move |_| shown.update(|s| *s = !*s)>
                    {move || if shown.get() { "unmount" } else { "mount" }}
                </button>
            }
            .into_any()
        }
        Err(error) => {
            view! { <p class="error" id="error">"bad endpoint: " {error.to_string()}</p> }
                .into_any()
        }
    };
    view! {
        <style>{STYLE}</style>
        <main>
            <header><h1>"rivet-leptos counter"</h1></header>
            <p class="meta">"server " <code>{endpoint}</code></p>
            {body}
        </main>
    }
}

/// The counter itself.
#[component]
fn CounterCard(key: String) -> impl IntoView {
    let counter = use_actor(Counter, key.clone());
    let count = RwSignal::new(None::<i64>);
    let increment = use_action(&counter, Counter::INCREMENT);
    let get_count = use_action(&counter, Counter::GET_COUNT);

    // Other tabs' increments arrive as `newCount`.
    use_event(&counter, Counter::NEW_COUNT, move |n| count.set(Some(n)));
    // Catch up on every (re)connection.
    Effect::new(move |_| {
        if counter.is_connected().get() {
            get_count.dispatch(());
        }
    });
    Effect::new(move |_| {
        if let Some(n) = get_count.value().get() {
            count.set(Some(n));
        }
    });
    Effect::new(move |_| {
        if let Some(n) = increment.value().get() {
            count.set(Some(n));
        }
    });

    view! {
        <section class="card">
            <header>
                <span class="meta">"actor " <code>{Counter::NAME}</code> " · key " <code>{key}</code></span>
                <StatusBadge status=counter.status() error=counter.error()/>
            </header>
            <p id="count">{move || count.get().map_or_else(|| "…".to_owned(), |n| n.to_string())}</p>
            <div class="row">
                <button id="increment" on:click=move |_| increment.dispatch((1,))>"+1"</button>
                <button id="increment5" on:click=move |_| increment.dispatch((5,))>"+5"</button>
                <span id="pending" class="pending">{move || if increment.pending().get() { "sending…" } else { "" }}</span>
            </div>
        </section>
        <p class="error" id="error">
            {move || {
                let action_error = increment.error().get();
                action_error.or_else(|| counter.error().get()).map(|e| e.to_string())
            }}
        </p>
    }
}

/// The connection's status as a colored badge: `connecting`, `connected`, `reconnecting`
/// (connecting again after having been connected), `disconnected` (a retry is scheduled),
/// `error` (stopped on an error that retrying cannot fix, such as a rejected token), `idle`.
#[component]
fn StatusBadge(status: Signal<ConnStatus>, error: Signal<Option<Error>>) -> impl IntoView {
    let was_connected = RwSignal::new(false);
    Effect::new(move |_| {
        if status.get() == ConnStatus::Connected {
            was_connected.set(true);
        }
    });
    let label = move || {
        let fatal = error.with(|e| e.as_ref().is_some_and(|e| !e.is_retryable()));
        match status.get() {
            ConnStatus::Connected => "connected",
            ConnStatus::Connecting if was_connected.get() => "reconnecting",
            ConnStatus::Connecting => "connecting",
            ConnStatus::Disconnected | ConnStatus::Idle if fatal => "error",
            ConnStatus::Disconnected => "disconnected",
            ConnStatus::Idle => "idle",
        }
    };
    view! { <span id="status" class=move || format!("status {}", label())>{label}</span> }
}
