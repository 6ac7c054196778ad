//! [`Lease`]: one user's hold on a shared connection.

use std::sync::Arc;

use super::{ActorIdentity, Entry, ManagerShared};
use crate::connection::{Event, EventStream, EventSubscription, ParamsFn};
use crate::observable::{Changes, Observable};
use crate::{ActorConnection, ActorHandle, ConnStatus, ConnectionState, Error, Result};

/// One user's hold on a shared connection, from [`ConnectionManager::acquire`]. Every lease
/// of one identity sees the same connection and the same state; the connection closes a
/// grace period after the last lease (and its clones) is dropped.
///
/// Cloning a lease takes another hold on the same connection.
///
/// ```no_run
/// # async fn demo(client: rivet_core::Client) -> rivet_core::Result<()> {
/// use futures::StreamExt;
/// use rivet_core::manager::ActorOptions;
///
/// let lease = client.manager().acquire(ActorOptions::new("counter", "demo"))?;
/// let mut states = lease.states(); // current state first, then every change (bounded)
/// while let Some(state) = states.next().await {
///     println!("{} (error: {:?})", state.status, state.last_error);
///     if state.is_connected() { break; }
/// }
/// # Ok(()) }
/// ```
///
/// [`ConnectionManager::acquire`]: super::ConnectionManager::acquire
pub struct Lease {
    shared: Arc<ManagerShared>,
    identity: ActorIdentity,
    handle: ActorHandle,
    /// The options' params function, for [`Lease::stateless_handle`].
    params_fn: Option<ParamsFn>,
    hold: Hold,
}

/// What a lease holds.
#[derive(Clone)]
enum Hold {
    /// A share of the connection of its identity.
    Shared(Arc<Entry>),
    /// Nothing (disabled options): the state stays `Idle`.
    Disabled(Observable<ConnectionState>),
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("identity", &self.identity)
            .field("enabled", &self.is_enabled())
            .field("status", &self.status())
            .finish()
    }
}

impl Lease {
    pub(super) fn shared(
        shared: Arc<ManagerShared>,
        identity: ActorIdentity,
        handle: ActorHandle,
        entry: Arc<Entry>,
    ) -> Self {
        Self {
            shared,
            identity,
            handle,
            params_fn: None,
            hold: Hold::Shared(entry),
        }
    }

    /// Attaches the options' params function.
    pub(super) fn with_params_fn(mut self, params_fn: Option<ParamsFn>) -> Self {
        self.params_fn = params_fn;
        self
    }

    pub(super) fn disabled(
        shared: Arc<ManagerShared>,
        identity: ActorIdentity,
        handle: ActorHandle,
    ) -> Self {
        Self {
            shared,
            identity,
            handle,
            params_fn: None,
            hold: Hold::Disabled(Observable::new(ConnectionState::default())),
        }
    }

    /// The identity this lease holds.
    pub fn identity(&self) -> &ActorIdentity {
        &self.identity
    }

    /// Whether this lease has a connection (its options were enabled).
    pub fn is_enabled(&self) -> bool {
        matches!(self.hold, Hold::Shared(_))
    }

    fn entry(&self) -> Option<&Arc<Entry>> {
        match &self.hold {
            Hold::Shared(entry) => Some(entry),
            Hold::Disabled(_) => None,
        }
    }

    /// The stateless handle of the actor (HTTP actions, queues, raw fetch), with the lease's
    /// static params attached. Options with a params function (`params_fn`) have no static
    /// params: use [`stateless_handle`](Self::stateless_handle) for calls the actor checks.
    pub fn handle(&self) -> &ActorHandle {
        &self.handle
    }

    /// Whether this lease's params come from a params function (`params_fn`), so that
    /// [`stateless_handle`](Self::stateless_handle) calls it and its value may change
    /// between reconnects.
    ///
    /// ```no_run
    /// # fn demo(client: rivet_core::Client) -> rivet_core::Result<()> {
    /// use rivet_core::manager::ActorOptions;
    /// let lease = client.manager().acquire(ActorOptions::new("counter", "demo"))?;
    /// assert!(!lease.has_params_fn());
    /// # Ok(()) }
    /// ```
    pub fn has_params_fn(&self) -> bool {
        self.params_fn.is_some()
    }

    /// The stateless handle with the params this lease connects with: the static params, or
    /// the value the params function produces now (called on every use, so a refreshed
    /// token is picked up). Fails with the params function's error.
    ///
    /// ```no_run
    /// # async fn demo(client: rivet_core::Client) -> rivet_core::Result<()> {
    /// use rivet_core::manager::ActorOptions;
    /// let options = ActorOptions::new("chatRoom", "general")
    ///     .params_fn(&"ada", || async { Ok(serde_json::json!({ "token": "secret" })) })?;
    /// let lease = client.manager().acquire(options)?;
    /// let history: serde_json::Value =
    ///     lease.stateless_handle().await?.action("getHistory", ()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn stateless_handle(&self) -> Result<ActorHandle> {
        match &self.params_fn {
            Some(params) => {
                let value = params().await?;
                self.handle.with_params(&value)
            }
            None => Ok(self.handle.clone()),
        }
    }

    /// The shared connection, for calling actions; `None` when disabled. Calls made before
    /// it is connected wait in its queue.
    pub fn connection(&self) -> Option<ActorConnection> {
        self.entry().map(|entry| entry.connection.clone())
    }

    /// The state right now (the same for every lease of this identity).
    pub fn state(&self) -> ConnectionState {
        self.observable_state().get()
    }

    /// The phase right now.
    pub fn status(&self) -> ConnStatus {
        self.state().status
    }

    /// Whether the connection is `Connected` right now.
    pub fn is_connected(&self) -> bool {
        self.status() == ConnStatus::Connected
    }

    /// The error that ended the last socket or attempt, if any.
    pub fn error(&self) -> Option<Error> {
        self.state().last_error
    }

    /// The state as an observable value, for adapters that turn it into signals.
    pub fn observable_state(&self) -> Observable<ConnectionState> {
        match &self.hold {
            Hold::Shared(entry) => entry.connection.observable_state(),
            Hold::Disabled(idle) => idle.clone(),
        }
    }

    /// The current state followed by every change, in order; like
    /// [`ActorConnection::states`], a reader more than
    /// [`BUFFERED_CHANGES`](crate::observable::BUFFERED_CHANGES) changes behind skips the
    /// oldest ones ([`Changes::lagged`] counts them) and still ends at the current state.
    pub fn states(&self) -> Changes<ConnectionState> {
        self.observable_state().subscribe()
    }

    /// Resolves when connected; fails with the terminal error, or with
    /// [`Error::InvalidInput`] for a disabled lease (it would never connect).
    pub async fn ready(&self) -> Result<()> {
        match self.entry() {
            Some(entry) => entry.connection.ready().await,
            None => Err(Error::invalid(
                "enabled",
                "false",
                "this lease is disabled and never connects; acquire with enabled(true)",
            )),
        }
    }

    /// Tries again now after a terminal error (or skips a scheduled retry's wait).
    pub fn reconnect(&self) {
        if let Some(entry) = self.entry() {
            entry.connection.reconnect();
        }
    }

    /// Calls `callback` for every `event` until the guard is dropped. Leases of one identity
    /// share one server subscription per event name; it is removed with the last listener.
    /// On a disabled lease the guard is inert.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn on(
        &self,
        event: &str,
        callback: impl Fn(&Event) + Send + Sync + 'static,
    ) -> EventSubscription {
        match self.entry() {
            Some(entry) => entry.connection.on(event, callback),
            None => EventSubscription::inert(event),
        }
    }

    /// Calls `callback` for every `event` until the guard is dropped. Leases of one identity
    /// share one server subscription per event name; it is removed with the last listener.
    /// On a disabled lease the guard is inert.
    #[cfg(target_arch = "wasm32")]
    pub fn on(&self, event: &str, callback: impl Fn(&Event) + 'static) -> EventSubscription {
        match self.entry() {
            Some(entry) => entry.connection.on(event, callback),
            None => EventSubscription::inert(event),
        }
    }

    /// A stream of `event`'s occurrences; dropping it unsubscribes. On a disabled lease the
    /// stream ends at once.
    pub fn events(&self, event: &str) -> EventStream {
        match self.entry() {
            Some(entry) => entry.connection.events(event),
            None => EventStream::ended(event),
        }
    }
}

impl Clone for Lease {
    fn clone(&self) -> Self {
        if let Some(entry) = self.entry() {
            self.shared.retain(&self.identity, entry);
        }
        Self {
            shared: self.shared.clone(),
            identity: self.identity.clone(),
            handle: self.handle.clone(),
            params_fn: self.params_fn.clone(),
            hold: self.hold.clone(),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(entry) = self.entry() {
            self.shared.release(&self.identity, entry);
        }
    }
}
