//! Browser runtime: the JS event loop through wasm-bindgen-futures and gloo-timers.

use std::future::Future;
use std::time::Duration;

use crate::Result;

pub(crate) use web_time::Instant;

/// Spawns a task on the page's event loop.
pub(crate) fn spawn<F>(future: F) -> Result<()>
where
    F: Future<Output = ()> + 'static,
{
    wasm_bindgen_futures::spawn_local(future);
    Ok(())
}

/// Waits for `duration` (a browser timer).
pub(crate) async fn sleep(duration: Duration) {
    let millis = u32::try_from(duration.as_millis()).unwrap_or(u32::MAX);
    gloo_timers::future::TimeoutFuture::new(millis).await;
}

/// A few bits that differ between calls and pages, for seeding jitter (not for secrets).
pub(crate) fn entropy() -> u64 {
    let random = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
    random ^ (js_sys::Date::now() as u64).rotate_left(21)
}
