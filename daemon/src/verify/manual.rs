//! The `manual` provider: extracts nothing, so a person reviews every card.

use idreview_protocol::ProviderVerdict;

use super::Verification;

/// Nothing read; the card waits for a person.
pub fn verify() -> Verification {
    Verification {
        fields: Vec::new(),
        verdict: ProviderVerdict {
            provider: "manual".into(),
            decision: "review".into(),
            warnings: Vec::new(),
            transaction_id: None,
            failure: None,
        },
        raw_zone: None,
    }
}
