//! [`use_actor_action`]: an actor action as a Leptos [`Action`], with pending and result
//! state.

use std::sync::Arc;

use leptos::prelude::*;
use rivet_core::{ActorConnection, Error};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::UseActorReturn;

/// The action `name` of the actor of `actor` as a Leptos [`Action`]: `dispatch(args)` calls
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
/// use rivet_leptos::{use_actor, use_actor_action};
///
/// #[component]
/// fn Increment() -> impl IntoView {
///     let counter = use_actor("counter", "demo");
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
