//! The `local` provider: reads the machine-readable zone on this machine, no account needed.
//! Owns the provider's settings, its start-up check, the bounded pool OCR runs in, and the
//! verdict; the read of one image (detect -> OCR -> repair -> fields) is in `read` and the
//! steps in the other submodules.

mod confusion;
mod degrade;
mod detect;
mod engines;
pub mod eval;
mod fields;
mod glyph;
mod grid;
mod kind;
mod layout;
mod ocr;
pub mod plot;
#[cfg(test)]
mod properties;
mod read;
mod recheck;
pub mod render;
mod repair;
mod runs;
mod settle;
mod shrink;
pub mod stress;
#[cfg(test)]
mod synthetic;
mod template;
#[cfg(test)]
mod vouch;

use std::path::PathBuf;
use std::sync::Arc;

use idreview_protocol::{ProviderVerdict, ProviderWarning, Severity, Side};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tracing::{instrument, warn};

pub use fields::{Check, Extracted};
pub use read::Timings;
pub use repair::ZoneText;

use super::{Documents, Verification};

/// `[verification.local]`: how the local provider runs Tesseract (linked in, one warm engine
/// per worker).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalConfig {
    /// Tesseract language/model; `eng` ships with Debian's `tesseract-ocr-eng`.
    pub language: String,
    /// Folder holding `<language>.traineddata` when it is not in Tesseract's own.
    pub tessdata_dir: Option<PathBuf>,
    /// Documents read at once; 0: one per core.
    pub workers: usize,
    /// Longest one Tesseract recognition may take; past it the call is abandoned (its engine
    /// retired) and the read fails.
    pub timeout_secs: u64,
    /// Time one image's read may spend trying more ways to read its zone before it answers
    /// with the best reading so far.
    pub read_budget_ms: u64,
    /// No longer used (Tesseract is linked in, not run as a program); still accepted so that
    /// configuration files written for earlier versions keep loading. Never serialised.
    #[serde(default, skip_serializing)]
    pub tesseract: Option<String>,
}

impl Default for LocalConfig {
    fn default() -> Self {
        LocalConfig {
            language: "eng".into(),
            tessdata_dir: None,
            workers: 0,
            timeout_secs: 30,
            read_budget_ms: 800,
            tesseract: None,
        }
    }
}

/// Why the local provider could not start or read an image.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(
        "Tesseract has no language {language:?} (installed: {installed}); install \
         `tesseract-ocr-{language}`, set [verification.local] language / tessdata_dir, or use \
         provider = \"manual\""
    )]
    Language { language: String, installed: String },
    #[error("tesseract took longer than {0:?}; the call was abandoned")]
    Timeout(std::time::Duration),
    #[error("tesseract failed: {0}")]
    Failed(String),
    #[error("tesseract i/o: {0}")]
    Io(std::io::Error),
    #[error("cannot decode the image: {0}")]
    Decode(#[from] image::ImageError),
    #[error("the OCR pool is closed")]
    Closed,
}

/// What the provider made of one image.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    /// The zone text as read and cleaned, before the `mrz` crate's repair.
    pub zone: Option<ZoneText>,
    /// The zone as parsed (after check-digit-guided repair), newline-joined.
    pub mrz: Option<String>,
    /// The `mrz` crate's format name, e.g. `Td3`.
    pub format: Option<String>,
    pub fields: Vec<Extracted>,
    /// Check digits: (name, passed), for those the format prints.
    pub checks: Vec<(&'static str, bool)>,
    /// The parse needed the damaged-capture search: a guess the check digits cannot vouch for.
    pub damaged_recovery: bool,
    /// Tesseract calls made.
    pub ocr_calls: usize,
    /// Wall time of the whole read.
    pub seconds: f64,
    /// Where that time went.
    pub timings: Timings,
}

impl Reading {
    /// Every check digit the format prints passed, without a damaged-capture guess.
    pub fn all_checks_pass(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.1) && !self.damaged_recovery
    }

    /// Whether a check-digit-guided repair swapped single cells of the zone as read.
    pub fn repaired(&self) -> bool {
        self.zone.as_ref().is_some_and(|z| z.guessed)
    }

    /// How good a reading is, to pick between orientations, zones, views and scales: one that
    /// needed no repair beats an equal one that did.
    fn score(&self) -> i32 {
        let passed = self.checks.iter().filter(|c| c.1).count() as i32;
        let failed = self.checks.len() as i32 - passed;
        (i32::from(self.mrz.is_some()) * 2 + passed * 3 - failed + i32::from(self.zone.is_some()))
            * 2
            - i32::from(self.repaired())
    }
}

/// The local provider: a cheap clonable handle.
#[derive(Debug, Clone)]
pub struct LocalVerifier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The warm Tesseracts, one per document being read.
    engines: engines::Engines,
    /// Bounds the documents read at once to the cores, so OCR never starves the blocking pool
    /// (or the RPC server) of threads.
    permits: Semaphore,
    /// [`LocalConfig::read_budget_ms`].
    budget_ms: u64,
}

/// Tesseract's version and that it loads `config`'s language: the start-up check (and the
/// doctor's).
pub fn probe(config: &LocalConfig) -> Result<String, LocalError> {
    ocr::Engine::new(&config.language, config.tessdata_dir.as_deref())?;
    Ok(ocr::version())
}

impl LocalVerifier {
    /// Loads Tesseract with the configured language (a missing model is an error here, not at
    /// the first read) and renders the OCR-B templates.
    pub fn new(config: &LocalConfig) -> Result<LocalVerifier, LocalError> {
        if let Some(program) = &config.tesseract {
            tracing::warn!(%program, "[verification.local] tesseract is no longer used (Tesseract is linked in); remove it");
        }
        let engines = engines::Engines::new(engines::EngineConfig {
            language: config.language.clone(),
            tessdata_dir: config.tessdata_dir.clone(),
            timeout: std::time::Duration::from_secs(config.timeout_secs.max(1)),
        })?;
        let workers = match config.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        // Rendered once per process; here, so the first document does not pay for it.
        let templates = template::templates().is_some();
        tracing::info!(
            version = %ocr::version(),
            language = %config.language,
            workers,
            templates,
            "local MRZ reader ready"
        );
        Ok(LocalVerifier {
            inner: Arc::new(Inner {
                engines,
                permits: Semaphore::new(workers),
                budget_ms: config.read_budget_ms.max(1),
            }),
        })
    }

    /// Reads the card's images in the bounded pool: the back first for cards (where ID cards
    /// print their zone), the front for passports; keeps the better reading.
    #[instrument(skip(self, images))]
    pub async fn verify(&self, images: &Documents) -> Verification {
        let mut sides: Vec<(Side, Vec<u8>)> = Vec::new();
        if let Some(back) = &images.back {
            sides.push((Side::Back, back.clone()));
        }
        if let Some(front) = &images.front {
            sides.push((Side::Front, front.clone()));
        }
        let mut best: Option<(Side, Reading)> = None;
        let mut failure = None;
        for (side, bytes) in sides {
            let result = match self.inner.permits.acquire().await {
                Ok(_permit) => {
                    let me = self.clone();
                    tokio::task::spawn_blocking(move || me.read(&bytes))
                        .await
                        .unwrap_or_else(|e| Err(LocalError::Failed(e.to_string())))
                }
                Err(_) => Err(LocalError::Closed),
            };
            match result {
                Ok(reading) => {
                    let better = best
                        .as_ref()
                        .is_none_or(|(_, b)| reading.score() > b.score());
                    let done = reading.all_checks_pass();
                    if better {
                        best = Some((side, reading));
                    }
                    if done {
                        break;
                    }
                }
                Err(e) => {
                    warn!(error = %e, side = %side, "local MRZ read failed");
                    failure = Some(e.to_string());
                }
            }
        }
        verdict(best, failure)
    }
}

fn verdict(best: Option<(Side, Reading)>, failure: Option<String>) -> Verification {
    let mut warnings = Vec::new();
    let (side, reading) = best.unwrap_or((Side::Front, Reading::default()));
    if reading.mrz.is_none() {
        warnings.push(ProviderWarning {
            code: "mrz_not_found".into(),
            description: "no machine-readable zone could be read".into(),
            severity: Severity::Warning,
            confidence: 1.0,
        });
    }
    for (name, passed) in &reading.checks {
        if !passed {
            warnings.push(ProviderWarning {
                code: "mrz_check_digit".into(),
                description: format!("the {name} check digit does not match"),
                severity: Severity::Warning,
                confidence: 1.0,
            });
        }
    }
    if reading.damaged_recovery {
        warnings.push(ProviderWarning {
            code: "mrz_repaired".into(),
            description: "the zone only parsed after guessing a damaged character".into(),
            severity: Severity::Info,
            confidence: 0.5,
        });
    }
    let accept = reading.all_checks_pass() && failure.is_none();
    Verification {
        raw_zone: reading.zone.as_ref().map(|z| z.raw(side)),
        fields: fields::to_card_fields(&reading.fields, side),
        verdict: ProviderVerdict {
            provider: "local".into(),
            decision: if accept { "accept" } else { "review" }.into(),
            warnings,
            transaction_id: None,
            failure: if reading.mrz.is_none() { failure } else { None },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_carries_the_zone_as_read_for_reviewers() {
        let zone = ZoneText {
            lines: vec!["P<D".into(), "C01".into()],
            confidences: vec![vec![0.9, 0.8, 0.7], vec![0.5, 0.6, 0.4]],
            repaired: vec![(1, 2)],
            ..ZoneText::default()
        };
        let reading = Reading {
            zone: Some(zone),
            ..Reading::default()
        };
        let raw = verdict(Some((Side::Back, reading)), None)
            .raw_zone
            .expect("the zone");
        assert_eq!(raw.side, Side::Back);
        assert_eq!(raw.rows.len(), 2);
        assert_eq!(raw.rows[1].text, "C01");
        assert_eq!(raw.rows[1].confidences, vec![0.5, 0.6, 0.4]);
        assert_eq!(raw.repaired, vec![(1, 2)]);
        let nothing = verdict(None, Some("tesseract failed".into()));
        assert!(nothing.raw_zone.is_none(), "no zone read, none kept");
    }

    #[test]
    fn a_missing_language_is_a_clear_start_up_error() {
        let config = LocalConfig {
            language: "klingon".into(),
            ..LocalConfig::default()
        };
        let err = LocalVerifier::new(&config).expect_err("no such language");
        assert!(matches!(err, LocalError::Language { .. }), "{err:?}");
        assert!(err.to_string().contains("tesseract-ocr-klingon"), "{err}");
        assert!(
            err.to_string().contains("eng"),
            "names what is installed: {err}"
        );
        assert!(probe(&LocalConfig::default()).is_ok());
    }
}
