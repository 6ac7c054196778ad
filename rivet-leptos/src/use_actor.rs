//! [`use_actor`] / [`use_actor_with`]: a shared connection to a declared actor for as long as
//! the component lives, with its actions callable on the returned value.

use std::future::Future;
use std::marker::PhantomData;

use leptos::prelude::*;
use rivet_core::manager::{ActorIdentity, ActorOptions, IntoActorOptions};
use rivet_core::typed::{ActionDef, Actor, Caller, Connection, Handle, MaybeSend};
use rivet_core::{ActorKey, ConnStatus, ConnectionState, Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::engine::Core;

/// What [`use_actor`] and [`use_actor_with`] return: the connection to a declared actor `A`,
/// `Copy` so it can be moved into closures and passed to [`use_event`](crate::use_event),
/// [`use_latest_event`](crate::use_latest_event) and [`use_action`](crate::use_action).
///
/// Its state is read through signals ([`status`](Self::status), [`error`](Self::error),
/// [`is_connected`](Self::is_connected), [`state`](Self::state)); its actions are methods,
/// from the declaration's `…Actions` trait (it is a [`Caller`] of `A`):
/// `counter.increment(1).await`. A call made before the hook has a connection (before the
/// component's effects ran) waits for it, up to the default action deadline (60 s); while
/// connecting it waits in the connection's queue; on a disabled hook, without a client, or
/// under server rendering it fails at once.
///
/// ```no_run
/// use leptos::prelude::*;
/// use leptos::task::spawn_local;
/// use rivet_leptos::prelude::*;
///
/// #[rivet_core::actor]
/// pub trait Counter {
///     fn increment(amount: i64) -> i64;
///     #[event]
///     fn new_count(count: i64);
/// }
///
/// #[component]
/// fn View() -> impl IntoView {
///     let counter = use_actor(Counter, "demo");
///     let add = move |_| spawn_local(async move { let _ = counter.increment(1).await; });
///     view! {
///         <p>{move || counter.status().get().as_str()}</p>
///         <p>{move || counter.error().get().map(|e| e.to_string())}</p>
///         <button on:click=add>"+1"</button>
///     }
/// }
/// ```
pub struct UseActor<A> {
    core: Core,
    state: Signal<ConnectionState>,
    status: Signal<ConnStatus>,
    is_connected: Signal<bool>,
    error: Signal<Option<Error>>,
    actor: PhantomData<fn() -> A>,
}

impl<A> Clone for UseActor<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A> Copy for UseActor<A> {}

impl<A> std::fmt::Debug for UseActor<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseActor")
            .field("state", &self.state.try_get_untracked())
            .finish_non_exhaustive()
    }
}

impl<A: Actor> UseActor<A> {
    fn from_core(core: Core) -> Self {
        Self {
            core,
            state: core.state.into(),
            status: core.status(),
            is_connected: core.is_connected(),
            error: core.error(),
            actor: PhantomData,
        }
    }

    /// The phase: `Idle`, `Connecting`, `Connected`, `Disconnected` (React's `connStatus`).
    pub fn status(&self) -> Signal<ConnStatus> {
        self.status
    }

    /// The last error: why the last socket or attempt ended (e.g. the actor rejected the
    /// params), why the hook could not connect at all (no client provided, invalid
    /// options), or a connection-level error the server sent while connected (reported at
    /// once, like React's `onError`). Cleared when a socket reaches `Connected`.
    pub fn error(&self) -> Signal<Option<Error>> {
        self.error
    }

    /// Whether the connection is `Connected`.
    pub fn is_connected(&self) -> Signal<bool> {
        self.is_connected
    }

    /// The whole connection state (status, attempt, last error, retry delay, ids).
    pub fn state(&self) -> Signal<ConnectionState> {
        self.state
    }

    /// The current connection (tracked inside a reactive context; event handlers read it
    /// without a warning): `None` while disabled, before mounting and under
    /// server rendering. Its typed `on` / `events` and everything of the untyped
    /// [`ActorConnection`](rivet_core::ActorConnection) (by `Deref`) are available.
    pub fn connection(&self) -> Option<Connection<A>> {
        read(self.core.connection).and_then(|c| Connection::from_untyped(c).ok())
    }

    /// The stateless handle of the current actor (tracked like
    /// [`connection`](Self::connection)), with the params the connection
    /// uses: a params function's value once it resolved, so stateless calls pass the
    /// actor's checks too. `None` before mounting, while a params function runs, and when
    /// the options are invalid.
    /// After each reconnect the params function is called again and the handle follows
    /// with its new value (so a refreshed token reaches stateless calls as well).
    pub fn handle(&self) -> Option<Handle<A>> {
        read(self.core.handle).and_then(|h| Handle::from_untyped(h).ok())
    }

    /// Connects again at once after a terminal error, or skips a scheduled retry's wait (a
    /// healthy connection is left as it is);
    /// when the hook could not take a connection at all (e.g. an error building the
    /// options), tries that again.
    ///
    /// ```no_run
    /// # use leptos::prelude::*;
    /// # #[rivet_core::actor] pub trait Counter { fn increment(amount: i64) -> i64; }
    /// # #[component] fn C() -> impl IntoView {
    /// let counter = rivet_leptos::use_actor(Counter, "demo");
    /// view! { <button on:click=move |_| counter.reconnect()>"retry"</button> }
    /// # }
    /// ```
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

/// Reads `signal`, tracked when something observes (a view, an effect, a memo), untracked
/// otherwise (event handlers, tasks), so neither case warns.
fn read<T: Clone + 'static>(signal: RwSignal<Option<T>, crate::ConnStorage>) -> Option<T>
where
    RwSignal<Option<T>, crate::ConnStorage>:
        Get<Value = Option<T>> + GetUntracked<Value = Option<T>>,
{
    if leptos::reactive::graph::Observer::get().is_some() {
        signal.try_get().flatten()
    } else {
        signal.try_get_untracked().flatten()
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

/// Connects to the declared actor `A` with `key` (get-or-create) while the component lives:
/// the Leptos form of React's `useActor({ name, key })`. For params, `enabled`, get-only,
/// create input, region, by-id and keys that change, see [`use_actor_with`].
///
/// The connection comes from [`use_rivet_client`](crate::use_rivet_client)'s shared manager:
/// components using the same actor share one socket, taken when the component mounts (in an
/// effect) and given back when it is cleaned up; the socket closes a grace period after its
/// last user goes.
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::prelude::*;
///
/// #[rivet_core::actor]
/// pub trait Counter {
///     fn increment(amount: i64) -> i64;
///     #[event]
///     fn new_count(count: i64);
/// }
///
/// #[component]
/// fn View() -> impl IntoView {
///     let counter = use_actor(Counter, "demo");
///     let increment = use_action(&counter, Counter::INCREMENT);
///     let latest = use_latest_event(&counter, Counter::NEW_COUNT);
///     view! {
///         <p>{move || counter.status().get().as_str()} " " {move || latest.get()}</p>
///         <button on:click=move |_| increment.dispatch((1,))>"+1"</button>
///     }
/// }
/// ```
///
/// # Server-side rendering
/// Under the `ssr` feature effects do not run, so the hook opens nothing, holds no browser
/// objects and reports `Idle` with no connection; hydration starts from the same `Idle`
/// state and connects in the browser.
#[track_caller]
#[doc(alias = "useActor")]
pub fn use_actor<A: Actor>(actor: A, key: impl Into<ActorKey>) -> UseActor<A> {
    let options = ActorOptions::new(actor, key);
    use_actor_with(move || options.clone())
}

/// [`use_actor`] with options built by `options`, a closure run in an effect: the signals it
/// reads are tracked, and when they change so that another connection is meant (see
/// [`ActorOptions`]'s "Identity"), the hook releases the old connection and takes the new
/// one, exactly once per change. The closure returns [`ActorOptions`] or a
/// `Result<ActorOptions>` (typed `params(&A::Params)` and `create_input(&A::Input)`
/// return one); an error is shown in [`error`](UseActor::error).
///
/// Part of the identity: the actor, the addressing (get-or-create, get-only, by id), the key
/// or id, the params (or a params function's tag). Not part of it: the create input and
/// region (they only matter when the actor is created; the first user's are used, and a
/// changing input never reopens the socket), `enabled` (it decides whether to hold the
/// connection at all), and the connect options (the first user decides).
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_core::manager::ActorOptions;
/// use rivet_leptos::prelude::*;
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
/// fn Room(room: Signal<String>, user: Signal<String>) -> impl IntoView {
///     let chat = use_actor_with(move || {
///         ActorOptions::new(ChatRoom, room.get())
///             .params(&ChatParams { token: "secret".into(), user: user.get() })
///     });
///     view! { <p>{move || chat.status().get().as_str()}</p> }
/// }
/// ```
///
/// # Server-side rendering
/// As for [`use_actor`]: nothing is opened on the server; the state is `Idle`.
#[track_caller]
#[doc(alias = "useActor")]
pub fn use_actor_with<A, O>(options: impl Fn() -> O + 'static) -> UseActor<A>
where
    A: Actor,
    O: IntoActorOptions<Handle<A>>,
{
    UseActor::from_core(Core::new(move || options().into_actor_options()))
}
