//! `idreviewd read-mrz IMAGE...`: the local provider on any image, outside the pipeline: the
//! zone as read, every field with its confidence and check digit, the check digits, and the
//! time taken; as text or one JSON object per image.

use std::io::Write;
use std::path::PathBuf;

use crate::verify::local::{Check, LocalError, LocalVerifier};

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
                            "confidence": rounded(f.confidence),
                            "check_digit": check_name(&f.check),
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
                "format": reading.format.as_deref().map(format_name),
                "mrz": reading.mrz.as_ref().map(|m| m.lines().collect::<Vec<_>>()),
                "ocr": reading.zone.as_ref().map(|z| z.lines.clone()),
                "fields": fields,
                "check_digits": checks,
                "all_check_digits_pass": reading.all_checks_pass(),
                "damaged_recovery": reading.damaged_recovery,
                "seconds": (reading.seconds * 1000.0).round() / 1000.0,
            });
            writeln!(out, "{json}")?;
        } else {
            writeln!(out, "{}", path.display())?;
            match &reading.mrz {
                Some(mrz) => {
                    let format = reading.format.as_deref().map(format_name);
                    writeln!(
                        out,
                        "  format {}",
                        format.unwrap_or_else(|| "unknown".into())
                    )?;
                    for line in mrz.lines() {
                        writeln!(out, "  {line}")?;
                    }
                }
                None => writeln!(out, "  no machine-readable zone found")?,
            }
            for f in &reading.fields {
                writeln!(
                    out,
                    "  {:<16} {:<24} confidence {:.2}  check digit {}",
                    f.name,
                    f.value,
                    f.confidence,
                    check_name(&f.check)
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

/// A confidence rounded to two places (no float noise in JSON).
fn rounded(confidence: f32) -> f64 {
    (f64::from(confidence) * 100.0).round() / 100.0
}

/// The `mrz` crate's format name in snake_case: `Td3` -> `td3`, `FrenchNationalId` ->
/// `french_national_id`.
fn format_name(name: &str) -> String {
    if name.contains('_') || !name.chars().any(|c| c.is_ascii_lowercase()) {
        return name.to_ascii_lowercase();
    }
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// What a field's check digit said: `passed`, `failed`, or `none` when the format prints none
/// over the field.
fn check_name(check: &Check) -> &'static str {
    match check {
        Check::Passed => "passed",
        Check::Failed => "failed",
        Check::None => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_snake_case_and_numbers_plain() {
        assert_eq!(format_name("Td3"), "td3");
        assert_eq!(format_name("Mrva"), "mrva");
        assert_eq!(format_name("FRENCH_NATIONAL_ID"), "french_national_id");
        assert_eq!(format_name("FrenchNationalId"), "french_national_id");
        assert_eq!(rounded(0.998), 1.0);
        assert_eq!(rounded(0.42), 0.42);
        assert_eq!(check_name(&Check::None), "none");
    }
}
