//! Reconnect delays: exponential, capped, with jitter so a fleet of clients does not hammer a
//! recovering server in lockstep; the count of failures only resets once a connection proved
//! healthy.

use std::time::Duration;

/// When to try again after a failed or dropped connection.
///
/// * **Failures grow the delay.** After a failed attempt the delay starts at `initial` and
///   grows by `factor` per consecutive failure up to `max`, each one shortened by a random
///   share of up to `jitter` (0.0–1.0).
/// * **Only a healthy connection resets them.** A socket that receives `Init` is not enough:
///   it counts as healthy once it stayed open for `healthy_after`, or once it answered an
///   action or delivered an event. A server that accepts, says `Init` and drops the socket
///   again (a crashing actor, a gateway that cannot reach it) therefore sees the same growing
///   backoff as one that refuses connections, never a reconnect storm.
/// * **The first retry after a healthy connection drops is spread out**: it waits a random
///   time in `0..=first_retry_jitter`, so many clients dropped by one server restart come
///   back spread over that window instead of in one instant.
/// * **`max_attempts`** consecutive failures (counted the same way) end the connection with
///   the last error; `None` retries forever.
///
/// Which closes are retried at all is described on
/// [`ActorConnection`](crate::ActorConnection#reconnection-and-faults).
///
/// ```
/// use std::time::Duration;
/// let policy = rivet_core::ReconnectPolicy::default();
/// assert_eq!(policy.initial, Duration::from_millis(250));
/// assert_eq!(policy.healthy_after, Duration::from_secs(5));
/// assert_eq!(policy.first_retry_jitter, Duration::from_secs(1));
/// let never = rivet_core::ReconnectPolicy::never();
/// assert_eq!(never.max_attempts, Some(0));
/// let quick = rivet_core::ReconnectPolicy {
///     initial: Duration::from_millis(100),
///     ..Default::default()
/// };
/// # let _ = quick;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    /// The first delay after a failed attempt.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
    /// Growth factor per failed attempt.
    pub factor: f64,
    /// The largest random share taken off each delay (0.0 = none, 1.0 = anywhere in `0..=d`).
    pub jitter: f64,
    /// Give up after this many consecutive failed attempts (`None` = never give up).
    pub max_attempts: Option<u32>,
    /// How long a socket must stay open (after `Init`) before it counts as healthy and the
    /// failure count resets. An action answered or an event received counts at once.
    pub healthy_after: Duration,
    /// The window over which the first retry after a healthy connection dropped is spread
    /// (uniformly in `0..=first_retry_jitter`; zero retries at once, like the JS client).
    pub first_retry_jitter: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(30),
            factor: 2.0,
            jitter: 0.5,
            max_attempts: None,
            healthy_after: Duration::from_secs(5),
            first_retry_jitter: Duration::from_secs(1),
        }
    }
}

impl ReconnectPolicy {
    /// Never reconnect: the first failure is terminal.
    pub fn never() -> Self {
        Self {
            max_attempts: Some(0),
            ..Self::default()
        }
    }

    /// The delay before retry number `failures` (1 = after the first failure), with `random`
    /// in `0.0..1.0` choosing the jitter.
    pub(crate) fn delay(&self, failures: u32, random: f64) -> Duration {
        let exponent = failures.saturating_sub(1).min(64) as i32;
        let base = self.initial.as_secs_f64() * self.factor.max(1.0).powi(exponent);
        let capped = base.min(self.max.as_secs_f64());
        let jitter = self.jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0);
        Duration::from_secs_f64((capped * (1.0 - jitter)).max(0.0))
    }

    /// The delay before the first retry after a healthy connection dropped, with `random` in
    /// `0.0..1.0` choosing where in the window it falls.
    pub(crate) fn first_retry_delay(&self, random: f64) -> Duration {
        self.first_retry_jitter.mul_f64(random.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_and_cap() {
        let p = ReconnectPolicy {
            jitter: 0.0,
            ..ReconnectPolicy::default()
        };
        let ms = |n| p.delay(n, 0.7).as_millis();
        assert_eq!([ms(1), ms(2), ms(3), ms(4)], [250, 500, 1000, 2000]);
        assert_eq!(ms(40), 30_000);
        assert_eq!(ms(u32::MAX), 30_000);
    }

    #[test]
    fn jitter_only_shortens_and_stays_within_bounds() {
        let p = ReconnectPolicy::default();
        for i in 0..100 {
            let d = p.delay(3, f64::from(i) / 100.0);
            assert!(
                d <= Duration::from_millis(1000) && d >= Duration::from_millis(500),
                "{d:?}"
            );
        }
    }

    #[test]
    fn first_retry_is_spread_over_its_window() {
        let p = ReconnectPolicy::default();
        assert_eq!(p.first_retry_delay(0.0), Duration::ZERO);
        assert_eq!(p.first_retry_delay(0.5), Duration::from_millis(500));
        assert_eq!(p.first_retry_delay(2.0), Duration::from_secs(1));
        let immediate = ReconnectPolicy {
            first_retry_jitter: Duration::ZERO,
            ..ReconnectPolicy::default()
        };
        assert_eq!(immediate.first_retry_delay(0.9), Duration::ZERO);
    }
}
