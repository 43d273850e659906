//! The retention job: at start and then every `[retention] interval_secs`, removes decided and
//! auto-verified cards past their keep time through the card domain (tombstones in the audit
//! log, files through the cleanup queue). Off while every keep time is 0.
//!
//! Tests shift the job's clock with the environment variable [`CLOCK_SKEW_ENV`] (whole days,
//! may be negative) instead of waiting for days to pass; it is not a setting.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::card::{Cards, Keep};
use crate::config::RetentionConfig;

/// Days added to the job's idea of now (tests only).
pub const CLOCK_SKEW_ENV: &str = "IDREVIEWD_RETENTION_CLOCK_SKEW_DAYS";

/// Runs the job until `shutdown`.
pub async fn run(cards: Cards, config: RetentionConfig, shutdown: CancellationToken) {
    let keep = Keep {
        approved_days: config.approved_days,
        rejected_days: config.rejected_days,
        auto_verified_days: config.auto_verified_days,
    };
    if keep == Keep::default() {
        return;
    }
    let skew = std::env::var(CLOCK_SKEW_ENV)
        .ok()
        .and_then(|d| d.trim().parse::<i64>().ok())
        .map_or(chrono::Duration::zero(), chrono::Duration::days);
    let every = Duration::from_secs(config.interval_secs.max(1));
    info!(
        approved_days = keep.approved_days,
        rejected_days = keep.rejected_days,
        auto_verified_days = keep.auto_verified_days,
        every_secs = every.as_secs(),
        "retention job started"
    );
    loop {
        match cards.expire(keep, Utc::now() + skew).await {
            Ok(0) => {}
            Ok(removed) => info!(
                removed,
                "expired cards removed; their files are queued for cleanup"
            ),
            Err(e) => warn!(error = %e, "the retention job failed; it runs again later"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
