//! The ingestion pipeline for one claimed submission folder: validate -> create the card ->
//! store its files -> verify -> review. A submission ends as a card or as a folder in
//! `rejected/` with a `reason.json`; nothing is dropped.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio_util::sync::CancellationToken;

use chrono::Utc;
use idreview_protocol::{Card, CardRef, FileMeta, Status};
use serde::Serialize;
use tracing::{info, instrument, warn};

use crate::config::Config;
use crate::lifecycle::{self, Event};
use crate::objects::{ObjectStore, Upload, object_key};
use crate::store::{Change, Store, StoreError};
use crate::validate::data::Rules;
use crate::validate::{self, Rejection, ValidSubmission};
use crate::verify::{Verifier, stage};

/// The identity the pipeline's own changes are audited under.
pub const PIPELINE_ACTOR: &str = "idreviewd:pipeline";

/// What became of a submission.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Card(idreview_protocol::CardId),
    Rejected {
        rule: String,
        at: PathBuf,
    },
    /// Left in the work area to be retried at the next start (e.g. the store's disk failed).
    Deferred(String),
}

/// Written next to a rejected submission.
#[derive(Debug, Serialize)]
pub struct Reason<'a> {
    pub rule: &'a str,
    pub file: Option<&'a str>,
    pub message: &'a str,
    pub submission: String,
    pub rejected_at: String,
}

/// Everything the pipeline needs; cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    pub store: Store,
    pub objects: ObjectStore,
    pub verifier: Verifier,
    pub config: Arc<Config>,
    /// Stops retrying uploads when the daemon stops (the submission resumes at the next start).
    pub shutdown: CancellationToken,
}

impl Pipeline {
    /// Takes a submission folder already moved into the work area through to its end.
    #[instrument(skip(self, dir), fields(submission = %name.to_string_lossy()))]
    pub async fn process(&self, dir: PathBuf, name: OsString) -> Outcome {
        let _timer = crate::metrics::StageTimer::start("total");
        let limits = self.config.validation.clone();
        let checked = {
            let _timer = crate::metrics::StageTimer::start("validate");
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || validate::validate_submission(&dir, &limits)).await
        };
        let valid = match checked {
            Ok(Ok(valid)) => valid,
            Ok(Err(rejection)) => return self.reject(&dir, &name, &rejection),
            Err(panic) => {
                let rejection = Rejection {
                    rule: "internal_error",
                    file: None,
                    message: format!(
                        "validation crashed ({panic}); the submission is kept for inspection"
                    ),
                };
                return self.reject(&dir, &name, &rejection);
            }
        };
        match self.ingest(&dir, &name, valid).await {
            Ok(card) => {
                self.finish(&dir, &name);
                crate::metrics::ingested();
                info!(card_id = %card.id, user = %card.user_id, status = %card.status, "ingested");
                Outcome::Card(card.id)
            }
            Err(IngestError::Refused(rejection)) => self.reject(&dir, &name, &rejection),
            Err(IngestError::Deferred(why)) => {
                warn!(error = %why, "submission kept in the work area for the next start");
                Outcome::Deferred(why)
            }
        }
    }

    /// Creates the card (or resumes the one an interrupted run left in flight) and drives it
    /// through upload and verification; each step is durable before the next starts.
    async fn ingest(
        &self,
        dir: &Path,
        name: &OsString,
        valid: ValidSubmission,
    ) -> Result<Card, IngestError> {
        let source = name.to_string_lossy().into_owned();
        let resumable = self
            .store
            .card_for_user(&valid.manifest.user_id)?
            .filter(|c| {
                c.source == source
                    && matches!(
                        c.status,
                        Status::Received | Status::Uploading | Status::Verifying
                    )
            });
        let mut card = match resumable {
            Some(card) => card,
            None => self.create(&valid, source)?,
        };
        if card.status == Status::Received {
            card = self.step(&card, |c| {
                lifecycle::apply(c, Event::StartUpload)?;
                Ok(Change::new("card.uploading"))
            })?;
        }
        if card.status == Status::Uploading {
            let _timer = crate::metrics::StageTimer::start("upload");
            let etags = self.upload_all(dir, &valid, &card).await?;
            card = self.step(&card, |c| {
                for (meta, etag) in c.files.iter_mut().zip(&etags) {
                    meta.etag = etag.clone();
                }
                lifecycle::apply(c, Event::StartVerify)?;
                Ok(Change::new("card.stored"))
            })?;
        }
        if card.status == Status::Verifying {
            let _timer = crate::metrics::StageTimer::start("verify");
            let verification = stage::ask(&self.objects, &self.verifier, &card).await;
            let config = &self.config.verification;
            let rules = Rules::new(&self.config.validation, Utc::now().date_naive());
            card = self.step(&card, |c| stage::record(c, &verification, config, &rules))?;
        }
        // Durable before the caller removes the submission from the work area.
        self.store.flush().await?;
        Ok(card)
    }

    /// Stores every file of the card at once (at most `max_workers` in flight). Files that
    /// failed transiently (the object store is unreachable) are tried again with backoff until
    /// they land or the daemon stops; files already stored are never sent twice. A file that
    /// fails for good defers the submission, naming the file and why.
    async fn upload_all(
        &self,
        dir: &Path,
        valid: &ValidSubmission,
        card: &Card,
    ) -> Result<Vec<Option<String>>, IngestError> {
        let mut stored: Vec<Option<Option<String>>> = vec![None; card.files.len()];
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(500))
            .with_max_delay(self.outage_max_wait())
            .without_max_times()
            .with_jitter()
            .build();
        loop {
            let pending: Vec<(usize, Upload)> = valid
                .files
                .iter()
                .zip(&card.files)
                .enumerate()
                .filter(|(i, _)| stored[*i].is_none())
                .map(|(i, (file, meta))| {
                    let upload = Upload {
                        key: meta.object_key.clone(),
                        path: dir.join(&file.name),
                        sha256: meta.sha256.clone(),
                    };
                    (i, upload)
                })
                .collect();
            let (slots, uploads): (Vec<usize>, Vec<Upload>) = pending.into_iter().unzip();
            let results = self
                .objects
                .put_many(uploads, self.config.storage.max_workers)
                .await;
            let mut transient = 0;
            let mut failed = Vec::new();
            for (i, file) in slots.into_iter().zip(results) {
                match file.result {
                    Ok(ok) => stored[i] = Some(ok.etag),
                    Err(e) if e.is_transient() => transient += 1,
                    Err(e) => failed.push(format!("{}: {e}", card.files[i].name)),
                }
            }
            if !failed.is_empty() {
                return Err(IngestError::Deferred(format!(
                    "files not stored: {}",
                    failed.join("; ")
                )));
            }
            if transient == 0 {
                return Ok(stored.into_iter().map(Option::flatten).collect());
            }
            let wait = delays.next().unwrap_or(self.outage_max_wait());
            warn!(
                card_id = %card.id,
                waiting = transient,
                retry_in_ms = wait.as_millis() as u64,
                "object store unavailable; retrying the files not yet stored"
            );
            tokio::select! {
                _ = self.shutdown.cancelled() => {
                    return Err(IngestError::Deferred(
                        "stopping with files not yet stored".into(),
                    ));
                }
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    fn outage_max_wait(&self) -> Duration {
        Duration::from_secs(self.config.storage.outage_retry_max_secs.max(1))
    }

    fn create(&self, valid: &ValidSubmission, source: String) -> Result<Card, IngestError> {
        let id = self.store.next_id()?;
        let user = valid.manifest.user_id.clone();
        let files = valid
            .files
            .iter()
            .map(|f| FileMeta {
                role: f.role,
                name: f.name.clone(),
                object_key: object_key(&user, f.role, id, &f.name),
                sha256: f.inspected.sha256.clone(),
                size: f.inspected.size,
                media_type: f.inspected.media_type.to_string(),
                dimensions: f.inspected.dimensions,
                etag: None,
            })
            .collect();
        let now = Utc::now();
        let card = Card {
            id,
            user_id: user,
            document_type: valid.manifest.document_type,
            country: valid.manifest.country.clone(),
            status: Status::Received,
            verified: false,
            confirmed: false,
            fields: Vec::new(),
            files,
            findings: Vec::new(),
            provider: None,
            decision: None,
            assignee: None,
            lease_until: None,
            version: 1,
            source,
            created_at: now,
            updated_at: now,
        };
        match self.store.create_buffered(card, PIPELINE_ACTOR) {
            Err(e @ StoreError::ActiveCard { .. }) => Err(IngestError::Refused(Rejection {
                rule: "active_card_exists",
                file: Some("submission.toml".into()),
                message: e.to_string(),
            })),
            other => Ok(other?),
        }
    }

    /// One buffered step of a card through the pipeline. Steps are not flushed one by one: a
    /// crash before the final flush leaves the submission in the work area, and the resumed
    /// run redoes the lost steps. [`Pipeline::ingest`] flushes once at the end.
    fn step(
        &self,
        card: &Card,
        change: impl FnMut(&mut Card) -> Result<Change, idreview_protocol::RpcError>,
    ) -> Result<Card, IngestError> {
        let at = CardRef {
            id: card.id,
            expected_version: Some(card.version),
        };
        self.store
            .update_buffered(at, PIPELINE_ACTOR, change)
            .map_err(|e| IngestError::Deferred(e.to_string()))
    }

    /// Removes the originals of an ingested submission, or keeps them in `processed/`.
    fn finish(&self, dir: &Path, name: &OsString) {
        let result = if self.config.inbox.keep_processed {
            let target = unique_target(&self.config.processed_dir(), name);
            std::fs::create_dir_all(self.config.processed_dir())
                .and_then(|_| std::fs::rename(dir, target))
        } else {
            std::fs::remove_dir_all(dir)
        };
        if let Err(e) = result {
            warn!(error = %e, dir = %dir.display(), "could not clear an ingested submission");
        }
    }

    /// Moves the folder to `rejected/` with a `reason.json` naming the rule.
    pub fn reject(&self, dir: &Path, name: &OsString, rejection: &Rejection) -> Outcome {
        let rejected = self.config.rejected_dir();
        let target = unique_target(&rejected, name);
        let moved = std::fs::create_dir_all(&rejected).and_then(|_| std::fs::rename(dir, &target));
        if let Err(e) = moved {
            let why = format!(
                "could not move a rejected submission to {}: {e}",
                target.display()
            );
            warn!(rule = rejection.rule, "{why}");
            return Outcome::Deferred(why);
        }
        write_reason(&target, name, rejection);
        crate::metrics::rejected(rejection.rule);
        warn!(rule = rejection.rule, file = ?rejection.file, "rejected: {}", rejection.message);
        Outcome::Rejected {
            rule: rejection.rule.to_string(),
            at: target,
        }
    }
}

/// Writes `reason.json` into a rejected folder (the folder itself is the evidence; a failed
/// write is logged, not fatal).
pub fn write_reason(folder: &Path, name: &OsString, rejection: &Rejection) {
    let reason = Reason {
        rule: rejection.rule,
        file: rejection.file.as_deref(),
        message: &rejection.message,
        submission: name.to_string_lossy().into_owned(),
        rejected_at: Utc::now().to_rfc3339(),
    };
    let text = serde_json::to_string_pretty(&reason).unwrap_or_default();
    if let Err(e) = std::fs::write(folder.join("reason.json"), text) {
        warn!(error = %e, folder = %folder.display(), "could not write reason.json");
    }
}

/// `dir/name`, or `dir/name-1`, `dir/name-2`... when taken.
pub fn unique_target(dir: &Path, name: &OsString) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    (1..)
        .map(|n| {
            let mut candidate = name.clone();
            candidate.push(format!("-{n}"));
            dir.join(candidate)
        })
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Why ingestion stopped short of a card.
enum IngestError {
    /// The submission breaks a rule that only the store can check.
    Refused(Rejection),
    /// Something on our side failed; try again later.
    Deferred(String),
}

impl From<StoreError> for IngestError {
    fn from(e: StoreError) -> Self {
        IngestError::Deferred(e.to_string())
    }
}
