//! [`use_event`] and [`use_latest_event`]: a declared actor's events, decoded, delivered on
//! the `VirtualDom`'s thread; [`use_event_untyped`] and [`use_latest_event_untyped`] for
//! actors without a declaration.

use dioxus::core::Task;
use dioxus::prelude::*;
use futures::channel::mpsc::{unbounded, UnboundedReceiver};
use futures::StreamExt;
use rivet_core::connection::Event;
use rivet_core::typed::{Actor, Connection, EventDef, MaybeSend};
use rivet_core::{ActorConnection, EventSubscription};
use serde::de::DeserializeOwned;

use crate::engine::Core;
use crate::{UseActor, UseActorReturn};

/// Calls `handler` with the decoded payload of every `event` the actor broadcasts while the
/// component is mounted: React's `actor.useEvent(name, handler)`. The handler of the latest
/// render is the one called, so it may capture fresh props without re-subscribing.
///
/// The subscription follows the actor: when the hook switches to another actor, it moves
/// with it; on unmount it is removed (the server subscription goes with the last listener
/// of that event). Payloads are received by a task spawned on the `VirtualDom` in this
/// component's scope, so `handler` runs on its thread, may write signals and read context.
/// A payload that does not decode as `P` is not passed on: the connection reports it (log
/// and `on_error` callbacks).
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_dioxus::{use_actor, use_event};
///
/// #[rivet_core::actor]
/// pub trait Counter {
///     #[event]
///     fn new_count(count: i64);
/// }
///
/// #[component]
/// fn Log() -> Element {
///     let counter = use_actor(Counter, "demo");
///     let mut counts = use_signal(Vec::<i64>::new);
///     use_event(&counter, Counter::NEW_COUNT, move |n| counts.write().push(n));
///     rsx! { for n in counts.iter() { p { "{n}" } } }
/// }
/// ```
///
/// # Server-side rendering
///
/// Nothing subscribes while rendering on the server (the subscription is made in an effect).
#[track_caller]
#[doc(alias = "useEvent")]
pub fn use_event<A, P>(actor: &UseActor<A>, event: EventDef<A, P>, handler: impl FnMut(P) + 'static)
where
    A: Actor,
    P: DeserializeOwned + MaybeSend + 'static,
{
    use_follow(actor.core(), event.name(), handler, move |connection, _| {
        let connection = Connection::<A>::from_untyped(connection).ok()?;
        let (sender, receiver) = unbounded();
        let guard = connection.on(event, move |payload| {
            let _ = sender.unbounded_send(payload);
        });
        Some((guard, receiver))
    });
}

/// The latest payload of `event` (`None` until the first one), as a signal.
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_dioxus::{use_actor, use_latest_event};
///
/// #[rivet_core::actor]
/// pub trait Counter {
///     #[event]
///     fn new_count(count: i64);
/// }
///
/// #[component]
/// fn LastCount() -> Element {
///     let counter = use_actor(Counter, "demo");
///     let last = use_latest_event(&counter, Counter::NEW_COUNT);
///     rsx! { "last: {last():?}" }
/// }
/// ```
#[track_caller]
#[must_use]
pub fn use_latest_event<A, P>(actor: &UseActor<A>, event: EventDef<A, P>) -> ReadSignal<Option<P>>
where
    A: Actor,
    P: DeserializeOwned + MaybeSend + 'static,
{
    let mut latest = use_signal(|| None::<P>);
    use_event(actor, event, move |payload| latest.set(Some(payload)));
    use_hook(|| latest.into())
}

/// Calls `handler` for every `event` (the raw [`Event`] with its arguments) the actor of an
/// untyped hook broadcasts: [`use_event`] for actors without a declaration.
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_dioxus::{use_actor_untyped, use_event_untyped};
///
/// #[component]
/// fn Log() -> Element {
///     let counter = use_actor_untyped("counter", "my-counter");
///     let mut lines = use_signal(Vec::<String>::new);
///     use_event_untyped(&counter, "newCount", move |event| lines.write().push(format!("{:?}", event.args())));
///     rsx! { for line in lines.iter() { p { "{line}" } } }
/// }
/// ```
///
/// # Server-side rendering
///
/// Nothing subscribes while rendering on the server (the subscription is made in an effect).
#[track_caller]
#[doc(alias = "useEvent")]
pub fn use_event_untyped(
    actor: &UseActorReturn,
    event: impl Into<String>,
    handler: impl FnMut(Event) + 'static,
) {
    use_follow(
        actor.core,
        &event.into(),
        handler,
        |connection: ActorConnection, name: &str| {
            let (sender, receiver) = unbounded();
            let guard = connection.on(name, move |event: &Event| {
                let _ = sender.unbounded_send(event.clone());
            });
            Some((guard, receiver))
        },
    );
}

/// The latest occurrence of `event` of an untyped hook (`None` until the first one), as a
/// signal.
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_dioxus::{use_actor_untyped, use_latest_event_untyped};
///
/// #[component]
/// fn LastCount() -> Element {
///     let counter = use_actor_untyped("counter", "my-counter");
///     let last = use_latest_event_untyped(&counter, "newCount");
///     let text = last.read().as_ref().map(|e| format!("{:?}", e.args())).unwrap_or_default();
///     rsx! { "last: {text}" }
/// }
/// ```
#[track_caller]
#[must_use]
pub fn use_latest_event_untyped(
    actor: &UseActorReturn,
    event: impl Into<String>,
) -> ReadSignal<Option<Event>> {
    let mut latest = use_signal(|| None::<Event>);
    use_event_untyped(actor, event, move |event| latest.set(Some(event)));
    use_hook(|| latest.into())
}

/// Subscribes with `subscribe` to every connection of `core` (the effect reads it, so the
/// subscription moves with it) and to the event `name` (a new name re-subscribes), calling
/// the newest `handler` for each payload on the `VirtualDom`'s thread until unmount.
#[track_caller]
fn use_follow<T: 'static>(
    core: Core,
    name: &str,
    handler: impl FnMut(T) + 'static,
    subscribe: impl Fn(ActorConnection, &str) -> Option<(EventSubscription, UnboundedReceiver<T>)>
        + 'static,
) {
    let mut latest = use_hook(|| CopyValue::new(Box::new(|_: T| {}) as Box<dyn FnMut(T)>));
    latest.set(Box::new(handler));
    let mut current_name = use_hook(|| CopyValue::new(name.to_owned()));
    let mut listener = use_hook(|| CopyValue::new(None::<Task>));

    let mut effect = use_effect(move || {
        // Tracked: a new connection re-subscribes.
        let connection = core.connection.read().clone();
        if let Some(task) = listener.write().take() {
            task.cancel();
        }
        let Some((guard, mut payloads)) =
            connection.and_then(|c| subscribe(c, current_name.peek().as_str()))
        else {
            return;
        };
        listener.set(Some(spawn(async move {
            let _guard = guard;
            while let Some(payload) = payloads.next().await {
                (latest.write())(payload);
            }
        })));
    });

    if *current_name.peek() != name {
        current_name.set(name.to_owned());
        effect.mark_dirty();
    }

    use_drop(move || {
        if let Some(task) = listener.write().take() {
            task.cancel();
        }
    });
}
