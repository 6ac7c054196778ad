//! The platform's clock, timers and task spawner. Everything else in the crate goes through
//! these few functions, so it never mentions tokio or the browser.

use std::future::Future;
use std::time::Duration;

use futures::future::{select, Either};

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::{entropy, sleep, spawn, wake_signal, Instant};

#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(target_arch = "wasm32")]
pub(crate) use web::{entropy, sleep, spawn, wake_signal, Instant};

/// `Send` on native targets, where tasks and futures may move between tokio's threads;
/// nothing in the browser, where everything runs on one thread and JS values are not `Send`.
///
/// Implemented for every type that qualifies, so bounds can say `T: MaybeSend` once for both
/// targets. Also exported as [`typed::MaybeSend`](crate::typed::MaybeSend).
///
/// ```
/// use rivet_core::runtime::MaybeSend;
///
/// fn spawnable<T: MaybeSend + 'static>(_value: T) {}
/// spawnable(5_i64);
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + ?Sized> MaybeSend for T {}

/// `Send` on native targets, where tasks and futures may move between tokio's threads;
/// nothing in the browser, where everything runs on one thread and JS values are not `Send`.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSend for T {}

/// `Sync` on native targets, where callbacks run on tokio's threads; nothing in the browser.
///
/// Implemented for every type that qualifies. Also exported as
/// [`typed::MaybeSync`](crate::typed::MaybeSync).
///
/// ```
/// use rivet_core::runtime::MaybeSync;
///
/// fn shareable<T: MaybeSync>(_value: &T) {}
/// shareable(&5_i64);
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSync: Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Sync + ?Sized> MaybeSync for T {}

/// `Sync` on native targets, where callbacks run on tokio's threads; nothing in the browser.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSync for T {}

/// A boxed future: `Send` on native targets, not in the browser.
#[cfg(not(target_arch = "wasm32"))]
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A boxed future: `Send` on native targets, not in the browser.
#[cfg(target_arch = "wasm32")]
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + 'a>>;

/// A future borrowed as a trait object (`Send` on native targets, not in the browser): for
/// helpers that would otherwise be compiled once per future type.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) type DynFuture<'a, T> = dyn Future<Output = T> + Send + 'a;
/// A future borrowed as a trait object (`Send` on native targets, not in the browser): for
/// helpers that would otherwise be compiled once per future type.
#[cfg(target_arch = "wasm32")]
pub(crate) type DynFuture<'a, T> = dyn Future<Output = T> + 'a;

/// Runs `future` until `deadline` passes; `None` when it did not finish in time. On the
/// platform's timer (tokio natively, the browser's in wasm32), for adapters such as the hooks.
///
/// ```
/// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// # runtime.block_on(async {
/// use std::time::Duration;
/// let never = futures::future::pending::<()>();
/// assert_eq!(rivet_core::runtime::timeout(Duration::from_millis(10), never).await, None);
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn timeout<F: Future>(deadline: Duration, future: F) -> Option<F::Output> {
    let future = std::pin::pin!(future);
    let timer = std::pin::pin!(sleep(deadline));
    match select(future, timer).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(((), _)) => None,
    }
}
