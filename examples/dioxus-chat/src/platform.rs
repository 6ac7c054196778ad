//! The only platform-specific code: where settings come from and how the app starts.
//! Web: the page's query string (`?endpoint=…`). Desktop: environment variables.

use dioxus::prelude::Element;

/// The default endpoint of a local RivetKit server.
const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:6420";

/// The gateway endpoint: `?endpoint=` on the web, `RIVET_ENDPOINT` on desktop.
pub fn endpoint() -> String {
    setting("endpoint", "RIVET_ENDPOINT").unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned())
}

/// A setting from the query parameter `query` (web) or the environment variable `var`
/// (desktop); empty counts as unset.
#[cfg(target_arch = "wasm32")]
pub fn setting(query: &str, _var: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.get(query).filter(|v| !v.is_empty())
}

/// A setting from the query parameter `query` (web) or the environment variable `var`
/// (desktop); empty counts as unset.
#[cfg(not(target_arch = "wasm32"))]
pub fn setting(_query: &str, var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

/// Starts the app with the renderer the build selected (`--features desktop` on desktop; the
/// web renderer on wasm32).
#[cfg(any(target_arch = "wasm32", feature = "web", feature = "desktop"))]
pub fn launch(app: fn() -> Element) {
    #[cfg(all(feature = "desktop", not(target_arch = "wasm32")))]
    {
        use dioxus::desktop::{Config, LogicalSize, WindowBuilder};
        let window = WindowBuilder::new()
            .with_title(env!("CARGO_PKG_NAME"))
            .with_inner_size(LogicalSize::new(640.0, 480.0));
        dioxus::LaunchBuilder::desktop()
            .with_cfg(Config::new().with_window(window).with_menu(None))
            .launch(app);
    }
    #[cfg(not(all(feature = "desktop", not(target_arch = "wasm32"))))]
    dioxus::launch(app);
}

/// Without a renderer there is nothing to launch: say how to build it.
#[cfg(not(any(target_arch = "wasm32", feature = "web", feature = "desktop")))]
pub fn launch(_app: fn() -> Element) {
    eprintln!(
        "{}: no renderer; run with `--features desktop`, or build for the web with \
         `bash scripts/build-web.sh {}`",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_NAME")
    );
    std::process::exit(2);
}
