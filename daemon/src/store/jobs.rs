//! Ingestion jobs: which card a claimed submission folder (by its name in the work area) was
//! given. Written before the card, made durable before any of its files is stored, and removed
//! once the folder has left the work area, so that a daemon killed at any point resumes the
//! same card under the same object keys, and knows a folder whose card is already complete.
//! A job belongs to the machine whose work area holds its folder: with sled it is a tree of
//! the store; with PostgreSQL a sled tree of its own in the data dir (`crate::backend`).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use idreview_protocol::CardId;

use super::{StoreError, be_u64};

/// The jobs tree: claimed folder name -> card id (u64 BE). Writes are buffered (durable at the
/// next flush of the tree's database).
#[derive(Clone)]
pub struct IngestJobs {
    tree: sled::Tree,
}

impl IngestJobs {
    /// The jobs kept in `db`'s `jobs` tree.
    pub fn open(db: &sled::Db) -> Result<IngestJobs, StoreError> {
        Ok(IngestJobs {
            tree: db.open_tree("jobs")?,
        })
    }

    /// The card the claimed folder `claim` was given, if a job for it is recorded.
    pub fn job(&self, claim: &OsStr) -> Result<Option<CardId>, StoreError> {
        Ok(self
            .tree
            .get(claim.as_bytes())?
            .map(|id| CardId(be_u64(&id))))
    }

    /// Records that `claim` is becoming card `card` (buffered).
    pub fn set_job(&self, claim: &OsStr, card: CardId) -> Result<(), StoreError> {
        self.tree.insert(claim.as_bytes(), &card.0.to_be_bytes())?;
        Ok(())
    }

    /// Forgets the job of a folder that has left the work area (buffered).
    pub fn remove_job(&self, claim: &OsStr) -> Result<(), StoreError> {
        self.tree.remove(claim.as_bytes())?;
        Ok(())
    }

    /// Forgets every job whose folder is no longer in the work area (`present` says which
    /// are); answers how many were dropped. Run at start, before anything is claimed.
    pub fn prune_jobs(&self, present: impl Fn(&OsStr) -> bool) -> Result<usize, StoreError> {
        let mut dropped = 0;
        for item in self.tree.iter() {
            let (key, _) = item?;
            if !present(OsStr::from_bytes(&key)) {
                self.tree.remove(key)?;
                dropped += 1;
            }
        }
        Ok(dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn jobs_are_recorded_and_pruned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 0.8).expect("open");
        let jobs = store.ingest_jobs();
        jobs.set_job(OsStr::new("a"), CardId(7)).expect("set");
        jobs.set_job(OsStr::new("b"), CardId(8)).expect("set");
        assert_eq!(jobs.job(OsStr::new("a")).expect("job"), Some(CardId(7)));
        assert_eq!(jobs.prune_jobs(|name| name == "b").expect("prune"), 1);
        assert_eq!(jobs.job(OsStr::new("a")).expect("job"), None);
        jobs.remove_job(OsStr::new("b")).expect("remove");
        assert_eq!(jobs.job(OsStr::new("b")).expect("job"), None);
    }
}
