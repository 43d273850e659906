//! [`Backoff`]: the one retry policy of the daemon, over `backon`. Everything that tries again
//! (S3 requests, the provider's API, webhook deliveries, uploads and cleanups through an object
//! store outage, deferred submissions, accept loops, persistent outbox jobs) waits the way a
//! `Backoff` says: exponential from `first`, doubling up to `max`, with or without jitter, for
//! ever or a number of times.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};

/// How something that failed is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub first: Duration,
    /// The longest wait; each wait doubles up to it.
    pub max: Duration,
    /// Retries at most (the first try not counted); `None`: for ever.
    pub times: Option<usize>,
    /// Spread waits at random (up to one more wait), so that many clients do not retry in step.
    pub jitter: bool,
}

impl Backoff {
    /// Doubling from `first` up to `max`, for ever, without jitter.
    pub fn doubling(first: Duration, max: Duration) -> Backoff {
        Backoff {
            first,
            max: max.max(first),
            times: None,
            jitter: false,
        }
    }

    /// The same, with jitter.
    pub fn jittered(self) -> Backoff {
        Backoff {
            jitter: true,
            ..self
        }
    }

    /// The same, giving up after `times` retries.
    pub fn times(self, times: usize) -> Backoff {
        Backoff {
            times: Some(times),
            ..self
        }
    }

    /// The policy as `backon` takes it (for `Retryable::retry`).
    pub fn builder(&self) -> ExponentialBuilder {
        let builder = ExponentialBuilder::default()
            .with_min_delay(self.first)
            .with_max_delay(self.max.max(self.first));
        let builder = match self.times {
            Some(times) => builder.with_max_times(times),
            None => builder.without_max_times(),
        };
        match self.jitter {
            true => builder.with_jitter(),
            false => builder,
        }
    }

    /// The waits, one per retry, for a loop that retries by hand (it must also watch for
    /// shutdown); `None` once the retries are used up.
    pub fn delays(&self) -> ExponentialBackoff {
        self.builder().build()
    }

    /// The wait before retry `n` (0: the first retry), for work that outlives the process and
    /// keeps its attempt count on disk (the outbox).
    pub fn nth(&self, n: u32) -> Duration {
        let mut delays = Backoff {
            jitter: false,
            times: None,
            ..*self
        }
        .delays();
        let steps = usize::try_from(n.min(64)).unwrap_or(64);
        delays.nth(steps).unwrap_or(self.max)
    }
}

/// Paces an accept loop through errors: EMFILE and its kind clear only when connections close,
/// so retrying at once would spin. Each error in a row waits twice as long (10 ms up to 1 s);
/// an accepted connection starts over.
pub struct AcceptPacer {
    delays: ExponentialBackoff,
}

impl Default for AcceptPacer {
    fn default() -> Self {
        AcceptPacer {
            delays: Self::policy().delays(),
        }
    }
}

impl AcceptPacer {
    fn policy() -> Backoff {
        Backoff::doubling(Duration::from_millis(10), Duration::from_secs(1))
    }

    /// A connection was accepted.
    pub fn accepted(&mut self) {
        self.delays = Self::policy().delays();
    }

    /// How long to wait after an accept error (logging it, with `what` names the listener).
    pub fn failed(&mut self, what: &str, error: &std::io::Error) -> Duration {
        let wait = self.delays.next().unwrap_or(Duration::from_secs(1));
        tracing::warn!(listener = what, %error, retry_in_ms = wait.as_millis() as u64, "accept failed");
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap() {
        let policy = Backoff::doubling(Duration::from_secs(30), Duration::from_secs(3600));
        let waits: Vec<u64> = (0..8).map(|n| policy.nth(n).as_secs()).collect();
        assert_eq!(waits, vec![30, 60, 120, 240, 480, 960, 1920, 3600]);
        assert_eq!(policy.nth(u32::MAX).as_secs(), 3600, "no overflow");
        let first: Vec<Duration> = policy.delays().take(3).collect();
        assert_eq!(first[2], Duration::from_secs(120));
    }

    #[test]
    fn a_limited_policy_gives_up() {
        let policy = Backoff::doubling(Duration::from_millis(1), Duration::from_millis(4)).times(2);
        assert_eq!(policy.delays().count(), 2);
    }

    #[test]
    fn jitter_stays_within_one_more_wait() {
        let policy =
            Backoff::doubling(Duration::from_millis(100), Duration::from_secs(1)).jittered();
        for wait in policy.delays().take(20) {
            assert!(
                wait >= Duration::from_millis(100) && wait <= Duration::from_secs(2),
                "{wait:?}"
            );
        }
    }
}
