//! `idreviewd read-mrz IMAGE...`: the local provider on any image, outside the pipeline: the
//! zone as read, every field with its confidence and check digit, the check digits, and the
//! time taken; as text or one JSON object per image.

use std::io::Write;
use std::path::PathBuf;

use crate::verify::local::{LocalError, LocalVerifier};

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadMrzError {
    #[error("reading {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading the MRZ of {path}: {source}")]
    Mrz { path: PathBuf, source: LocalError },
    #[error("writing the answer: {0}")]
    Output(#[from] std::io::Error),
}

/// Reads each image and writes what it found to `out`.
pub fn run(
    reader: &LocalVerifier,
    images: &[PathBuf],
    json: bool,
    out: &mut impl Write,
) -> Result<(), ReadMrzError> {
    for path in images {
        let bytes = std::fs::read(path).map_err(|source| ReadMrzError::File {
            path: path.clone(),
            source,
        })?;
        let reading = reader.read(&bytes).map_err(|source| ReadMrzError::Mrz {
            path: path.clone(),
            source,
        })?;
        if json {
            let fields: serde_json::Map<String, serde_json::Value> = reading
                .fields
                .iter()
                .map(|f| {
                    (
                        f.name.to_string(),
                        serde_json::json!({
                            "value": f.value,
                            "confidence": f.confidence,
                            "check_digit": format!("{:?}", f.check).to_lowercase(),
                        }),
                    )
                })
                .collect();
            let checks: serde_json::Map<String, serde_json::Value> = reading
                .checks
                .iter()
                .map(|(name, ok)| (name.to_string(), serde_json::Value::Bool(*ok)))
                .collect();
            let json = serde_json::json!({
                "image": path.display().to_string(),
                "format": reading.format,
                "mrz": reading.mrz.as_ref().map(|m| m.lines().collect::<Vec<_>>()),
                "ocr": reading.zone.as_ref().map(|z| z.lines.clone()),
                "fields": fields,
                "check_digits": checks,
                "all_check_digits_pass": reading.all_checks_pass(),
                "damaged_recovery": reading.damaged_recovery,
                "seconds": reading.seconds,
            });
            writeln!(out, "{json}")?;
        } else {
            writeln!(out, "{}", path.display())?;
            match &reading.mrz {
                Some(mrz) => {
                    writeln!(out, "  format {}", reading.format.as_deref().unwrap_or("?"))?;
                    for line in mrz.lines() {
                        writeln!(out, "  {line}")?;
                    }
                }
                None => writeln!(out, "  no machine-readable zone found")?,
            }
            for f in &reading.fields {
                writeln!(
                    out,
                    "  {:<16} {:<24} confidence {:.2}  check digit {:?}",
                    f.name, f.value, f.confidence, f.check
                )?;
            }
            for (name, ok) in &reading.checks {
                writeln!(
                    out,
                    "  check {:<16} {}",
                    name,
                    if *ok { "pass" } else { "FAIL" }
                )?;
            }
            writeln!(out, "  {:.2} s", reading.seconds)?;
        }
    }
    Ok(())
}
