//! The background worker that drains the store's outbox: cards whose provider failed are
//! verified again, and reviewers' decisions are pushed back to the provider. A job that fails
//! again waits twice as long (from `retry_initial_secs` up to `retry_max_secs`) and is never
//! dropped; jobs live in the store, so a restart resumes them. The same loop runs on either
//! backend (`crate::backend`'s `queues.rs`): on PostgreSQL every daemon takes due jobs under a
//! lease, and the jobs a dead daemon took, or the verification of a card it had stored but
//! not verified ([`Task::Verify`]), are finished by another after the lease. Started by the
//! daemon handle; stops on the shutdown token (a job cut short stays queued).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use idreview_protocol::Status;
use tokio_util::sync::CancellationToken;
use tracing::{info, instrument, warn};

use super::{Verifier, stage};
use crate::backend::Backend;
use crate::card::{CardStore, Cards};
use crate::config::Config;
use crate::objects::ObjectStore;
use crate::retry::Backoff;
use crate::store::outbox::{Job, Task};

/// The identity the worker's changes are audited under.
pub const VERIFIER_ACTOR: &str = "idreviewd:verifier";
/// How often the outbox is looked at for due jobs.
const POLL: Duration = Duration::from_millis(500);
/// Jobs taken per look.
const BATCH: usize = 16;

/// What the worker needs; cheap to clone.
#[derive(Clone)]
pub struct Worker {
    /// Records re-verifications.
    pub cards: Cards,
    /// Its queue of jobs.
    pub store: Backend,
    pub objects: ObjectStore,
    pub verifier: Verifier,
    pub config: Arc<Config>,
}

/// Drains due jobs until `shutdown`.
pub async fn run(worker: Worker, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = worker.drain() => {}
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

impl Worker {
    /// Runs every job due now, one after the other.
    pub async fn drain(&self) {
        let jobs = match self.store.take_jobs(BATCH).await {
            Ok(jobs) => jobs,
            Err(e) => return warn!(error = %e, "cannot read the outbox"),
        };
        for job in jobs {
            let done = match &job.task {
                Task::Reverify => self.reverify(&job).await,
                Task::PushDecision {
                    transaction_id,
                    decision,
                } => self
                    .verifier
                    .push_decision(transaction_id, decision)
                    .await
                    .map_err(|e| e.to_string()),
                Task::Verify => self.take_over(&job).await,
            };
            let stored = match done {
                Ok(()) => self.store.finish_job(&job).await,
                Err(why) => self.later(&job, why).await,
            };
            if let Err(e) = stored {
                warn!(card_id = %job.card, error = %e, "cannot update the outbox");
            }
        }
    }

    /// Asks the provider again for a card still in review after a failure; a good answer
    /// updates the card (and removes the job) in one transaction.
    #[instrument(skip(self, job), fields(card_id = %job.card, attempts = job.attempts))]
    async fn reverify(&self, job: &Job) -> Result<(), String> {
        let card = self.store.get(job.card).await.map_err(|e| e.to_string())?;
        let Some(card) = card.filter(|c| {
            c.status == Status::NeedsReview
                && c.provider.as_ref().is_some_and(|p| p.failure.is_some())
        }) else {
            // Decided, deleted or already verified: nothing left to do.
            return Ok(());
        };
        let verification = stage::ask(&self.objects, &self.verifier, &card).await;
        if let Some(failure) = verification.verdict.failure {
            return Err(failure);
        }
        let card = self
            .cards
            .reverified(VERIFIER_ACTOR, &card, &verification)
            .await
            .map_err(|e| e.to_string())?;
        info!(status = %card.status, fields = card.fields.len(), "re-verified");
        Ok(())
    }

    /// Verifies a card whose files are stored but whose ingesting daemon did not record the
    /// provider's answer within its lease (it died, or is far too slow): the files are read
    /// from the shared bucket, never from that daemon's work area. The answer applies at the
    /// card's version, so if the ingesting daemon answers too, one of the two wins.
    #[instrument(skip(self, job), fields(card_id = %job.card))]
    async fn take_over(&self, job: &Job) -> Result<(), String> {
        let card = self.store.get(job.card).await.map_err(|e| e.to_string())?;
        let Some(card) = card.filter(|c| c.status == Status::Verifying) else {
            // Verified (by its own daemon), deleted: nothing left to do.
            return Ok(());
        };
        let verification = stage::ask(&self.objects, &self.verifier, &card).await;
        let card = self
            .cards
            .reverified(VERIFIER_ACTOR, &card, &verification)
            .await
            .map_err(|e| e.to_string())?;
        info!(status = %card.status, "took over the verification of an ingestion another daemon left");
        Ok(())
    }

    /// Puts the job back with a doubled wait.
    async fn later(&self, job: &Job, why: String) -> Result<(), crate::store::StoreError> {
        let config = &self.config.verification;
        let wait = Backoff::doubling(
            Duration::from_secs(config.retry_initial_secs.max(1)),
            Duration::from_secs(config.retry_max_secs.max(1)),
        )
        .nth(job.attempts)
        .as_secs();
        warn!(card_id = %job.card, attempts = job.attempts + 1, wait_secs = wait, error = %why, "outbox job failed; trying again later");
        let next = Job {
            attempts: job.attempts + 1,
            due: Utc::now() + chrono::Duration::seconds(wait as i64),
            last_error: Some(why),
            ..job.clone()
        };
        self.store.reschedule(job, &next).await
    }
}
