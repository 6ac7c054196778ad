//! Which connections of a client are alive, so `Client::dispose` can close them all and tests
//! can prove none is left running.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::channel::oneshot;

use crate::observable::Observable;
use crate::runtime::{MaybeSend, MaybeSync};

/// How the tracker asks one connection task to end; the connection implements it for its
/// command channel, so the client's state below it does not name the connection's types.
pub(crate) trait Shutdown: MaybeSend + MaybeSync {
    /// Asks the task to shut down and to signal `done` once it has ended; `false` if the
    /// task is gone already.
    fn shutdown(&self, done: oneshot::Sender<()>) -> bool;
}

/// The live connection tasks of one client.
#[derive(Default)]
pub(crate) struct Connections {
    inner: Mutex<Inner>,
    live: Observable<usize>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    drivers: HashMap<u64, Arc<dyn Shutdown>>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("live", &self.live.get())
            .finish()
    }
}

impl Connections {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a new driver; the guard removes it when the driver task ends.
    pub(crate) fn register(self: &Arc<Self>, commands: impl Shutdown + 'static) -> ConnectionGuard {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        inner.drivers.insert(id, Arc::new(commands));
        self.live.set(inner.drivers.len());
        ConnectionGuard {
            connections: self.clone(),
            id,
        }
    }

    /// How many connection tasks are running.
    pub(crate) fn live(&self) -> Observable<usize> {
        self.live.clone()
    }

    /// Shuts every connection down and waits until their tasks have ended.
    pub(crate) async fn shutdown_all(&self) {
        let senders: Vec<_> = self.lock().drivers.values().cloned().collect();
        let mut waits = Vec::new();
        for sender in senders {
            let (done, finished) = oneshot::channel();
            if sender.shutdown(done) {
                waits.push(finished);
            }
        }
        for wait in waits {
            let _ = wait.await;
        }
    }
}

/// Held by a driver task; unregisters it when the task ends.
pub(crate) struct ConnectionGuard {
    connections: Arc<Connections>,
    id: u64,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let mut inner = self.connections.lock();
        inner.drivers.remove(&self.id);
        self.connections.live.set(inner.drivers.len());
    }
}
