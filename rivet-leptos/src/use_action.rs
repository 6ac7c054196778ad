//! [`use_action`]: a declared action with pending / value / error signals;
//! [`use_actor_action`]: an action named by a string, as a Leptos [`Action`].

use std::future::Future;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use rivet_core::runtime::BoxFuture;
use rivet_core::typed::{ActionDef, Actor, Connection, MaybeSend};
use rivet_core::{ActorConnection, Error};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::engine::Core;
use crate::{UseActor, UseActorReturn};

/// Calls one action over a connection; a plain function pointer, so [`UseAction`] stays
/// `Copy` without naming the actor type.
type CallFn<Args, Out> =
    fn(ActorConnection, &'static str, Args) -> BoxFuture<'static, Result<Out, Error>>;

fn call_typed<A, Args, Out>(
    connection: ActorConnection,
    name: &'static str,
    args: Args,
) -> BoxFuture<'static, Result<Out, Error>>
where
    A: Actor,
    Args: Serialize + MaybeSend + 'static,
    Out: DeserializeOwned + MaybeSend + 'static,
{
    Box::pin(async move {
        let connection = Connection::<A>::from_untyped(connection)?;
        connection
            .call(ActionDef::<A, Args, Out>::new(name), args)
            .await
    })
}

/// What [`use_action`] returns: a declared action of the hook's actor with its progress in
/// signals. `Copy`; [`dispatch`](Self::dispatch) from an event handler, or
/// [`call`](Self::call) and await the result. The result type is `Send + Sync`, like any
/// value of a Leptos signal (plain data always is).
pub struct UseAction<Args, Out: 'static> {
    core: Core,
    name: &'static str,
    call: CallFn<Args, Out>,
    pending: RwSignal<bool>,
    value: RwSignal<Option<Out>>,
    error: RwSignal<Option<Error>>,
    latest: StoredValue<u64>,
}

impl<Args, Out: 'static> Clone for UseAction<Args, Out> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Args, Out: 'static> Copy for UseAction<Args, Out> {}

impl<Args, Out: 'static> std::fmt::Debug for UseAction<Args, Out> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseAction")
            .field("action", &self.name)
            .field("pending", &self.pending.try_get_untracked())
            .finish_non_exhaustive()
    }
}

impl<Args, Out> UseAction<Args, Out>
where
    Args: Serialize + MaybeSend + 'static,
    Out: Clone + Send + Sync + 'static,
{
    /// Calls the action with `args` (the argument tuple: `(1,)`, `()`) and returns its
    /// result, updating [`pending`](Self::pending), [`value`](Self::value) and
    /// [`error`](Self::error) (only the latest call's outcome is kept). Waits for the hook's
    /// connection like the actions on [`UseActor`].
    pub fn call(&self, args: Args) -> impl Future<Output = Result<Out, Error>> {
        let this = *self;
        let id = this
            .latest
            .try_update_value(|n| {
                *n += 1;
                *n
            })
            .unwrap_or_default();
        this.pending.try_set(true);
        let connection = this.core.wait_for_connection();
        async move {
            let outcome = match connection.await {
                Ok(connection) => (this.call)(connection, this.name, args).await,
                Err(error) => Err(error),
            };
            if this.latest.try_get_value() == Some(id) {
                this.pending.try_set(false);
                match &outcome {
                    Ok(value) => {
                        this.value.try_set(Some(value.clone()));
                        this.error.try_set(None);
                    }
                    Err(error) => {
                        this.error.try_set(Some(error.clone()));
                    }
                }
            }
            outcome
        }
    }

    /// Calls the action with `args` in a task, for event handlers; the outcome goes to the
    /// signals.
    pub fn dispatch(&self, args: Args) {
        let call = self.call(args);
        spawn_local(async move {
            let _ = call.await;
        });
    }

    /// Whether the latest call is running.
    pub fn pending(&self) -> Signal<bool> {
        self.pending.into()
    }

    /// The result of the latest call that succeeded (`None` before the first).
    pub fn value(&self) -> Signal<Option<Out>> {
        self.value.into()
    }

    /// The error of the latest call, if it failed (cleared by a later success).
    pub fn error(&self) -> Signal<Option<Error>> {
        self.error.into()
    }
}

/// The declared action `action` of the hook's actor, with pending / value / error signals:
/// the state React apps keep by hand around `actor.connection.action(...)`.
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::prelude::*;
///
/// #[rivet_core::actor]
/// pub trait Counter {
///     fn increment(amount: i64) -> i64;
/// }
///
/// #[component]
/// fn Increment() -> impl IntoView {
///     let counter = use_actor(Counter, "demo");
///     let increment = use_action(&counter, Counter::INCREMENT);
///     view! {
///         <button disabled=move || increment.pending().get()
///                 on:click=move |_| increment.dispatch((1,))>"+1"</button>
///         <p>{move || increment.value().get().map(|n| format!("now {n}"))}</p>
///         <p>{move || increment.error().get().map(|e| format!("failed: {e}"))}</p>
///     }
/// }
/// ```
///
/// # Server-side rendering
/// Calls made during server rendering fail at once (no connection is made there).
#[track_caller]
pub fn use_action<A, Args, Out>(
    actor: &UseActor<A>,
    action: ActionDef<A, Args, Out>,
) -> UseAction<Args, Out>
where
    A: Actor,
    Args: Serialize + MaybeSend + 'static,
    Out: DeserializeOwned + Clone + Send + Sync + 'static,
{
    UseAction {
        core: actor.core(),
        name: action.name(),
        call: call_typed::<A, Args, Out>,
        pending: RwSignal::new(false),
        value: RwSignal::new(None),
        error: RwSignal::new(None),
        latest: StoredValue::new(0),
    }
}

/// The action `name` of the actor of an untyped hook as a Leptos [`Action`]: `dispatch(args)` calls
/// it over the shared connection (React's `actor.connection.action(...)`), and the
/// [`Action`]'s `pending()`, `value()` and `version()` signals give its state — something
/// React leaves to the caller.
///
/// `I` is the argument tuple (`(i64,)` for `increment(x)`, `()` for none) and `O` the
/// result. Called while the hook has no connection (disabled, no client), the result is an
/// [`Error::InvalidInput`]; called while connecting or reconnecting, it waits in the
/// connection's queue.
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::{use_actor_untyped, use_actor_action};
///
/// #[component]
/// fn Increment() -> impl IntoView {
///     let counter = use_actor_untyped("counter", "demo");
///     let increment = use_actor_action::<(i64,), i64>(&counter, "increment");
///     view! {
///         <button disabled=move || increment.pending().get()
///                 on:click=move |_| { increment.dispatch((1,)); }>"+1"</button>
///         <p>{move || match increment.value().get() {
///             Some(Ok(n)) => format!("now {n}"),
///             Some(Err(e)) => format!("failed: {e}"),
///             None => String::new(),
///         }}</p>
///     }
/// }
/// ```
///
/// # Server-side rendering
/// Actions are not dispatched during server rendering; a dispatch there fails with
/// [`Error::InvalidInput`] because no connection exists.
#[track_caller]
pub fn use_actor_action<I, O>(
    actor: &UseActorReturn,
    name: impl Into<String>,
) -> Action<I, Result<O, Error>>
where
    I: Serialize + Clone + Send + Sync + 'static,
    O: DeserializeOwned + Send + Sync + 'static,
{
    let connection = actor.connection;
    let name: Arc<str> = name.into().into();
    new_action(move |args: &I| {
        let connection = connection.try_get_untracked().flatten();
        call(connection, name.clone(), args.clone())
    })
}

async fn call<I: Serialize, O: DeserializeOwned>(
    connection: Option<ActorConnection>,
    name: Arc<str>,
    args: I,
) -> Result<O, Error> {
    match connection {
        Some(connection) => connection.action(&name, args).await,
        None => Err(Error::InvalidInput {
            field: "connection",
            value: name.to_string(),
            reason: "the actor hook has no connection (disabled, no client provided, or \
                     server rendering)"
                .to_owned(),
        }),
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn new_action<I, O, F, Fut>(f: F) -> Action<I, O>
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
    F: Fn(&I) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = O> + Send + 'static,
{
    Action::new(f)
}

#[cfg(target_arch = "wasm32")]
fn new_action<I, O, F, Fut>(f: F) -> Action<I, O>
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
    F: Fn(&I) -> Fut + 'static,
    Fut: std::future::Future<Output = O> + 'static,
{
    // The connection's futures are not `Send` in the browser: run on this thread.
    Action::new_unsync(f)
}
