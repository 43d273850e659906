//! `idreviewd export --out FILE` and `idreviewd import FILE`: the command-line side of backup
//! and restore. An export pages through a consistent snapshot over the running daemon's socket
//! (the daemon holds the store's lock), or takes the snapshot itself when no daemon runs; either
//! way the same store code writes the same lines. An import writes into a fresh store beside
//! the data dir's (nothing there yet) and moves it into place only when every line is in.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use idreview_protocol::transport::{connect_unix, context_with_timeout};
use idreview_protocol::{EXPORT_FORMAT, ExportCursor, ExportHeader, IdReviewClient, RpcError};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::store::export::{BackupError, Line};
use crate::store::{Store, StoreError};

/// Deadline of one export call; a page is a few MiB, read in well under a second.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Lines restored per batch.
const BATCH: usize = 5_000;

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupCliError {
    #[error("the daemon refused: {0}")]
    Rpc(#[from] RpcError),
    #[error("talking to the daemon: {0}")]
    Call(#[from] tarpc::client::RpcError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} line {line}: {why}")]
    Format {
        path: PathBuf,
        line: usize,
        why: String,
    },
    #[error(
        "a daemon is running on this data dir; stop it first (an import only fills an empty data dir)"
    )]
    DaemonRunning,
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error("the store ({path}): {source}")]
    Store { path: PathBuf, source: StoreError },
}

/// What an export or import moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub cards: u64,
    pub tokens: u64,
    pub audit_events: u64,
}

impl Counts {
    fn of(header: &ExportHeader) -> Counts {
        Counts {
            cards: header.cards,
            tokens: header.tokens,
            audit_events: header.audit_events,
        }
    }

    fn lines(&self) -> u64 {
        self.cards + self.tokens + self.audit_events
    }
}

/// Where the snapshot comes from.
enum Source {
    Daemon(IdReviewClient),
    Store(Store),
}

/// Writes a consistent snapshot of the data dir's store to `out` (mode 0600: it holds personal
/// data); progress on standard error. Answers the snapshot's header.
pub async fn export(config: &Config, out: &Path) -> Result<ExportHeader, BackupCliError> {
    let source = match connect_unix(&config.socket_path(), None).await {
        Ok((client, _)) => Source::Daemon(client),
        Err(_) => Source::Store(open_store(&config.store_dir())?),
    };
    let io = |source| BackupCliError::Io {
        path: out.to_path_buf(),
        source,
    };
    let (header, snapshot) = match &source {
        Source::Daemon(c) => (
            c.export_begin(context_with_timeout(CALL_TIMEOUT)).await??,
            None,
        ),
        Source::Store(s) => {
            let snapshot = s.export_snapshot(1).map_err(BackupError::from)?;
            (snapshot.header.clone(), Some(snapshot))
        }
    };
    let partial = with_suffix(out, ".partial");
    let file = create_private(&partial).map_err(io)?;
    let mut writer = BufWriter::new(file);
    let mut head =
        serde_json::to_string(&Line::Header(header.clone())).map_err(BackupError::from)?;
    head.push('\n');
    writer.write_all(head.as_bytes()).map_err(io)?;
    let bar = progress("exporting", Counts::of(&header).lines());
    let mut cursor = Some(ExportCursor::default());
    while let Some(at) = cursor {
        let (lines, next) = match (&source, &snapshot) {
            (Source::Store(s), Some(snap)) => {
                s.export_page(snap, at, crate::rpc::exports::PAGE_BYTES)?
            }
            (Source::Daemon(c), _) => {
                let page = c
                    .export_page(context_with_timeout(CALL_TIMEOUT), header.export_id, at)
                    .await??;
                (page.lines, page.next)
            }
            (Source::Store(_), None) => (Vec::new(), None),
        };
        for line in &lines {
            writer.write_all(line.as_bytes()).map_err(io)?;
            writer.write_all(b"\n").map_err(io)?;
        }
        bar.inc(lines.len() as u64);
        cursor = next;
    }
    let file = writer.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&partial, out).map_err(io)?;
    bar.finish_and_clear();
    Ok(header)
}

/// Restores an export file into the data dir's store, which must be empty (or not exist) and
/// not in use by a daemon; progress on standard error. Answers what was restored.
pub async fn import(config: &Config, file: &Path) -> Result<Counts, BackupCliError> {
    if connect_unix(&config.socket_path(), None).await.is_ok() {
        return Err(BackupCliError::DaemonRunning);
    }
    let target = config.store_dir();
    if target.exists() {
        if let Some(held) = open_store(&target)?.contents() {
            return Err(BackupError::NotEmpty(held).into());
        }
        remove_dir(&target)?;
    }
    let staging = with_suffix(&target, ".importing");
    if staging.exists() {
        remove_dir(&staging)?;
    }
    let store = open_store(&staging)?;
    let format = |line: usize, why: String| BackupCliError::Format {
        path: file.to_path_buf(),
        line,
        why,
    };
    let reader = BufReader::new(File::open(file).map_err(|source| BackupCliError::Io {
        path: file.to_path_buf(),
        source,
    })?);
    let mut header: Option<ExportHeader> = None;
    let mut seen = Counts::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut bar = ProgressBar::hidden();
    for (n, text) in reader.lines().enumerate() {
        let text = text.map_err(|source| BackupCliError::Io {
            path: file.to_path_buf(),
            source,
        })?;
        let line: Line = serde_json::from_str(&text).map_err(|e| format(n + 1, e.to_string()))?;
        match (&line, &header) {
            (Line::Header(h), None) if n == 0 => {
                if h.format != EXPORT_FORMAT {
                    return Err(format(
                        1,
                        format!(
                            "export format {} (this idreviewd reads {EXPORT_FORMAT})",
                            h.format
                        ),
                    ));
                }
                bar = progress("importing", Counts::of(h).lines());
                header = Some(h.clone());
                continue;
            }
            (_, None) | (Line::Header(_), _) => {
                return Err(format(
                    n + 1,
                    "the header must be the first line, and only there".into(),
                ));
            }
            (Line::Card(_), _) => seen.cards += 1,
            (Line::Token(_), _) => seen.tokens += 1,
            (Line::Audit(_), _) => seen.audit_events += 1,
        }
        batch.push(line);
        if batch.len() == BATCH {
            store.restore(&batch)?;
            bar.inc(batch.len() as u64);
            batch.clear();
        }
    }
    store.restore(&batch)?;
    bar.inc(batch.len() as u64);
    let header = header.ok_or_else(|| format(1, "empty file: no header".into()))?;
    if seen != Counts::of(&header) {
        return Err(format(
            0,
            format!(
                "truncated or altered: the header counts {:?}, the file holds {seen:?}",
                Counts::of(&header)
            ),
        ));
    }
    store
        .finish_restore(&header)
        .await
        .map_err(|source| BackupCliError::Store {
            path: staging.clone(),
            source,
        })?;
    drop(store);
    std::fs::rename(&staging, &target).map_err(|source| BackupCliError::Io {
        path: target.clone(),
        source,
    })?;
    bar.finish_and_clear();
    Ok(seen)
}

fn open_store(path: &Path) -> Result<Store, BackupCliError> {
    // The threshold only shapes the in-memory index, which a backup never reads.
    Store::open(path, 0.8).map_err(|source| BackupCliError::Store {
        path: path.to_path_buf(),
        source,
    })
}

fn remove_dir(path: &Path) -> Result<(), BackupCliError> {
    std::fs::remove_dir_all(path).map_err(|source| BackupCliError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn create_private(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// A bar on standard error with counts and a rate; hidden when standard error is no terminal.
fn progress(what: &str, total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(&format!(
        "{what} [{{bar:30}}] {{human_pos}}/{{human_len}} lines, {{per_sec}}, {{eta}} left"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
