//! A card's way in: created from a validated submission, moved through the pipeline's steps
//! (files being stored, then verified), and given the provider's answer, first time or on a
//! re-verification after a failure. The pipeline's steps are buffered: a crash before its
//! final flush leaves the submission in the work area, and the resumed run redoes them.

use chrono::Utc;
use idreview_protocol::{
    Card, CardId, CardRef, DocumentType, Field, FieldSource, FileMeta, Severity, Status,
};

use super::state::{self, Event};
use super::{CardError, CardStore, Cards, rules};
use crate::store::Change;
use crate::store::outbox::{Job, OutboxOp, Task};
use crate::verify::Verification;

/// What a validated submission says about its card.
#[derive(Debug, Clone)]
pub struct NewCard {
    /// Handed out before the files are stored, so their object keys name it.
    pub id: CardId,
    pub user_id: String,
    pub document_type: DocumentType,
    /// As declared in the submission, if it was.
    pub country: Option<String>,
    pub files: Vec<FileMeta>,
    /// The inbox folder or upload it came from.
    pub source: String,
}

impl<S: CardStore> Cards<S> {
    /// Creates the card of a submission, `received`; refuses a second active card for the
    /// user ([`CardError::ActiveCard`]), the same files again for the user
    /// ([`CardError::DuplicateSubmission`]) and, by policy, a file on another user's card
    /// ([`CardError::DuplicateDocument`]; else the card is flagged, see `duplicates.rs`).
    /// Buffered.
    pub async fn create(&self, actor: &str, new: NewCard) -> Result<Card, CardError> {
        let now = Utc::now();
        let mut card = Card {
            id: new.id,
            user_id: new.user_id,
            document_type: new.document_type,
            country: new.country,
            status: Status::Received,
            verified: false,
            confirmed: false,
            fields: Vec::new(),
            files: new.files,
            findings: Vec::new(),
            provider: None,
            raw_zone: None,
            decision: None,
            assignee: None,
            lease_until: None,
            version: 1,
            source: new.source,
            created_at: now,
            updated_at: now,
            pending_approval: None,
        };
        card.findings = self.judge_new(&card).await?;
        self.store.create(card, actor).await
    }

    /// `received` -> `uploading`: the card's files are being stored. Buffered.
    pub async fn start_upload(&self, actor: &str, card: &Card) -> Result<Card, CardError> {
        self.step(actor, card, |c| {
            state::apply(c, Event::StartUpload)?;
            Ok(Change::new("card.uploading"))
        })
        .await
    }

    /// `uploading` -> `verifying`: every file is stored, with the ETag the object store gave
    /// each (in the card's file order). With daemons sharing the store, the verification is
    /// also queued due at the end of a lease ([`Task::Verify`]): this daemon's pipeline goes
    /// on to verify and finishes the job with the answer; if it dies first, another daemon
    /// takes the job over (the files are in the shared bucket). Buffered.
    pub async fn stored(
        &self,
        actor: &str,
        card: &Card,
        etags: &[Option<String>],
    ) -> Result<Card, CardError> {
        let takeover = self.takeover_after();
        self.step(actor, card, |c| {
            for (meta, etag) in c.files.iter_mut().zip(etags) {
                meta.etag = etag.clone();
            }
            state::apply(c, Event::StartVerify)?;
            let mut change = Change::new("card.stored");
            if let Some(after) = takeover {
                let job = Job::new(c.id, Task::Verify, Utc::now() + after);
                change.outbox.push(OutboxOp::Put(job));
            }
            Ok(change)
        })
        .await
    }

    /// How long another daemon leaves an ingesting daemon's verification to it before taking
    /// it over: the lease, when daemons share the store (PostgreSQL); none with sled, whose
    /// one daemon resumes its own work area.
    fn takeover_after(&self) -> Option<chrono::Duration> {
        let store = &self.config.store;
        (store.backend == crate::config::StoreBackend::Postgres)
            .then(|| chrono::Duration::from_std(store.lease()).unwrap_or(chrono::Duration::MAX))
    }

    /// The provider's answer for a card being verified. Buffered.
    pub async fn verified(
        &self,
        actor: &str,
        card: &Card,
        verification: &Verification,
    ) -> Result<Card, CardError> {
        let rules = self.rules();
        let threshold = self.threshold();
        let retry_secs = self.config.verification.retry_initial_secs;
        let takeover = self.takeover_after().is_some();
        let answer = |c: &mut Card, reused: &super::Reused| {
            let first = c.status == Status::Verifying;
            let mut change = record(c, verification, threshold, retry_secs, &rules, reused)?;
            if first && takeover {
                // The queued first verification is done, by whichever daemon answered.
                change.outbox.push(OutboxOp::Remove(c.id, Task::Verify));
            }
            Ok(change)
        };
        // The step applies at `card`'s version only: the card it changes is this one.
        let shared = self
            .shared_after(card, |c| answer(c, &|_| Ok(Vec::new())))
            .await?;
        self.step(actor, card, |c| {
            answer(c, &|c: &Card| Ok(super::duplicates::findings(c, &shared)))
        })
        .await
    }

    /// The provider's answer, asked again for a card in review after a failure (the retry
    /// worker); durable when it answers.
    pub async fn reverified(
        &self,
        actor: &str,
        card: &Card,
        verification: &Verification,
    ) -> Result<Card, CardError> {
        let card = self.verified(actor, card, verification).await?;
        self.store.flush().await?;
        Ok(card)
    }

    /// One buffered step on `card` at the version the caller has.
    async fn step(
        &self,
        actor: &str,
        card: &Card,
        change: impl FnMut(&mut Card) -> Result<Change, CardError> + Send,
    ) -> Result<Card, CardError> {
        let at = CardRef {
            id: card.id,
            expected_version: Some(card.version),
        };
        let mut results = self.store.change(&[at], actor, change).await?;
        match results.pop() {
            Some((_, result)) => result,
            None => Err(CardError::NotFound(card.id)),
        }
    }
}

/// Writes a provider's answer onto the card and moves it on: `verifying` -> `auto_verified` /
/// `needs_review`, or a re-verification while in review. Auto-verifies only when the provider
/// accepted, no data rule failed, no document is reused and every field is at or above the
/// threshold. A failed answer
/// queues a re-verification in the same transaction, so the card is never lost or left in
/// `verifying`; a good one finishes any queued re-verification. `reused` answers the card's
/// reused-document findings, which count as failed rules.
fn record(
    card: &mut Card,
    verification: &Verification,
    threshold: f32,
    retry_initial_secs: u64,
    rules: &rules::Rules,
    reused: &super::Reused,
) -> Result<Change, CardError> {
    let failure = verification.verdict.failure.clone();
    if failure.is_none() {
        card.fields = merge(&card.fields, &verification.fields);
        card.raw_zone = verification.raw_zone.clone();
        if card.country.is_none() {
            card.country = card.field("country").map(|f| f.value.clone());
        }
    }
    card.provider = Some(verification.verdict.clone());
    card.findings = rules::check_card(card, rules);
    card.findings.extend(reused(card)?);
    // A reused document is never verified without a person.
    let rules_pass =
        !card.findings.iter().any(|f| f.severity == Severity::Error) && !card.is_duplicate();
    let sure = Verification {
        fields: card.fields.clone(),
        verdict: verification.verdict.clone(),
        raw_zone: None,
    }
    .is_confident(threshold);
    let auto = sure && rules_pass;
    let reverify = card.status != Status::Verifying;
    state::apply(
        card,
        if reverify {
            Event::Reverified { auto }
        } else {
            Event::VerificationDone { auto }
        },
    )?;
    Ok(match failure {
        Some(reason) => {
            let wait = i64::try_from(retry_initial_secs).unwrap_or(i64::MAX / 1000);
            let due = Utc::now() + chrono::Duration::seconds(wait);
            let mut change = Change::new("card.verification_failed").because(reason);
            change
                .outbox
                .push(OutboxOp::Put(Job::new(card.id, Task::Reverify, due)));
            change
        }
        None => {
            let mut change = Change::new(if reverify {
                "card.reverified_by_provider"
            } else {
                "card.verified_by_provider"
            });
            change
                .outbox
                .push(OutboxOp::Remove(card.id, Task::Reverify));
            change
        }
    })
}

/// The provider's fields, with every value a reviewer or the user set kept over the provider's
/// (the provider's candidates stay beside it).
fn merge(current: &[Field], read: &[Field]) -> Vec<Field> {
    let mut fields = read.to_vec();
    let corrected = current
        .iter()
        .filter(|f| matches!(f.source, FieldSource::Reviewer | FieldSource::User));
    for kept in corrected {
        match fields.iter_mut().find(|f| f.name == kept.name) {
            Some(field) => {
                let candidates = std::mem::take(&mut field.candidates);
                *field = Field {
                    candidates,
                    ..kept.clone()
                };
            }
            None => fields.push(kept.clone()),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use idreview_protocol::FileRole;
    use idreview_protocol::fixtures::file;

    use super::*;
    use crate::config::{Config, StoreBackend};
    use crate::store::Store;

    /// Stores and verifies one card under `config`; answers the outbox after each step.
    async fn steps(config: Config) -> (Vec<Job>, Vec<Job>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 0.8).expect("store");
        let cards = Cards::new(store.clone(), Arc::new(config));
        let card = idreview_protocol::fixtures::card(1)
            .user("ann")
            .status(Status::Uploading)
            .file(file(FileRole::Front, "front.jpg", "users/ann/1/front.jpg"))
            .build();
        let card = CardStore::create(&store, card, "t").await.expect("create");
        let card = cards.stored("t", &card, &[None]).await.expect("stored");
        let after_stored = store.jobs().expect("jobs");
        cards
            .verified("t", &card, &crate::verify::manual::verify())
            .await
            .expect("verified");
        (after_stored, store.jobs().expect("jobs"))
    }

    #[tokio::test]
    async fn with_shared_daemons_a_stored_card_is_queued_for_takeover_until_verified() {
        let mut config = Config::default();
        config.store.backend = StoreBackend::Postgres;
        config.store.lease_secs = 30;
        let before = Utc::now();
        let (stored, verified) = steps(config).await;
        assert_eq!(stored.len(), 1, "{stored:?}");
        assert_eq!(
            (stored[0].card, &stored[0].task),
            (CardId(1), &Task::Verify)
        );
        let lease = stored[0].due - before;
        assert!(
            lease >= chrono::Duration::seconds(30) && lease < chrono::Duration::seconds(40),
            "due after the lease: {lease}"
        );
        assert!(verified.is_empty(), "the answer finished it: {verified:?}");
        let (stored, _) = steps(Config::default()).await;
        assert!(
            stored.is_empty(),
            "sled's one daemon resumes its own: {stored:?}"
        );
    }
}
