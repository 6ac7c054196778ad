//! [`use_actor`] / [`use_actor_with`]: a lease on the shared connection to a declared actor,
//! held for the component's lifetime, with its actions callable on the returned value.

use std::future::Future;
use std::marker::PhantomData;

use dioxus::prelude::*;
use rivet_core::manager::{ActorIdentity, ActorOptions, IntoActorOptions};
use rivet_core::typed::{ActionDef, Actor, Caller, Connection, Handle, MaybeSend};
use rivet_core::{ActorKey, ConnStatus, ConnectionState, Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::engine::{use_core, Core};

/// What [`use_actor`] and [`use_actor_with`] return: the connection to a declared actor `A`,
/// `Copy`, so it can be moved into closures and passed to [`use_event`](crate::use_event),
/// [`use_latest_event`](crate::use_latest_event) and [`use_action`](crate::use_action).
///
/// Its state is read through signals ([`status`](Self::status), [`error`](Self::error),
/// [`is_connected`](Self::is_connected), [`state`](Self::state)); reading one in a component
/// re-renders it on change. Its actions are methods, from the declaration's `…Actions` trait
/// (it is a [`Caller`] of `A`): `counter.increment(1).await`. A call made before the hook has
/// a connection (before the component's effects ran) waits for it, up to the default action
/// deadline (60 s); while connecting it waits in the connection's queue; on a disabled hook
/// or without a client it fails at once.
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_dioxus::use_actor;
///
/// #[rivet_core::actor]
/// pub trait Counter {
///     fn increment(amount: i64) -> i64;
/// }
///
/// #[component]
/// fn View() -> Element {
///     let counter = use_actor(Counter, "demo");
///     rsx! {
///         p { "{counter.status()}" }
///         button { onclick: move |_| async move { let _ = counter.increment(1).await; }, "+1" }
///     }
/// }
/// ```
pub struct UseActor<A> {
    core: Core,
    actor: PhantomData<fn() -> A>,
}

impl<A> Clone for UseActor<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A> Copy for UseActor<A> {}

impl<A> PartialEq for UseActor<A> {
    fn eq(&self, other: &Self) -> bool {
        self.core == other.core
    }
}

impl<A> std::fmt::Debug for UseActor<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseActor")
            .field("state", &self.core.state.try_peek().ok().map(|s| s.clone()))
            .finish_non_exhaustive()
    }
}

impl<A: Actor> UseActor<A> {
    /// The phase: `Idle`, `Connecting`, `Connected`, `Disconnected` (React's `connStatus`).
    pub fn status(&self) -> ReadSignal<ConnStatus> {
        self.core.read.status
    }

    /// The error that ended the last socket or attempt (e.g. the actor rejected the params),
    /// why the hook could not connect at all (no client, invalid options), or a
    /// connection-level error the server sent while connected. Cleared when a socket
    /// reaches `Connected`.
    pub fn error(&self) -> ReadSignal<Option<Error>> {
        self.core.read.error
    }

    /// Whether the connection is `Connected`.
    pub fn is_connected(&self) -> ReadSignal<bool> {
        self.core.read.is_connected
    }

    /// The whole connection state (status, attempt, last error, retry delay, ids).
    pub fn state(&self) -> ReadSignal<ConnectionState> {
        self.core.read.state
    }

    /// The current connection (read, so a component calling it re-renders when it
    /// changes): `None` while disabled and before mounting. Its typed `on` / `events` and
    /// everything of the untyped [`ActorConnection`](rivet_core::ActorConnection) (by
    /// `Deref`) are available.
    pub fn connection(&self) -> Option<Connection<A>> {
        self.core
            .connection
            .try_read()
            .ok()
            .and_then(|c| c.clone())
            .and_then(|c| Connection::from_untyped(c).ok())
    }

    /// The stateless handle of the current actor (read like [`connection`](Self::connection)),
    /// with the params the connection uses: a params function's value once it resolved, so
    /// stateless calls pass the actor's checks too. `None` before mounting, while a params
    /// function runs, and when the options are invalid.
    /// After each reconnect the params function is called again and the handle follows
    /// with its new value (so a refreshed token reaches stateless calls as well).
    pub fn handle(&self) -> Option<Handle<A>> {
        self.core
            .handle
            .try_read()
            .ok()
            .and_then(|h| h.clone())
            .and_then(|h| Handle::from_untyped(h).ok())
    }

    /// Connects again at once after a terminal error, or skips a scheduled retry's wait (a
    /// healthy connection is left as it is);
    /// when the hook could not take a connection at all (e.g. no runtime yet), tries that
    /// again.
    pub fn reconnect(&self) {
        self.core.reconnect();
    }

    /// The identity of the connection held right now (for logs and tests), if any.
    pub fn identity(&self) -> Option<ActorIdentity> {
        self.core.identity()
    }

    /// The untyped view of the same hook, for the untyped hooks
    /// ([`use_event_untyped`](crate::use_event_untyped),
    /// [`use_actor_action`](crate::use_actor_action)).
    pub fn untyped(&self) -> crate::UseActorReturn {
        crate::UseActorReturn::from_core(self.core)
    }

    pub(crate) fn core(&self) -> Core {
        self.core
    }
}

impl<A: Actor> Caller for UseActor<A> {
    type Actor = A;

    fn call<Args, Out>(
        &self,
        action: ActionDef<A, Args, Out>,
        args: Args,
    ) -> impl Future<Output = Result<Out>> + MaybeSend
    where
        Args: Serialize + MaybeSend,
        Out: DeserializeOwned + MaybeSend,
    {
        let connection = self.core.wait_for_connection();
        async move {
            let connection = Connection::<A>::from_untyped(connection.await?)?;
            connection.call(action, args).await
        }
    }
}

/// Connects to the declared actor `A` with `key` (get-or-create) through the
/// [`Client`](rivet_core::Client) of [`use_rivet_provider`](crate::use_rivet_provider),
/// sharing one socket with every other component using the same actor: React's
/// `useActor({ name, key })`. A key that differs on a later render reconnects; for params,
/// `enabled`, get-only, create input, region, by-id and signals, see [`use_actor_with`].
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_dioxus::{use_actor, use_action, use_latest_event};
///
/// #[rivet_core::actor]
/// pub trait Counter {
///     fn increment(amount: i64) -> i64;
///     #[event]
///     fn new_count(count: i64);
/// }
///
/// #[component]
/// fn View() -> Element {
///     let counter = use_actor(Counter, "demo");
///     let increment = use_action(&counter, Counter::INCREMENT);
///     let latest = use_latest_event(&counter, Counter::NEW_COUNT);
///     rsx! {
///         p { "{counter.status()}: {latest():?}" }
///         button { onclick: move |_| increment.dispatch((1,)), "+1" }
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
/// is `Idle` and there is no connection.
#[track_caller]
#[must_use]
#[doc(alias = "useActor")]
pub fn use_actor<A: Actor>(actor: A, key: impl Into<ActorKey>) -> UseActor<A> {
    let options = ActorOptions::new(actor, key);
    use_actor_with(move || options.clone())
}

/// [`use_actor`] with options built by `options`, a closure run in an effect: the signals it
/// reads are tracked, and it runs again on every render (with the newest props); when it
/// gives another identity (see [`ActorOptions`]'s "Identity"), the hook releases the old
/// connection and takes the new one, exactly once per change. The closure returns
/// [`ActorOptions`] or a `Result<ActorOptions>` (typed `params(&A::Params)` and
/// `create_input(&A::Input)` return one); an error is shown in [`error`](UseActor::error).
///
/// Part of the identity: the actor, the addressing (get-or-create, get-only, by id), the key
/// or id, the params (or a params function's tag). Not part of it: the create input and
/// region (they only matter when the actor is created; the first user's are used, and a
/// changing input never reopens the socket), `enabled` (it decides whether to hold the
/// connection at all), and the connect options (the first user decides).
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_core::manager::ActorOptions;
/// use rivet_dioxus::use_actor_with;
/// use serde::Serialize;
///
/// #[derive(Serialize, Clone)]
/// pub struct ChatParams { pub token: String, pub user: String }
///
/// #[rivet_core::actor(name = "chatRoom")]
/// pub trait ChatRoom {
///     type Params = ChatParams;
///     fn send_message(text: String) -> ();
/// }
///
/// #[component]
/// fn Room(room: ReadSignal<String>, user: ReadSignal<String>) -> Element {
///     let chat = use_actor_with(move || {
///         ActorOptions::new(ChatRoom, room())
///             .params(&ChatParams { token: "secret".into(), user: user() })
///     });
///     rsx! { "{chat.status()}" }
/// }
/// ```
///
/// See [`use_actor`] for the lifetime and server-side rendering rules.
#[track_caller]
#[must_use]
#[doc(alias = "useActor")]
pub fn use_actor_with<A, O>(options: impl Fn() -> O + 'static) -> UseActor<A>
where
    A: Actor,
    O: IntoActorOptions<Handle<A>>,
{
    UseActor {
        core: use_core(move || options().into_actor_options()),
        actor: PhantomData,
    }
}
