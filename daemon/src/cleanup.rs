//! The cleanup worker: drains the store's persistent queue of objects that deleted cards left
//! behind. A failing object store backs the worker off (exponential, with jitter) without
//! losing a job; a restart picks the queue up where it was. The same loop runs on either
//! backend (`crate::backend`'s `queues.rs`): on PostgreSQL every daemon's worker takes from
//! one queue under leases, and a dead daemon's objects are taken by another after its lease.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::backend::Backend;
use crate::card::CardStore;
use crate::objects::ObjectStore;
use crate::retry::Backoff;

/// Jobs taken from the queue per round.
const BATCH: usize = 100;
/// How often an idle worker looks at the queue even without a wake-up.
const IDLE: Duration = Duration::from_secs(60);

/// Drains the cleanup queue until `shutdown`; `max_backoff` caps the wait between failing
/// rounds.
pub async fn run(
    store: Backend,
    objects: ObjectStore,
    max_backoff: Duration,
    shutdown: CancellationToken,
) {
    let backoff = Backoff::doubling(Duration::from_millis(200), max_backoff).jittered();
    let mut delays = backoff.delays();
    loop {
        let wait = match drain(&store, &objects, &shutdown).await {
            Round::Empty => {
                delays = backoff.delays();
                None
            }
            Round::More => Some(Duration::ZERO),
            Round::Failed => Some(delays.next().unwrap_or(max_backoff)),
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = store.cleanup_queued(), if wait.is_none() => {}
            _ = tokio::time::sleep(wait.unwrap_or(IDLE)) => {}
        }
    }
    let pending = store.cleanup_waiting().await.unwrap_or_default();
    info!(pending, "cleanup worker stopped");
}

enum Round {
    /// The queue is empty.
    Empty,
    /// A full batch went through; look again at once.
    More,
    /// The object store (or the store) failed; back off.
    Failed,
}

async fn drain(store: &Backend, objects: &ObjectStore, shutdown: &CancellationToken) -> Round {
    let jobs = match store.take_cleanup(BATCH).await {
        Ok(jobs) => jobs,
        Err(e) => {
            warn!(error = %e, "cannot read the cleanup queue");
            return Round::Failed;
        }
    };
    if jobs.is_empty() {
        return Round::Empty;
    }
    let full = jobs.len() == BATCH;
    let mut outcome = if full { Round::More } else { Round::Empty };
    let mut removed = 0usize;
    for (seq, job) in jobs {
        if shutdown.is_cancelled() {
            break;
        }
        let deleted = tokio::select! {
            _ = shutdown.cancelled() => break,
            deleted = objects.delete(&job.key) => deleted,
        };
        match deleted {
            Ok(()) => match store.cleanup_done(seq).await {
                Ok(()) => removed += 1,
                Err(e) => {
                    warn!(error = %e, "cannot update the cleanup queue");
                    outcome = Round::Failed;
                    break;
                }
            },
            Err(e) => {
                warn!(key = %job.key, card_id = %job.card, error = %e, "object cleanup failed; will retry");
                outcome = Round::Failed;
                break;
            }
        }
    }
    if let Err(e) = store.flush().await {
        warn!(error = %e, "cannot flush the cleanup queue");
    }
    let waiting = store.cleanup_waiting().await.unwrap_or_default();
    if removed > 0 {
        info!(
            removed,
            pending = waiting,
            "objects of deleted cards removed"
        );
    }
    if matches!(outcome, Round::Empty) && waiting > 0 {
        return Round::More;
    }
    outcome
}
