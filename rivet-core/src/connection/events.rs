//! Event listeners: who listens to which event name, and the guards that stop listening.

use std::collections::{HashMap, HashSet};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::task::{Context, Poll};

use futures::channel::mpsc;
use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::protocol::Payload;
use crate::{Error, Result};

/// One event received on a connection: its name and arguments.
///
/// The arguments stay in their encoded form until asked for: [`arg`](Self::arg) and
/// [`args_as`](Self::args_as) read them straight into your types (with [`Bytes`](crate::Bytes)
/// for `Uint8Array`s and `u64` / `i64` / `u128` / `i128` for bigints), [`args`](Self::args)
/// as JSON values.
///
/// ```
/// let event = rivet_core::Event::new("newCount", vec![serde_json::json!(7)]);
/// let n: i64 = event.arg(0)?;
/// assert_eq!(n, 7);
/// assert_eq!(event.args()?, &[serde_json::json!(7)]);
/// # Ok::<(), rivet_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Event {
    /// The event name.
    pub name: String,
    args: Args,
    /// The connection's actor, for error messages.
    actor: Option<Arc<str>>,
}

#[derive(Clone)]
enum Args {
    Values(Vec<Value>),
    /// As received, and as values once asked for.
    Encoded(Payload, OnceLock<Result<Vec<Value>>>),
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("Event");
        s.field("name", &self.name);
        match self.args() {
            Ok(args) => s.field("args", &args),
            Err(e) => s.field("args", &e),
        };
        s.finish()
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.args().ok() == other.args().ok()
    }
}

impl Event {
    /// An event with `name` and `args`.
    pub fn new(name: impl Into<String>, args: Vec<Value>) -> Self {
        Self {
            name: name.into(),
            args: Args::Values(args),
            actor: None,
        }
    }

    /// An event as received from `actor`'s connection, its arguments still encoded.
    pub(crate) fn received(name: String, args: Payload, actor: &Arc<str>) -> Self {
        Self {
            name,
            args: Args::Encoded(args, OnceLock::new()),
            actor: Some(actor.clone()),
        }
    }

    /// The arguments the actor passed to `broadcast(name, ...args)` / `conn.send`, as JSON
    /// values (compat tags revived: bigints as numbers or decimal strings, bytes as arrays of
    /// numbers). Built on first use.
    ///
    /// ```
    /// let event = rivet_core::Event::new("message", vec!["hi".into(), 2.into()]);
    /// assert_eq!(event.args()?.len(), 2);
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn args(&self) -> Result<&[Value]> {
        match &self.args {
            Args::Values(values) => Ok(values),
            Args::Encoded(payload, values) => values
                .get_or_init(|| {
                    payload
                        .as_ref()
                        .to_value()
                        .map(|v| into_args(Some(v)))
                        .map_err(|e| Error::decode(self.what("arguments"), e))
                })
                .as_deref()
                .map_err(Clone::clone),
        }
    }

    /// Argument `index` decoded as `T` (`null` when the event has fewer arguments).
    ///
    /// ```
    /// let event = rivet_core::Event::new("message", vec!["hi".into()]);
    /// assert_eq!(event.arg::<String>(0)?, "hi");
    /// assert_eq!(event.arg::<Option<u8>>(1)?, None);
    /// assert!(event.arg::<u8>(0).unwrap_err().to_string().contains("expected u8"));
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn arg<T: DeserializeOwned>(&self, index: usize) -> Result<T> {
        let direct = match &self.args {
            Args::Encoded(payload, _) => payload.as_ref().arg::<T>(index),
            Args::Values(_) => None,
        };
        let decoded = match direct {
            Some(decoded) => decoded,
            None => {
                let value = self.args()?.get(index).cloned().unwrap_or(Value::Null);
                serde_json::from_value(value).map_err(|e| e.to_string())
            }
        };
        decoded.map_err(|e| self.mismatch::<T>(&format!("argument {index}"), e))
    }

    /// All arguments decoded as one `T` (a tuple, a `Vec`, …).
    ///
    /// ```
    /// let event = rivet_core::Event::new("moved", vec![1.into(), 2.into()]);
    /// let (x, y): (i32, i32) = event.args_as()?;
    /// assert_eq!((x, y), (1, 2));
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn args_as<T: DeserializeOwned>(&self) -> Result<T> {
        let decoded = match &self.args {
            Args::Encoded(payload, _) => match payload.as_ref().decode::<T>() {
                Ok(value) => Ok(value),
                // A single value or no value: read as a list, as `args` does.
                Err(e) => self.args_as_list::<T>().map_err(|_| e),
            },
            Args::Values(_) => self.args_as_list::<T>(),
        };
        decoded.map_err(|e| self.mismatch::<T>("arguments", e))
    }

    fn args_as_list<T: DeserializeOwned>(&self) -> std::result::Result<T, String> {
        let values = self.args().map_err(|e| e.to_string())?;
        serde_json::from_value(Value::Array(values.to_vec())).map_err(|e| e.to_string())
    }

    fn what(&self, part: &str) -> String {
        match &self.actor {
            Some(actor) => format!("{part} of event {} on {actor}", self.name),
            None => format!("{part} of event {}", self.name),
        }
    }

    fn mismatch<T>(&self, part: &str, reason: String) -> Error {
        Error::decode(
            self.what(part),
            format_args!("expected {}: {reason}", std::any::type_name::<T>()),
        )
    }
}

/// Event arguments as a list: a missing or `null` value means none, any other non-array value
/// is a single argument (as the server itself reads `args`).
fn into_args(args: Option<Value>) -> Vec<Value> {
    match args {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) type Callback = Arc<dyn Fn(&Event) + Send + Sync>;
#[cfg(target_arch = "wasm32")]
pub(crate) type Callback = Arc<dyn Fn(&Event)>;

struct Listener {
    id: u64,
    once: bool,
    callback: Callback,
}

/// Listeners by event name. Every change of the set of names somebody listens to calls
/// `changed`, after the change; the driver then compares [`names`](Self::names) with what it
/// told the server and sends the difference. Sending the wanted state instead of each change
/// keeps the server's set equal to the listeners even when a first `on` races the last
/// guard's drop on another thread: whatever order the notifications arrive in, the last one
/// is handled after the last change.
pub(crate) struct Registry {
    inner: Mutex<RegistryInner>,
    changed: Box<dyn Fn() + Send + Sync>,
}

#[derive(Default)]
struct RegistryInner {
    next_id: u64,
    by_name: HashMap<String, Vec<Listener>>,
}

impl Registry {
    pub(crate) fn new(changed: impl Fn() + Send + Sync + 'static) -> Self {
        Self {
            inner: Mutex::new(RegistryInner::default()),
            changed: Box::new(changed),
        }
    }

    fn lock(&self) -> MutexGuard<'_, RegistryInner> {
        // Listener lists stay consistent: callbacks never run under this lock.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn add(&self, name: &str, once: bool, callback: Callback) -> u64 {
        let (id, first) = {
            let mut inner = self.lock();
            inner.next_id += 1;
            let id = inner.next_id;
            let list = inner.by_name.entry(name.to_owned()).or_default();
            let first = list.is_empty();
            list.push(Listener { id, once, callback });
            (id, first)
        };
        if first {
            (self.changed)();
        }
        id
    }

    pub(crate) fn remove(&self, name: &str, id: u64) {
        let last = {
            let mut inner = self.lock();
            let Some(list) = inner.by_name.get_mut(name) else {
                return;
            };
            let before = list.len();
            list.retain(|l| l.id != id);
            let removed = list.len() != before;
            let empty = list.is_empty();
            if empty {
                inner.by_name.remove(name);
            }
            removed && empty
        };
        if last {
            (self.changed)();
        }
    }

    /// The names somebody listens to right now.
    pub(crate) fn names(&self) -> HashSet<String> {
        self.lock().by_name.keys().cloned().collect()
    }

    /// How many listeners are registered, over all names.
    pub(crate) fn len(&self) -> usize {
        self.lock().by_name.values().map(Vec::len).sum()
    }

    /// Calls every listener of `event.name`, outside the lock; `once` listeners are removed
    /// first so they never fire twice.
    pub(crate) fn dispatch(&self, event: &Event) {
        let (callbacks, now_empty) = {
            let mut inner = self.lock();
            let Some(list) = inner.by_name.get_mut(&event.name) else {
                return;
            };
            let callbacks: Vec<Callback> = list.iter().map(|l| l.callback.clone()).collect();
            list.retain(|l| !l.once);
            let now_empty = list.is_empty();
            if now_empty {
                inner.by_name.remove(&event.name);
            }
            (callbacks, now_empty)
        };
        if now_empty {
            (self.changed)();
        }
        for callback in callbacks {
            callback(event);
        }
    }
}

/// Keeps an event listener registered; dropping it (or calling
/// [`unsubscribe`](Self::unsubscribe)) removes the listener, and the server subscription
/// when it was the last one for that event.
#[must_use = "the listener is removed when this guard is dropped"]
pub struct EventSubscription {
    registry: Weak<Registry>,
    name: String,
    id: u64,
}

impl std::fmt::Debug for EventSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSubscription")
            .field("name", &self.name)
            .field("id", &self.id)
            .finish()
    }
}

impl EventSubscription {
    pub(crate) fn new(registry: &Arc<Registry>, name: String, id: u64) -> Self {
        Self {
            registry: Arc::downgrade(registry),
            name,
            id,
        }
    }

    /// A guard for no listener at all (a disabled lease's).
    pub(crate) fn inert(name: &str) -> Self {
        Self {
            registry: Weak::new(),
            name: name.to_owned(),
            id: 0,
        }
    }

    /// The event name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Removes the listener now.
    pub fn unsubscribe(self) {}

    /// Keeps the listener for as long as the connection lives, without a guard.
    pub fn forget(mut self) {
        self.registry = Weak::new();
    }
}

impl Drop for EventSubscription {
    fn drop(&mut self) {
        if let Some(registry) = self.registry.upgrade() {
            registry.remove(&self.name, self.id);
        }
    }
}

/// A `Stream` of one event's occurrences; dropping it unsubscribes.
///
/// Items are buffered without bound while nobody polls: poll it, or drop it.
#[must_use = "streams do nothing unless polled"]
pub struct EventStream {
    rx: mpsc::UnboundedReceiver<Event>,
    _subscription: EventSubscription,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("name", &self._subscription.name)
            .finish()
    }
}

impl EventStream {
    pub(crate) fn new(registry: &Arc<Registry>, name: &str) -> Self {
        let (tx, rx) = mpsc::unbounded();
        let callback: Callback = Arc::new(move |event: &Event| {
            let _ = tx.unbounded_send(event.clone());
        });
        let id = registry.add(name, false, callback);
        Self {
            rx,
            _subscription: EventSubscription::new(registry, name.to_owned(), id),
        }
    }
}

impl EventStream {
    /// A stream that ends at once (a disabled lease's).
    pub(crate) fn ended(name: &str) -> Self {
        let (_, rx) = mpsc::unbounded();
        Self {
            rx,
            _subscription: EventSubscription::inert(name),
        }
    }
}

impl Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.rx.poll_next_unpin(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn registry() -> (Arc<Registry>, Arc<AtomicUsize>) {
        let changes = Arc::new(AtomicUsize::new(0));
        let counter = changes.clone();
        let registry = Arc::new(Registry::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }));
        (registry, changes)
    }

    #[test]
    fn first_listener_and_last_one_leaving_change_the_names() {
        let (reg, changes) = registry();
        let a = EventSubscription::new(&reg, "n".into(), reg.add("n", false, Arc::new(|_| {})));
        let b = EventSubscription::new(&reg, "n".into(), reg.add("n", false, Arc::new(|_| {})));
        drop(a);
        assert_eq!(changes.load(Ordering::SeqCst), 1);
        assert_eq!(reg.names(), HashSet::from(["n".to_owned()]));
        drop(b);
        assert_eq!(changes.load(Ordering::SeqCst), 2);
        assert!(reg.names().is_empty());
        assert_eq!(reg.len(), 0);
    }

    #[test]
    fn once_listeners_fire_once() {
        let (reg, changes) = registry();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let _guard = EventSubscription::new(
            &reg,
            "n".into(),
            reg.add(
                "n",
                true,
                Arc::new(move |_| {
                    h.fetch_add(1, Ordering::SeqCst);
                }),
            ),
        );
        reg.dispatch(&Event::new("n", vec![]));
        reg.dispatch(&Event::new("n", vec![]));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert_eq!(changes.load(Ordering::SeqCst), 2);
        assert!(reg.names().is_empty());
    }
}
