//! Lifecycle callbacks of a connection (`on_open`, `on_close`, `on_error`,
//! `on_status_change`) and the guard that removes one.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use super::ConnStatus;
use crate::Error;

#[cfg(not(target_arch = "wasm32"))]
pub(crate) type OpenFn = Arc<dyn Fn() + Send + Sync>;
#[cfg(target_arch = "wasm32")]
pub(crate) type OpenFn = Arc<dyn Fn()>;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) type ErrorFn = Arc<dyn Fn(&Error) + Send + Sync>;
#[cfg(target_arch = "wasm32")]
pub(crate) type ErrorFn = Arc<dyn Fn(&Error)>;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) type StatusFn = Arc<dyn Fn(ConnStatus) + Send + Sync>;
#[cfg(target_arch = "wasm32")]
pub(crate) type StatusFn = Arc<dyn Fn(ConnStatus)>;

/// One registered callback.
#[derive(Clone)]
pub(crate) enum Hook {
    Open(OpenFn),
    Close(ErrorFn),
    Error(ErrorFn),
    Status(StatusFn),
}

/// The registered callbacks. They are called outside the lock, so a callback may register
/// or drop others.
#[derive(Default)]
pub(crate) struct Hooks {
    inner: Mutex<HooksInner>,
}

#[derive(Default)]
struct HooksInner {
    next_id: u64,
    hooks: Vec<(u64, Hook)>,
}

impl Hooks {
    fn lock(&self) -> MutexGuard<'_, HooksInner> {
        // The list stays consistent: callbacks never run under this lock.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn add(self: &Arc<Self>, hook: Hook) -> CallbackGuard {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        inner.hooks.push((id, hook));
        CallbackGuard {
            hooks: Arc::downgrade(self),
            id,
        }
    }

    fn remove(&self, id: u64) {
        self.lock().hooks.retain(|(i, _)| *i != id);
    }

    fn snapshot(&self) -> Vec<Hook> {
        self.lock().hooks.iter().map(|(_, h)| h.clone()).collect()
    }

    pub(crate) fn opened(&self) {
        for hook in self.snapshot() {
            if let Hook::Open(f) = hook {
                f();
            }
        }
    }

    pub(crate) fn closed(&self, err: &Error) {
        for hook in self.snapshot() {
            if let Hook::Close(f) = hook {
                f(err);
            }
        }
    }

    pub(crate) fn error(&self, err: &Error) {
        for hook in self.snapshot() {
            if let Hook::Error(f) = hook {
                f(err);
            }
        }
    }

    pub(crate) fn status(&self, status: ConnStatus) {
        for hook in self.snapshot() {
            if let Hook::Status(f) = hook {
                f(status);
            }
        }
    }

    /// How many callbacks are registered (for leak checks).
    pub(crate) fn len(&self) -> usize {
        self.lock().hooks.len()
    }
}

/// Keeps a lifecycle callback ([`ActorConnection::on_open`](crate::ActorConnection::on_open)
/// and its siblings) registered; dropping it removes the callback.
///
/// ```no_run
/// # fn demo(conn: rivet_core::ActorConnection) {
/// let guard = conn.on_open(|| println!("connected"));
/// // ...
/// drop(guard); // no more calls
/// # }
/// ```
#[must_use = "the callback is removed when this guard is dropped"]
pub struct CallbackGuard {
    hooks: Weak<Hooks>,
    id: u64,
}

impl std::fmt::Debug for CallbackGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackGuard")
            .field("id", &self.id)
            .finish()
    }
}

impl CallbackGuard {
    /// Keeps the callback for as long as the connection lives, without a guard.
    pub fn forget(mut self) {
        self.hooks = Weak::new();
    }
}

impl Drop for CallbackGuard {
    fn drop(&mut self) {
        if let Some(hooks) = self.hooks.upgrade() {
            hooks.remove(self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn dropping_the_guard_removes_the_callback() {
        let hooks = Arc::new(Hooks::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let guard = hooks.add(Hook::Open(Arc::new(move || {
            c.fetch_add(1, Ordering::SeqCst);
        })));
        hooks.opened();
        hooks.status(ConnStatus::Connected);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        drop(guard);
        hooks.opened();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(hooks.len(), 0);
    }
}
