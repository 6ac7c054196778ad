//! A counter shared by every tab: `count`, increment buttons, live updates from other tabs
//! via the `newCount` event, and the connection status.
//!
//! Run it with `bash scripts/demo.sh` (starts a RivetKit server on 127.0.0.1:6420, builds
//! both Leptos examples for the browser, serves them and prints their URLs). Query parameters: `?endpoint=` (default http://127.0.0.1:6420) and `?key=` (the counter's key).

use leptos::prelude::*;
use rivet_leptos::prelude::*;

/// Where the RivetKit server is, unless `?endpoint=` says otherwise.
const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:6420";

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
    match rivet_core::Client::new(endpoint.as_str()) {
        Ok(client) => provide_rivet(client),
        Err(error) => {
            return view! { <p class="error" id="error">"bad endpoint: " {error.to_string()}</p> }
                .into_any()
        }
    }
    view! {
        <h1>"rivet-leptos counter"</h1>
        <p>"server " <code>{endpoint}</code> " · key " <code>{key.clone()}</code></p>
        <button id="toggle" on:click=move |_| shown.update(|s| *s = !*s)>
            {move || if shown.get() { "unmount" } else { "mount" }}
        </button>
        <Show when=move || shown.get() fallback=|| view! { <p id="unmounted">"unmounted"</p> }>
            <Counter key=key.clone()/>
        </Show>
    }
    .into_any()
}

/// The counter itself.
#[component]
fn Counter(key: String) -> impl IntoView {
    let counter = use_actor_untyped("counter", key);
    let count = RwSignal::new(None::<i64>);
    let increment = use_actor_action::<(i64,), i64>(&counter, "increment");
    let get_count = use_actor_action::<(), i64>(&counter, "getCount");

    // Other tabs' increments arrive as `newCount`.
    use_event_untyped(&counter, "newCount", move |event| {
        if let Ok(n) = event.arg::<i64>(0) {
            count.set(Some(n));
        }
    });
    // Catch up on every (re)connection.
    Effect::new(move |_| {
        if counter.is_connected.get() {
            get_count.dispatch(());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(n)) = get_count.value().get() {
            count.set(Some(n));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(n)) = increment.value().get() {
            count.set(Some(n));
        }
    });

    let status = move || counter.status.get().as_str();
    view! {
        <p>"status: " <span id="status" class=move || format!("status {}", status())>{status}</span></p>
        <p id="count">{move || count.get().map_or_else(|| "…".to_owned(), |n| n.to_string())}</p>
        <button id="increment" on:click=move |_| { increment.dispatch((1,)); }>"+1"</button>
        <button id="increment5" on:click=move |_| { increment.dispatch((5,)); }>"+5"</button>
        <span id="pending">{move || if increment.pending().get() { "sending…" } else { "" }}</span>
        <p class="error" id="error">
            {move || {
                let action_error = increment.value().get().and_then(Result::err);
                action_error.or_else(|| counter.error.get()).map(|e| e.to_string())
            }}
        </p>
    }
}
