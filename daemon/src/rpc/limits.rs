//! The RPC server's limits: how many connections may be open, how long one may sit idle, and
//! per-identity token buckets for calls and for uploaded bytes. Exceeding a rate limit is a
//! clear [`RpcError::RateLimited`] with the time to wait.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use idreview_protocol::{MAX_CHUNK_BYTES, RpcError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::RpcConfig;

/// A token bucket per identity.
struct Buckets {
    /// Refill per second.
    rate: f64,
    /// Most the bucket holds.
    burst: f64,
    /// identity -> (tokens left, last refill); each call takes the lock briefly.
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Buckets {
    fn new(rate: f64, burst: f64) -> Buckets {
        Buckets {
            rate: rate.max(f64::MIN_POSITIVE),
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `amount` from `who`'s bucket, or says how many milliseconds until it could.
    fn take(&self, who: &str, amount: f64) -> Result<(), u64> {
        let now = Instant::now();
        let mut all = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = all.entry(who.to_string()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(self.burst);
        *last = now;
        let amount = amount.min(self.burst);
        if *tokens >= amount {
            *tokens -= amount;
            Ok(())
        } else {
            Err(((amount - *tokens) / self.rate * 1000.0).ceil() as u64)
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
        let bytes = config.upload_bytes_per_sec as f64;
        Limits {
            connections: Arc::new(Semaphore::new(config.max_connections.max(1))),
            max_connections: config.max_connections.max(1),
            idle_timeout: Duration::from_secs(config.idle_timeout_secs.max(1)),
            calls: Buckets::new(
                f64::from(config.calls_per_sec),
                f64::from(config.calls_burst.max(config.calls_per_sec)),
            ),
            upload_bytes: Buckets::new(bytes, (bytes * 4.0).max(MAX_CHUNK_BYTES as f64)),
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
            .take(identity, 1.0)
            .map_err(|retry_after_ms| RpcError::RateLimited {
                what: format!("too many calls from {identity}"),
                retry_after_ms,
            })
    }

    /// Counts `bytes` uploaded by `identity` against its rate.
    pub fn upload(&self, identity: &str, bytes: usize) -> Result<(), RpcError> {
        self.upload_bytes
            .take(identity, bytes as f64)
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
        let b = Buckets::new(10.0, 3.0);
        assert!(b.take("a", 1.0).is_ok());
        assert!(b.take("a", 1.0).is_ok());
        assert!(b.take("a", 1.0).is_ok());
        let wait = b.take("a", 1.0).expect_err("burst used up");
        assert!((1..=100).contains(&wait), "{wait}");
        assert!(b.take("b", 1.0).is_ok(), "identities are apart");
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
