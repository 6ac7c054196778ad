//! [`PausedClock`]: the test's tokio clock stopped, so the client's reconnect backoff can be
//! skipped instead of waited for.

use std::fmt;
use std::sync::mpsc;
use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};

/// Why the clock could not be paused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// Not called from inside a tokio runtime: call it from the test's async body.
    #[error("PausedClock::pause needs a tokio runtime; call it from inside the test's runtime")]
    NoRuntime,
    /// tokio pauses time only on a current-thread runtime: build the test's runtime with
    /// `Builder::new_current_thread()` (or `#[tokio::test]` without `flavor = "multi_thread"`).
    #[error(
        "tokio pauses time only on a current-thread runtime; build the test's runtime with \
         Builder::new_current_thread() (or #[tokio::test] without flavor = \"multi_thread\")"
    )]
    NotCurrentThread,
}

/// The test runtime's clock, stopped: every timer of the client on this runtime (reconnect
/// backoff, retry delays, grace periods, its connect and action deadlines) waits until the
/// test moves time on with [`advance`](Self::advance), so a test of a reconnect after several
/// failures takes milliseconds instead of the seconds the backoff adds up to.
///
/// It is tokio's paused time (`tokio::time::pause`) without its auto-advance: tokio would
/// otherwise jump to the next timer whenever the runtime waits, and a socket waiting for the
/// [`FakeServer`](crate::FakeServer) (which runs on real time, on its own thread) would see
/// its deadline pass at once. While a `PausedClock` lives, the clock moves only when the test
/// advances it; use [`settle`](Self::settle) rather than `tokio::time::sleep` to let real
/// time pass, and `std::time::Instant` for a test's own deadlines.
///
/// Limits: only timers on the runtime that paused (a current-thread runtime, tokio's rule);
/// durations the client measures with `std::time::Instant` keep real time (for example
/// [`ReconnectPolicy::healthy_after`](rivet_core::ReconnectPolicy::healthy_after)). Dropping
/// it lets tokio auto-advance again; the clock stays paused until the runtime ends.
///
/// ```
/// use std::time::Duration;
/// use rivet_testing::PausedClock;
///
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// runtime.block_on(async {
///     let clock = PausedClock::pause().unwrap();
///     let start = tokio::time::Instant::now();
///     let mut backoff = Box::pin(tokio::time::sleep(Duration::from_secs(30)));
///     clock.settle(Duration::from_millis(5)).await; // real time passes, the clock does not
///     assert!(futures::poll!(backoff.as_mut()).is_pending());
///     clock.advance(Duration::from_secs(30)).await; // skip the 30 s
///     backoff.await;
///     assert!(start.elapsed() >= Duration::from_secs(30));
/// });
/// ```
pub struct PausedClock {
    /// Dropping it ends the blocking task whose existence keeps tokio from auto-advancing.
    _hold: mpsc::Sender<()>,
}

impl fmt::Debug for PausedClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PausedClock").finish_non_exhaustive()
    }
}

impl PausedClock {
    /// Stops the clock of the current (current-thread) tokio runtime; it stands still until
    /// [`advance`](Self::advance).
    ///
    /// # Errors
    /// [`ClockError`]: no runtime, or a multi-thread one.
    ///
    /// # Panics
    /// If the clock is already paused (for example by `#[tokio::test(start_paused = true)]`):
    /// tokio allows one pause.
    pub fn pause() -> Result<PausedClock, ClockError> {
        let handle = Handle::try_current().map_err(|_| ClockError::NoRuntime)?;
        if handle.runtime_flavor() != RuntimeFlavor::CurrentThread {
            return Err(ClockError::NotCurrentThread);
        }
        tokio::time::pause();
        // tokio does not auto-advance while a blocking task of the runtime is running (its
        // documented way to keep paused time still during I/O): this one runs until the
        // clock is dropped.
        let (hold, released) = mpsc::channel::<()>();
        drop(handle.spawn_blocking(move || {
            let _ = released.recv();
        }));
        Ok(PausedClock { _hold: hold })
    }

    /// Moves the clock on by `by`, and one millisecond more: every timer due by then fires
    /// (tokio's timers round their deadlines up to the millisecond, so one due in exactly `by`
    /// fires too). The client waits for its reconnect backoff with such a timer; its state's
    /// `next_retry_in` says how long.
    pub async fn advance(&self, by: Duration) {
        tokio::time::advance(by + Duration::from_millis(1)).await;
    }

    /// Lets `real` wall-clock time pass without moving the clock, so that the fake server and
    /// the sockets make progress (a `tokio::time::sleep` would never end on a stopped clock).
    pub async fn settle(&self, real: Duration) {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(real)).await;
    }
}
