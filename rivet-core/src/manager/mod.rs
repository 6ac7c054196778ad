//! The shared connection manager: one connection per actor identity, shared by every
//! component that uses it, reference counted, closed a short grace period after the last
//! user goes.
//!
//! This is what React's `useActor` does through `@rivetkit/framework-base`, minus its
//! mistakes: identities are canonical (param key order and `"a"` vs `["a"]` do not open
//! extra sockets, nor does a different create input: the actor is created once),, a refused server is retried with backoff
//! by one connection rather than by every render, and nothing is kept per acquisition once
//! its lease is dropped. Both hook crates (`rivet-leptos`, `rivet-dioxus`) are thin adapters
//! over [`Lease`].
//!
//! ```no_run
//! # async fn demo(client: rivet_core::Client) -> rivet_core::Result<()> {
//! use rivet_core::manager::ActorOptions;
//!
//! let manager = client.manager();
//! let a = manager.acquire(ActorOptions::new("counter", "shared"))?;
//! let b = manager.acquire(ActorOptions::new("counter", ["shared"]))?; // same socket
//! let _listener = b.on("newCount", |event| println!("{:?}", event.args()));
//! a.ready().await?;
//! let n: i64 = a.connection().expect("enabled").action("increment", (1,)).await?;
//! drop((a, b)); // the socket closes after the grace period
//! # Ok(()) }
//! ```

mod lease;
mod options;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

pub use crate::identity::ActorIdentity;
pub use lease::Lease;
pub use options::{ActorOptions, Addressing, IntoActorOptions};

use crate::connection::ActorConnection;
use crate::observable::Observable;
use crate::shared::ClientInner;
use crate::{runtime, ConnStatus, Error, Result};

/// How long a connection outlives its last lease by default: long enough for an unmount
/// followed at once by a remount (React StrictMode, a route change that keeps the actor).
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_millis(1000);

/// Hands out [`Lease`]s on shared connections. Get it with
/// [`Client::manager`](crate::Client::manager); clones and every `client.manager()` of one
/// client share the same connections.
///
/// ```
/// # let client = rivet_core::Client::new("http://127.0.0.1:6420")?;
/// let manager = client.manager();
/// assert_eq!(manager.connection_count(), 0);
/// # Ok::<(), rivet_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ConnectionManager {
    client: Arc<ClientInner>,
    shared: Arc<ManagerShared>,
}

/// The manager's state, owned by the client.
#[derive(Debug)]
pub(crate) struct ManagerShared {
    state: Mutex<ManagerState>,
    connections: Observable<usize>,
}

#[derive(Debug)]
struct ManagerState {
    slots: HashMap<ActorIdentity, Slot>,
    grace: Duration,
    opened: u64,
}

/// One shared connection and how many leases hold it.
#[derive(Debug)]
struct Slot {
    entry: Arc<Entry>,
    leases: usize,
    /// Bumped on every release to zero and every re-acquire, so a grace timer that fires
    /// after a re-acquire knows it is stale.
    generation: u64,
}

/// What the leases of one identity share.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) connection: ActorConnection,
}

impl Default for ManagerShared {
    fn default() -> Self {
        Self {
            state: Mutex::new(ManagerState {
                slots: HashMap::new(),
                grace: DEFAULT_GRACE_PERIOD,
                opened: 0,
            }),
            connections: Observable::new(0),
        }
    }
}

impl ManagerShared {
    fn lock(&self) -> MutexGuard<'_, ManagerState> {
        // Every critical section leaves the map consistent; nothing user-supplied runs under it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish_count(&self, state: &ManagerState) {
        self.connections.set(state.slots.len());
    }

    /// Takes one more lease on `entry` if it is still the live one for `identity`.
    pub(crate) fn retain(&self, identity: &ActorIdentity, entry: &Arc<Entry>) {
        let mut state = self.lock();
        if let Some(slot) = state.slots.get_mut(identity) {
            if Arc::ptr_eq(&slot.entry, entry) {
                slot.leases += 1;
                slot.generation += 1;
            }
        }
    }

    /// Gives one lease back; the last one schedules the close after the grace period.
    pub(crate) fn release(self: &Arc<Self>, identity: &ActorIdentity, entry: &Arc<Entry>) {
        let (generation, grace) = {
            let mut state = self.lock();
            let grace = state.grace;
            let Some(slot) = state.slots.get_mut(identity) else {
                return;
            };
            if !Arc::ptr_eq(&slot.entry, entry) {
                return;
            }
            slot.leases = slot.leases.saturating_sub(1);
            if slot.leases > 0 {
                return;
            }
            slot.generation += 1;
            (slot.generation, grace)
        };
        if grace.is_zero() {
            self.expire(identity, generation);
            return;
        }
        let shared = Arc::downgrade(self);
        let identity_for_timer = identity.clone();
        let timer = async move {
            runtime::sleep(grace).await;
            if let Some(shared) = shared.upgrade() {
                shared.expire(&identity_for_timer, generation);
            }
        };
        if runtime::spawn(timer).is_err() {
            // No runtime to wait on (e.g. dropped outside tokio): close now rather than never.
            self.expire(identity, generation);
        }
    }

    /// Closes the connection of `identity` if nobody re-acquired it since `generation`.
    fn expire(&self, identity: &ActorIdentity, generation: u64) {
        let removed = {
            let mut state = self.lock();
            let stale = match state.slots.get(identity) {
                Some(slot) => slot.leases > 0 || slot.generation != generation,
                None => true,
            };
            if stale {
                return;
            }
            let removed = state.slots.remove(identity);
            self.publish_count(&state);
            removed
        };
        if let Some(slot) = removed {
            tracing::debug!(identity = %identity, "closing shared connection: no lease left");
            slot.entry.connection.close_in_background();
        }
    }

    /// Forgets every slot (their connections are being disposed by the client).
    pub(crate) fn clear(&self) {
        let mut state = self.lock();
        state.slots.clear();
        self.publish_count(&state);
    }
}

impl ConnectionManager {
    pub(crate) fn new(client: Arc<ClientInner>, shared: Arc<ManagerShared>) -> Self {
        Self { client, shared }
    }

    fn shared(&self) -> &Arc<ManagerShared> {
        &self.shared
    }

    /// A lease on the connection for `options`: the existing one of the same
    /// [identity](ActorOptions::identity) if any (cancelling its pending close), else a new
    /// one that starts connecting in the background. Disabled options open nothing. An
    /// existing connection that stopped for good (rejected, actor not found) is tried again:
    /// a new user is a reason to retry.
    ///
    /// Fails only on invalid options (an empty actor name or id) or, on native targets, when
    /// no tokio runtime is running.
    ///
    /// ```no_run
    /// # fn demo(client: rivet_core::Client) -> rivet_core::Result<()> {
    /// use rivet_core::manager::ActorOptions;
    /// let lease = client
    ///     .manager()
    ///     .acquire(ActorOptions::new("chatRoom", "general").params(&serde_json::json!({"user": "ada"}))?)?;
    /// println!("{}", lease.status());
    /// # Ok(()) }
    /// ```
    pub fn acquire<H>(&self, options: ActorOptions<H>) -> Result<Lease> {
        let identity = options.identity();
        let handle = options.handle(&self.client)?;
        let params_fn = options.params_function();
        if !options.is_enabled() {
            return Ok(
                Lease::disabled(self.shared().clone(), identity, handle).with_params_fn(params_fn)
            );
        }
        let shared = self.shared().clone();
        let mut state = shared.lock();
        if let Some(slot) = state.slots.get_mut(&identity) {
            // A connection ended by `Client::dispose` is replaced. One stopped by a terminal
            // error (rejected params, missing actor) is tried again: a new user may come
            // after the cause was fixed (the actor created, the token renewed), and would
            // otherwise never see a retry.
            let current = slot.entry.connection.state();
            let disposed = current.status == ConnStatus::Idle
                && matches!(current.last_error, Some(Error::Disposed { .. }));
            if !disposed {
                slot.leases += 1;
                slot.generation += 1;
                let entry = slot.entry.clone();
                drop(state);
                if current.terminal {
                    entry.connection.reconnect();
                }
                return Ok(Lease::shared(shared.clone(), identity, handle, entry)
                    .with_params_fn(params_fn));
            }
            state.slots.remove(&identity);
        }
        let connection = handle.connect_with(options.connect_options_for_lease())?;
        let entry = Arc::new(Entry { connection });
        state.slots.insert(
            identity.clone(),
            Slot {
                entry: entry.clone(),
                leases: 1,
                generation: 0,
            },
        );
        state.opened += 1;
        shared.publish_count(&state);
        drop(state);
        Ok(Lease::shared(shared.clone(), identity, handle, entry).with_params_fn(params_fn))
    }

    /// How long a connection stays open after its last lease is dropped.
    pub fn grace_period(&self) -> Duration {
        self.shared().lock().grace
    }

    /// Sets how long a connection stays open after its last lease is dropped (for releases
    /// from now on). Zero closes at once.
    ///
    /// ```
    /// # let client = rivet_core::Client::new("http://127.0.0.1:6420")?;
    /// client.manager().set_grace_period(std::time::Duration::from_millis(200));
    /// assert_eq!(client.manager().grace_period().as_millis(), 200);
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn set_grace_period(&self, grace: Duration) {
        self.shared().lock().grace = grace;
    }

    /// How many shared connections exist right now (held by a lease or in their grace period).
    pub fn connection_count(&self) -> usize {
        self.shared().lock().slots.len()
    }

    /// [`connection_count`](Self::connection_count) as an observable value.
    pub fn connection_count_observable(&self) -> Observable<usize> {
        self.shared().connections.clone()
    }

    /// How many connections this manager has opened since the client was created (for leak
    /// and churn checks: N leases of one identity open one).
    pub fn opened_total(&self) -> u64 {
        self.shared().lock().opened
    }

    /// How many leases hold the connection of `identity` right now.
    pub fn lease_count(&self, identity: &ActorIdentity) -> usize {
        self.shared()
            .lock()
            .slots
            .get(identity)
            .map_or(0, |slot| slot.leases)
    }
}
