//! The untyped hooks, for actors without a declaration: [`use_actor_untyped`] and
//! [`use_actor_with_options`] name the actor by a string and return [`UseActorReturn`].

use dioxus::prelude::*;
use rivet_core::manager::ActorIdentity;
use rivet_core::{ActorConnection, ActorHandle, ActorKey, ConnStatus, ConnectionState, Error};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::engine::{use_core, Core};
use crate::{Input, UseActorOptions};

/// What [`use_actor_untyped`] and [`use_actor_with_options`] return: `Copy`, so it can be
/// moved into closures and passed to [`use_event_untyped`](crate::use_event_untyped) and
/// [`use_actor_action`](crate::use_actor_action). Every field is a signal written on the
/// `VirtualDom`'s thread; reading one in a component re-renders it on change. The typed
/// [`UseActor`](crate::UseActor) has the same signals as methods.
#[derive(Clone, Copy, PartialEq)]
pub struct UseActorReturn {
    /// The whole connection state (status, attempt, last error, retry delay, ids).
    pub state: ReadSignal<ConnectionState>,
    /// The phase (React's `connStatus`): `Idle`, `Connecting`, `Connected`, `Disconnected`.
    pub status: ReadSignal<ConnStatus>,
    /// Whether the status is `Connected`.
    pub is_connected: ReadSignal<bool>,
    /// The error that ended the last socket or attempt (e.g. a rejected connection), or why
    /// the hook could not connect at all (no client, invalid options).
    pub error: ReadSignal<Option<Error>>,
    /// The shared connection, for actions and events; `None` while disabled.
    pub connection: ReadSignal<Option<ActorConnection>>,
    /// The stateless handle (HTTP actions, queues, raw fetch), with the params the
    /// connection uses (a params function's value once it resolved); `None` until then or
    /// when the options are invalid.
    pub handle: ReadSignal<Option<ActorHandle>>,
    pub(crate) core: Core,
}

impl UseActorReturn {
    pub(crate) fn from_core(core: Core) -> Self {
        Self {
            state: core.read.state,
            status: core.read.status,
            is_connected: core.read.is_connected,
            error: core.read.error,
            connection: core.read.connection,
            handle: core.read.handle,
            core,
        }
    }

    /// Calls `action` over the connection (React's `actor.connection.action(...)`). Calls
    /// made before the hook has a connection wait for it (up to 60 s), calls made while
    /// connecting wait in the connection's queue.
    ///
    /// Fails with [`Error::InvalidInput`] when the actor is disabled or has no client.
    pub async fn action<R: DeserializeOwned>(
        &self,
        action: &str,
        args: impl Serialize,
    ) -> Result<R, Error> {
        let connection = self.core.wait_for_connection().await?;
        connection.action(action, args).await
    }

    /// Tries to connect again now (after a terminal error, or skipping a retry's wait); when
    /// the hook could not take a connection at all, tries that again.
    pub fn reconnect(&self) {
        self.core.reconnect();
    }

    /// The identity of the actor held right now, if any.
    pub fn identity(&self) -> Option<ActorIdentity> {
        self.core.identity()
    }
}

impl std::fmt::Debug for UseActorReturn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseActorReturn")
            .field("state", &*self.state.peek())
            .finish_non_exhaustive()
    }
}

/// Connects to the actor `name` with `key` (get-or-create): the untyped form of
/// [`use_actor`](crate::use_actor), for an actor without a declaration (React's
/// `useActor({ name, key })`). `name` and `key` can be plain values or signals; when they
/// change, the hook releases the old actor and connects to the new one.
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_dioxus::{use_actor_untyped, use_event_untyped};
///
/// #[component]
/// fn Counter() -> Element {
///     let counter = use_actor_untyped("counter", "my-counter");
///     let mut count = use_signal(|| 0i64);
///     use_event_untyped(&counter, "newCount", move |event| {
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
pub fn use_actor_untyped(
    name: impl Into<Input<String>>,
    key: impl Into<Input<ActorKey>>,
) -> UseActorReturn {
    use_actor_with_options(UseActorOptions::new(name, key))
}

/// [`use_actor_untyped`] with every option of React's `useActor`: params (static or an async
/// function), `enabled`, get-only, create input and region, or addressing by id. Any option
/// given as a signal reconnects when it changes so that another connection is meant. For a
/// declared actor, [`use_actor_with`](crate::use_actor_with) takes one closure instead.
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
/// See [`use_actor_untyped`] for the lifetime and server-side rendering rules.
#[track_caller]
#[must_use]
#[doc(alias = "useActor")]
pub fn use_actor_with_options(options: UseActorOptions) -> UseActorReturn {
    UseActorReturn::from_core(use_core(move || options.resolve()))
}
