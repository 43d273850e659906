//! The store's persistent outbox of deferred work for the verification provider: cards to
//! verify again because the provider failed, and reviewer decisions to push back to it. Jobs are
//! written in the same transaction as the card change that calls for them (see
//! [`super::Change::outbox`]), so a crash never loses one; a background worker drains them.

use chrono::{DateTime, Utc};
use idreview_protocol::CardId;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// What a job asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Task {
    /// Ask the provider again: its last answer for this card was a failure.
    Reverify,
    /// Tell the provider a reviewer's decision (`accept` or `reject`) on its transaction.
    PushDecision {
        transaction_id: String,
        decision: String,
    },
    /// Verify, the first time, a card whose files are all stored: the ingesting daemon's own
    /// step, queued (with PostgreSQL) due at the end of its lease, and finished by the
    /// verification's change; any daemon takes it over if it is still due, as the ingestion
    /// of a daemon that died. (Appended last: the variants' order is sled's encoding.)
    Verify,
}

impl Task {
    /// One job per card and kind: a newer job of the same kind replaces the older one.
    pub(crate) fn kind(&self) -> u8 {
        match self {
            Task::Reverify => 0,
            Task::PushDecision { .. } => 1,
            Task::Verify => 2,
        }
    }
}

/// One piece of deferred work on a card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub card: CardId,
    pub task: Task,
    /// Failed tries so far.
    pub attempts: u32,
    /// Not before.
    pub due: DateTime<Utc>,
    /// Why the last try failed.
    pub last_error: Option<String>,
}

impl Job {
    /// A job not tried yet, due at `due`.
    pub fn new(card: CardId, task: Task, due: DateTime<Utc>) -> Job {
        Job {
            card,
            task,
            attempts: 0,
            due,
            last_error: None,
        }
    }

    /// The job's key: card id (u64 BE) ++ task kind.
    fn key(&self) -> [u8; 9] {
        key(self.card, &self.task)
    }
}

fn key(card: CardId, task: &Task) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[..8].copy_from_slice(&card.0.to_be_bytes());
    k[8] = task.kind();
    k
}

/// A change to the outbox made together with a card change.
#[derive(Debug, Clone, PartialEq)]
pub enum OutboxOp {
    /// Adds the job, replacing one of the same card and kind.
    Put(Job),
    /// Removes the card's job of this kind, if any.
    Remove(CardId, Task),
}

impl OutboxOp {
    /// The row this op writes: key and, for a put, the encoded job.
    pub(super) fn row(&self) -> Result<([u8; 9], Option<Vec<u8>>), StoreError> {
        Ok(match self {
            OutboxOp::Put(job) => (job.key(), Some(bincode::serialize(job)?)),
            OutboxOp::Remove(card, task) => (key(*card, task), None),
        })
    }
}

impl Store {
    /// Jobs due at `now`, soonest first, at most `limit`.
    pub fn due_jobs(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Job>, StoreError> {
        let mut due = Vec::new();
        for item in self.inner.outbox.iter() {
            let (_, bytes) = item?;
            let job: Job = bincode::deserialize(&bytes)?;
            if job.due <= now {
                due.push(job);
            }
        }
        due.sort_by_key(|j| j.due);
        due.truncate(limit);
        Ok(due)
    }

    /// Every job, in key order (card, then kind).
    pub fn jobs(&self) -> Result<Vec<Job>, StoreError> {
        self.inner
            .outbox
            .iter()
            .map(|item| Ok(bincode::deserialize(&item?.1)?))
            .collect()
    }

    /// Replaces `old` with `new` (a retry later), unless `old` was replaced or removed in the
    /// meantime: a newer job always wins.
    pub async fn reschedule(&self, old: &Job, new: &Job) -> Result<(), StoreError> {
        let swapped = self.inner.outbox.compare_and_swap(
            old.key(),
            Some(bincode::serialize(old)?),
            Some(bincode::serialize(new)?),
        )?;
        if swapped.is_ok() {
            self.flush().await?;
        }
        Ok(())
    }

    /// Removes a finished job, unless it was replaced in the meantime.
    pub async fn finish_job(&self, job: &Job) -> Result<(), StoreError> {
        let swapped = self.inner.outbox.compare_and_swap(
            job.key(),
            Some(bincode::serialize(job)?),
            None as Option<Vec<u8>>,
        )?;
        if swapped.is_ok() {
            self.flush().await?;
        }
        Ok(())
    }
}
