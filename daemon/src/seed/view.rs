//! A card as the seed reads it: its status, decision, `verified`, onboarding stage and
//! confidences, each derived from the domain's card (the README's "seed view" table lists the
//! source of every value).

use idreview_protocol::{Card, Decision, OnboardingStage, Status};

use super::names;

/// Declares a seed enum with its wire names.
macro_rules! seed_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in the seed's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The seed's name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value the seed calls `text`, exactly.
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == text)
            }

            /// Its place in [`Self::ALL`], for bitmaps.
            pub fn slot(self) -> usize {
                self as usize
            }
        }
    };
}

seed_enum!(
    /// The seed's card status.
    SeedStatus {
        Uploaded => "uploaded",
        Processing => "processing",
        NeedsReview => "needs_review",
        Confirmed => "confirmed",
        Completed => "completed",
        Failed => "failed",
    }
);

seed_enum!(
    /// The seed's decision.
    SeedDecision {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
    }
);

/// The seed's status of a card: `received` is `uploaded`; the pipeline's steps are
/// `processing`; a card in review is `confirmed` once its user confirmed it, `failed` when the
/// provider failed (it waits for a re-verification), else `needs_review`; a decided card is
/// `completed`.
pub fn status(card: &Card) -> SeedStatus {
    match card.status {
        Status::Received => SeedStatus::Uploaded,
        Status::Uploading | Status::Verifying => SeedStatus::Processing,
        Status::NeedsReview | Status::AutoVerified => {
            if card.confirmed {
                SeedStatus::Confirmed
            } else if card.provider.as_ref().is_some_and(|p| p.failure.is_some()) {
                SeedStatus::Failed
            } else {
                SeedStatus::NeedsReview
            }
        }
        Status::Approved | Status::Rejected => SeedStatus::Completed,
    }
}

/// The seed's decision: the card's decision record, `pending` without one.
pub fn decision(card: &Card) -> SeedDecision {
    match card.decision.as_ref().map(|d| d.decision) {
        None => SeedDecision::Pending,
        Some(Decision::Approve) => SeedDecision::Approved,
        Some(Decision::Reject) => SeedDecision::Rejected,
    }
}

/// The seed's `verified`: approved cards are, rejected ones are not, and before a decision a
/// reviewer's check mark says.
pub fn verified(card: &Card) -> bool {
    match card.status {
        Status::Approved => true,
        Status::Rejected => false,
        _ => card.verified,
    }
}

/// The seed's onboarding stage of a user whose newest card is `card`: `started` without one
/// (or after a rejection, when the user starts over), `document_uploaded` while the card is in
/// the pipeline or has nothing to confirm, `ocr_review` when the user has data to confirm,
/// `confirmed` once confirmed, `completed` once approved.
pub fn stage(card: Option<&Card>) -> &'static str {
    let stage = crate::card::onboarding_stage(card);
    let confirmed = card.is_some_and(|c| c.confirmed);
    match stage {
        OnboardingStage::NotStarted | OnboardingStage::Rejected => "started",
        OnboardingStage::DocumentsUploaded => "document_uploaded",
        OnboardingStage::DataExtracted => "ocr_review",
        OnboardingStage::DataConfirmed => "confirmed",
        OnboardingStage::UnderReview if confirmed => "confirmed",
        OnboardingStage::UnderReview => "document_uploaded",
        OnboardingStage::Approved => "completed",
    }
}

/// The seed's `card_confidence`: the mean confidence of the fields it names (its `ocr_data`);
/// `None` when none was read.
pub fn mean_confidence(card: &Card) -> Option<f64> {
    let (sum, n) = names::ocr_fields(card).fold((0.0f64, 0u32), |(sum, n), (_, f)| {
        (sum + decimal(f.confidence), n + 1)
    });
    (n > 0).then(|| sum / f64::from(n))
}

/// A confidence as its shortest decimal, the way it reads in JSON (an `f32` 0.9 is 0.9, not
/// 0.8999999762): bounds a client sends compare with what it was shown.
pub fn decimal(c: f32) -> f64 {
    // Formatting and parsing cost about a microsecond, for every confidence of every card the
    // seed view indexes (a bulk decision re-indexes thousands), while a store holds few
    // distinct confidences: remembered per thread, by the value's bits (an exact key).
    const SLOTS: usize = 1024;
    thread_local! {
        // Bits 0 (the float 0.0) is 0.0, so the empty slots are right as they are.
        static SEEN: std::cell::RefCell<Vec<(u32, f64)>> = std::cell::RefCell::new(vec![(0, 0.0); SLOTS]);
    }
    let bits = c.to_bits();
    let slot = (bits.wrapping_mul(0x9E37_79B1) >> 22) as usize % SLOTS;
    SEEN.with_borrow_mut(|seen| {
        let (key, value) = &mut seen[slot];
        if *key != bits {
            *key = bits;
            *value = c.to_string().parse().unwrap_or(f64::from(c));
        }
        *value
    })
}

/// The seed's names of the fields below `threshold`, in the seed's order.
pub fn low_confidence_fields(card: &Card, threshold: f32) -> Vec<&'static str> {
    names::ocr_fields(card)
        .filter(|(_, f)| f.confidence < threshold)
        .map(|(name, _)| name)
        .collect()
}

#[cfg(test)]
mod tests {
    use idreview_protocol::{Field, FieldSource, Side};

    use super::*;

    fn field(name: &str, confidence: f32) -> Field {
        Field {
            name: name.into(),
            value: "X".into(),
            confidence,
            source: FieldSource::Mrz,
            side: Side::Front,
            bbox: None,
            candidates: vec![],
        }
    }

    /// The remembered decimals are the computed ones, also for values that share a slot and
    /// push each other out (20,000 values through 1,024 slots, in two passes).
    #[test]
    fn a_remembered_decimal_is_the_computed_one() {
        let values: Vec<f32> = (0..10_000)
            .map(|i| i as f32 / 10_000.0)
            .chain((0..10_000u32).map(|i| f32::from_bits(i.wrapping_mul(2_654_435_761))))
            .filter(|c| c.is_finite())
            .collect();
        for _ in 0..2 {
            for &c in &values {
                let computed: f64 = c.to_string().parse().expect("a float reads back");
                assert_eq!(decimal(c).to_bits(), computed.to_bits(), "{c}");
            }
        }
        assert_eq!(decimal(0.9), 0.9);
    }

    #[test]
    fn confidence_is_the_mean_of_the_seed_fields() {
        let mut card = crate::card::state::tests::card(Status::NeedsReview);
        assert_eq!(mean_confidence(&card), None);
        card.fields = vec![
            field("surname", 0.5),
            field("given_names", 1.0),
            field("country", 0.1),
        ];
        assert_eq!(mean_confidence(&card), Some(0.75));
        assert_eq!(card.confidence(), Some(0.1), "ours stays the minimum");
        assert_eq!(low_confidence_fields(&card, 0.8), vec!["lastName"]);
    }

    #[test]
    fn statuses_follow_the_card() {
        let mut card = crate::card::state::tests::card(Status::Verifying);
        assert_eq!(status(&card), SeedStatus::Processing);
        card.status = Status::NeedsReview;
        assert_eq!(status(&card), SeedStatus::NeedsReview);
        card.confirmed = true;
        assert_eq!(status(&card), SeedStatus::Confirmed);
        assert_eq!(stage(Some(&card)), "confirmed");
        card.status = Status::Rejected;
        assert_eq!(status(&card), SeedStatus::Completed);
        assert!(!verified(&card));
        assert_eq!(stage(Some(&card)), "started");
        assert_eq!(
            SeedStatus::parse("needs_review"),
            Some(SeedStatus::NeedsReview)
        );
        assert_eq!(SeedStatus::parse("Needs_Review"), None);
    }
}
