//! The queues of deferred work, as the workers see them on either backend: the verification
//! outbox (`crate::verify::retry`) and the cleanup queue (`crate::cleanup`). One worker loop
//! runs on both; what differs is how a job is taken:
//! - sled: one daemon owns the store, so a due job is simply read, and finished or put back;
//! - PostgreSQL: every daemon on the database takes from the same tables, so a job is leased
//!   to this daemon (its taker name, `[store] lease_secs`) with `FOR UPDATE SKIP LOCKED`
//!   (`crate::pg`'s `queue.rs`): no two daemons hold one job at once, a job a daemon took and
//!   never finished (it died) is taken by another once the lease runs out, and finishing or
//!   putting back a job whose lease passed to another changes nothing.

use std::time::Duration;

use chrono::Utc;

use super::Backend;
use crate::store::StoreError;
use crate::store::cleanup::CleanupJob;
use crate::store::outbox::Job;

/// How often a worker on PostgreSQL looks at the cleanup queue without being woken: other
/// daemons' removals and the leases of dead daemons are only seen by looking.
const PG_CLEANUP_POLL: Duration = Duration::from_secs(5);

impl Backend {
    /// Up to `limit` verification jobs due now, soonest first, now this daemon's to run.
    pub async fn take_jobs(&self, limit: usize) -> Result<Vec<Job>, StoreError> {
        let now = Utc::now();
        match self {
            Backend::Sled(store) => store.due_jobs(now, limit),
            Backend::Pg(pg) => pg.store.take_jobs(&pg.taker, now, pg.lease, limit).await,
        }
    }

    /// Removes a job this daemon ran, unless it was replaced (or, on PostgreSQL, taken over)
    /// in the meantime: a newer job always wins.
    pub async fn finish_job(&self, job: &Job) -> Result<(), StoreError> {
        match self {
            Backend::Sled(store) => store.finish_job(job).await,
            Backend::Pg(pg) => pg.store.finish_leased(&pg.taker, job).await.map(drop),
        }
    }

    /// Puts a job this daemon failed back as `new` (a retry later), unless it was replaced
    /// (or taken over) in the meantime.
    pub async fn reschedule(&self, old: &Job, new: &Job) -> Result<(), StoreError> {
        match self {
            Backend::Sled(store) => store.reschedule(old, new).await,
            Backend::Pg(pg) => pg
                .store
                .reschedule_leased(&pg.taker, old, new)
                .await
                .map(drop),
        }
    }

    /// Up to `limit` objects of removed cards to delete, oldest first, with their queue
    /// positions, now this daemon's to delete.
    pub async fn take_cleanup(&self, limit: usize) -> Result<Vec<(u64, CleanupJob)>, StoreError> {
        match self {
            Backend::Sled(store) => store.cleanup_pending(limit),
            Backend::Pg(pg) => {
                pg.store
                    .take_cleanup(&pg.taker, Utc::now(), pg.lease, limit)
                    .await
            }
        }
    }

    /// Removes a cleanup job this daemon finished (sled: durable at the next flush).
    pub async fn cleanup_done(&self, seq: u64) -> Result<(), StoreError> {
        match self {
            Backend::Sled(store) => store.cleanup_done(seq),
            Backend::Pg(pg) => pg.store.finish_cleanup(&pg.taker, seq).await.map(drop),
        }
    }

    /// How many objects of removed cards wait to be taken (on PostgreSQL, not counting those
    /// leased to a daemon).
    pub async fn cleanup_waiting(&self) -> Result<usize, StoreError> {
        match self {
            Backend::Sled(store) => Ok(store.cleanup_len()),
            Backend::Pg(pg) => pg.store.cleanup_waiting(Utc::now()).await,
        }
    }

    /// Resolves when objects may have been queued for cleanup since the worker last looked:
    /// this daemon removed a card, or (PostgreSQL) a short while passed.
    pub async fn cleanup_queued(&self) {
        match self {
            Backend::Sled(store) => store.cleanup_queued().await,
            Backend::Pg(pg) => {
                tokio::select! {
                    _ = pg.cleanup_wake.notified() => {}
                    _ = tokio::time::sleep(PG_CLEANUP_POLL) => {}
                }
            }
        }
    }
}
