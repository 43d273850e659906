//! Queues shared by every daemon on the database, each a table whose rows carry a lease
//! (`leased_until`, `leased_by`): due rows are taken with `FOR UPDATE SKIP LOCKED` under a
//! lease, so two daemons never take one job at once, and the job of a daemon that died is
//! taken by another once its lease ends ([`Queue::take`], one statement for every queue).
//! - The verification outbox: a newer job of the same card and kind (written with its change,
//!   `change.rs`) replaces the leased one and clears the lease; finishing a replaced job
//!   removes nothing.
//! - The cleanup queue: objects of removed cards (queued with the removal, `removal.rs`).

use chrono::{DateTime, Duration, Utc};
use idreview_protocol::CardId;
use tokio_postgres::Row;
use tokio_postgres::types::Json;

use super::{PgStore, db_id};
use crate::store::StoreError;
use crate::store::cleanup::CleanupJob;
use crate::store::outbox::Job;

/// A table taken from under a lease.
struct Queue {
    table: &'static str,
    /// Its key columns.
    key: &'static [&'static str],
    /// The column of the time a row is due at (rows are taken soonest first).
    due: &'static str,
    /// What a take answers of each row taken (`o` is the row).
    returning: &'static str,
}

const OUTBOX: Queue = Queue {
    table: "outbox",
    key: &["card_id", "kind"],
    due: "due",
    returning: "o.job",
};

const CLEANUP: Queue = Queue {
    table: "cleanup",
    key: &["seq"],
    due: "queued_at",
    returning: "o.seq, o.key, o.card_id, o.queued_at",
};

impl Queue {
    /// Leases up to `limit` rows due at `now` (soonest first) to `taker` until `now + lease`;
    /// rows leased to someone else and not yet expired are skipped.
    async fn take(
        &self,
        store: &PgStore,
        taker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Row>, StoreError> {
        let Queue {
            table,
            key,
            due,
            returning,
        } = self;
        let keys = key.join(", ");
        let same = key
            .iter()
            .map(|k| format!("o.{k} = t.{k}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(store
            .client()
            .await?
            .query(
                &format!(
                    "UPDATE {table} o SET leased_until = $2, leased_by = $3 \
                     FROM (SELECT {keys} FROM {table} \
                           WHERE {due} <= $1 AND (leased_until IS NULL OR leased_until <= $1) \
                           ORDER BY {due} LIMIT $4 FOR UPDATE SKIP LOCKED) t \
                     WHERE {same} RETURNING {returning}"
                ),
                &[&now, &(now + lease), &taker, &limit],
            )
            .await?)
    }
}

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
        let rows = OUTBOX.take(self, taker, now, lease, limit).await?;
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

    /// Puts back a job `taker` failed as `new` (a retry later, not leased), unless it was
    /// replaced or leased to another since. Answers whether it was put back.
    pub async fn reschedule_leased(
        &self,
        taker: &str,
        old: &Job,
        new: &Job,
    ) -> Result<bool, StoreError> {
        let changed = self
            .client()
            .await?
            .execute(
                "UPDATE outbox SET job = $5, due = $6, leased_until = NULL, leased_by = NULL \
                 WHERE card_id = $1 AND kind = $2 AND leased_by = $3 AND job = $4",
                &[
                    &db_id(old.card),
                    &i16::from(old.task.kind()),
                    &taker,
                    &Json(old),
                    &Json(new),
                    &new.due,
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    /// How many objects of removed cards wait for a daemon to take them at `now` (not leased,
    /// or their lease ran out).
    pub async fn cleanup_waiting(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT count(*) FROM cleanup WHERE leased_until IS NULL OR leased_until <= $1",
                &[&now],
            )
            .await?;
        Ok(usize::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0))
    }

    /// Leases up to `limit` objects of removed cards to delete, queued by `now` (oldest
    /// first), to `taker` until `now + lease`, with their queue positions.
    pub async fn take_cleanup(
        &self,
        taker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<(u64, CleanupJob)>, StoreError> {
        let rows = CLEANUP.take(self, taker, now, lease, limit).await?;
        rows.iter()
            .map(|r| {
                let (seq, card): (i64, i64) = (r.try_get(0)?, r.try_get(2)?);
                let job = CleanupJob {
                    key: r.try_get(1)?,
                    card: CardId(card.unsigned_abs()),
                    queued_at: r.try_get(3)?,
                };
                Ok((seq.unsigned_abs(), job))
            })
            .collect()
    }

    /// Removes a cleanup job `taker` finished, unless it was leased to another since (its
    /// lease ran out). Answers whether it was removed.
    pub async fn finish_cleanup(&self, taker: &str, seq: u64) -> Result<bool, StoreError> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let removed = self
            .client()
            .await?
            .execute(
                "DELETE FROM cleanup WHERE seq = $1 AND leased_by = $2",
                &[&seq, &taker],
            )
            .await?;
        Ok(removed == 1)
    }
}
