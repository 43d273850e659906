//! Open export snapshots, by id, between an admin's `export_begin` and the last `export_page`.
//! A snapshot holds the card records of its moment in memory, so only a few may be open, and
//! one left idle (a client gone away) is dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use idreview_protocol::{ExportCursor, ExportHeader, ExportPage, RpcError};

use crate::store::Store;
use crate::store::export::{BackupError, ExportSnapshot};

/// Snapshots open at once; another `export_begin` is refused until one finishes.
const MAX_OPEN: usize = 2;
/// A snapshot nobody paged for this long is dropped.
const IDLE: Duration = Duration::from_secs(600);
/// Lines per page stop once they reach this many bytes: far below the transport's frame cap,
/// and quick enough to read well within a call's deadline.
pub const PAGE_BYTES: usize = 4 * 1024 * 1024;

/// The open snapshots.
#[derive(Default)]
pub struct Exports {
    next_id: AtomicU64,
    /// Snapshot id -> the snapshot and when it was last paged.
    open: Mutex<HashMap<u64, (Arc<ExportSnapshot>, Instant)>>,
}

impl From<BackupError> for RpcError {
    fn from(e: BackupError) -> Self {
        match e {
            BackupError::Store(e) => e.into(),
            other => RpcError::Internal(other.to_string()),
        }
    }
}

impl Exports {
    /// Takes a snapshot of `store` (on the blocking pool: it reads every card) and keeps it.
    pub async fn begin(&self, store: &Store) -> Result<ExportHeader, RpcError> {
        {
            let mut open = self.lock();
            open.retain(|_, (_, touched)| touched.elapsed() < IDLE);
            if open.len() >= MAX_OPEN {
                return Err(RpcError::Unavailable(format!(
                    "{MAX_OPEN} exports are already running; try again when one has finished"
                )));
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let store = store.clone();
        let snapshot = tokio::task::spawn_blocking(move || store.export_snapshot(id))
            .await
            .map_err(|e| RpcError::Internal(e.to_string()))??;
        let header = snapshot.header.clone();
        self.lock().insert(id, (Arc::new(snapshot), Instant::now()));
        Ok(header)
    }

    /// The next page of snapshot `id`; the last page releases it.
    pub async fn page(
        &self,
        store: &Store,
        id: u64,
        cursor: ExportCursor,
    ) -> Result<ExportPage, RpcError> {
        let snapshot = {
            let mut open = self.lock();
            let (snapshot, touched) = open.get_mut(&id).ok_or_else(|| {
                RpcError::Invalid(format!("no open export {id} (finished, or idle too long)"))
            })?;
            *touched = Instant::now();
            snapshot.clone()
        };
        let reader = store.clone();
        let (lines, next) =
            tokio::task::spawn_blocking(move || reader.export_page(&snapshot, cursor, PAGE_BYTES))
                .await
                .map_err(|e| RpcError::Internal(e.to_string()))??;
        if next.is_none() {
            self.lock().remove(&id);
        }
        Ok(ExportPage { lines, next })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Arc<ExportSnapshot>, Instant)>> {
        // Every change is one map operation, so a poisoned map is still consistent.
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}
