//! [`use_action`]: a declared action with pending / value / error signals;
//! [`use_actor_action`]: actions named by a string, with pending and result signals.

use std::future::Future;

use dioxus::prelude::*;
use rivet_core::runtime::BoxFuture;
use rivet_core::typed::{ActionDef, Actor, Connection, MaybeSend};
use rivet_core::{ActorConnection, Error};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

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
/// [`call`](Self::call) and await the result.
pub struct UseAction<Args: 'static, Out: 'static> {
    core: Core,
    name: &'static str,
    call: CopyValue<CallFn<Args, Out>>,
    pending: Signal<bool>,
    value: Signal<Option<Out>>,
    error: Signal<Option<Error>>,
    read: (
        ReadSignal<bool>,
        ReadSignal<Option<Out>>,
        ReadSignal<Option<Error>>,
    ),
    latest: CopyValue<u64>,
}

impl<Args: 'static, Out: 'static> Clone for UseAction<Args, Out> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Args: 'static, Out: 'static> Copy for UseAction<Args, Out> {}

impl<Args: 'static, Out: 'static> PartialEq for UseAction<Args, Out> {
    fn eq(&self, other: &Self) -> bool {
        self.pending == other.pending && self.value == other.value
    }
}

impl<Args: 'static, Out: 'static> std::fmt::Debug for UseAction<Args, Out> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseAction")
            .field("action", &self.name)
            .field("pending", &self.pending.try_peek().ok().map(|p| *p))
            .finish_non_exhaustive()
    }
}

impl<Args, Out> UseAction<Args, Out>
where
    Args: Serialize + MaybeSend + 'static,
    Out: Clone + 'static,
{
    /// Calls the action with `args` (the argument tuple: `(1,)`, `()`) and returns its
    /// result, updating [`pending`](Self::pending), [`value`](Self::value) and
    /// [`error`](Self::error) (only the latest call's outcome is kept). Waits for the hook's
    /// connection like the actions on [`UseActor`].
    pub fn call(&self, args: Args) -> impl Future<Output = Result<Out, Error>> {
        let mut this = *self;
        let id = {
            let mut latest = this.latest.write();
            *latest += 1;
            *latest
        };
        this.pending.set(true);
        let connection = this.core.wait_for_connection();
        let call = *this.call.peek();
        let name = this.name;
        async move {
            let outcome = match connection.await {
                Ok(connection) => call(connection, name, args).await,
                Err(error) => Err(error),
            };
            if this.latest.try_peek().is_ok_and(|latest| *latest == id) {
                this.pending.set(false);
                match &outcome {
                    Ok(value) => {
                        this.value.set(Some(value.clone()));
                        this.error.set(None);
                    }
                    Err(error) => this.error.set(Some(error.clone())),
                }
            }
            outcome
        }
    }

    /// Calls the action with `args` in a task owned by the component (unmounting cancels
    /// it; the server may still run the action); the outcome goes to the signals.
    pub fn dispatch(&self, args: Args) {
        let call = self.call(args);
        spawn(async move {
            let _ = call.await;
        });
    }

    /// Whether the latest call is running.
    pub fn pending(&self) -> ReadSignal<bool> {
        self.read.0
    }

    /// The result of the latest call that succeeded (`None` before the first).
    pub fn value(&self) -> ReadSignal<Option<Out>> {
        self.read.1
    }

    /// The error of the latest call, if it failed (cleared by a later success).
    pub fn error(&self) -> ReadSignal<Option<Error>> {
        self.read.2
    }
}

/// The declared action `action` of the hook's actor, with pending / value / error signals:
/// the state React apps keep by hand around `actor.connection.action(...)`.
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_dioxus::{use_action, use_actor};
///
/// #[rivet_core::actor]
/// pub trait Counter {
///     fn increment(amount: i64) -> i64;
/// }
///
/// #[component]
/// fn Increment() -> Element {
///     let counter = use_actor(Counter, "demo");
///     let increment = use_action(&counter, Counter::INCREMENT);
///     rsx! {
///         button { disabled: increment.pending(), onclick: move |_| increment.dispatch((1,)), "+1" }
///         if let Some(n) = increment.value()() { p { "now {n}" } }
///         if let Some(e) = increment.error()() { p { "failed: {e}" } }
///     }
/// }
/// ```
#[track_caller]
#[must_use]
pub fn use_action<A, Args, Out>(
    actor: &UseActor<A>,
    action: ActionDef<A, Args, Out>,
) -> UseAction<Args, Out>
where
    A: Actor,
    Args: Serialize + MaybeSend + 'static,
    Out: DeserializeOwned + Clone + MaybeSend + 'static,
{
    let pending = use_signal(|| false);
    let value = use_signal(|| None::<Out>);
    let error = use_signal(|| None::<Error>);
    let latest = use_hook(|| CopyValue::new(0u64));
    let call = use_hook(|| CopyValue::new(call_typed::<A, Args, Out> as CallFn<Args, Out>));
    let read = use_hook(|| (pending.into(), value.into(), error.into()));
    UseAction {
        core: actor.core(),
        name: action.name(),
        call,
        pending,
        value,
        error,
        read,
        latest,
    }
}

/// What [`use_actor_action`] returns: a `Copy` handle whose [`call`](Self::call) runs an
/// action over the actor's connection, with its progress in signals.
#[derive(Clone, Copy, PartialEq)]
pub struct UseActorAction {
    /// Whether a call is running.
    pub pending: ReadSignal<bool>,
    /// The outcome of the latest finished call (`None` before the first).
    pub result: ReadSignal<Option<Result<Value, Error>>>,
    actor: UseActorReturn,
    pending_w: Signal<bool>,
    result_w: Signal<Option<Result<Value, Error>>>,
    latest_call: CopyValue<u64>,
}

impl std::fmt::Debug for UseActorAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseActorAction")
            .field("pending", &*self.pending.peek())
            .field("result", &*self.result.peek())
            .finish()
    }
}

impl UseActorAction {
    /// Calls `action` with `args` (a tuple or a list, spread like
    /// [`ActorConnection::action`](rivet_core::ActorConnection::action)) in a task owned by
    /// the component. Only the latest call's outcome is kept.
    pub fn call(&self, action: &str, args: impl Serialize) {
        let mut this = *self;
        let id = {
            let mut latest = this.latest_call.write();
            *latest += 1;
            *latest
        };
        this.pending_w.set(true);
        let action = action.to_owned();
        let args = serde_json::to_value(args);
        let connection = self.actor.core.wait_for_connection();
        spawn(async move {
            let outcome = match args {
                Err(e) => Err(Error::Encode {
                    what: format!("arguments of action {action}"),
                    reason: e.to_string(),
                }),
                Ok(args) => match connection.await {
                    Ok(connection) => connection.action::<Value>(&action, args).await,
                    Err(error) => Err(error),
                },
            };
            if *this.latest_call.peek() == id {
                this.result_w.set(Some(outcome));
                this.pending_w.set(false);
            }
        });
    }

    /// The latest successful output, if the latest finished call succeeded.
    pub fn value(&self) -> Option<Value> {
        self.result
            .read()
            .as_ref()
            .and_then(|r| r.as_ref().ok().cloned())
    }

    /// The latest call's error, if it failed.
    pub fn error(&self) -> Option<Error> {
        self.result
            .read()
            .as_ref()
            .and_then(|r| r.as_ref().err().cloned())
    }
}

/// An action caller with pending/result state for `actor` — the state React apps keep
/// around `actor.connection.action(...)`.
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_dioxus::{use_actor_untyped, use_actor_action};
///
/// #[component]
/// fn Increment() -> Element {
///     let counter = use_actor_untyped("counter", "my-counter");
///     let increment = use_actor_action(counter);
///     rsx! {
///         button { disabled: increment.pending, onclick: move |_| increment.call("increment", (1,)), "+1" }
///         if let Some(value) = increment.value() { p { "now {value}" } }
///     }
/// }
/// ```
///
/// Calls run in tasks owned by the component: unmounting cancels them (the server may still
/// run the action).
#[track_caller]
#[must_use]
pub fn use_actor_action(actor: UseActorReturn) -> UseActorAction {
    let pending = use_signal(|| false);
    let result = use_signal(|| None::<Result<Value, Error>>);
    let latest_call = use_hook(|| CopyValue::new(0u64));
    UseActorAction {
        pending: pending.into(),
        result: result.into(),
        actor,
        pending_w: pending,
        result_w: result,
        latest_call,
    }
}
