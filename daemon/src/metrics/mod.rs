//! Operational metrics: the names of every counter, gauge and histogram the daemon records, the
//! one-line helpers the pipeline, object store, verifier and RPC server call, and (in
//! [`endpoint`]) the Prometheus recorder and its `/metrics` listener. With `[metrics] listen`
//! unset no recorder is installed and every helper is a no-op.

pub mod endpoint;
pub mod rpc;

use std::time::Instant;

pub use endpoint::{MetricsError, start};

/// Submissions that became cards.
pub const INGESTED: &str = "idreview_submissions_ingested_total";
/// Submissions moved to `rejected/`, by `rule`.
pub const REJECTED: &str = "idreview_submissions_rejected_total";
/// Seconds a pipeline stage took, by `stage` (`validate`, `upload`, `verify`, `total`).
pub const STAGE_SECONDS: &str = "idreview_pipeline_stage_seconds";
/// Items waiting, by `queue` (`pending_uploads`, `verification_retries`, `cleanups`, `webhooks`).
pub const QUEUE_DEPTH: &str = "idreview_queue_depth";
/// Object store requests that failed, by `op` and `transient`.
pub const S3_ERRORS: &str = "idreview_s3_errors_total";
/// Object store requests tried again after a transient failure, by `op`.
pub const S3_RETRIES: &str = "idreview_s3_retries_total";
/// Verification provider calls that failed, by `provider`.
pub const VERIFIER_ERRORS: &str = "idreview_verifier_errors_total";
/// Verification provider calls tried again after a transient failure.
pub const VERIFIER_RETRIES: &str = "idreview_verifier_retries_total";
/// RPC calls answered, by `method` and `outcome` (`ok`, `error`, `server_error`).
pub const RPC_CALLS: &str = "idreview_rpc_calls_total";
/// Cards in the store, by `status`.
pub const CARDS: &str = "idreview_cards";
/// RPC connections past the handshake, on both listeners.
pub const OPEN_CONNECTIONS: &str = "idreview_open_connections";

/// Histogram buckets for stage latencies, in seconds (a local folder is milliseconds, an OCR
/// run or a remote provider seconds).
pub const STAGE_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// A submission became a card.
pub fn ingested() {
    ::metrics::counter!(INGESTED).increment(1);
}

/// A submission was rejected under `rule`.
pub fn rejected(rule: &str) {
    ::metrics::counter!(REJECTED, "rule" => rule.to_string()).increment(1);
}

/// An object store request failed (after its retries, if transient).
pub fn s3_error(op: &'static str, transient: bool) {
    ::metrics::counter!(S3_ERRORS, "op" => op, "transient" => if transient { "true" } else { "false" })
        .increment(1);
}

/// An object store request is tried again.
pub fn s3_retry(op: &'static str) {
    ::metrics::counter!(S3_RETRIES, "op" => op).increment(1);
}

/// A verification provider call failed; the card goes to review and is retried later.
pub fn verifier_error(provider: &'static str) {
    ::metrics::counter!(VERIFIER_ERRORS, "provider" => provider).increment(1);
}

/// A verification provider call is tried again after a transient failure.
pub fn verifier_retry() {
    ::metrics::counter!(VERIFIER_RETRIES).increment(1);
}

/// Records how long a pipeline stage took when dropped, so every exit path is measured.
#[must_use = "the stage is measured when the timer is dropped"]
pub struct StageTimer {
    stage: &'static str,
    started: Instant,
}

impl StageTimer {
    /// Starts measuring `stage`.
    pub fn start(stage: &'static str) -> StageTimer {
        StageTimer {
            stage,
            started: Instant::now(),
        }
    }
}

impl Drop for StageTimer {
    fn drop(&mut self) {
        ::metrics::histogram!(STAGE_SECONDS, "stage" => self.stage)
            .record(self.started.elapsed().as_secs_f64());
    }
}

/// Counts one open RPC connection while it lives.
#[must_use = "the connection is counted while the guard lives"]
pub struct OpenConnection(());

impl OpenConnection {
    /// Counts a connection that passed the handshake.
    pub fn open() -> OpenConnection {
        ::metrics::gauge!(OPEN_CONNECTIONS).increment(1.0);
        OpenConnection(())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        ::metrics::gauge!(OPEN_CONNECTIONS).decrement(1.0);
    }
}
