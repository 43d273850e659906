//! Verification providers: read the document and say how sure they are. Every provider returns
//! the same [`Verification`]; config picks one.

pub mod local;
mod manual;

use idreview_protocol::{Card, Field, ProviderVerdict};

use crate::config::VerificationConfig;

/// What a provider made of a card's documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub fields: Vec<Field>,
    pub verdict: ProviderVerdict,
}

impl Verification {
    /// Auto-verify only when the provider accepts, it raised no warning and every field is at
    /// or above the threshold. (Data-rule findings are checked by the caller.)
    pub fn is_confident(&self, threshold: f32) -> bool {
        self.verdict.decision == "accept"
            && self.verdict.failure.is_none()
            && !self.fields.is_empty()
            && self.fields.iter().all(|f| f.confidence >= threshold)
    }
}

/// The stored bytes of a card's document images, for providers that read them.
#[derive(Debug, Clone, Default)]
pub struct DocumentImages {
    pub front: Option<Vec<u8>>,
    pub back: Option<Vec<u8>>,
}

/// A provider that is known but not built into this daemon, or an unknown name.
#[derive(Debug, thiserror::Error)]
#[error("verification provider {0:?} is not available; use \"local\" or \"manual\"")]
pub struct UnknownProvider(String);

/// Why the configured provider cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error(transparent)]
    Unknown(#[from] UnknownProvider),
    #[error(transparent)]
    Local(#[from] local::LocalError),
}

/// The configured provider.
#[derive(Debug, Clone)]
pub enum Verifier {
    /// No extraction; every card goes to review.
    Manual,
    /// Offline MRZ reading with Tesseract.
    Local(local::LocalVerifier),
}

impl Verifier {
    /// The configured provider; `local` checks here that Tesseract runs.
    pub fn from_config(config: &VerificationConfig) -> Result<Verifier, ProviderError> {
        match config.provider.as_str() {
            "manual" => Ok(Verifier::Manual),
            "local" => Ok(Verifier::Local(local::LocalVerifier::new(&config.local)?)),
            other => Err(UnknownProvider(other.to_string()).into()),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Verifier::Manual => "manual",
            Verifier::Local(_) => "local",
        }
    }

    /// Reads the card's stored documents. Never fails: a provider failure is a verification
    /// that routes the card to review with the reason.
    pub async fn verify(&self, card: &Card, images: &DocumentImages) -> Verification {
        match self {
            Verifier::Manual => manual::verify(card),
            Verifier::Local(local) => local.verify(card, images).await,
        }
    }
}
