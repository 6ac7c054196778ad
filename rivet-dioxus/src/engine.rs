//! What every actor hook of this crate is made of: options built inside an effect (the
//! signals they read are tracked), a lease on the shared connection of their identity, and
//! signals mirroring its state. The typed [`UseActor`](crate::UseActor) and the untyped
//! [`UseActorReturn`](crate::UseActorReturn) are two faces of one [`Core`].

use std::time::Duration;

use dioxus::core::Task;
use dioxus::prelude::*;
use futures::{FutureExt, StreamExt};
use rivet_core::manager::{ActorIdentity, ActorOptions, Lease};
use rivet_core::observable::Observable;
use rivet_core::{ActorConnection, ActorHandle, ConnStatus, ConnectionState, Error, Result};

use crate::provider::use_rivet_context;

/// How long an action called on a hook waits for the hook to have a connection: the default
/// action deadline of a connection.
pub(crate) const CONNECTION_WAIT: Duration = Duration::from_secs(60);

/// What a call made on the hook gets: a connection, or why there is none.
#[derive(Clone, Debug)]
pub(crate) enum Slot {
    /// The component's effect has not run yet (just rendered, not mounted).
    Pending,
    /// The shared connection.
    Ready(ActorConnection),
    /// Disabled, no client, invalid options, unmounted.
    Unavailable(Error),
}

/// The signals and stores of one actor hook; `Copy`.
#[derive(Clone, Copy, PartialEq)]
pub(crate) struct Core {
    pub(crate) state: Signal<ConnectionState>,
    pub(crate) connection: Signal<Option<ActorConnection>>,
    pub(crate) handle: Signal<Option<ActorHandle>>,
    /// Read-only views, made once in the component's scope (a conversion allocates).
    pub(crate) read: ReadOnly,
    lease: CopyValue<Option<Lease>>,
    slot: CopyValue<Observable<Slot>>,
    effect: CopyValue<Option<Effect>>,
}

/// The read-only signals of a hook.
#[derive(Clone, Copy, PartialEq)]
pub(crate) struct ReadOnly {
    pub(crate) state: ReadSignal<ConnectionState>,
    pub(crate) status: ReadSignal<ConnStatus>,
    pub(crate) is_connected: ReadSignal<bool>,
    pub(crate) error: ReadSignal<Option<Error>>,
    pub(crate) connection: ReadSignal<Option<ActorConnection>>,
    pub(crate) handle: ReadSignal<Option<ActorHandle>>,
}

/// Holds the connection `build` describes while the component is mounted. `build` runs in an
/// effect: the signals it reads are tracked, and every render lets it run again (with the
/// newest props); when the identity it gives differs from the held one, the old lease is
/// released and the new one taken.
#[track_caller]
pub(crate) fn use_core<H: 'static>(build: impl Fn() -> Result<ActorOptions<H>> + 'static) -> Core {
    let client = use_rivet_context();
    let mut state = use_signal(ConnectionState::default);
    let mut connection = use_signal(|| None::<ActorConnection>);
    let mut handle = use_signal(|| None::<ActorHandle>);
    let mut lease = use_hook(|| CopyValue::new(None::<Lease>));
    let mut tasks = use_hook(|| CopyValue::new(Vec::<Task>::new()));
    let slot = use_hook(|| CopyValue::new(Observable::new(Slot::Pending)));
    // What the lease was acquired for; a run with the same result keeps it.
    let mut acquired = use_hook(|| CopyValue::new(None::<(ActorIdentity, bool)>));
    let mut stored_effect = use_hook(|| CopyValue::new(None::<Effect>));
    let mut first_render = use_hook(|| CopyValue::new(true));

    let mut effect = use_effect(move || {
        let resolved = build();
        let wanted = resolved
            .as_ref()
            .ok()
            .map(|o| (o.identity(), o.is_enabled()));
        if wanted.is_some() && *acquired.peek() == wanted {
            return;
        }
        for task in tasks.write().drain(..) {
            task.cancel();
        }
        let next = match (&client, resolved) {
            (Err(e), _) => Err(e.clone()),
            (Ok(_), Err(e)) => Err(e),
            (Ok(client), Ok(options)) => client.manager().acquire(options),
        };
        match next {
            Ok(next) => {
                acquired.set(wanted);
                let mut states = next.states();
                let held = next.connection();
                connection.set(held.clone());
                // With a params function the stateless handle needs its value; without one
                // it is ready at once.
                match next.stateless_handle().now_or_never() {
                    Some(ready) => handle.set(ready.ok()),
                    None => {
                        handle.set(None);
                        let pending = next.clone();
                        tasks.write().push(spawn(async move {
                            if let Ok(ready) = pending.stateless_handle().await {
                                handle.set(Some(ready));
                            }
                        }));
                    }
                }
                // With a params function every reconnect calls it again; the stateless
                // handle follows with a fresh value (a refreshed token reaches stateless
                // calls too). Static params never change.
                let refresh = next.has_params_fn().then(|| next.clone());
                // Replacing drops the old lease only after the new one holds its connection.
                lease.set(Some(next));
                tasks.write().push(spawn(async move {
                    let (mut was_connected, mut connected_before) = (false, false);
                    while let Some(next_state) = states.next().await {
                        let connected = next_state.status == ConnStatus::Connected;
                        state.set(next_state);
                        let reconnected = connected && !was_connected && connected_before;
                        was_connected = connected;
                        connected_before |= connected;
                        if let Some(lease) = refresh.clone().filter(|_| reconnected) {
                            // Its own task: a slow params function does not hold up the
                            // state updates.
                            spawn(async move {
                                if let Ok(fresh) = lease.stateless_handle().await {
                                    handle.set(Some(fresh));
                                }
                            });
                        }
                    }
                }));
                slot.peek().set(match held {
                    Some(held) => Slot::Ready(held),
                    None => Slot::Unavailable(disabled()),
                });
            }
            Err(error) => {
                // Not remembered: the next run (a render, a tracked change, `reconnect`)
                // tries the same identity again.
                acquired.set(None);
                lease.set(None);
                connection.set(None);
                handle.set(None);
                let mut failed = ConnectionState::default();
                failed.last_error = Some(error.clone());
                failed.terminal = true;
                state.set(failed);
                slot.peek().set(Slot::Unavailable(error));
            }
        }
    });
    stored_effect.set(Some(effect));
    if *first_render.peek() {
        first_render.set(false);
    } else {
        // New props may mean a new identity; the effect compares and keeps the lease if not.
        effect.mark_dirty();
    }

    use_drop(move || {
        for task in tasks.write().drain(..) {
            task.cancel();
        }
        lease.write().take();
        slot.peek().set(Slot::Unavailable(unmounted()));
    });

    let status = use_memo(move || state.read().status);
    let is_connected = use_memo(move || state.read().status == ConnStatus::Connected);
    let error = use_memo(move || state.read().last_error.clone());
    let read = use_hook(|| ReadOnly {
        state: state.into(),
        status: status.into(),
        is_connected: is_connected.into(),
        error: error.into(),
        connection: connection.into(),
        handle: handle.into(),
    });
    Core {
        state,
        connection,
        handle,
        read,
        lease,
        slot,
        effect: stored_effect,
    }
}

impl Core {
    /// Tries again now: the connection after a terminal error (or skipping a retry's wait),
    /// or the acquisition itself when it failed.
    pub(crate) fn reconnect(self) {
        let reconnected = self
            .lease
            .try_peek()
            .ok()
            .and_then(|lease| lease.as_ref().map(Lease::reconnect))
            .is_some();
        if !reconnected {
            if let Some(mut effect) = self.effect.try_peek().ok().and_then(|e| *e) {
                effect.mark_dirty();
            }
        }
    }

    /// The identity held right now, if any.
    pub(crate) fn identity(self) -> Option<ActorIdentity> {
        self.lease
            .try_peek()
            .ok()
            .and_then(|lease| lease.as_ref().map(|l| l.identity().clone()))
    }

    /// The connection calls made now go over: waits (up to [`CONNECTION_WAIT`]) until the
    /// hook has one, fails at once when it cannot have one. Reads the hook now, so the
    /// future holds no signal (it is `Send` natively).
    pub(crate) fn wait_for_connection(
        self,
    ) -> impl std::future::Future<Output = Result<ActorConnection>> {
        let slot = self.slot.try_peek().ok().map(|slot| slot.clone());
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
        reason: "the component of this actor hook was unmounted".to_owned(),
    }
}
