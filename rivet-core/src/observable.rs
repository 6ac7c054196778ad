//! [`Observable`]: a value that changes over time, readable now and followable as a stream
//! that starts with the current value and then yields **every** change (nothing coalesced,
//! so a test or a UI sees `Connecting → Connected` even when both happen in one tick).

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use futures::channel::mpsc;
use futures::{Stream, StreamExt};

/// A shared, observable value. Clones observe the same value.
///
/// ```
/// use futures::StreamExt;
/// use rivet_core::observable::Observable;
///
/// # futures::executor::block_on(async {
/// let count = Observable::new(0);
/// let mut changes = count.subscribe();
/// count.set(1);
/// count.set(2);
/// assert_eq!(changes.next().await, Some(0)); // the current value first
/// assert_eq!(changes.next().await, Some(1));
/// assert_eq!(changes.next().await, Some(2));
/// assert_eq!(count.get(), 2);
/// # });
/// ```
#[derive(Debug)]
pub struct Observable<T> {
    inner: Arc<Mutex<Inner<T>>>,
}

#[derive(Debug)]
struct Inner<T> {
    value: T,
    subscribers: Vec<mpsc::UnboundedSender<T>>,
}

impl<T> Clone for Observable<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Clone + Default> Default for Observable<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: Clone> Observable<T> {
    /// A new observable holding `value`.
    pub fn new(value: T) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                value,
                subscribers: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // Every critical section leaves the value whole; a panic in a subscriber cannot
        // happen inside it.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current value.
    pub fn get(&self) -> T {
        self.lock().value.clone()
    }

    /// Replaces the value and tells every subscriber.
    pub fn set(&self, value: T) {
        let mut inner = self.lock();
        inner.value = value.clone();
        inner
            .subscribers
            .retain(|tx| tx.unbounded_send(value.clone()).is_ok());
    }

    /// Changes the value in place and tells every subscriber.
    pub fn update(&self, change: impl FnOnce(&mut T)) {
        let mut inner = self.lock();
        change(&mut inner.value);
        let value = inner.value.clone();
        inner
            .subscribers
            .retain(|tx| tx.unbounded_send(value.clone()).is_ok());
    }

    /// A stream of the current value followed by every later one. Dropping the stream
    /// unsubscribes.
    pub fn subscribe(&self) -> Changes<T> {
        let (tx, rx) = mpsc::unbounded();
        let mut inner = self.lock();
        // Cannot fail: the receiver is alive right here.
        let _ = tx.unbounded_send(inner.value.clone());
        inner.subscribers.push(tx);
        Changes { rx }
    }

    /// Waits until the value satisfies `predicate` and returns it.
    pub async fn wait_for(&self, mut predicate: impl FnMut(&T) -> bool) -> T {
        let mut changes = self.subscribe();
        while let Some(value) = changes.next().await {
            if predicate(&value) {
                return value;
            }
        }
        // The observable holds a sender for every subscriber while it lives, and `self`
        // keeps it alive, so the stream cannot end; return the current value regardless.
        self.get()
    }

    /// How many subscribers are listening (dropped ones are pruned on the next change).
    pub fn subscriber_count(&self) -> usize {
        let mut inner = self.lock();
        inner.subscribers.retain(|tx| !tx.is_closed());
        inner.subscribers.len()
    }
}

/// The stream returned by [`Observable::subscribe`].
#[derive(Debug)]
pub struct Changes<T> {
    rx: mpsc::UnboundedReceiver<T>,
}

impl<T> Stream for Changes<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_next_unpin(cx)
    }
}
