//! Concurrent upload of a batch of files: one tokio task per file, at most `max_workers` files
//! at once, and a result per file, so that one failing file never stops the others and the
//! caller learns exactly which failed and why.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::{debug, warn};

use super::{Fingerprint, ObjectError, ObjectStore, Stored};

/// One file to store.
#[derive(Debug, Clone)]
pub struct Upload {
    pub key: String,
    pub path: PathBuf,
    /// Lower-case hex SHA-256 the content must have.
    pub sha256: String,
    /// The file's fingerprint when `sha256` was computed, if it was computed from this path.
    pub seen: Option<Fingerprint>,
}

/// What became of one file of a batch.
#[derive(Debug)]
pub struct FileResult {
    pub key: String,
    pub result: Result<Stored, ObjectError>,
}

impl ObjectStore {
    /// Uploads every file concurrently, at most `max_workers` at a time, and answers one result
    /// per file in the order given.
    pub async fn put_many(&self, files: Vec<Upload>, max_workers: usize) -> Vec<FileResult> {
        // Files in flight at once; each task takes a permit before it reads its file.
        let workers = Arc::new(Semaphore::new(max_workers.max(1)));
        let mut tasks = JoinSet::new();
        for (i, file) in files.iter().cloned().enumerate() {
            let store = self.clone();
            let workers = workers.clone();
            tasks.spawn(async move {
                let result = match workers.acquire_owned().await {
                    Ok(_permit) => {
                        store
                            .put_file(&file.key, &file.path, &file.sha256, file.seen)
                            .await
                    }
                    Err(_) => Err(ObjectError::Config("upload workers closed".into())),
                };
                (i, result)
            });
        }
        let mut results: Vec<Option<Result<Stored, ObjectError>>> =
            files.iter().map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((i, result)) => {
                    if let Some(slot) = results.get_mut(i) {
                        *slot = Some(result);
                    }
                }
                Err(e) => warn!(error = %e, "an upload task panicked"),
            }
        }
        files
            .into_iter()
            .zip(results)
            .map(|(file, result)| {
                let result = result.unwrap_or_else(|| {
                    Err(ObjectError::Io {
                        key: file.key.clone(),
                        source: std::io::Error::other("the upload task panicked"),
                    })
                });
                match &result {
                    Ok(stored) => debug!(key = %file.key, etag = ?stored.etag, "stored"),
                    Err(e) => warn!(key = %file.key, error = %e, "upload failed"),
                }
                FileResult {
                    key: file.key,
                    result,
                }
            })
            .collect()
    }
}
