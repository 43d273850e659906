//! The ingestion pipeline for one claimed submission folder: validate -> create the card ->
//! store its files -> verify -> review. A submission ends as a card or as a folder in
//! `rejected/` with a `reason.json`; nothing is dropped.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use idreview_protocol::{Card, CardRef, FileMeta, FileRole, Status};
use serde::Serialize;
use tracing::{info, instrument, warn};

use crate::config::Config;
use crate::lifecycle::{self, Event};
use crate::objects::{ObjectStore, object_key};
use crate::store::{Change, Store, StoreError};
use crate::validate::{self, Rejection, ValidSubmission};
use crate::verify::{DocumentImages, Verifier};

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
}

impl Pipeline {
    /// Takes a submission folder already moved into the work area through to its end.
    #[instrument(skip(self, dir), fields(submission = %name.to_string_lossy()))]
    pub async fn process(&self, dir: PathBuf, name: OsString) -> Outcome {
        let limits = self.config.validation.clone();
        let checked = {
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
            None => self.create(&valid, source).await?,
        };
        if card.status == Status::Received {
            card = self
                .step(&card, |c| {
                    lifecycle::apply(c, Event::StartUpload)?;
                    Ok(Change::new("card.uploading"))
                })
                .await?;
        }
        if card.status == Status::Uploading {
            let uploads = valid
                .files
                .iter()
                .zip(&card.files)
                .map(|(file, meta)| async move {
                    self.objects
                        .put_file(&meta.object_key, &dir.join(&file.name), &meta.sha256)
                        .await
                });
            let mut etags = Vec::new();
            for result in futures::future::join_all(uploads).await {
                etags.push(
                    result
                        .map_err(|e| IngestError::Deferred(e.to_string()))?
                        .etag,
                );
            }
            card = self
                .step(&card, |c| {
                    for (meta, etag) in c.files.iter_mut().zip(&etags) {
                        meta.etag = etag.clone();
                    }
                    lifecycle::apply(c, Event::StartVerify)?;
                    Ok(Change::new("card.stored"))
                })
                .await?;
        }
        if card.status == Status::Verifying {
            let images = self.document_images(&card).await;
            let verification = self.verifier.verify(&card, &images).await;
            let auto = verification.is_confident(self.config.verification.confidence_threshold);
            card = self
                .step(&card, |c| {
                    c.fields = verification.fields.clone();
                    c.provider = Some(verification.verdict.clone());
                    lifecycle::apply(c, Event::VerificationDone { auto })?;
                    Ok(Change::new("card.verified_by_provider"))
                })
                .await?;
        }
        Ok(card)
    }

    /// The stored bytes of the card's front and back (a missing one is left out; the provider
    /// says what it could not read).
    async fn document_images(&self, card: &Card) -> DocumentImages {
        let mut images = DocumentImages::default();
        for meta in &card.files {
            let slot = match meta.role {
                FileRole::Front => &mut images.front,
                FileRole::Back => &mut images.back,
                _ => continue,
            };
            match self.objects.get(&meta.object_key).await {
                Ok(bytes) => *slot = Some(bytes),
                Err(e) => warn!(error = %e, key = %meta.object_key, "cannot read a stored image"),
            }
        }
        images
    }

    async fn create(&self, valid: &ValidSubmission, source: String) -> Result<Card, IngestError> {
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
            version: 1,
            source,
            created_at: now,
            updated_at: now,
        };
        match self.store.create(card, PIPELINE_ACTOR).await {
            Err(e @ StoreError::ActiveCard { .. }) => Err(IngestError::Refused(Rejection {
                rule: "active_card_exists",
                file: Some("submission.toml".into()),
                message: e.to_string(),
            })),
            other => Ok(other?),
        }
    }

    async fn step(
        &self,
        card: &Card,
        change: impl FnMut(&mut Card) -> Result<Change, idreview_protocol::RpcError>,
    ) -> Result<Card, IngestError> {
        let at = CardRef {
            id: card.id,
            expected_version: Some(card.version),
        };
        self.store
            .update(at, PIPELINE_ACTOR, change)
            .await
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
