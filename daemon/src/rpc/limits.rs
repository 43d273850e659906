//! The RPC server's limits: how many connections may be open, how long one may sit idle, and
//! per-identity token buckets (governor) for calls and for uploaded bytes. Exceeding a rate
//! limit is a clear [`RpcError::RateLimited`] with the time to wait.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use idreview_protocol::{MAX_CHUNK_BYTES, RpcError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::RpcConfig;

/// A token bucket per identity (governor's GCRA, which is a token bucket without a timer).
struct Buckets {
    limiter: DefaultKeyedRateLimiter<String>,
    burst: NonZeroU32,
}

/// `n` as a governor cell count: at least 1, at most `u32::MAX`.
fn cells(n: u64) -> NonZeroU32 {
    NonZeroU32::new(u32::try_from(n).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN)
}

impl Buckets {
    /// `rate` tokens a second, at most `burst` at once.
    fn new(rate: u64, burst: u64) -> Buckets {
        let burst = cells(burst);
        Buckets {
            limiter: RateLimiter::keyed(Quota::per_second(cells(rate)).allow_burst(burst)),
            burst,
        }
    }

    /// Takes `amount` from `who`'s bucket, or says how many milliseconds until it could.
    fn take(&self, who: &str, amount: u64) -> Result<(), u64> {
        // More than the bucket holds is charged as a full bucket, so it is never refused for ever.
        let amount = cells(amount).min(self.burst);
        match self.limiter.check_key_n(&who.to_string(), amount) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Err(wait.as_micros().div_ceil(1000).max(1) as u64)
            }
            // Cannot happen (amount <= burst); refuse for a second rather than panic.
            Err(_) => Err(1000),
        }
    }
}

/// Every limit the RPC server enforces; shared by all connections.
pub struct Limits {
    /// One permit per open connection; the handshake refuses a connection when none is left.
    connections: Arc<Semaphore>,
    max_connections: usize,
    /// A connection without a call for this long is closed.
    pub idle_timeout: Duration,
    calls: Buckets,
    upload_bytes: Buckets,
}

impl Limits {
    /// The limits `[rpc]` configures.
    pub fn new(config: &RpcConfig) -> Limits {
        let bytes = config.upload_bytes_per_sec;
        Limits {
            connections: Arc::new(Semaphore::new(config.max_connections.max(1))),
            max_connections: config.max_connections.max(1),
            idle_timeout: Duration::from_secs(config.idle_timeout_secs.max(1)),
            calls: Buckets::new(
                u64::from(config.calls_per_sec),
                u64::from(config.calls_burst.max(config.calls_per_sec)),
            ),
            upload_bytes: Buckets::new(bytes, bytes.saturating_mul(4).max(MAX_CHUNK_BYTES as u64)),
        }
    }

    /// A connection slot, held for the connection's life; `None` when all are taken.
    pub fn connection(&self) -> Result<OwnedSemaphorePermit, String> {
        self.connections.clone().try_acquire_owned().map_err(|_| {
            format!(
                "the daemon already serves its maximum of {} connections; try again later",
                self.max_connections
            )
        })
    }

    /// Counts one call of `identity` against its rate.
    pub fn call(&self, identity: &str) -> Result<(), RpcError> {
        self.calls
            .take(identity, 1)
            .map_err(|retry_after_ms| RpcError::RateLimited {
                what: format!("too many calls from {identity}"),
                retry_after_ms,
            })
    }

    /// Counts `bytes` uploaded by `identity` against its rate.
    pub fn upload(&self, identity: &str, bytes: usize) -> Result<(), RpcError> {
        self.upload_bytes
            .take(identity, bytes as u64)
            .map_err(|retry_after_ms| RpcError::RateLimited {
                what: format!("too many uploaded bytes from {identity}"),
                retry_after_ms,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_allow_a_burst_then_refuse_with_a_wait() {
        let b = Buckets::new(10, 3);
        assert!(b.take("a", 1).is_ok());
        assert!(b.take("a", 1).is_ok());
        assert!(b.take("a", 1).is_ok());
        let wait = b.take("a", 1).expect_err("burst used up");
        assert!((1..=100).contains(&wait), "{wait}");
        assert!(b.take("b", 1).is_ok(), "identities are apart");
    }

    #[test]
    fn uploaded_bytes_are_limited_per_identity() {
        let limits = Limits::new(&RpcConfig {
            upload_bytes_per_sec: 1024,
            ..RpcConfig::default()
        });
        // The burst is at least one whole chunk, so a slow limit still lets a chunk through.
        assert!(limits.upload("a", MAX_CHUNK_BYTES).is_ok());
        let refused = limits.upload("a", 1024).expect_err("over the rate");
        assert!(
            matches!(refused, RpcError::RateLimited { retry_after_ms, .. } if retry_after_ms >= 900),
            "{refused:?}"
        );
        assert!(limits.upload("b", 1024).is_ok());
    }

    #[test]
    fn connections_are_capped() {
        let limits = Limits::new(&RpcConfig {
            max_connections: 1,
            ..RpcConfig::default()
        });
        let held = limits.connection().expect("first");
        assert!(limits.connection().is_err());
        drop(held);
        assert!(limits.connection().is_ok());
    }
}
