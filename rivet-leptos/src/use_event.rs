//! [`use_event`] and [`use_latest_event`]: an actor's broadcasts, decoded, for as long as the
//! component lives; [`use_event_untyped`] and [`use_latest_event_untyped`] for actors without
//! a declaration.

use std::cell::RefCell;
use std::rc::Rc;

use futures::future::{AbortHandle, Abortable};
use futures::StreamExt;
use leptos::prelude::*;
use leptos::task::spawn_local;
use rivet_core::typed::{Actor, Connection, EventDef, MaybeSend};
use rivet_core::{ActorConnection, Event, EventSubscription};
use serde::de::DeserializeOwned;

use crate::platform::ConnStorage;
use crate::{UseActor, UseActorReturn};

/// Calls `handler` with the decoded payload of every `event` the actor broadcasts: the
/// Leptos form of React's `actor.useEvent(name, handler)`.
///
/// The subscription follows the hook: it is made once the connection exists, survives
/// reconnects (the connection subscribes again by itself), moves to the new connection when
/// the actor's identity changes, and is removed when the component is cleaned up. Payloads
/// are delivered on the reactive thread, in order, inside the component's owner (so
/// `use_context` works in `handler`). A payload that does not decode as `P` is not passed
/// on: the connection reports it (log and `on_error` callbacks).
///
/// A Leptos component runs once, so there is one handler; it always sees the newest values
/// of the signals it reads, which is what React's "newest handler" rule is for.
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::prelude::*;
///
/// #[rivet_core::actor]
/// pub trait Counter {
///     #[event]
///     fn new_count(count: i64);
/// }
///
/// #[component]
/// fn Log() -> impl IntoView {
///     let counter = use_actor(Counter, "demo");
///     let counts = RwSignal::new(Vec::<i64>::new());
///     use_event(&counter, Counter::NEW_COUNT, move |count| counts.update(|c| c.push(count)));
///     view! { <p>{move || format!("{:?}", counts.get())}</p> }
/// }
/// ```
///
/// # Server-side rendering
/// Nothing is subscribed on the server (there is no connection there).
#[track_caller]
#[doc(alias = "useEvent")]
pub fn use_event<A, P>(actor: &UseActor<A>, event: EventDef<A, P>, handler: impl FnMut(P) + 'static)
where
    A: Actor,
    P: DeserializeOwned + MaybeSend + 'static,
{
    let handler: Rc<RefCell<dyn FnMut(P)>> = Rc::new(RefCell::new(handler));
    follow(actor.core().connection, move |connection| {
        let connection = Connection::<A>::from_untyped(connection).ok()?;
        let (sender, receiver) = futures::channel::mpsc::unbounded();
        let guard = connection.on(event, move |payload| {
            let _ = sender.unbounded_send(payload);
        });
        Some((guard, receiver, handler.clone()))
    });
}

/// The latest payload of `event` (`None` until the first one), as a signal. React has no
/// equivalent; it is [`use_event`] writing into a signal. Like any value of a Leptos
/// [`Signal`], the payload type is `Send + Sync` (plain data always is); for other payloads,
/// use [`use_event`] with a local signal of your own.
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::prelude::*;
///
/// #[rivet_core::actor]
/// pub trait Counter {
///     #[event]
///     fn new_count(count: i64);
/// }
///
/// #[component]
/// fn LiveCount() -> impl IntoView {
///     let counter = use_actor(Counter, "demo");
///     let latest = use_latest_event(&counter, Counter::NEW_COUNT);
///     view! { <p>{move || latest.get()}</p> }
/// }
/// ```
///
/// # Server-side rendering
/// Always `None` on the server.
#[track_caller]
pub fn use_latest_event<A, P>(actor: &UseActor<A>, event: EventDef<A, P>) -> Signal<Option<P>>
where
    A: Actor,
    P: DeserializeOwned + Clone + Send + Sync + 'static,
{
    let latest = RwSignal::new(None::<P>);
    use_event(actor, event, move |payload| {
        latest.try_set(Some(payload));
    });
    latest.into()
}

/// Calls `handler` for every `event` the actor of an untyped hook broadcasts (the raw
/// [`Event`] with its arguments): [`use_event`] for actors without a declaration.
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::{use_actor_untyped, use_event_untyped};
///
/// #[component]
/// fn Chat() -> impl IntoView {
///     let room = use_actor_untyped("chatRoom", "general");
///     let messages = RwSignal::new(Vec::<String>::new());
///     use_event_untyped(&room, "message", move |event| {
///         if let Ok(text) = event.arg::<serde_json::Value>(0) {
///             messages.update(|m| m.push(text["text"].as_str().unwrap_or("").to_owned()));
///         }
///     });
///     view! { <ul>{move || messages.get().into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul> }
/// }
/// ```
///
/// # Server-side rendering
/// Nothing is subscribed on the server (there is no connection there).
#[track_caller]
#[doc(alias = "useEvent")]
pub fn use_event_untyped(
    actor: &UseActorReturn,
    name: impl Into<Signal<String>>,
    handler: impl FnMut(Event) + 'static,
) {
    let name = name.into();
    let handler: Rc<RefCell<dyn FnMut(Event)>> = Rc::new(RefCell::new(handler));
    follow(actor.core.connection, move |connection: ActorConnection| {
        let (sender, receiver) = futures::channel::mpsc::unbounded();
        let guard = connection.on(&name.get(), move |event: &Event| {
            let _ = sender.unbounded_send(event.clone());
        });
        Some((guard, receiver, handler.clone()))
    });
}

/// The latest `event` of an untyped hook (`None` until the first one), as a signal.
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::{use_actor_untyped, use_latest_event_untyped};
///
/// #[component]
/// fn LiveCount() -> impl IntoView {
///     let counter = use_actor_untyped("counter", "demo");
///     let latest = use_latest_event_untyped(&counter, "newCount");
///     view! { <p>{move || latest.get().and_then(|e| e.arg::<i64>(0).ok())}</p> }
/// }
/// ```
///
/// # Server-side rendering
/// Always `None` on the server.
#[track_caller]
pub fn use_latest_event_untyped(
    actor: &UseActorReturn,
    name: impl Into<Signal<String>>,
) -> Signal<Option<Event>> {
    let latest = RwSignal::new(None::<Event>);
    use_event_untyped(actor, name, move |event| {
        latest.try_set(Some(event));
    });
    latest.into()
}

/// What a subscription hands the delivering task: the listener guard, the payloads, and
/// the handler.
type Subscribed<T> = (
    EventSubscription,
    futures::channel::mpsc::UnboundedReceiver<T>,
    Rc<RefCell<dyn FnMut(T)>>,
);

/// Subscribes with `subscribe` to every connection `connection` holds (tracked, so the
/// subscription moves with it), delivering on the reactive thread inside the current owner
/// until the next connection or cleanup.
fn follow<T: 'static>(
    connection: RwSignal<Option<ActorConnection>, ConnStorage>,
    subscribe: impl Fn(ActorConnection) -> Option<Subscribed<T>> + 'static,
) {
    // Tasks do not inherit the owner; the handler runs inside it so `use_context` works.
    let owner = Owner::current();
    let subscription = StoredValue::new(None::<AbortHandle>);
    Effect::new(move |_| {
        let connection = connection.get();
        if let Some(previous) = subscription.try_update_value(|s| s.take()).flatten() {
            previous.abort();
        }
        let Some((guard, mut payloads, handler)) = connection.and_then(&subscribe) else {
            return;
        };
        let owner = owner.clone();
        let deliver = async move {
            let _guard = guard;
            while let Some(payload) = payloads.next().await {
                let mut handler = handler.borrow_mut();
                match &owner {
                    Some(owner) => owner.with(|| handler(payload)),
                    None => handler(payload),
                }
            }
        };
        let (abort, registration) = AbortHandle::new_pair();
        spawn_local(async move {
            let _ = Abortable::new(deliver, registration).await;
        });
        subscription.set_value(Some(abort));
    });
    on_cleanup(move || {
        if let Some(abort) = subscription.try_update_value(|s| s.take()).flatten() {
            abort.abort();
        }
    });
}
