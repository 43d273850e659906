//! Verification providers: read the document and say how sure they are. Every provider returns
//! the same [`Verification`]; config picks one. [`stage`] runs a provider on a card and records
//! the result through the state machine; [`retry`] drains the store's outbox (verifications
//! to try again, decisions to push back) in the background.

mod idanalyzer;
mod idanalyzer_wire;
pub mod local;
pub(crate) mod manual;
pub mod retry;
pub mod stage;

use idreview_protocol::{CardId, Decision, Field, ProviderVerdict, RawZone};
use tracing::warn;

use crate::config::Config;

pub use idanalyzer::{IdAnalyzer, ProviderFailure};

/// The stored files a provider reads, loaded by the caller from the object store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Documents {
    pub front: Option<Vec<u8>>,
    pub back: Option<Vec<u8>>,
    /// A selfie image.
    pub face: Option<Vec<u8>>,
    /// A selfie video.
    pub face_video: Option<Vec<u8>>,
}

/// What a provider made of a card's documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub fields: Vec<Field>,
    pub verdict: ProviderVerdict,
    /// The zone as read, from a provider that reads one (`local`).
    pub raw_zone: Option<RawZone>,
}

impl Verification {
    /// The fallback when the provider gave no usable answer: nothing extracted, the reason for
    /// reviewers in [`ProviderVerdict::failure`].
    pub fn failed(provider: &str, reason: String) -> Verification {
        Verification {
            fields: Vec::new(),
            verdict: ProviderVerdict {
                provider: provider.to_string(),
                decision: "review".into(),
                warnings: Vec::new(),
                transaction_id: None,
                failure: Some(reason),
            },
            raw_zone: None,
        }
    }

    /// The provider accepted, did not fail, read something, and every field is at or above the
    /// threshold. (Data-rule findings are checked by [`stage::record`].)
    pub fn is_confident(&self, threshold: f32) -> bool {
        self.verdict.decision == "accept"
            && self.verdict.failure.is_none()
            && !self.fields.is_empty()
            && self.fields.iter().all(|f| f.confidence >= threshold)
    }
}

/// Why the configured provider cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("unknown verification provider {0:?}; use \"local\", \"idanalyzer\" or \"manual\"")]
    Unknown(String),
    #[error("verification provider idanalyzer: {0}")]
    Config(String),
    #[error(transparent)]
    Local(#[from] local::LocalError),
}

/// The configured provider; cheap to clone.
#[derive(Debug, Clone)]
pub enum Verifier {
    /// No extraction; every card goes to review.
    Manual,
    /// The ID Analyzer API v2.
    IdAnalyzer(IdAnalyzer),
    /// Offline MRZ reading with Tesseract.
    Local(local::LocalVerifier),
}

impl Verifier {
    /// The provider `[verification] provider` names, configured; the age range it checks is
    /// the data rules' (`[validation] min_age`, `max_age`).
    pub fn from_config(config: &Config) -> Result<Verifier, ProviderError> {
        let verification = &config.verification;
        match verification.provider.as_str() {
            "manual" => Ok(Verifier::Manual),
            "idanalyzer" => {
                let ages = format!(
                    "{}-{}",
                    config.validation.min_age, config.validation.max_age
                );
                IdAnalyzer::new(&verification.idanalyzer, ages)
                    .map(Verifier::IdAnalyzer)
                    .map_err(ProviderError::Config)
            }
            "local" => Ok(Verifier::Local(local::LocalVerifier::new(
                &verification.local,
            )?)),
            other => Err(ProviderError::Unknown(other.to_string())),
        }
    }

    /// The provider's config name.
    pub fn name(&self) -> &'static str {
        match self {
            Verifier::Manual => "manual",
            Verifier::IdAnalyzer(_) => "idanalyzer",
            Verifier::Local(_) => "local",
        }
    }

    /// Reads the card's documents. Never fails: a provider failure is a verification that
    /// routes the card to review with the reason.
    pub async fn verify(&self, card: CardId, documents: &Documents) -> Verification {
        let verification = match self {
            Verifier::Manual => manual::verify(),
            Verifier::Local(local) => local.verify(documents).await,
            Verifier::IdAnalyzer(client) => match client.scan(card, documents).await {
                // ID Analyzer answers fields, not the zone as read.
                Ok(answer) => Verification {
                    fields: answer.fields(),
                    verdict: answer.verdict(),
                    raw_zone: None,
                },
                Err(e) => {
                    warn!(card_id = %card, error = %e, "verification failed; the card goes to review");
                    Verification::failed(self.name(), e.to_string())
                }
            },
        };
        if verification.verdict.failure.is_some() {
            crate::metrics::verifier_error(self.name());
        }
        verification
    }

    /// Tells the provider a reviewer's decision on its transaction; providers without
    /// transactions have nothing to do.
    pub async fn push_decision(
        &self,
        transaction_id: &str,
        decision: &str,
    ) -> Result<(), ProviderFailure> {
        match self {
            Verifier::Manual | Verifier::Local(_) => Ok(()),
            Verifier::IdAnalyzer(client) => client.push_decision(transaction_id, decision).await,
        }
    }
}

/// How a reviewer's decision reads in the provider's API.
pub fn provider_decision(decision: Decision) -> &'static str {
    match decision {
        Decision::Approve => "accept",
        Decision::Reject => "reject",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_provider(name: &str) -> Config {
        let mut config = Config::default();
        config.verification.provider = name.into();
        config
    }

    #[test]
    fn config_picks_the_provider_or_says_why_not() {
        assert_eq!(
            Verifier::from_config(&with_provider("manual"))
                .map(|v| v.name())
                .ok(),
            Some("manual")
        );
        let err = Verifier::from_config(&with_provider("magic")).expect_err("unknown");
        assert!(err.to_string().contains("unknown"), "{err}");
        let err = Verifier::from_config(&with_provider("idanalyzer")).expect_err("no key");
        assert!(err.to_string().contains("api_key"), "{err}");
        let mut config = with_provider("idanalyzer");
        config.verification.idanalyzer.api_key = "k".into();
        assert_eq!(
            Verifier::from_config(&config).map(|v| v.name()).ok(),
            Some("idanalyzer")
        );
        config.verification.idanalyzer.base_url = "not a url".into();
        assert!(Verifier::from_config(&config).is_err());
    }
}
