//! The retry policy for S3 requests (the daemon's [`Backoff`], with jitter) and the
//! mapping of SDK errors onto [`ObjectError`], which decides what counts as transient.

use std::time::Duration;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use backon::{ExponentialBuilder, Retryable};
use tracing::warn;

use super::ObjectError;
use crate::config::StorageConfig;
use crate::retry::Backoff;

/// How often and how patiently a request is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: usize,
    /// First wait; each next one doubles (with jitter) up to `max_delay`.
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The `[storage]` retry settings.
    pub fn from_config(config: &StorageConfig) -> RetryPolicy {
        RetryPolicy {
            attempts: config.max_attempts.max(1),
            min_delay: Duration::from_millis(config.retry_min_ms),
            max_delay: Duration::from_millis(config.retry_max_ms.max(config.retry_min_ms)),
        }
    }

    fn backoff(&self) -> ExponentialBuilder {
        Backoff::doubling(self.min_delay, self.max_delay)
            .times(self.attempts.saturating_sub(1))
            .jittered()
            .builder()
    }

    /// Runs `op` until it succeeds, fails permanently, or the attempts are used up.
    pub async fn run<T, Fut>(
        &self,
        key: &str,
        op_name: &'static str,
        op: impl FnMut() -> Fut,
    ) -> Result<T, ObjectError>
    where
        Fut: Future<Output = Result<T, ObjectError>>,
    {
        op.retry(self.backoff())
            .when(ObjectError::is_transient)
            .notify(|e, delay| {
                crate::metrics::s3_retry(op_name);
                warn!(key, op = op_name, error = %e, retry_in_ms = delay.as_millis() as u64, "S3 request failed; retrying");
            })
            .await
    }
}

/// Maps an SDK error onto [`ObjectError`]: unreachable, timed out, 5xx and throttling are
/// transient; a refused checksum is [`ObjectError::Checksum`]; the rest is permanent.
pub fn s3_error<E>(key: &str, op: &'static str, err: SdkError<E>) -> ObjectError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_string);
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => {
            status.is_some_and(|s| s >= 500 || s == 429)
                || matches!(
                    code.as_deref(),
                    Some("SlowDown" | "RequestTimeout" | "InternalError" | "ServiceUnavailable")
                )
        }
        _ => false,
    };
    crate::metrics::s3_error(op, transient);
    let message = match (&code, status) {
        (Some(code), Some(status)) => format!(
            "{code} (HTTP {status}): {}",
            err.message().unwrap_or("no message")
        ),
        _ => DisplayErrorContext(&err).to_string(),
    };
    if matches!(
        code.as_deref(),
        Some("BadDigest" | "InvalidDigest" | "XAmzContentSHA256Mismatch")
    ) {
        return ObjectError::Checksum {
            key: key.to_string(),
            message,
        };
    }
    ObjectError::S3 {
        key: key.to_string(),
        op,
        message,
        transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            min_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        }
    }

    fn failure(transient: bool) -> ObjectError {
        ObjectError::S3 {
            key: "k".into(),
            op: "put",
            message: "boom".into(),
            transient,
        }
    }

    #[tokio::test]
    async fn transient_errors_are_retried_until_success() {
        let calls = AtomicUsize::new(0);
        let result = policy()
            .run("k", "put", || async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err(failure(true)),
                    _ => Ok(7),
                }
            })
            .await;
        assert_eq!(result.expect("third attempt succeeds"), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn permanent_errors_are_not_retried_and_attempts_are_bounded() {
        let calls = AtomicUsize::new(0);
        let result: Result<(), _> = policy()
            .run("k", "put", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(failure(false))
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        calls.store(0, Ordering::SeqCst);
        let result: Result<(), _> = policy()
            .run("k", "put", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(failure(true))
            })
            .await;
        assert!(result.is_err_and(|e| e.is_transient()));
        assert_eq!(calls.load(Ordering::SeqCst), 4, "attempts are capped");
    }
}
