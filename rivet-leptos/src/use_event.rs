//! [`use_event`] and [`use_latest_event`]: an actor's broadcasts, for as long as the
//! component lives.

use std::rc::Rc;

use futures::future::{AbortHandle, Abortable};
use futures::StreamExt;
use leptos::prelude::*;
use leptos::task::spawn_local;
use rivet_core::Event;

use crate::UseActorReturn;

/// Calls `handler` for every `event` the actor of `actor` broadcasts: the Leptos form of
/// React's `actor.useEvent(name, handler)`.
///
/// The subscription follows the hook: it is made once the connection exists, survives
/// reconnects (the connection subscribes again by itself), moves to the new connection when
/// the actor's identity or the event name changes, and is removed when the component is
/// cleaned up. Events are delivered on the reactive thread, in order.
///
/// A Leptos component runs once, so there is one handler; it always sees the newest values
/// of the signals it reads, which is what React's "newest handler" rule is for.
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::{use_actor, use_event};
///
/// #[component]
/// fn Chat() -> impl IntoView {
///     let room = use_actor("chatRoom", "general");
///     let messages = RwSignal::new(Vec::<String>::new());
///     use_event(&room, "message", move |event| {
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
pub fn use_event(
    actor: &UseActorReturn,
    name: impl Into<Signal<String>>,
    handler: impl Fn(&Event) + 'static,
) {
    let connection = actor.connection;
    let name = name.into();
    let handler: Rc<dyn Fn(&Event)> = Rc::new(handler);
    let subscription = StoredValue::new(None::<AbortHandle>);

    Effect::new(move |_| {
        let connection = connection.get();
        let name = name.get();
        if let Some(previous) = subscription.try_update_value(|s| s.take()).flatten() {
            previous.abort();
        }
        let Some(connection) = connection else {
            return;
        };
        let mut events = connection.events(&name);
        let handler = handler.clone();
        let deliver = async move {
            while let Some(event) = events.next().await {
                handler(&event);
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

/// The latest `event` the actor broadcast, as a signal (`None` until the first one).
/// React has no equivalent; it is [`use_event`] writing into a signal.
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::{use_actor, use_latest_event};
///
/// #[component]
/// fn LiveCount() -> impl IntoView {
///     let counter = use_actor("counter", "demo");
///     let latest = use_latest_event(&counter, "newCount");
///     view! { <p>{move || latest.get().and_then(|e| e.arg::<i64>(0).ok())}</p> }
/// }
/// ```
///
/// # Server-side rendering
/// Always `None` on the server.
#[track_caller]
pub fn use_latest_event(
    actor: &UseActorReturn,
    name: impl Into<Signal<String>>,
) -> Signal<Option<Event>> {
    let latest = RwSignal::new(None::<Event>);
    use_event(actor, name, move |event| {
        latest.try_set(Some(event.clone()));
    });
    latest.into()
}
