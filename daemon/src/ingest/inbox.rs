//! The inbox: a watched folder where producers drop submissions. inotify (via `notify`) wakes a
//! scan; a periodic rescan catches missed events and network mounts. A submission folder is
//! complete once its `submission.toml` exists (written last); it is then claimed (a
//! [`Claimed`], renamed into the work area) and handed to the pipeline, which owns it from
//! there. Half-written folders are left alone.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use notify::{RecursiveMode, Watcher};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::pipeline::{Outcome, Pipeline};
use super::{Claimed, workarea};
use crate::memory;
use crate::retry::Backoff;
use crate::validate::{MANIFEST_FILE, Rejection};

/// How long a loose file or symlink may sit at the top of the inbox (perhaps still being
/// moved into a folder) before it is rejected as not being a submission.
const LOOSE_GRACE: Duration = Duration::from_secs(10);

/// How long a wake waits for the rest of its burst of file events before scanning.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// First and longest wait before a deferred submission is tried again.
const RETRY_FIRST: Duration = Duration::from_secs(5);
const RETRY_MAX: Duration = Duration::from_secs(300);

/// Why the inbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("cannot prepare {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot watch the inbox: {0}; set [inbox] rescan_secs low to rely on polling")]
    Watch(#[from] notify::Error),
}

/// Watches and drains the inbox until `shutdown`, then waits for submissions in flight.
pub async fn run(pipeline: Pipeline, shutdown: CancellationToken) -> Result<(), InboxError> {
    let config = pipeline.config.clone();
    let inbox = config.inbox_dir();
    for dir in [inbox.clone(), config.work_dir(), config.rejected_dir()] {
        std::fs::create_dir_all(&dir).map_err(|source| InboxError::Dir {
            path: dir.clone(),
            source,
        })?;
    }
    // Wakes the scan loop; a full channel already means "scan soon", so events are dropped.
    let (wake_tx, mut wake_rx) = mpsc::channel::<()>(1);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            let _ = wake_tx.try_send(());
        }
    })?;
    watcher.watch(&inbox, RecursiveMode::Recursive)?;

    // Before anything is claimed: finish what a killed daemon left half done, and forget the
    // jobs of folders that are no longer in the work area.
    let work = config.work_dir();
    workarea::repair(&work, &config.rejected_dir());
    match pipeline
        .store
        .ingest_jobs()
        .prune_jobs(|claim| work.join(claim).exists())
    {
        Ok(0) => {}
        Ok(n) => info!(
            dropped = n,
            "forgot ingestion jobs of folders no longer in the work area"
        ),
        Err(e) => warn!(error = %e, "cannot prune ingestion jobs"),
    }
    let mut claims = Claims {
        tasks: JoinSet::new(),
        workers: Arc::new(Semaphore::new(config.inbox_workers())),
        pipeline,
        shutdown: shutdown.clone(),
    };
    for claimed in Claimed::leftovers(&work) {
        info!(submission = %claimed.name().to_string_lossy(), "resuming a submission claimed before a restart");
        claims.spawn(claimed);
    }
    let rescan = Duration::from_secs(config.inbox.rescan_secs.max(1));
    let mut next_wait = Duration::ZERO;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = wake_rx.recv() => {
                // Let a burst of events (a folder being copied) settle into one scan. Not
                // notify-debouncer-full: its thread wakes every quarter timeout for ever (80
                // times a second at 50 ms, idle or not) and keeps per-path queues, rename
                // pairing and file ids that this loop throws away, since an event here only
                // means "scan the folder"; whether a submission is complete is the scan's
                // business (manifest present and settled), never an event's.
                tokio::time::sleep(DEBOUNCE).await;
            }
            _ = tokio::time::sleep(next_wait) => {}
            Some(_) = claims.tasks.join_next(), if !claims.tasks.is_empty() => {
                if claims.tasks.is_empty() {
                    // A burst is over: its decoded images' memory goes back to the system.
                    memory::release_soon();
                }
                continue;
            }
        }
        let retry = scan(&mut claims, &inbox);
        next_wait = retry.map_or(rescan, |r| r.min(rescan));
    }
    drop(watcher);
    info!(
        in_flight = claims.tasks.len(),
        "inbox stopping; finishing submissions in flight"
    );
    while claims.tasks.join_next().await.is_some() {}
    Ok(())
}

/// The claimed submissions being processed.
struct Claims {
    tasks: JoinSet<()>,
    /// Bounds how many submissions are validated and ingested at once.
    workers: Arc<Semaphore>,
    pipeline: Pipeline,
    shutdown: CancellationToken,
}

impl Claims {
    /// Processes a claimed folder; a deferred one (our side failed, e.g. the disk) is retried
    /// with backoff, without holding a worker, until it ends or the daemon stops.
    fn spawn(&mut self, claimed: Claimed) {
        let pipeline = self.pipeline.clone();
        let workers = self.workers.clone();
        let shutdown = self.shutdown.clone();
        self.tasks.spawn(async move {
            let mut delays = Backoff::doubling(RETRY_FIRST, RETRY_MAX).delays();
            let mut claimed = claimed;
            loop {
                let Ok(permit) = workers.clone().acquire_owned().await else {
                    return;
                };
                let outcome = pipeline.process(claimed).await;
                drop(permit);
                let Outcome::Deferred(again, _) = outcome else {
                    return;
                };
                claimed = again;
                let wait = delays.next().unwrap_or(RETRY_MAX);
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        });
    }
}

/// Claims every complete submission; returns how soon to look again for ones not yet settled.
fn scan(claims: &mut Claims, inbox: &Path) -> Option<Duration> {
    let config = claims.pipeline.config.clone();
    let settle = Duration::from_millis(config.inbox.settle_ms);
    let abandon = Duration::from_secs(config.inbox.abandon_after_secs);
    let entries = match std::fs::read_dir(inbox) {
        Ok(entries) => entries,
        Err(e) => {
            warn!(error = %e, inbox = %inbox.display(), "cannot read the inbox");
            return None;
        }
    };
    let work = config.work_dir();
    let mut retry: Option<Duration> = None;
    let mut later = |d: Duration| retry = Some(retry.map_or(d, |r| r.min(d)));
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.as_encoded_bytes().starts_with(b".") {
            continue; // producers' temp names
        }
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_dir() {
            match age(&meta).checked_sub(LOOSE_GRACE) {
                Some(_) => reject_loose(&claims.pipeline, &path, &name, meta.is_symlink()),
                None => later(LOOSE_GRACE),
            }
            continue;
        }
        match std::fs::symlink_metadata(path.join(MANIFEST_FILE)) {
            Ok(manifest) => {
                if let Some(wait) = settle.checked_sub(age(&manifest)).filter(|w| !w.is_zero()) {
                    later(wait);
                    continue;
                }
            }
            Err(_) => {
                // Half-written: left alone until its manifest arrives, or until it is abandoned
                // (then claimed, and validation rejects it as manifest_missing).
                let idle = newest_age(&path, &meta);
                match abandon.checked_sub(idle).filter(|w| !w.is_zero()) {
                    Some(wait) => {
                        debug!(submission = %name.to_string_lossy(), "no manifest yet; leaving it alone");
                        later(wait);
                        continue;
                    }
                    None => {
                        info!(submission = %name.to_string_lossy(), "abandoned without a manifest")
                    }
                }
            }
        }
        match Claimed::take(&path, name.clone(), &work) {
            Ok(claimed) => claims.spawn(claimed),
            Err(e) => {
                warn!(error = %e, submission = %name.to_string_lossy(), "cannot claim a submission");
            }
        }
    }
    retry
}

fn age(meta: &std::fs::Metadata) -> Duration {
    meta.modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .unwrap_or(Duration::MAX)
}

/// How long since anything in the folder (or the folder itself) changed.
fn newest_age(dir: &Path, meta: &std::fs::Metadata) -> Duration {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    entries
        .filter_map(|e| e.metadata().ok())
        .map(|m| age(&m))
        .fold(age(meta), Duration::min)
}

/// A file or symlink at the top of the inbox is not a submission: it is claimed in a folder of
/// its own and rejected from there like any submission, so it lands in `rejected/<name>/` with
/// a reason (and a restart in between finishes the move).
fn reject_loose(pipeline: &Pipeline, path: &Path, name: &OsString, symlink: bool) {
    let rejection = Rejection {
        rule: if symlink {
            "symlink"
        } else {
            "not_a_submission_folder"
        },
        file: Some(name.to_string_lossy().into_owned()),
        message: format!(
            "{} is a {} at the top of the inbox; put each submission in its own folder with a {MANIFEST_FILE}",
            name.to_string_lossy(),
            if symlink { "symlink" } else { "file" },
        ),
    };
    match Claimed::take_loose(path, name.clone(), &pipeline.config.work_dir()) {
        Ok(claimed) => {
            pipeline.reject(claimed, &rejection);
        }
        Err(e) => warn!(error = %e, "cannot move a loose inbox entry to rejected/"),
    }
}
