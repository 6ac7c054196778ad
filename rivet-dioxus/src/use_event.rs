//! [`use_event`] and [`use_latest_event`]: actor events delivered on the `VirtualDom`'s thread.

use dioxus::core::Task;
use dioxus::prelude::*;
use futures::StreamExt;
use rivet_core::connection::Event;

use crate::UseActor;

/// Calls `handler` for every `event` the actor broadcasts while the component is mounted —
/// React's `actor.useEvent(name, handler)`. The handler of the latest render is the one
/// called, so it may capture fresh props without re-subscribing.
///
/// The subscription follows the actor: when [`use_actor`](crate::use_actor) switches to
/// another actor, it moves with it; on unmount it is removed (the server subscription goes
/// with the last listener of that event). Events are received by a task spawned on the
/// `VirtualDom`, so `handler` runs on its thread and may write signals.
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_dioxus::{use_actor, use_event};
///
/// #[component]
/// fn Log() -> Element {
///     let counter = use_actor("counter", "my-counter");
///     let mut lines = use_signal(Vec::<String>::new);
///     use_event(counter, "newCount", move |event| lines.write().push(format!("{:?}", event.args())));
///     rsx! { for line in lines.iter() { p { "{line}" } } }
/// }
/// ```
///
/// # Server-side rendering
///
/// Nothing subscribes while rendering on the server (the subscription is made in an effect).
#[track_caller]
#[doc(alias = "useEvent")]
pub fn use_event(actor: UseActor, event: impl Into<String>, handler: impl FnMut(Event) + 'static) {
    let event = event.into();
    let mut latest = use_hook(|| CopyValue::new(Box::new(|_: Event| {}) as Box<dyn FnMut(Event)>));
    latest.set(Box::new(handler));
    let mut name = use_hook(|| CopyValue::new(event.clone()));
    let mut listener = use_hook(|| CopyValue::new(None::<Task>));

    let mut effect = use_effect(move || {
        // Tracked: a new connection re-subscribes.
        let connection = actor.connection.read().clone();
        if let Some(task) = listener.write().take() {
            task.cancel();
        }
        let Some(connection) = connection else {
            return;
        };
        let mut events = connection.events(&name.peek());
        listener.set(Some(spawn(async move {
            while let Some(event) = events.next().await {
                (latest.write())(event);
            }
        })));
    });

    if *name.peek() != event {
        name.set(event);
        effect.mark_dirty();
    }

    use_drop(move || {
        if let Some(task) = listener.write().take() {
            task.cancel();
        }
    });
}

/// The latest occurrence of `event` (`None` until the first one), as a signal.
///
/// ```no_run
/// use dioxus::prelude::*;
/// use rivet_dioxus::{use_actor, use_latest_event};
///
/// #[component]
/// fn LastCount() -> Element {
///     let counter = use_actor("counter", "my-counter");
///     let last = use_latest_event(counter, "newCount");
///     let text = last.read().as_ref().map(|e| format!("{:?}", e.args())).unwrap_or_default();
///     rsx! { "last: {text}" }
/// }
/// ```
#[track_caller]
#[must_use]
pub fn use_latest_event(actor: UseActor, event: impl Into<String>) -> ReadSignal<Option<Event>> {
    let mut latest = use_signal(|| None::<Event>);
    use_event(actor, event, move |event| latest.set(Some(event)));
    latest.into()
}
