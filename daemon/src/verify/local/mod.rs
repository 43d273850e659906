//! The `local` provider: reads the machine-readable zone on this machine, no account needed.
//! Owns the provider's settings, its start-up check, the bounded pool OCR runs in, and the
//! verdict; the read of one image (detect -> OCR -> repair -> fields) is in `read` and the
//! steps in the other submodules.

mod detect;
pub mod eval;
mod fields;
mod glyph;
mod grid;
mod layout;
mod ocr;
#[cfg(test)]
mod properties;
mod read;
mod recheck;
pub mod render;
mod repair;
mod settle;
#[cfg(test)]
mod synthetic;
mod template;

use std::path::PathBuf;
use std::sync::Arc;

use idreview_protocol::{ProviderVerdict, ProviderWarning, Severity, Side};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tracing::{instrument, warn};

pub use fields::{Check, Extracted};
pub use ocr::Tesseract;
pub use repair::ZoneText;

use super::{Documents, Verification};

/// `[verification.local]`: how the local provider runs Tesseract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalConfig {
    /// Tesseract program, a name on `PATH` or a path.
    pub tesseract: String,
    /// Tesseract language/model (`-l`); `eng` ships with Debian's `tesseract-ocr-eng`.
    pub language: String,
    /// Folder holding `<language>.traineddata` when it is not in Tesseract's own.
    pub tessdata_dir: Option<PathBuf>,
    /// Documents read at once; 0: one per core.
    pub workers: usize,
    /// Longest one Tesseract call may take; a call past it is killed and the read fails.
    pub timeout_secs: u64,
}

impl Default for LocalConfig {
    fn default() -> Self {
        LocalConfig {
            tesseract: "tesseract".into(),
            language: "eng".into(),
            tessdata_dir: None,
            workers: 0,
            timeout_secs: 30,
        }
    }
}

/// Why the local provider could not start or read an image.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(
        "the local verification provider needs Tesseract, but {program:?} cannot be run ({source}); \
         install the Debian package `tesseract-ocr` (and `tesseract-ocr-eng`), set \
         [verification.local] tesseract, or use provider = \"manual\""
    )]
    Missing {
        program: String,
        source: std::io::Error,
    },
    #[error(
        "Tesseract has no language {language:?} (installed: {installed}); install \
         `tesseract-ocr-{language}` or set [verification.local] language"
    )]
    Language { language: String, installed: String },
    #[error("tesseract took longer than {0:?} and was stopped")]
    Timeout(std::time::Duration),
    #[error("tesseract failed: {0}")]
    Failed(String),
    #[error("tesseract: no stdin pipe")]
    Pipe,
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
    pub seconds: f64,
}

impl Reading {
    /// Every check digit the format prints passed, without a damaged-capture guess.
    pub fn all_checks_pass(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.1) && !self.damaged_recovery
    }

    /// How good a reading is, to pick between orientations and zones.
    fn score(&self) -> i32 {
        let passed = self.checks.iter().filter(|c| c.1).count() as i32;
        let failed = self.checks.len() as i32 - passed;
        i32::from(self.mrz.is_some()) * 2 + passed * 3 - failed + i32::from(self.zone.is_some())
    }
}

/// The local provider: a cheap clonable handle.
#[derive(Debug, Clone)]
pub struct LocalVerifier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tesseract: Tesseract,
    /// Bounds the documents read at once to the cores, so OCR never starves the blocking pool
    /// (or the RPC server) of threads.
    permits: Semaphore,
}

impl LocalVerifier {
    /// Checks that Tesseract runs and has the configured language.
    pub fn new(config: &LocalConfig) -> Result<LocalVerifier, LocalError> {
        let tesseract = Tesseract {
            program: config.tesseract.clone(),
            language: config.language.clone(),
            tessdata_dir: config.tessdata_dir.clone(),
            timeout: std::time::Duration::from_secs(config.timeout_secs.max(1)),
        };
        let version = tesseract.probe()?;
        let workers = match config.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        tracing::info!(%version, language = %config.language, workers, "local MRZ reader ready");
        Ok(LocalVerifier {
            inner: Arc::new(Inner {
                tesseract,
                permits: Semaphore::new(workers),
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
    fn a_missing_tesseract_is_a_clear_start_up_error() {
        let config = LocalConfig {
            tesseract: "/nonexistent/tesseract".into(),
            ..LocalConfig::default()
        };
        let err = LocalVerifier::new(&config).expect_err("no such program");
        assert!(matches!(err, LocalError::Missing { .. }), "{err:?}");
        assert!(err.to_string().contains("tesseract-ocr"), "{err}");
        let config = LocalConfig {
            language: "klingon".into(),
            ..LocalConfig::default()
        };
        let err = LocalVerifier::new(&config).expect_err("no such language");
        assert!(err.to_string().contains("tesseract-ocr-klingon"), "{err}");
    }

    #[test]
    fn a_hung_tesseract_is_stopped_at_the_deadline() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let program = dir.path().join("tesseract");
        // Answers the start-up probe, then hangs on every read.
        std::fs::write(
            &program,
            "#!/bin/sh\ncase \"$*\" in\n*--list-langs*) echo 'List of available languages (1):'; \
             echo eng; exit 0;;\n*--version*) echo 'tesseract 5.3.0'; exit 0;;\nesac\n\
             exec sleep 120\n",
        )
        .expect("script");
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let config = LocalConfig {
            tesseract: program.display().to_string(),
            timeout_secs: 1,
            ..LocalConfig::default()
        };
        // A script just written can be briefly "busy" while another test thread forks.
        let reader = (0..20)
            .find_map(|_| {
                LocalVerifier::new(&config).ok().or_else(|| {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    None
                })
            })
            .expect("the fake tesseract starts");
        let mut png = Vec::new();
        image::GrayImage::from_pixel(200, 100, image::Luma([255]))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("png");
        let err = reader.read(&png).expect_err("the call hangs");
        assert!(matches!(err, LocalError::Timeout(_)), "{err:?}");
    }
}
