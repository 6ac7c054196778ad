//! A counter on the `counter` actor with rivet-dioxus, for web and desktop from one crate:
//! the count, an increment button, live updates from the actor's `newCount` event, and the
//! connection status.
//!
//! Web: `bash scripts/build-web.sh dioxus-counter`, serve `target/web/dioxus-counter`, open
//! `/?endpoint=http://127.0.0.1:6420&key=demo`. Desktop: `RIVET_ENDPOINT=… cargo run -p
//! dioxus-counter --features desktop` (`RIVET_COUNTER_KEY` picks the actor key).

use dioxus::prelude::*;
use rivet_dioxus::{use_actor_action, use_actor_untyped, use_event_untyped, use_rivet_endpoint};
use serde_json::Value;

mod platform;

fn main() {
    platform::launch(App);
}

const STYLE: &str = "
body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; }
.status { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; background: #ddd; }
.status.connected { background: #b7f0c0; }
.status.disconnected, .status.idle { background: #f6c2c2; }
.status.connecting { background: #f6e7a8; }
#count { font-size: 3rem; margin: 1rem 0; }
#increment { font-size: 1.4rem; padding: .5rem 1.5rem; }
.error { color: #a00; }
";

#[component]
fn App() -> Element {
    let endpoint = use_hook(platform::endpoint);
    if let Err(error) = use_rivet_endpoint(endpoint.clone()) {
        return rsx! { p { class: "error", "invalid endpoint {endpoint}: {error}" } };
    }
    let key = use_hook(|| {
        platform::setting("key", "RIVET_COUNTER_KEY").unwrap_or_else(|| "dioxus-counter".into())
    });
    rsx! {
        style { {STYLE} }
        h1 { "rivet-dioxus counter" }
        Counter { actor_key: key }
    }
}

#[component]
fn Counter(actor_key: String) -> Element {
    let counter = use_actor_untyped("counter", actor_key.clone());
    let mut count = use_signal(|| None::<i64>);
    let increment = use_actor_action(counter);

    // The current count once connected; later changes arrive as `newCount` events.
    use_effect(move || {
        if (counter.is_connected)() {
            spawn(async move {
                if let Ok(n) = counter.action::<i64>("getCount", ()).await {
                    count.set(Some(n));
                }
            });
        }
    });
    use_event_untyped(&counter, "newCount", move |event| {
        if let Some(n) = event.args.first().and_then(Value::as_i64) {
            count.set(Some(n));
        }
    });

    let status = (counter.status)();
    let shown = count().map_or("…".to_owned(), |n| n.to_string());
    rsx! {
        p { "actor counter[{actor_key}] — status: ", span { id: "status", class: "status {status}", "{status}" } }
        p { id: "count", "{shown}" }
        button {
            id: "increment",
            disabled: !(counter.is_connected)(),
            onclick: move |_| increment.call("increment", (1,)),
            "Increment"
        }
        if let Some(error) = (counter.error)() {
            p { id: "error", class: "error", "{error}" }
        }
        if let Some(error) = increment.error() {
            p { class: "error", "increment failed: {error}" }
        }
    }
}
