//! A chat room with rivet-leptos: the page reads its settings from the query string and mounts
//! the components of this crate's library (`src/lib.rs`, tested in `tests/chat.rs`).
//!
//! Run it with `bash scripts/demo.sh` (starts a RivetKit server, builds and serves both Leptos
//! examples, prints their URLs). Query parameters:
//! `?endpoint=` (default http://127.0.0.1:6420), `?room=`, `?user=`, `?token=`.

use leptos::prelude::*;
use leptos_chat::{App, Settings};

fn main() {
    let defaults = Settings::default();
    let settings = Settings {
        endpoint: query("endpoint").unwrap_or(defaults.endpoint),
        room: query("room").unwrap_or(defaults.room),
        user: query("user").unwrap_or(defaults.user),
        token: query("token").unwrap_or(defaults.token),
    };
    leptos::mount::mount_to_body(move || view! { <App settings/> });
}

/// A query parameter of the page's URL.
fn query(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
        .filter(|value| !value.is_empty())
}
