//! [`use_actor`]: a lease on a shared actor connection, held for the component's lifetime.

use dioxus::core::Task;
use dioxus::prelude::*;
use futures::StreamExt;
use rivet_core::manager::{ActorIdentity, Lease};
use rivet_core::{ActorConnection, ActorHandle, ActorKey, ConnStatus, ConnectionState, Error};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::provider::use_rivet_context;
use crate::{Input, UseActorOptions};

/// What [`use_actor`] returns: `Copy`, so it can be moved into closures and passed to
/// [`use_event`](crate::use_event) and [`use_actor_action`](crate::use_actor_action). Every
/// field is a signal written on the `VirtualDom`'s thread; reading one in a component
/// re-renders it on change.
#[derive(Clone, Copy, PartialEq)]
pub struct UseActor {
    /// The whole connection state (status, attempt, last error, retry delay, ids).
    pub state: ReadSignal<ConnectionState>,
    /// The phase (React's `connStatus`): `Idle`, `Connecting`, `Connected`, `Disconnected`.
    pub status: ReadSignal<ConnStatus>,
    /// Whether the status is `Connected`.
    pub is_connected: ReadSignal<bool>,
    /// The error that ended the last socket or attempt (e.g. a rejected connection).
    pub error: ReadSignal<Option<Error>>,
    /// The shared connection, for actions and events; `None` while disabled.
    pub connection: ReadSignal<Option<ActorConnection>>,
    /// The stateless handle (HTTP actions, queues, raw fetch); `None` until the first
    /// acquisition or when the options are invalid.
    pub handle: ReadSignal<Option<ActorHandle>>,
    lease: CopyValue<Option<Lease>>,
}

impl UseActor {
    /// Calls `action` over the connection (React's `actor.connection.action(...)`). Calls
    /// made while connecting wait in the connection's queue.
    ///
    /// Fails with [`Error::InvalidInput`] when the actor is disabled.
    pub async fn action<R: DeserializeOwned>(
        &self,
        action: &str,
        args: impl Serialize,
    ) -> Result<R, Error> {
        let connection = self.connection.peek().clone().ok_or_else(no_connection)?;
        connection.action(action, args).await
    }

    /// Tries to connect again now (after a terminal error, or skipping a retry's wait).
    pub fn reconnect(&self) {
        if let Some(lease) = self.lease.peek().as_ref() {
            lease.reconnect();
        }
    }

    /// The identity of the actor held right now, if any.
    pub fn identity(&self) -> Option<ActorIdentity> {
        self.lease
            .peek()
            .as_ref()
            .map(|lease| lease.identity().clone())
    }
}

impl std::fmt::Debug for UseActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseActor")
            .field("state", &*self.state.peek())
            .finish_non_exhaustive()
    }
}

pub(crate) fn no_connection() -> Error {
    Error::InvalidInput {
        field: "connection",
        value: "none".to_owned(),
        reason: "the actor is disabled (or has no client); enable it before calling actions"
            .to_owned(),
    }
}

/// Connects to the actor `name` with `key` (get-or-create) through the [`Client`](rivet_core::Client) of
/// [`use_rivet_provider`](crate::use_rivet_provider), sharing one socket with every other
/// component using the same actor — React's `useActor({ name, key })`.
///
/// `name` and `key` can be plain values or signals; when they change, the hook releases the
/// old actor and connects to the new one.
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_dioxus::{use_actor, use_event};
///
/// #[component]
/// fn Counter() -> Element {
///     let counter = use_actor("counter", "my-counter");
///     let mut count = use_signal(|| 0i64);
///     use_event(counter, "newCount", move |event| {
///         count.set(event.arg::<i64>(0).unwrap_or_default());
///     });
///     rsx! {
///         p { "status: {counter.status}" }
///         button { onclick: move |_| async move { let _ = counter.action::<i64>("increment", (1,)).await; }, "+1 ({count})" }
///     }
/// }
/// ```
///
/// # Lifetime
///
/// The lease is taken in an effect after the first render, held by the component scope and
/// released when the component unmounts (the socket closes after the manager's grace period
/// if nobody else uses it). Connection state is bridged through a task spawned on the
/// `VirtualDom`, so signals are only ever written on its thread.
///
/// # Server-side rendering
///
/// Effects do not run while rendering on the server, so nothing connects there: the status
/// is `Idle` and `connection` is `None`.
#[track_caller]
#[must_use]
#[doc(alias = "useActor")]
pub fn use_actor(name: impl Into<Input<String>>, key: impl Into<Input<ActorKey>>) -> UseActor {
    use_actor_with_options(UseActorOptions::new(name, key))
}

/// [`use_actor`] with every option of React's `useActor`: params (static or an async
/// function), `enabled`, get-only, create input and region, or addressing by id. Any
/// option given as a signal reconnects when it changes.
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_dioxus::{use_actor_with_options, UseActorOptions};
/// use serde_json::json;
///
/// #[component]
/// fn Room(room: ReadSignal<String>, user: ReadSignal<String>) -> Element {
///     let chat = use_actor_with_options(
///         UseActorOptions::new("chatRoom", room)
///             .params(rivet_dioxus::Input::from_fn(move || json!({ "token": "secret", "user": user() }))),
///     );
///     rsx! { "{chat.status}" }
/// }
/// ```
///
/// See [`use_actor`] for the lifetime and server-side rendering rules.
#[track_caller]
#[must_use]
#[doc(alias = "useActor")]
pub fn use_actor_with_options(options: UseActorOptions) -> UseActor {
    let client = use_rivet_context();
    let fingerprint = options.static_fingerprint();
    let current_options = use_hook(|| CopyValue::new(options.clone()));
    let mut last_fingerprint = use_hook(|| CopyValue::new(fingerprint.clone()));

    let mut state = use_signal(ConnectionState::default);
    let mut connection = use_signal(|| None::<ActorConnection>);
    let mut handle = use_signal(|| None::<ActorHandle>);
    let mut lease = use_hook(|| CopyValue::new(None::<Lease>));
    let mut bridge = use_hook(|| CopyValue::new(None::<Task>));
    // What the lease was acquired for; an effect re-run with the same result keeps it.
    let mut acquired = use_hook(|| CopyValue::new(None::<(ActorIdentity, bool)>));

    let mut effect = use_effect(move || {
        let options = current_options.peek().clone();
        let resolved = options.resolve();
        let wanted = resolved
            .as_ref()
            .ok()
            .map(|o| (o.identity(), o.is_enabled()));
        if wanted.is_some() && *acquired.peek() == wanted {
            return;
        }
        if let Some(task) = bridge.write().take() {
            task.cancel();
        }
        let next = match (&client, resolved) {
            (Err(e), _) => Err(e.clone()),
            (Ok(_), Err(e)) => Err(e),
            (Ok(client), Ok(options)) => client.manager().acquire(options),
        };
        acquired.set(wanted);
        match next {
            Ok(next) => {
                let mut states = next.states();
                connection.set(next.connection());
                handle.set(Some(next.handle().clone()));
                // Replacing drops the old lease only after the new one holds its connection.
                lease.set(Some(next));
                bridge.set(Some(spawn(async move {
                    while let Some(next_state) = states.next().await {
                        state.set(next_state);
                    }
                })));
            }
            Err(error) => {
                lease.set(None);
                connection.set(None);
                handle.set(None);
                let mut failed = ConnectionState::default();
                failed.last_error = Some(error);
                failed.terminal = true;
                state.set(failed);
            }
        }
    });

    // Plain values that changed since the last render: re-run the effect with them.
    let mut current_options = current_options;
    current_options.set(options);
    if *last_fingerprint.peek() != fingerprint {
        last_fingerprint.set(fingerprint);
        effect.mark_dirty();
    }

    use_drop(move || {
        if let Some(task) = bridge.write().take() {
            task.cancel();
        }
        lease.write().take();
    });

    let status = use_memo(move || state.read().status);
    let is_connected = use_memo(move || state.read().status == ConnStatus::Connected);
    let error = use_memo(move || state.read().last_error.clone());

    UseActor {
        state: state.into(),
        status: status.into(),
        is_connected: is_connected.into(),
        error: error.into(),
        connection: connection.into(),
        handle: handle.into(),
        lease,
    }
}
