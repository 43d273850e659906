//! The ingestion pipeline for one claimed submission folder: validate -> create the card ->
//! store its files -> verify -> review. It owns the claim from start to end: a submission ends
//! as a card or as a folder in `rejected/` with a `reason.json`, or the claim is handed back
//! (deferred) to be tried again; nothing is dropped.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use idreview_protocol::{Card, DUPLICATE_DOCUMENT, FileMeta, Status};
use tracing::{error, info, instrument, warn};

use crate::backend::Backend;
use crate::card::{CardError, CardStore, Cards, NewCard};
use crate::config::Config;
use crate::objects::{ObjectStore, Upload, object_key};
use crate::retry::Backoff;
use crate::store::StoreError;
use crate::validate::{self, Rejection, ValidSubmission};
use crate::verify::{Verifier, stage};

use super::Claimed;

/// The identity the pipeline's own changes are audited under.
pub const PIPELINE_ACTOR: &str = "idreviewd:pipeline";

/// What became of a submission.
#[derive(Debug)]
pub enum Outcome {
    Card(idreview_protocol::CardId),
    Rejected {
        rule: String,
        at: PathBuf,
    },
    /// Still in the work area, its claim handed back, to be tried again (e.g. the store's disk
    /// failed); a restart resumes it too.
    Deferred(Claimed, String),
}

/// What became of a submission a front end validated as it arrived ([`Pipeline::submit`]).
#[derive(Debug)]
pub enum Submitted {
    /// Its card, through storage and verification.
    Card(Card),
    /// Refused by a rule only the store can check (the user has an active card, the files are
    /// on a card already); nothing was created, and the claim is handed back for the front end
    /// to discard.
    Refused(Claimed, Rejection),
    /// Our side failed; the card, if it was created, and the claim to go on with in the
    /// background.
    Deferred(Claimed, Option<Card>, String),
}

/// Everything the pipeline needs; cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    /// Creates cards and moves them through their steps.
    pub cards: Cards,
    /// Ingestion jobs and card ids.
    pub store: Backend,
    pub objects: ObjectStore,
    pub verifier: Verifier,
    pub config: Arc<Config>,
    /// Stops retrying uploads when the daemon stops (the submission resumes at the next start).
    pub shutdown: CancellationToken,
}

impl Pipeline {
    /// Takes a claimed submission through to its end.
    #[instrument(skip(self, claimed), fields(submission = %claimed.name().to_string_lossy()))]
    pub async fn process(&self, claimed: Claimed) -> Outcome {
        let _timer = crate::metrics::StageTimer::start("total");
        // A verdict already in the folder: a rejection a killed daemon did not finish.
        if claimed.has_verdict() {
            let rule = claimed.verdict_rule().unwrap_or_default();
            return self.move_to_rejected(claimed, rule);
        }
        // A complete card: the folder was ingested but not yet cleared when the daemon died.
        match self.finished_card(&claimed).await {
            Ok(Some(card)) => {
                info!(card_id = %card.id, "cleared a submission ingested before a restart");
                return self.finish(claimed, card.id);
            }
            Ok(None) => {}
            Err(e) => return Outcome::Deferred(claimed, e.to_string()),
        }
        let limits = self.config.validation.clone();
        let checked = {
            let _timer = crate::metrics::StageTimer::start("validate");
            let dir = claimed.dir().to_path_buf();
            tokio::task::spawn_blocking(move || validate::validate_submission(&dir, &limits)).await
        };
        let valid = match checked {
            Ok(Ok(valid)) => valid,
            Ok(Err(rejection)) => return self.reject(claimed, &rejection),
            Err(panic) => {
                let rejection = Rejection {
                    rule: "internal_error",
                    file: None,
                    message: format!(
                        "validation crashed ({panic}); the submission is kept for inspection"
                    ),
                };
                return self.reject(claimed, &rejection);
            }
        };
        match self.ingest(&claimed, valid, PIPELINE_ACTOR).await {
            Ok(card) => {
                crate::metrics::ingested();
                info!(card_id = %card.id, user = %card.user_id, status = %card.status, "ingested");
                self.finish(claimed, card.id)
            }
            Err(IngestError::Refused(rejection)) => self.reject(claimed, &rejection),
            Err(IngestError::Deferred(why)) => {
                error!(error = %why, "submission kept in the work area to be tried again");
                Outcome::Deferred(claimed, why)
            }
        }
    }

    /// Takes a submission that a front end validated while it arrived, already claimed into
    /// the work area, through card creation, storage and verification, as [`Pipeline::process`]
    /// does after its validation (a crash in between resumes it from the work area like any
    /// claim).
    #[instrument(skip(self, claimed, valid), fields(submission = %claimed.name().to_string_lossy()))]
    pub async fn submit(
        &self,
        claimed: Claimed,
        valid: ValidSubmission,
        creator: &str,
    ) -> Submitted {
        match self.ingest(&claimed, valid, creator).await {
            Ok(card) => {
                crate::metrics::ingested();
                info!(card_id = %card.id, user = %card.user_id, status = %card.status, "ingested");
                self.finish(claimed, card.id);
                Submitted::Card(card)
            }
            Err(IngestError::Refused(rejection)) => {
                let key = claimed.key().to_os_string();
                self.forget(&key);
                Submitted::Refused(claimed, rejection)
            }
            Err(IngestError::Deferred(why)) => {
                let card = match self.store.ingest_jobs().job(claimed.key()) {
                    Ok(Some(id)) => self.store.get(id).await.ok().flatten(),
                    _ => None,
                };
                Submitted::Deferred(claimed, card, why)
            }
        }
    }

    /// The card of a claimed folder whose job is recorded and whose card has left the
    /// pipeline: nothing is left to do but clear the folder.
    async fn finished_card(&self, claimed: &Claimed) -> Result<Option<Card>, StoreError> {
        let Some(id) = self.store.ingest_jobs().job(claimed.key())? else {
            return Ok(None);
        };
        Ok(self.store.get(id).await?.filter(|c| !in_pipeline(c.status)))
    }

    /// Creates the card (or resumes the one an interrupted run left in flight) and drives it
    /// through upload and verification. The job and the new card are durable before the first
    /// file is stored, so a resumed run stores the same files under the same keys; later steps
    /// are buffered and flushed once at the end. The card's creation is audited as `creator`
    /// (the identity that sent it, or the pipeline for the inbox).
    async fn ingest(
        &self,
        claimed: &Claimed,
        valid: ValidSubmission,
        creator: &str,
    ) -> Result<Card, IngestError> {
        let source = claimed.name().to_string_lossy().into_owned();
        let claim = claimed.key();
        let jobs = self.store.ingest_jobs();
        let mut card = match jobs.job(claim)? {
            Some(id) => match self.store.get(id).await? {
                Some(card) => card,
                // Lost with a crash: made again under the same id, so the same object keys.
                None => self.create(&valid, source, id, creator).await?,
            },
            None => {
                // A folder claimed by a version without jobs may have a card in flight.
                let resumable = self
                    .store
                    .card_for_user(&valid.manifest.user_id)
                    .await?
                    .filter(|c| c.source == source && in_pipeline(c.status));
                let id = match &resumable {
                    Some(card) => card.id,
                    None => self.store.next_id().await?,
                };
                // The job first: whenever the card survives a crash, so does its job.
                jobs.set_job(claim, id)?;
                let card = match resumable {
                    Some(card) => card,
                    None => self.create(&valid, source, id, creator).await?,
                };
                self.store.flush().await?;
                card
            }
        };
        // Each step is buffered: a crash before the final flush leaves the submission in the
        // work area, and the resumed run redoes the lost steps.
        if card.status == Status::Received {
            card = self.cards.start_upload(PIPELINE_ACTOR, &card).await?;
        }
        if card.status == Status::Uploading {
            let _timer = crate::metrics::StageTimer::start("upload");
            let etags = self.upload_all(claimed.dir(), &valid, &card).await?;
            card = self.cards.stored(PIPELINE_ACTOR, &card, &etags).await?;
        }
        if card.status == Status::Verifying {
            let _timer = crate::metrics::StageTimer::start("verify");
            let verification = stage::ask(&self.objects, &self.verifier, &card).await;
            card = self
                .cards
                .verified(PIPELINE_ACTOR, &card, &verification)
                .await?;
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
        let mut delays = Backoff::doubling(Duration::from_millis(500), self.outage_max_wait())
            .jittered()
            .delays();
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
                        // Only when this validation hashed what the card expects (a card
                        // resumed from an earlier run may name other bytes).
                        seen: (file.inspected.sha256 == meta.sha256)
                            .then_some(file.inspected.fingerprint),
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

    async fn create(
        &self,
        valid: &ValidSubmission,
        source: String,
        id: idreview_protocol::CardId,
        creator: &str,
    ) -> Result<Card, IngestError> {
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
        let new = NewCard {
            id,
            user_id: user,
            document_type: valid.manifest.document_type,
            country: valid.manifest.country.clone(),
            files,
            source,
        };
        match self.cards.create(creator, new).await {
            Err(e @ CardError::ActiveCard { .. }) => Err(IngestError::Refused(Rejection {
                rule: "active_card_exists",
                file: Some("submission.toml".into()),
                message: e.to_string(),
            })),
            Err(e @ CardError::DuplicateSubmission { .. }) => Err(IngestError::Refused(
                Rejection::new("duplicate_submission", e.to_string()),
            )),
            Err(ref e @ CardError::DuplicateDocument { ref file, .. }) => {
                Err(IngestError::Refused(Rejection::file(
                    DUPLICATE_DOCUMENT,
                    file.clone(),
                    e.to_string(),
                )))
            }
            other => Ok(other?),
        }
    }

    /// Ends the claim of an ingested submission: its originals go (or are kept in
    /// `processed/`), then its job is forgotten. A folder that cannot be cleared is left for
    /// the next start, which finds its card done and clears it.
    fn finish(&self, claimed: Claimed, card: idreview_protocol::CardId) -> Outcome {
        let processed = self.config.processed_dir();
        let keep = self
            .config
            .inbox
            .keep_processed
            .then_some(processed.as_path());
        let key = claimed.key().to_os_string();
        match claimed.ingested(keep) {
            Ok(()) => self.forget(&key),
            Err((claimed, e)) => {
                warn!(error = %e, dir = %claimed.dir().display(), "could not clear an ingested submission");
            }
        }
        Outcome::Card(card)
    }

    /// Ends a claim in `rejected/` with a `reason.json` naming the rule.
    pub fn reject(&self, claimed: Claimed, rejection: &Rejection) -> Outcome {
        if let Err(e) = claimed.write_verdict(rejection) {
            let why = format!("could not write the reason of a rejection: {e}");
            warn!(rule = rejection.rule, "{why}");
            return Outcome::Deferred(claimed, why);
        }
        warn!(rule = rejection.rule, file = ?rejection.file, "rejected: {}", rejection.message);
        self.move_to_rejected(claimed, rejection.rule.to_string())
    }

    /// Moves a claim carrying its verdict into `rejected/`, then forgets its job.
    fn move_to_rejected(&self, claimed: Claimed, rule: String) -> Outcome {
        let rejected = self.config.rejected_dir();
        let key = claimed.key().to_os_string();
        match claimed.rejected(&rejected) {
            Ok(at) => {
                self.forget(&key);
                crate::metrics::rejected(&rule);
                Outcome::Rejected { rule, at }
            }
            Err((claimed, e)) => {
                let why = format!(
                    "could not move a rejected submission to {}: {e}",
                    rejected.display()
                );
                error!(rule, "{why}");
                Outcome::Deferred(claimed, why)
            }
        }
    }

    /// Drops the job of a claim that has ended (buffered: a job outliving a crash is pruned at
    /// the next start, as its folder is gone).
    fn forget(&self, key: &std::ffi::OsStr) {
        if let Err(e) = self.store.ingest_jobs().remove_job(key) {
            warn!(error = %e, claim = %key.to_string_lossy(), "could not forget an ingestion job");
        }
    }
}

/// Whether a card is still on its way through the pipeline.
fn in_pipeline(status: Status) -> bool {
    matches!(
        status,
        Status::Received | Status::Uploading | Status::Verifying
    )
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

impl From<CardError> for IngestError {
    fn from(e: CardError) -> Self {
        IngestError::Deferred(e.to_string())
    }
}
