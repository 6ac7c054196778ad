//! [`use_actor_action`]: call actions with pending and result state in signals.

use dioxus::prelude::*;
use rivet_core::Error;
use serde::Serialize;
use serde_json::Value;

use crate::use_actor::no_connection;
use crate::UseActor;

/// What [`use_actor_action`] returns: a `Copy` handle whose [`call`](Self::call) runs an
/// action over the actor's connection, with its progress in signals.
#[derive(Clone, Copy, PartialEq)]
pub struct UseActorAction {
    /// Whether a call is running.
    pub pending: ReadSignal<bool>,
    /// The outcome of the latest finished call (`None` before the first).
    pub result: ReadSignal<Option<Result<Value, Error>>>,
    actor: UseActor,
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
        let connection = self.actor.connection.peek().clone();
        spawn(async move {
            let outcome = match (connection, args) {
                (None, _) => Err(no_connection()),
                (Some(_), Err(e)) => Err(Error::Encode {
                    what: format!("arguments of action {action}"),
                    reason: e.to_string(),
                }),
                (Some(connection), Ok(args)) => connection.action::<Value>(&action, args).await,
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
/// use rivet_dioxus::{use_actor, use_actor_action};
///
/// #[component]
/// fn Increment() -> Element {
///     let counter = use_actor("counter", "my-counter");
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
pub fn use_actor_action(actor: UseActor) -> UseActorAction {
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
