//! Native runtime: tokio.

use std::future::Future;
use std::time::Duration;

use crate::{Error, Result};

pub(crate) use std::time::Instant;

/// Spawns a task on the current tokio runtime. Fails (instead of panicking like
/// `tokio::spawn`) when called outside one.
pub(crate) fn spawn<F>(future: F) -> Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let handle = tokio::runtime::Handle::try_current().map_err(|_| {
        Error::invalid(
            "runtime",
            "none",
            "no tokio runtime is running on this thread; call this from inside a tokio runtime \
             (e.g. #[tokio::main]) or enter one with Runtime::enter()",
        )
    })?;
    drop(handle.spawn(future));
    Ok(())
}

/// Waits for `duration`.
pub(crate) async fn sleep(duration: Duration) {
    tokio::time::sleep(duration).await;
}

/// A few bits that differ between calls and processes, for seeding jitter (not for secrets).
pub(crate) fn entropy() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}

/// The browser's "the page is back" signal (`online`, visible again); a native process has no
/// such event, so it never resolves.
pub(crate) fn wake_signal() -> std::future::Pending<()> {
    std::future::pending()
}
