//! [`Observable`]: a value that changes over time, readable now and followable as a stream.
//!
//! A subscription ([`Changes`]) starts with the current value and then yields every change, in
//! order, as long as its reader keeps up: each subscriber has a buffer of the
//! [`BUFFERED_CHANGES`] most recent changes, so a test or a UI sees `Connecting → Connected`
//! even when both happen in one tick. Memory stays bounded whatever the reader does: when a
//! change arrives and the buffer is full, the oldest buffered change is dropped. A reader that
//! fell behind therefore skips some intermediate values, but it always ends at the latest value,
//! and [`Changes::lagged`] counts what it skipped (as `Lagged(n)` does in tokio's `broadcast`).
//! The buffer takes room only as changes arrive and gives it back once they are read, and a
//! dropped [`Changes`] unregisters at once, so an idle subscriber costs a few dozen bytes.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};

use futures::{Stream, StreamExt};

/// How many changes each subscriber buffers before the oldest is dropped.
///
/// Enough for every transition of a connection between two polls of an ordinary reader; a
/// reader that does not poll at all (a stream kept but never read) costs at most this many
/// values.
pub const BUFFERED_CHANGES: usize = 32;

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
/// assert_eq!(changes.lagged(), 0); // nothing skipped
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
    /// Weak, so a dropped [`Changes`] frees its buffer at once; pruned on the next change.
    subscribers: Vec<Weak<Mutex<Queue<T>>>>,
}

/// One subscriber's buffer, shared by the observable (writer) and the [`Changes`] (reader).
#[derive(Debug)]
struct Queue<T> {
    items: VecDeque<Buffered<T>>,
    waker: Option<Waker>,
    /// The observable is gone: the stream ends once `items` is drained.
    closed: bool,
}

/// Buffered changes a drained reader keeps room for; more is released once read.
const SMALL_QUEUE: usize = 4;

#[derive(Debug)]
struct Buffered<T> {
    value: T,
    /// How many changes were dropped right before this one.
    skipped_before: u64,
}

impl<T> Queue<T> {
    fn with_first(value: T) -> Self {
        // Grows on demand (most readers keep up and never hold more than a few values) and
        // shrinks back once drained, see `Changes::poll_next`.
        let mut items = VecDeque::new();
        items.push_back(Buffered {
            value,
            skipped_before: 0,
        });
        Self {
            items,
            waker: None,
            closed: false,
        }
    }

    /// Appends `value`, dropping the oldest buffered value when full; returns the waker to call.
    fn push(&mut self, value: T) -> Option<Waker> {
        let mut skipped_before = 0;
        if self.items.len() >= BUFFERED_CHANGES {
            if let Some(oldest) = self.items.pop_front() {
                let skipped = oldest.skipped_before + 1;
                match self.items.front_mut() {
                    Some(next) => next.skipped_before += skipped,
                    None => skipped_before = skipped,
                }
            }
        }
        self.items.push_back(Buffered {
            value,
            skipped_before,
        });
        self.waker.take()
    }
}

impl<T> Drop for Inner<T> {
    fn drop(&mut self) {
        for queue in self.subscribers.drain(..).filter_map(|q| q.upgrade()) {
            let waker = {
                let mut queue = lock(&queue);
                queue.closed = true;
                queue.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
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

/// Every critical section leaves its data whole (no user code runs inside one), so a poisoned
/// lock still holds a consistent value.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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

    /// The current value.
    pub fn get(&self) -> T {
        lock(&self.inner).value.clone()
    }

    /// Replaces the value and tells every subscriber.
    pub fn set(&self, value: T) {
        let mut inner = lock(&self.inner);
        inner.value = value;
        Self::notify(&mut inner);
    }

    /// Changes the value in place and tells every subscriber.
    pub fn update(&self, change: impl FnOnce(&mut T)) {
        let mut inner = lock(&self.inner);
        change(&mut inner.value);
        Self::notify(&mut inner);
    }

    /// Queues the current value for every live subscriber, then wakes them. Runs under the
    /// observable's lock, so every subscriber sees the changes in the same order.
    fn notify(inner: &mut Inner<T>) {
        let mut wakers = Vec::new();
        let value = &inner.value;
        inner.subscribers.retain(|weak| match weak.upgrade() {
            Some(queue) => {
                wakers.extend(lock(&queue).push(value.clone()));
                true
            }
            None => false,
        });
        for waker in wakers {
            waker.wake();
        }
    }

    /// A stream of the current value followed by every later one, up to
    /// [`BUFFERED_CHANGES`] behind the latest: see [`Changes`]. Dropping the stream
    /// unsubscribes; the stream ends when every clone of the observable is dropped.
    pub fn subscribe(&self) -> Changes<T> {
        let mut inner = lock(&self.inner);
        let queue = Arc::new(Mutex::new(Queue::with_first(inner.value.clone())));
        inner.subscribers.push(Arc::downgrade(&queue));
        Changes {
            queue,
            observable: Arc::downgrade(&self.inner),
            lagged: 0,
        }
    }

    /// Waits until the value satisfies `predicate` and returns it.
    ///
    /// The predicate sees the current value and then the changes in order; if the waiting
    /// task is not polled while more than [`BUFFERED_CHANGES`] changes happen, the oldest of
    /// them are skipped (a value that held only briefly may go unseen), but the latest value
    /// is always checked.
    pub async fn wait_for(&self, mut predicate: impl FnMut(&T) -> bool) -> T {
        let mut changes = self.subscribe();
        while let Some(value) = changes.next().await {
            if predicate(&value) {
                return value;
            }
        }
        // The stream ends only when every observable is dropped, and `self` is one; return
        // the current value regardless.
        self.get()
    }

    /// How many subscribers are listening.
    pub fn subscriber_count(&self) -> usize {
        let mut inner = lock(&self.inner);
        inner.subscribers.retain(|weak| weak.strong_count() > 0);
        inner.subscribers.len()
    }
}

/// The stream returned by [`Observable::subscribe`]: the value at subscription, then every
/// change in order, with bounded memory.
///
/// Each subscriber buffers at most [`BUFFERED_CHANGES`] values. A reader that falls further
/// behind (it stops polling while changes keep coming) loses the oldest buffered values, never
/// the newest: once it reads again it gets the most recent [`BUFFERED_CHANGES`] changes,
/// ending at the current value. [`Changes::lagged`] counts the values skipped so far; it grows
/// exactly when [`next`](futures::StreamExt::next) returns a value that had skipped values
/// right before it, so a reader that must see every transition can check it after each item.
///
/// ```
/// use futures::StreamExt;
/// use rivet_core::observable::{Observable, BUFFERED_CHANGES};
///
/// # futures::executor::block_on(async {
/// let count = Observable::new(0_u32);
/// let mut changes = count.subscribe();
/// for n in 1..=1000 {
///     count.set(n); // nobody reads: the buffer keeps only the latest changes
/// }
/// assert_eq!(changes.backlog(), BUFFERED_CHANGES);
///
/// let first = changes.next().await;
/// assert_eq!(first, Some(1000 - BUFFERED_CHANGES as u32 + 1));
/// assert_eq!(changes.lagged(), 1000 - BUFFERED_CHANGES as u64 + 1); // 0..=968 skipped
///
/// let rest: Vec<u32> = changes.by_ref().take(BUFFERED_CHANGES - 1).collect().await;
/// assert_eq!(rest.last(), Some(&1000)); // always ends at the latest value
/// # });
/// ```
#[derive(Debug)]
pub struct Changes<T> {
    queue: Arc<Mutex<Queue<T>>>,
    /// Where this reader is registered, to unregister it when dropped.
    observable: Weak<Mutex<Inner<T>>>,
    lagged: u64,
}

impl<T> Drop for Changes<T> {
    fn drop(&mut self) {
        // Unregister now rather than at the next change: a connection that stays in one state
        // (idle) would otherwise keep the dead entry of every `ready()` call that waited on it.
        if let Some(observable) = self.observable.upgrade() {
            let queue = Arc::as_ptr(&self.queue);
            lock(&observable)
                .subscribers
                .retain(|weak| weak.as_ptr() != queue && weak.strong_count() > 0);
        }
    }
}

impl<T> Changes<T> {
    /// How many values this reader skipped so far because it fell more than
    /// [`BUFFERED_CHANGES`] changes behind. Counts only skips before values already returned.
    pub fn lagged(&self) -> u64 {
        self.lagged
    }

    /// How many values are waiting to be read (at most [`BUFFERED_CHANGES`]).
    pub fn backlog(&self) -> usize {
        lock(&self.queue).items.len()
    }
}

impl<T> Stream for Changes<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        let mut queue = lock(&this.queue);
        if let Some(next) = queue.items.pop_front() {
            this.lagged += next.skipped_before;
            if queue.items.is_empty() && queue.items.capacity() > SMALL_QUEUE {
                // Drained after a burst: give the memory back.
                queue.items = VecDeque::new();
            }
            return Poll::Ready(Some(next.value));
        }
        if queue.closed {
            return Poll::Ready(None);
        }
        match &mut queue.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn a_dropped_reader_is_unregistered_at_once() {
        let value = Observable::new(0_u32);
        let changes = value.subscribe();
        assert_eq!(lock(&value.inner).subscribers.len(), 1);
        drop(changes);
        // Not only at the next change: an idle connection has none.
        assert_eq!(lock(&value.inner).subscribers.len(), 0);
        block_on(value.wait_for(|v| *v == 0));
        assert_eq!(lock(&value.inner).subscribers.len(), 0);
    }

    #[test]
    fn a_drained_buffer_gives_its_memory_back() {
        block_on(async {
            let value = Observable::new(0_usize);
            let mut changes = value.subscribe();
            assert!(lock(&changes.queue).items.capacity() <= SMALL_QUEUE);
            for n in 1..BUFFERED_CHANGES {
                value.set(n);
            }
            assert!(lock(&changes.queue).items.capacity() >= BUFFERED_CHANGES);
            let seen: Vec<usize> = changes.by_ref().take(BUFFERED_CHANGES).collect().await;
            assert_eq!(seen.len(), BUFFERED_CHANGES);
            assert!(lock(&changes.queue).items.capacity() <= SMALL_QUEUE);
            value.set(99);
            assert_eq!(changes.next().await, Some(99));
        });
    }

    #[test]
    fn a_reader_that_keeps_up_sees_every_change() {
        block_on(async {
            let value = Observable::new(0_u64);
            let mut changes = value.subscribe();
            assert_eq!(changes.next().await, Some(0));
            for n in 1..=10_000 {
                value.set(n);
                if n % 7 == 0 {
                    // Several changes per "tick", as a connection does.
                    for m in (n - 6)..=n {
                        assert_eq!(changes.next().await, Some(m));
                    }
                }
            }
            assert_eq!(changes.lagged(), 0);
        });
    }

    #[test]
    fn a_full_buffer_of_changes_is_delivered_without_loss() {
        block_on(async {
            let value = Observable::new(0_usize);
            let mut changes = value.subscribe();
            for n in 1..BUFFERED_CHANGES {
                value.set(n);
            }
            let seen: Vec<usize> = changes.by_ref().take(BUFFERED_CHANGES).collect().await;
            assert_eq!(seen, (0..BUFFERED_CHANGES).collect::<Vec<_>>());
            assert_eq!(changes.lagged(), 0);
        });
    }

    #[test]
    fn a_slow_reader_skips_the_oldest_and_ends_at_the_latest() {
        block_on(async {
            let value = Observable::new(0_u64);
            let mut changes = value.subscribe();
            let total = 1_000_000_u64;
            for n in 1..=total {
                value.set(n);
            }
            assert_eq!(changes.backlog(), BUFFERED_CHANGES);
            let cap = BUFFERED_CHANGES as u64;
            let mut seen = Vec::new();
            while changes.backlog() > 0 {
                seen.push(changes.next().await.unwrap());
            }
            assert_eq!(seen, ((total - cap + 1)..=total).collect::<Vec<_>>());
            // The initial 0 and 1..=total-cap were skipped.
            assert_eq!(changes.lagged(), total - cap + 1);
            // The reader is caught up: later changes arrive one by one again.
            value.set(7);
            assert_eq!(changes.next().await, Some(7));
            assert_eq!(changes.lagged(), total - cap + 1);
        });
    }

    #[test]
    fn lag_is_counted_at_the_value_it_precedes() {
        block_on(async {
            let value = Observable::new(0_usize);
            let mut changes = value.subscribe();
            for n in 1..=BUFFERED_CHANGES + 3 {
                value.set(n);
            }
            assert_eq!(changes.lagged(), 0, "nothing read yet");
            assert_eq!(changes.next().await, Some(4));
            assert_eq!(changes.lagged(), 4, "0..=3 skipped before 4");
            assert_eq!(changes.next().await, Some(5));
            assert_eq!(changes.lagged(), 4);
        });
    }

    #[test]
    fn the_stream_ends_after_its_buffer_when_the_observable_is_dropped() {
        block_on(async {
            let value = Observable::new(1);
            let mut changes = value.subscribe();
            value.set(2);
            drop(value);
            assert_eq!(changes.next().await, Some(1));
            assert_eq!(changes.next().await, Some(2));
            assert_eq!(changes.next().await, None);
        });
    }

    #[test]
    fn dropped_subscribers_are_pruned() {
        let value = Observable::new(0);
        let a = value.subscribe();
        let b = value.subscribe();
        assert_eq!(value.subscriber_count(), 2);
        drop(a);
        assert_eq!(value.subscriber_count(), 1);
        drop(b);
        value.set(1);
        assert_eq!(lock(&value.inner).subscribers.len(), 0);
    }

    #[test]
    fn wait_for_sees_a_change_made_from_another_thread() {
        let value = Observable::new(0);
        let setter = value.clone();
        let thread = std::thread::spawn(move || {
            for n in 1..=100_000 {
                setter.set(n);
            }
        });
        let got = block_on(value.wait_for(|n| *n == 100_000));
        assert_eq!(got, 100_000);
        thread.join().unwrap();
    }
}
