//! Reconnect delays: exponential, capped, with jitter so a fleet of clients does not hammer a
//! recovering server in lockstep.

use std::time::Duration;

/// When to try again after a failed or dropped connection.
///
/// Attempt 1 after a connection that had been open is immediate; after that the delay starts
/// at `initial` and doubles up to `max`, each one shortened by a random share of up to
/// `jitter` (0.0–1.0).
///
/// ```
/// use std::time::Duration;
/// let policy = rivet_core::ReconnectPolicy::default();
/// assert_eq!(policy.initial, Duration::from_millis(250));
/// let never = rivet_core::ReconnectPolicy::never();
/// assert_eq!(never.max_attempts, Some(0));
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
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(30),
            factor: 2.0,
            jitter: 0.5,
            max_attempts: None,
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
}
