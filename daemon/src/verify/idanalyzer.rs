//! The `idanalyzer` provider: the ID Analyzer API v2 over HTTPS (reqwest with rustls).
//! `POST {base}/scan` reads a document; `PATCH {base}/transaction/{id}` tells it a reviewer's
//! decision. Every call has a timeout, is tried again with a doubling pause after a 429, a 5xx
//! or a timeout, and reads its answer with a size cap. Errors come back typed
//! ([`ProviderFailure`]); turning them into a card routed to review is the caller's business.

use std::time::Duration;

use backon::Retryable;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use idreview_protocol::CardId;
use reqwest::{Method, StatusCode};
use tracing::{debug, instrument, warn};

use super::Documents;
use super::idanalyzer_wire::{Answer, DecisionRequest, ScanRequest};
use crate::config::IdAnalyzerConfig;
use crate::retry::Backoff;

/// Why a call to the provider did not give an answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderFailure {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach the provider: {0}")]
    Unreachable(String),
    #[error("the provider refused the call (HTTP {status}, {code}): {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    #[error("HTTP {0} with a body that is not the API's JSON")]
    Http(u16),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(u64),
    #[error("the answer is not the API's JSON: {0}")]
    Malformed(String),
    #[error("the card has no front image to send")]
    NoFront,
}

impl ProviderFailure {
    /// Worth trying again at once: rate limits, server errors, timeouts and lost connections.
    fn transient(&self) -> bool {
        match self {
            ProviderFailure::Timeout(_) | ProviderFailure::Unreachable(_) => true,
            ProviderFailure::Api { status, .. } | ProviderFailure::Http(status) => {
                *status == 429 || *status >= 500
            }
            _ => false,
        }
    }
}

/// A configured client; cheap to clone (the HTTP client is shared).
#[derive(Debug, Clone)]
pub struct IdAnalyzer {
    http: reqwest::Client,
    config: IdAnalyzerConfig,
    /// Ages the API checks the holder against, e.g. `18-120`.
    verify_age: String,
}

impl IdAnalyzer {
    /// A client for `config`; fails on a missing API key or an unusable base URL.
    pub fn new(config: &IdAnalyzerConfig, verify_age: String) -> Result<IdAnalyzer, String> {
        if config.api_key.is_empty() {
            return Err("verification.idanalyzer.api_key is empty".into());
        }
        reqwest::Url::parse(&config.base_url).map_err(|e| {
            format!(
                "verification.idanalyzer.base_url {:?}: {e}",
                config.base_url
            )
        })?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(config.timeout_secs.clamp(1, 10)))
            .user_agent(concat!("idreviewd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(IdAnalyzer {
            http,
            config: config.clone(),
            verify_age,
        })
    }

    /// Reads the documents: `POST /scan`.
    #[instrument(skip(self, documents), fields(card_id = %card))]
    pub async fn scan(
        &self,
        card: CardId,
        documents: &Documents,
    ) -> Result<Answer, ProviderFailure> {
        let front = documents.front.as_ref().ok_or(ProviderFailure::NoFront)?;
        let encode = |b: &Vec<u8>| BASE64.encode(b);
        let request = ScanRequest {
            profile: &self.config.profile,
            document: encode(front),
            document_back: documents.back.as_ref().map(encode),
            face: documents.face.as_ref().map(encode),
            face_video: documents.face_video.as_ref().map(encode),
            custom_data: card.to_string(),
            verify_age: &self.verify_age,
        };
        let body =
            serde_json::to_vec(&request).map_err(|e| ProviderFailure::Malformed(e.to_string()))?;
        let answer = self.call(Method::POST, "scan", body).await?;
        debug!(decision = ?answer.decision, fields = answer.data.len(), "scanned");
        Ok(answer)
    }

    /// Tells the provider a reviewer's decision: `PATCH /transaction/{id}`.
    #[instrument(skip(self))]
    pub async fn push_decision(
        &self,
        transaction_id: &str,
        decision: &str,
    ) -> Result<(), ProviderFailure> {
        let body = serde_json::to_vec(&DecisionRequest { decision })
            .map_err(|e| ProviderFailure::Malformed(e.to_string()))?;
        let path = format!("transaction/{transaction_id}");
        self.call(Method::PATCH, &path, body).await.map(|_| ())
    }

    /// One call, tried up to `attempts` times while the failure is transient.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<Answer, ProviderFailure> {
        let retries = usize::try_from(self.config.attempts.max(1) - 1).unwrap_or(0);
        let first = Duration::from_millis(self.config.backoff_ms);
        let policy = Backoff::doubling(first, first.saturating_mul(64)).times(retries);
        (|| self.once(method.clone(), path, body.clone()))
            .retry(policy.builder())
            .sleep(tokio::time::sleep)
            .when(ProviderFailure::transient)
            .notify(|e, pause| {
                crate::metrics::verifier_retry();
                warn!(error = %e, pause_ms = pause.as_millis() as u64, "provider call failed; trying again");
            })
            .await
    }

    async fn once(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<Answer, ProviderFailure> {
        let url = format!("{}/{path}", self.config.base_url.trim_end_matches('/'));
        let response = self
            .http
            .request(method, &url)
            .header("X-Api-Key", self.config.api_key.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = response.status();
        let bytes = self.read_capped(response).await?;
        interpret(status, &bytes)
    }

    /// Reads the body chunk by chunk, refusing it as soon as it passes the cap.
    async fn read_capped(
        &self,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, ProviderFailure> {
        let cap = self.config.max_response_bytes;
        if response.content_length().is_some_and(|n| n > cap) {
            return Err(ProviderFailure::TooLarge(cap));
        }
        let mut out = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(e))? {
            if (out.len() + chunk.len()) as u64 > cap {
                return Err(ProviderFailure::TooLarge(cap));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    fn transport(&self, e: reqwest::Error) -> ProviderFailure {
        if e.is_timeout() {
            ProviderFailure::Timeout(Duration::from_secs(self.config.timeout_secs))
        } else {
            ProviderFailure::Unreachable(e.to_string())
        }
    }
}

/// The body is parsed whatever the status: the API sends its error shape with 4xx and 5xx.
fn interpret(status: StatusCode, bytes: &[u8]) -> Result<Answer, ProviderFailure> {
    let parsed = serde_json::from_slice::<Answer>(bytes);
    match parsed {
        Ok(answer) if answer.error.is_some() || answer.success == Some(false) => {
            let error = answer.error.unwrap_or_default();
            Err(ProviderFailure::Api {
                status: error.status.unwrap_or(status.as_u16()),
                code: error.code_text(),
                message: error.message,
            })
        }
        Ok(answer) if status.is_success() => Ok(answer),
        Ok(_) => Err(ProviderFailure::Http(status.as_u16())),
        Err(_) if !status.is_success() => Err(ProviderFailure::Http(status.as_u16())),
        Err(e) => Err(ProviderFailure::Malformed(e.to_string())),
    }
}

#[cfg(test)]
mod proptests;
