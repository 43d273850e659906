//! The card state machine: the one function every status or flag change goes through, and the
//! onboarding stage derived from a card's life.

use idreview_protocol::{Card, Decision, OnboardingStage, Severity, Status};

use super::CardError;

/// Something that happens to a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The pipeline starts storing the card's files.
    StartUpload,
    /// Files are stored; the provider is asked.
    StartVerify,
    /// The provider answered; `auto` when it accepted, no rule failed and every field is sure.
    VerificationDone { auto: bool },
    /// The provider answered again for a card in review after an earlier failure; `auto` as in
    /// [`Event::VerificationDone`].
    Reverified { auto: bool },
    /// A reviewer's final decision.
    Decide(Decision),
    /// A reviewer marks the data as checked, or takes that back.
    SetVerified(bool),
    /// The user confirms the extracted data.
    Confirm,
    /// A reviewer or the user changes field values.
    Correct,
    /// A reviewer claims the card, or gives the claim up.
    Claim,
    /// An admin takes a decided card back into review.
    Reopen,
}

impl Event {
    /// How the event reads in an error: "a card in status X cannot be {verb}".
    fn verb(self) -> &'static str {
        match self {
            Event::StartUpload => "uploaded",
            Event::StartVerify => "verified by the provider",
            Event::VerificationDone { .. } => "given a verification result",
            Event::Reverified { .. } => "re-verified",
            Event::Decide(Decision::Approve) => "approved",
            Event::Decide(Decision::Reject) => "rejected",
            Event::SetVerified(true) => "marked verified",
            Event::SetVerified(false) => "marked unverified",
            Event::Confirm => "confirmed",
            Event::Correct => "corrected",
            Event::Claim => "claimed",
            Event::Reopen => "reopened",
        }
    }
}

/// Applies `event` to the card's status and flags, or says why it may not happen. Does not bump
/// the version or touch timestamps: the store does that for every write.
pub fn apply(card: &mut Card, event: Event) -> Result<(), CardError> {
    use Status::*;
    let reviewable = matches!(card.status, NeedsReview | AutoVerified);
    let next = match (card.status, event) {
        (Received, Event::StartUpload) => Uploading,
        (Uploading, Event::StartVerify) => Verifying,
        (Verifying, Event::VerificationDone { auto: true }) => AutoVerified,
        (Verifying, Event::VerificationDone { auto: false }) => NeedsReview,
        (NeedsReview, Event::Reverified { auto: true }) => AutoVerified,
        (NeedsReview, Event::Reverified { auto: false }) => NeedsReview,
        (_, Event::Decide(Decision::Approve)) if reviewable => Approved,
        (_, Event::Decide(Decision::Reject)) if reviewable => {
            card.pending_approval = None;
            Rejected
        }
        (_, Event::SetVerified(v)) if reviewable => {
            card.verified = v;
            card.status
        }
        (_, Event::Confirm) if reviewable => {
            card.confirmed = true;
            card.status
        }
        (_, Event::Correct | Event::Claim) if !card.status.is_decided() => card.status,
        (Approved | Rejected, Event::Reopen) => {
            card.decision = None;
            card.pending_approval = None;
            card.verified = false;
            NeedsReview
        }
        (from, event) => {
            return Err(CardError::IllegalTransition {
                from,
                action: event.verb().to_string(),
            });
        }
    };
    card.status = next;
    Ok(())
}

/// What still speaks against approving the card: each field below `threshold` (`surname at
/// 0.42`) and each finding of severity error (its rule, `document_expired`). An approval over
/// doubts needs an explicit override and a reason, and its audit event names them.
pub fn doubts(card: &Card, threshold: f32) -> Vec<String> {
    let fields = card
        .fields
        .iter()
        .filter(|f| f.confidence < threshold)
        .map(|f| format!("{} at {:.2}", f.name, f.confidence));
    let findings = card
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.rule.clone());
    fields.chain(findings).collect()
}

/// Where the card's user is in onboarding; `None` means no card at all.
pub fn onboarding_stage(card: Option<&Card>) -> OnboardingStage {
    let Some(card) = card else {
        return OnboardingStage::NotStarted;
    };
    match card.status {
        Status::Received | Status::Uploading | Status::Verifying => {
            OnboardingStage::DocumentsUploaded
        }
        Status::Approved => OnboardingStage::Approved,
        Status::Rejected => OnboardingStage::Rejected,
        Status::NeedsReview | Status::AutoVerified => {
            if card.fields.is_empty() || card.assignee.is_some() || card.verified {
                // Nothing for the user to confirm, or a reviewer already has it.
                OnboardingStage::UnderReview
            } else if card.confirmed {
                OnboardingStage::DataConfirmed
            } else {
                OnboardingStage::DataExtracted
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn card(status: Status) -> Card {
        idreview_protocol::fixtures::card(1)
            .user("u")
            .country(None)
            .status(status)
            .source("s")
            .created_at(chrono::Utc::now())
            .updated_at(chrono::Utc::now())
            .build()
    }

    #[test]
    fn pipeline_path_reaches_review() {
        let mut c = card(Status::Received);
        for e in [
            Event::StartUpload,
            Event::StartVerify,
            Event::VerificationDone { auto: false },
        ] {
            apply(&mut c, e).expect("legal");
        }
        assert_eq!(c.status, Status::NeedsReview);
        apply(&mut c, Event::Decide(Decision::Approve)).expect("legal");
        assert_eq!(c.status, Status::Approved);
    }

    #[test]
    fn decided_cards_are_final() {
        for status in [Status::Approved, Status::Rejected] {
            for event in [
                Event::Decide(Decision::Approve),
                Event::Decide(Decision::Reject),
                Event::SetVerified(true),
                Event::Confirm,
                Event::Correct,
                Event::Claim,
            ] {
                let mut c = card(status);
                let err = apply(&mut c, event).expect_err("illegal");
                assert!(matches!(err, CardError::IllegalTransition { from, .. } if from == status));
                assert_eq!(c.status, status);
            }
        }
    }

    #[test]
    fn cards_in_flight_cannot_be_decided() {
        for status in [Status::Received, Status::Uploading, Status::Verifying] {
            let mut c = card(status);
            assert!(apply(&mut c, Event::Decide(Decision::Approve)).is_err());
        }
        let mut c = card(Status::Received);
        assert!(
            apply(&mut c, Event::StartVerify).is_err(),
            "skipping upload is illegal"
        );
    }

    #[test]
    fn only_cards_in_review_are_reverified() {
        let mut c = card(Status::NeedsReview);
        apply(&mut c, Event::Reverified { auto: false }).expect("legal");
        assert_eq!(c.status, Status::NeedsReview);
        apply(&mut c, Event::Reverified { auto: true }).expect("legal");
        assert_eq!(c.status, Status::AutoVerified);
        for status in [
            Status::Verifying,
            Status::AutoVerified,
            Status::Approved,
            Status::Rejected,
        ] {
            let mut c = card(status);
            assert!(apply(&mut c, Event::Reverified { auto: true }).is_err());
        }
    }

    #[test]
    fn flags_change_without_leaving_review() {
        let mut c = card(Status::NeedsReview);
        apply(&mut c, Event::SetVerified(true)).expect("legal");
        apply(&mut c, Event::Confirm).expect("legal");
        assert!(c.verified && c.confirmed);
        assert_eq!(c.status, Status::NeedsReview);
    }

    #[test]
    fn onboarding_follows_the_card() {
        assert_eq!(onboarding_stage(None), OnboardingStage::NotStarted);
        assert_eq!(
            onboarding_stage(Some(&card(Status::Uploading))),
            OnboardingStage::DocumentsUploaded
        );
        let mut c = card(Status::NeedsReview);
        assert_eq!(
            onboarding_stage(Some(&c)),
            OnboardingStage::UnderReview,
            "manual: nothing to confirm"
        );
        c.fields.push(idreview_protocol::Field {
            name: "surname".into(),
            value: "X".into(),
            confidence: 0.9,
            source: idreview_protocol::FieldSource::Mrz,
            side: idreview_protocol::Side::Front,
            bbox: None,
            candidates: vec![],
        });
        assert_eq!(onboarding_stage(Some(&c)), OnboardingStage::DataExtracted);
        c.confirmed = true;
        assert_eq!(onboarding_stage(Some(&c)), OnboardingStage::DataConfirmed);
        c.status = Status::Approved;
        assert_eq!(onboarding_stage(Some(&c)), OnboardingStage::Approved);
    }
}
