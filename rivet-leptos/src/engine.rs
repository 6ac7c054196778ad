//! What every actor hook of this crate is made of: options read reactively inside an effect,
//! a lease on the shared connection of their identity, and signals mirroring its state.
//! The typed [`UseActor`](crate::UseActor) and the untyped
//! [`UseActorReturn`](crate::UseActorReturn) are two faces of one [`Core`].

use std::time::Duration;

use futures::future::{AbortHandle, Abortable};
use futures::{FutureExt, StreamExt};
use leptos::prelude::*;
use leptos::task::spawn_local;
use rivet_core::manager::{ActorIdentity, ActorOptions, Lease};
use rivet_core::observable::Observable;
use rivet_core::{ActorConnection, ActorHandle, ConnStatus, ConnectionState, Error, Result};

use crate::platform::ConnStorage;
use crate::provider::use_rivet_client;

/// How long an action called on a hook waits for the hook to have a connection: the default
/// action deadline of a connection.
pub(crate) const CONNECTION_WAIT: Duration = Duration::from_secs(60);

/// What a call made on the hook gets: a connection, or why there is none.
#[derive(Clone, Debug)]
pub(crate) enum Slot {
    /// The component has not run its effect yet (just created, not mounted).
    Pending,
    /// The shared connection.
    Ready(ActorConnection),
    /// Disabled, no client, invalid options, unmounted, server rendering.
    Unavailable(Error),
}

/// The signals and stores of one actor hook; `Copy`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Core {
    pub(crate) state: RwSignal<ConnectionState>,
    pub(crate) setup_error: RwSignal<Option<Error>>,
    pub(crate) connection: RwSignal<Option<ActorConnection>, ConnStorage>,
    pub(crate) handle: RwSignal<Option<ActorHandle>, ConnStorage>,
    pub(crate) slot: StoredValue<Observable<Slot>, ConnStorage>,
    held: StoredValue<Option<Held>, ConnStorage>,
    retry: RwSignal<u64>,
}

/// A lease and the tasks that mirror it into signals; dropping it stops them.
struct Held {
    lease: Lease,
    tasks: Vec<AbortHandle>,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.lease.fmt(f)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Runs `task` on the reactive thread until the returned handle aborts it.
fn spawn_abortable(task: impl std::future::Future<Output = ()> + 'static) -> AbortHandle {
    let (abort, registration) = AbortHandle::new_pair();
    spawn_local(async move {
        let _ = Abortable::new(task, registration).await;
    });
    abort
}

impl Core {
    /// Holds the connection `build` describes while the current owner lives. `build` runs in
    /// an effect, so the signals it reads are tracked: when they change so that another
    /// identity is meant, the old lease is released and the new one taken.
    pub(crate) fn new<H: 'static>(build: impl Fn() -> Result<ActorOptions<H>> + 'static) -> Self {
        let client = use_rivet_client();
        let initial = if cfg!(feature = "ssr") {
            Slot::Unavailable(server_rendering())
        } else {
            Slot::Pending
        };
        let core = Core {
            state: RwSignal::new(ConnectionState::default()),
            setup_error: RwSignal::new(None),
            connection: RwSignal::new_with_storage(None),
            handle: RwSignal::new_with_storage(None),
            slot: StoredValue::new_with_storage(Observable::new(initial)),
            held: StoredValue::new_with_storage(None),
            retry: RwSignal::new(0),
        };
        Effect::new(move |previous: Option<Option<(ActorIdentity, bool)>>| {
            if cfg!(feature = "ssr") {
                // Effects do not run on the server anyway; this keeps it so in test builds
                // that enable them.
                return None;
            }
            core.retry.track();
            let built = build();
            let wanted = built.as_ref().ok().map(|o| (o.identity(), o.is_enabled()));
            if let (Some(Some(previous)), Some(wanted)) = (&previous, &wanted) {
                if previous == wanted {
                    return Some(wanted.clone());
                }
            }
            let acquired = match (&client, built) {
                (None, _) => Err(no_client()),
                (_, Err(error)) => Err(error),
                (Some(client), Ok(built)) => client.manager().acquire(built),
            };
            match acquired {
                Ok(lease) => {
                    core.hold(lease);
                    wanted
                }
                Err(error) => {
                    core.fail(error);
                    // Not remembered: the next run (any tracked change, or `reconnect`)
                    // tries the same identity again.
                    None
                }
            }
        });
        on_cleanup(move || {
            // Release now rather than when the arena happens to drop the value.
            core.held.try_update_value(|held| held.take());
            if let Some(slot) = core.slot.try_get_value() {
                slot.set(Slot::Unavailable(unmounted()));
            }
        });
        core
    }

    fn hold(self, lease: Lease) {
        self.setup_error.set(None);
        self.state.set(lease.state());
        let connection = lease.connection();
        self.connection.set(connection.clone());
        let mut tasks = Vec::new();
        // With a params function the stateless handle needs its value; without one it is
        // ready at once.
        let handle = lease.stateless_handle();
        match handle.now_or_never() {
            Some(handle) => self.handle.set(handle.ok()),
            None => {
                self.handle.set(None);
                let lease = lease.clone();
                let target = self.handle;
                let setup_error = self.setup_error;
                tasks.push(spawn_abortable(async move {
                    match lease.stateless_handle().await {
                        Ok(handle) => {
                            target.try_set(Some(handle));
                        }
                        Err(error) => {
                            setup_error.try_set(Some(error));
                        }
                    }
                }));
            }
        }
        let mut states = lease.states();
        let state = self.state;
        let refresh = HandleRefresh::new(&lease, self.handle);
        tasks.push(spawn_abortable(async move {
            let mut refresh = refresh;
            while let Some(next) = states.next().await {
                let connected = next.status == ConnStatus::Connected;
                if state.try_set(next).is_some() {
                    break; // the owner is gone
                }
                refresh.on_status(connected);
            }
        }));
        // Replacing drops the old lease only after the new one holds its connection.
        self.held.set_value(Some(Held { lease, tasks }));
        self.publish(match connection {
            Some(connection) => Slot::Ready(connection),
            None => Slot::Unavailable(disabled()),
        });
    }

    fn fail(self, error: Error) {
        self.held.set_value(None);
        self.state.set(ConnectionState::default());
        self.connection.set(None);
        self.handle.set(None);
        self.setup_error.set(Some(error.clone()));
        self.publish(Slot::Unavailable(error));
    }

    fn publish(self, slot: Slot) {
        if let Some(observable) = self.slot.try_get_value() {
            observable.set(slot);
        }
    }

    /// The status, derived.
    pub(crate) fn status(self) -> Signal<ConnStatus> {
        let state = self.state;
        Memo::new(move |_| state.with(|s| s.status)).into()
    }

    /// Whether connected, derived.
    pub(crate) fn is_connected(self) -> Signal<bool> {
        let state = self.state;
        Memo::new(move |_| state.with(|s| s.status == ConnStatus::Connected)).into()
    }

    /// The setup error or the connection's last error. The connection clears its last error
    /// when a socket reaches `Connected`, so an error seen while connected is a
    /// connection-level `Error` from the server, shown at once.
    pub(crate) fn error(self) -> Signal<Option<Error>> {
        let (setup_error, state) = (self.setup_error, self.state);
        Signal::derive(move || {
            setup_error
                .get()
                .or_else(|| state.with(|s| s.last_error.clone()))
        })
    }

    /// Tries again now: the connection after a terminal error (or skipping a retry's wait),
    /// or the acquisition itself when it failed.
    pub(crate) fn reconnect(self) {
        let reconnected = self
            .held
            .try_with_value(|held| held.as_ref().map(|held| held.lease.reconnect()).is_some())
            .unwrap_or(false);
        if !reconnected {
            self.retry.try_update(|n| *n += 1);
        }
    }

    /// The identity held right now, if any.
    pub(crate) fn identity(self) -> Option<ActorIdentity> {
        self.held
            .try_with_value(|held| held.as_ref().map(|h| h.lease.identity().clone()))
            .flatten()
    }

    /// The connection calls made now go over: waits (up to [`CONNECTION_WAIT`]) until the
    /// hook has one, fails at once when it cannot have one.
    pub(crate) fn wait_for_connection(
        self,
    ) -> impl std::future::Future<Output = Result<ActorConnection>> {
        let slot = self.slot.try_get_value();
        async move {
            let slot = slot.ok_or_else(unmounted)?;
            let ready = rivet_core::runtime::timeout(
                CONNECTION_WAIT,
                slot.wait_for(|s| !matches!(s, Slot::Pending)),
            )
            .await;
            match ready {
                Some(Slot::Ready(connection)) => Ok(connection),
                Some(Slot::Unavailable(error)) => Err(error),
                Some(Slot::Pending) | None => Err(Error::Timeout {
                    operation: "waiting for the actor hook to connect (is the component mounted?)"
                        .to_owned(),
                    after: CONNECTION_WAIT,
                }),
            }
        }
    }
}

pub(crate) fn no_client() -> Error {
    Error::InvalidInput {
        field: "client",
        value: String::new(),
        reason: "no Rivet client in context: call provide_rivet(client) or wrap the app in \
                 <RivetProvider>"
            .to_owned(),
    }
}

fn disabled() -> Error {
    Error::InvalidInput {
        field: "enabled",
        value: "false".to_owned(),
        reason: "the actor hook is disabled and has no connection; enable it before calling \
                 actions"
            .to_owned(),
    }
}

fn unmounted() -> Error {
    Error::InvalidInput {
        field: "connection",
        value: "unmounted".to_owned(),
        reason: "the component of this actor hook was cleaned up".to_owned(),
    }
}

fn server_rendering() -> Error {
    Error::InvalidInput {
        field: "connection",
        value: "ssr".to_owned(),
        reason: "actor hooks do not connect during server rendering; call actions from the \
                 browser (event handlers, effects)"
            .to_owned(),
    }
}

/// Keeps the hook's stateless handle on the params the connection uses: with a params
/// function, every reconnect calls it again, and the handle follows with a fresh value (so
/// a refreshed token reaches stateless calls too). Static params never change.
struct HandleRefresh {
    lease: Option<Lease>,
    target: RwSignal<Option<ActorHandle>, ConnStorage>,
    was_connected: bool,
    connected_before: bool,
}

impl HandleRefresh {
    fn new(lease: &Lease, target: RwSignal<Option<ActorHandle>, ConnStorage>) -> Self {
        Self {
            // Static params never change; only a params function's handle is refreshed.
            lease: lease.has_params_fn().then(|| lease.clone()),
            target,
            was_connected: false,
            connected_before: false,
        }
    }

    /// Called with every state: on each reconnect after the first connection, resolves the
    /// handle again (the first one was resolved when the hook took the lease).
    fn on_status(&mut self, connected: bool) {
        let reconnected = connected && !self.was_connected && self.connected_before;
        self.was_connected = connected;
        self.connected_before |= connected;
        let Some(lease) = self.lease.clone().filter(|_| reconnected) else {
            return;
        };
        let target = self.target;
        spawn_local(async move {
            if let Ok(handle) = lease.stateless_handle().await {
                target.try_set(Some(handle));
            }
        });
    }
}
