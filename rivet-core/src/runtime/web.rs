//! Browser runtime: the page's event loop through wasm-bindgen-futures, timers through
//! gloo-timers, the clock through `performance.now()` (web-time).
//!
//! Browser specifics handled here:
//! * `setTimeout` takes a signed 32-bit number of milliseconds and fires *at once* for larger
//!   values; [`sleep`] chains timers for longer waits (a `Duration::MAX` deadline means never).
//! * Hidden pages get their timers throttled (once a second, and down to once a minute after a
//!   few minutes in the background): a backoff delay or a deadline can fire late there.
//!   [`wake_signal`] lets the connection driver react at once when the page is visible again
//!   or the browser is back online, instead of waiting for a throttled timer.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

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

/// The longest single `setTimeout` (2^31 - 1 ms, about 24.8 days).
const MAX_TIMER_MS: u128 = i32::MAX as u128;

/// Waits for `duration` (browser timers, chained past `setTimeout`'s 24.8-day limit; rounded
/// up to whole milliseconds so a deadline never fires early).
pub(crate) async fn sleep(duration: Duration) {
    let mut remaining = duration.as_nanos().div_ceil(1_000_000);
    loop {
        let step = remaining.min(MAX_TIMER_MS);
        // `step` fits: it is at most i32::MAX.
        gloo_timers::future::TimeoutFuture::new(u32::try_from(step).unwrap_or(i32::MAX as u32))
            .await;
        remaining -= step;
        if remaining == 0 {
            break;
        }
    }
}

/// A few bits that differ between calls and pages, for seeding jitter (not for secrets).
pub(crate) fn entropy() -> u64 {
    let random = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
    random ^ (js_sys::Date::now() as u64).rotate_left(21)
}

/// Resolves the next time the page "comes back": the browser fires `online`, or the document
/// becomes visible again (`visibilitychange` to `visible`). Never resolves where there is no
/// `window` (a worker). The connection driver awaits it while backing off (to retry at once)
/// and while connected (to check at once that the socket still answers).
pub(crate) fn wake_signal() -> WakeSignal {
    WakeSignal::new()
}

/// See [`wake_signal`]. Dropping it removes its event listeners.
pub(crate) struct WakeSignal {
    state: Rc<RefCell<WakeState>>,
    listeners: Option<Listeners>,
}

#[derive(Default)]
struct WakeState {
    fired: bool,
    waker: Option<Waker>,
}

struct Listeners {
    window: web_sys::Window,
    document: Option<web_sys::Document>,
    online: Closure<dyn FnMut()>,
    visibility: Closure<dyn FnMut()>,
}

impl WakeSignal {
    fn new() -> Self {
        let state = Rc::new(RefCell::new(WakeState::default()));
        let listeners = js_sys::global()
            .dyn_into::<web_sys::Window>()
            .ok()
            .map(|window| {
                let document = window.document();
                let online = {
                    let state = state.clone();
                    Closure::<dyn FnMut()>::new(move || fire(&state))
                };
                let visibility = {
                    let state = state.clone();
                    let document = document.clone();
                    Closure::<dyn FnMut()>::new(move || {
                        let visible = document.as_ref().is_some_and(|d| {
                            d.visibility_state() == web_sys::VisibilityState::Visible
                        });
                        if visible {
                            fire(&state);
                        }
                    })
                };
                let _ = window
                    .add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
                if let Some(document) = &document {
                    let _ = document.add_event_listener_with_callback(
                        "visibilitychange",
                        visibility.as_ref().unchecked_ref(),
                    );
                }
                Listeners {
                    window,
                    document,
                    online,
                    visibility,
                }
            });
        Self { state, listeners }
    }
}

fn fire(state: &Rc<RefCell<WakeState>>) {
    let waker = {
        let mut state = state.borrow_mut();
        state.fired = true;
        state.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

impl Future for WakeSignal {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.borrow_mut();
        if state.fired {
            Poll::Ready(())
        } else {
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl Drop for WakeSignal {
    fn drop(&mut self) {
        if let Some(l) = self.listeners.take() {
            let _ = l
                .window
                .remove_event_listener_with_callback("online", l.online.as_ref().unchecked_ref());
            if let Some(document) = &l.document {
                let _ = document.remove_event_listener_with_callback(
                    "visibilitychange",
                    l.visibility.as_ref().unchecked_ref(),
                );
            }
        }
    }
}
