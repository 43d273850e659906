//! The verification step on one card, shared by the pipeline and the retry worker: load the
//! card's stored files, ask the provider ([`ask`]), and record the answer through the state
//! machine ([`record`]): fields (keeping reviewers' and users' corrections), the provider's
//! verdict, data-rule findings and auto-verification. A failed answer queues a re-verification
//! in the same transaction, so the card is never lost or left in `verifying`.

use chrono::Utc;
use idreview_protocol::{Card, Field, FieldSource, FileRole, RpcError, Severity, Status};

use super::{Documents, Verification, Verifier};
use crate::config::VerificationConfig;
use crate::lifecycle::{self, Event};
use crate::objects::{ObjectError, ObjectStore};
use crate::store::Change;
use crate::store::outbox::{Job, OutboxOp, Task};
use crate::validate::data::{self, Rules};

/// Loads the card's files and asks the provider; an unreadable file is a failed verification.
pub async fn ask(objects: &ObjectStore, verifier: &Verifier, card: &Card) -> Verification {
    if matches!(verifier, Verifier::Manual) {
        return verifier.verify(card.id, &Documents::default()).await;
    }
    match load(objects, card).await {
        Ok(documents) => verifier.verify(card.id, &documents).await,
        Err(e) => Verification::failed(
            verifier.name(),
            format!("the stored files could not be read: {e}"),
        ),
    }
}

/// The document images and the selfie, from the object store.
async fn load(objects: &ObjectStore, card: &Card) -> Result<Documents, ObjectError> {
    let mut documents = Documents::default();
    for file in &card.files {
        let slot = match file.role {
            FileRole::Front => &mut documents.front,
            FileRole::Back => &mut documents.back,
            FileRole::Selfie if file.media_type.starts_with("video/") => &mut documents.face_video,
            FileRole::Selfie => &mut documents.face,
            FileRole::Extra => continue,
        };
        *slot = Some(objects.get(&file.object_key).await?);
    }
    Ok(documents)
}

/// Writes a provider's answer onto the card (a copy inside a store update) and moves it on:
/// `verifying` -> `auto_verified` / `needs_review`, or a re-verification while in review.
/// Auto-verifies only when the provider accepted, no data rule failed and every field is at or
/// above the threshold.
pub fn record(
    card: &mut Card,
    verification: &Verification,
    config: &VerificationConfig,
    rules: &Rules,
) -> Result<Change, RpcError> {
    let failure = verification.verdict.failure.clone();
    if failure.is_none() {
        card.fields = merge(&card.fields, &verification.fields);
        if card.country.is_none() {
            card.country = card.field("country").map(|f| f.value.clone());
        }
    }
    card.provider = Some(verification.verdict.clone());
    card.findings = data::check_card(card, rules);
    let rules_pass = !card.findings.iter().any(|f| f.severity == Severity::Error);
    let sure = Verification {
        fields: card.fields.clone(),
        verdict: verification.verdict.clone(),
    }
    .is_confident(config.confidence_threshold);
    let auto = sure && rules_pass;
    let reverify = card.status != Status::Verifying;
    lifecycle::apply(
        card,
        if reverify {
            Event::Reverified { auto }
        } else {
            Event::VerificationDone { auto }
        },
    )?;
    Ok(match failure {
        Some(reason) => {
            let due = Utc::now() + chrono::Duration::seconds(config.retry_initial_secs as i64);
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
