//! The one place this crate mentions the target: what may cross threads.
//!
//! In the browser `rivet-core`'s connections are not `Send`, so signals holding them use
//! Leptos's thread-local storage there; natively (tests, server rendering) everything is
//! `Send + Sync` and ordinary storage is used, so nothing is ever dropped on a foreign thread.

use std::future::Future;
use std::sync::Arc;

use rivet_core::runtime::BoxFuture;
use rivet_core::Result;
use serde_json::Value;

/// The signal storage for values holding a connection or handle: [`SyncStorage`] natively,
/// [`LocalStorage`] in the browser, where `rivet-core`'s connection is not `Send`.
///
/// ```
/// use leptos::prelude::*;
/// use rivet_leptos::ConnStorage;
///
/// # let owner = Owner::new(); owner.set();
/// let slot: RwSignal<Option<u8>, ConnStorage> = RwSignal::new_with_storage(None);
/// assert_eq!(slot.get_untracked(), None);
/// ```
///
/// [`SyncStorage`]: leptos::prelude::SyncStorage
/// [`LocalStorage`]: leptos::prelude::LocalStorage
#[cfg(not(target_arch = "wasm32"))]
pub type ConnStorage = leptos::prelude::SyncStorage;

/// The signal storage for values holding a connection or handle: [`SyncStorage`] natively,
/// [`LocalStorage`] in the browser, where `rivet-core`'s connection is not `Send`.
///
/// ```ignore
/// use leptos::prelude::*;
/// use rivet_leptos::ConnStorage;
///
/// let slot: RwSignal<Option<u8>, ConnStorage> = RwSignal::new_with_storage(None);
/// ```
///
/// [`SyncStorage`]: leptos::prelude::SyncStorage
/// [`LocalStorage`]: leptos::prelude::LocalStorage
#[cfg(target_arch = "wasm32")]
pub type ConnStorage = leptos::prelude::LocalStorage;

/// `Send + Sync` natively, nothing in the browser: the bound `rivet-core` puts on callbacks
/// (such as a params function) on each target.
///
/// ```
/// fn takes<F: rivet_leptos::MaybeSendSync>(_: F) {}
/// takes(|| 1);
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSendSync: Send + Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + Sync + ?Sized> MaybeSendSync for T {}

/// `Send + Sync` natively, nothing in the browser: the bound `rivet-core` puts on callbacks
/// (such as a params function) on each target.
///
/// ```ignore
/// fn takes<F: rivet_leptos::MaybeSendSync>(_: F) {}
/// takes(|| 1);
/// ```
#[cfg(target_arch = "wasm32")]
pub trait MaybeSendSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSendSync for T {}

/// `Send` natively, nothing in the browser: rivet-core's bound on futures (such as the one a
/// params function returns), re-exported so hook users name one trait.
pub use rivet_core::runtime::MaybeSend;

/// A boxed params future, `Send` where the target needs it.
pub(crate) type ParamsFuture = BoxFuture<'static, Result<Value>>;

#[cfg(not(target_arch = "wasm32"))]
pub(crate) type ParamsFn = Arc<dyn Fn() -> ParamsFuture + Send + Sync>;
/// A shared params function, `Send + Sync` where the target needs it.
#[cfg(target_arch = "wasm32")]
pub(crate) type ParamsFn = Arc<dyn Fn() -> ParamsFuture>;

/// Boxes a user's params function.
pub(crate) fn params_fn<F, Fut>(f: F) -> ParamsFn
where
    F: Fn() -> Fut + MaybeSendSync + 'static,
    Fut: Future<Output = Result<Value>> + MaybeSend + 'static,
{
    Arc::new(move || -> ParamsFuture { Box::pin(f()) })
}

/// A value a context can hold on every target: itself natively, a [`SendWrapper`] in the
/// single-threaded browser.
///
/// [`SendWrapper`]: send_wrapper::SendWrapper
#[derive(Clone, Debug)]
pub(crate) struct ThreadBound<T>(
    #[cfg(not(target_arch = "wasm32"))] T,
    #[cfg(target_arch = "wasm32")] send_wrapper::SendWrapper<T>,
);

impl<T> ThreadBound<T> {
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn new(value: T) -> Self {
        Self(value)
    }

    #[cfg(target_arch = "wasm32")]
    pub(crate) fn new(value: T) -> Self {
        Self(send_wrapper::SendWrapper::new(value))
    }

    pub(crate) fn get(&self) -> &T {
        &self.0
    }
}
