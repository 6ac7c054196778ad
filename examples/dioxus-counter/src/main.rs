//! A counter on the `counter` actor with rivet-dioxus, for web and desktop from one crate:
//! the count, an increment button, live updates from the actor's `newCount` event, and the
//! connection status.
//!
//! The actor's interface is declared once, in `rivet-example-actors`: the hooks below take its
//! typed actions and events (`Counter::INCREMENT`, `Counter::NEW_COUNT`).
//!
//! Web: `bash scripts/build-web.sh dioxus-counter`, serve `target/web/dioxus-counter`, open
//! `/?endpoint=http://127.0.0.1:6420&key=demo`. Desktop: `RIVET_ENDPOINT=… cargo run -p
//! dioxus-counter --features desktop` (`RIVET_COUNTER_KEY` picks the actor key).

use dioxus::prelude::*;
use rivet_dioxus::rivet_core::typed::Actor;
use rivet_dioxus::{use_action, use_actor, use_event, use_rivet_endpoint, ConnStatus, Error};
use rivet_example_actors::{Counter, CounterActions};

mod platform;

/// The examples' one stylesheet (no CSS framework).
const STYLE: &str = include_str!("../../style.css");

fn main() {
    platform::launch(App);
}

#[component]
fn App() -> Element {
    let endpoint = use_hook(platform::endpoint);
    let client = use_rivet_endpoint(endpoint.clone());
    let key = use_hook(|| {
        platform::setting("key", "RIVET_COUNTER_KEY").unwrap_or_else(|| "dioxus-counter".into())
    });
    rsx! {
        style { {STYLE} }
        main {
            header { h1 { "rivet-dioxus counter" } }
            p { class: "meta", "server ", code { "{endpoint}" } }
            match client {
                Ok(_) => rsx! { CounterCard { actor_key: key } },
                Err(error) => rsx! { p { class: "error", id: "error", "invalid endpoint {endpoint}: {error}" } },
            }
        }
    }
}

#[component]
fn CounterCard(actor_key: String) -> Element {
    let counter = use_actor(Counter, actor_key.clone());
    let mut count = use_signal(|| None::<i64>);
    let increment = use_action(&counter, Counter::INCREMENT);

    // The current count on every (re)connection; later changes arrive as `newCount` events.
    use_effect(move || {
        if counter.is_connected()() {
            spawn(async move {
                if let Ok(n) = counter.get_count().await {
                    count.set(Some(n));
                }
            });
        }
    });
    use_event(&counter, Counter::NEW_COUNT, move |n| count.set(Some(n)));

    let shown = count().map_or("…".to_owned(), |n| n.to_string());
    let error = increment.error()()
        .map(|e| format!("increment failed: {e}"))
        .or_else(|| counter.error()().map(|e| e.to_string()));
    rsx! {
        section { class: "card",
            header {
                span { class: "meta", "actor ", code { {Counter::NAME} }, " · key ", code { "{actor_key}" } }
                StatusBadge { status: counter.status(), error: counter.error() }
            }
            p { id: "count", "{shown}" }
            div { class: "row",
                // Focused on mount, so the desktop test can press Enter; a click before the
                // connection is up waits for it.
                button {
                    id: "increment",
                    onmounted: move |e| async move { let _ = e.set_focus(true).await; },
                    onclick: move |_| increment.dispatch((1,)),
                    "Increment"
                }
                if increment.pending()() {
                    span { class: "pending", "sending…" }
                }
            }
        }
        if let Some(error) = error {
            p { id: "error", class: "error", "{error}" }
        }
    }
}

/// The connection's status as a colored badge: `connecting`, `connected`, `reconnecting`
/// (connecting again after having been connected), `disconnected` (a retry is scheduled),
/// `error` (stopped on an error that retrying cannot fix, such as a rejected token), `idle`.
#[component]
fn StatusBadge(status: ReadSignal<ConnStatus>, error: ReadSignal<Option<Error>>) -> Element {
    let mut was_connected = use_signal(|| false);
    use_effect(move || {
        if status() == ConnStatus::Connected {
            was_connected.set(true);
        }
    });
    let fatal = error.read().as_ref().is_some_and(|e| !e.is_retryable());
    let label = match status() {
        ConnStatus::Connected => "connected",
        ConnStatus::Connecting if was_connected() => "reconnecting",
        ConnStatus::Connecting => "connecting",
        ConnStatus::Disconnected | ConnStatus::Idle if fatal => "error",
        ConnStatus::Disconnected => "disconnected",
        ConnStatus::Idle => "idle",
    };
    rsx! { span { id: "status", class: "status {label}", "{label}" } }
}
