//! The verification outbox as a queue shared by every daemon on the database: due jobs are
//! taken with `FOR UPDATE SKIP LOCKED` under a lease, so two daemons never take one job at
//! once, and the job of a daemon that died is taken by another once its lease ends. A newer
//! job of the same card and kind (written with its change, `change.rs`) replaces the leased one
//! and clears the lease; finishing a replaced job removes nothing.

use chrono::{DateTime, Duration, Utc};
use tokio_postgres::types::Json;

use super::{PgStore, db_id};
use crate::store::StoreError;
use crate::store::outbox::Job;

impl PgStore {
    /// Leases up to `limit` jobs due at `now` (soonest first) to `taker` until `now + lease`;
    /// jobs leased to someone else and not yet expired are skipped.
    pub async fn take_jobs(
        &self,
        taker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client()
            .await?
            .query(
                "UPDATE outbox o SET leased_until = $2, leased_by = $3 \
                 FROM (SELECT card_id, kind FROM outbox \
                       WHERE due <= $1 AND (leased_until IS NULL OR leased_until <= $1) \
                       ORDER BY due LIMIT $4 FOR UPDATE SKIP LOCKED) t \
                 WHERE o.card_id = t.card_id AND o.kind = t.kind \
                 RETURNING o.job",
                &[&now, &(now + lease), &taker, &limit],
            )
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<_, Json<Job>>(0)?.0))
            .collect()
    }

    /// Removes a job `taker` finished, unless it was replaced or leased to another since.
    /// Answers whether it was removed.
    pub async fn finish_leased(&self, taker: &str, job: &Job) -> Result<bool, StoreError> {
        let removed = self
            .client()
            .await?
            .execute(
                "DELETE FROM outbox WHERE card_id = $1 AND kind = $2 AND leased_by = $3 \
                 AND job = $4",
                &[
                    &db_id(job.card),
                    &i16::from(job.task.kind()),
                    &taker,
                    &Json(job),
                ],
            )
            .await?;
        Ok(removed == 1)
    }
}
