//! From a parsed zone to card fields: the value of each field in the card's vocabulary (ISO
//! dates, codes without fillers) and its confidence, which combines the OCR confidence of the
//! field's characters with what its check digit says. A field whose check digit fails is
//! low-confidence whatever OCR says, and so is one a check-digit-guided repair changed (the
//! reviewer sees the guess).

use idreview_protocol::{BoundingBox, Candidate, Field, FieldSource, Side};
use mrz::{Format, MrzData, MrzDate, Sex};

use super::repair::ZoneText;

/// Where a field sits in its zone: row, first column, end column (exclusive).
type Span = (usize, usize, usize);

/// What the check digit said about a field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    Passed,
    Failed,
    /// The format prints no check digit over this field.
    None,
}

impl From<Option<bool>> for Check {
    fn from(v: Option<bool>) -> Self {
        match v {
            Some(true) => Check::Passed,
            Some(false) => Check::Failed,
            None => Check::None,
        }
    }
}

/// One extracted field before it becomes a card [`Field`].
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    pub name: &'static str,
    pub value: String,
    pub confidence: f32,
    pub check: Check,
    /// Where the field is printed, in pixels of the input image.
    pub bbox: Option<BoundingBox>,
}

fn spans(format: &Format) -> [(&'static str, Option<Span>); 9] {
    let long = |w: usize| {
        [
            ("surname", Some((0, 5, w))),
            ("given_names", Some((0, 5, w))),
            ("document_number", Some((1, 0, 10))),
            ("nationality", Some((1, 10, 13))),
            ("issuing_state", Some((0, 2, 5))),
            ("birth_date", Some((1, 13, 20))),
            ("expiry_date", Some((1, 21, 28))),
            ("sex", Some((1, 20, 21))),
            ("personal_number", Some((1, 28, w - 1))),
        ]
    };
    match format {
        Format::Td1 => [
            ("surname", Some((2, 0, 30))),
            ("given_names", Some((2, 0, 30))),
            ("document_number", Some((0, 5, 15))),
            ("nationality", Some((1, 15, 18))),
            ("issuing_state", Some((0, 2, 5))),
            ("birth_date", Some((1, 0, 7))),
            ("expiry_date", Some((1, 8, 15))),
            ("sex", Some((1, 7, 8))),
            ("personal_number", Some((0, 15, 30))),
        ],
        Format::Td2 | Format::MrvB => long(36),
        _ => long(44),
    }
}

fn date(d: &MrzDate) -> String {
    match d.calendar() {
        Some(c) => format!("{:04}-{:02}-{:02}", c.year, c.month, c.day),
        None => d.to_string(),
    }
}

/// OCR confidence over a span: the mean pulled down towards the weakest character, ignoring
/// trailing fillers (a name field is mostly filler).
fn ocr_confidence(zone: &ZoneText, span: Option<Span>) -> f32 {
    let Some((row, from, to)) = span else {
        return 0.5;
    };
    let (Some(text), Some(conf)) = (zone.lines.get(row), zone.confidences.get(row)) else {
        return 0.5;
    };
    let chars: Vec<char> = text.chars().collect();
    let mut end = to.min(chars.len());
    while end > from + 1 && chars[end - 1] == '<' {
        end -= 1;
    }
    let values = conf.get(from..end).unwrap_or_default();
    if values.is_empty() {
        return 0.5;
    }
    let mean = values.iter().sum::<f32>() / values.len() as f32;
    let min = values.iter().copied().fold(1.0, f32::min);
    0.5 * mean + 0.5 * min
}

/// Confidence from OCR and the check digit: a passed digit vouches for the read; a failed one
/// caps it low.
pub fn combine(ocr: f32, check: Check, repaired: bool) -> f32 {
    let c = match check {
        Check::Passed => 0.85 + 0.15 * ocr,
        Check::Failed => 0.25 * ocr,
        Check::None => ocr,
    };
    if repaired { c.min(0.6) } else { c }
}

/// The card fields read from a parsed zone; `locate` turns a span of cells into a box in the
/// input image.
pub fn extract(
    doc: &MrzData,
    zone: &ZoneText,
    locate: &dyn Fn(usize, usize, usize) -> Option<BoundingBox>,
) -> Vec<Extracted> {
    let checks = &doc.checks;
    let composite = Check::from(checks.composite);
    let strip = |s: &str| s.trim_end_matches('<').replace('<', " ").trim().to_string();
    let code_conf = |code: &str, ocr: f32| {
        if mrz::country_name(code).is_some() {
            0.5 + 0.5 * ocr
        } else {
            0.4 * ocr
        }
    };
    let sex = match doc.sex {
        Sex::Male => "M".to_string(),
        Sex::Female => "F".to_string(),
        Sex::Unspecified => "X".to_string(),
        ref other => other.to_string(),
    };
    let personal = doc.optional_data_1.clone().unwrap_or_default();
    let personal_check = match doc.format {
        Format::Td3 => Check::from(checks.personal_number),
        Format::Td1 | Format::Td2 => composite,
        _ => Check::None,
    };
    let number = doc
        .document_number_full
        .clone()
        .unwrap_or_else(|| doc.document_number.clone());
    let mut out = Vec::new();
    for (name, span) in spans(&doc.format) {
        let ocr = ocr_confidence(zone, span);
        // A repaired field, or one the check digits cannot vouch for cell by cell.
        let repaired = span.is_some_and(|(row, from, to)| {
            zone.repaired
                .iter()
                .chain(&zone.doubtful)
                .any(|&(r, c)| r == row && (from..to).contains(&c))
        });
        let (value, check, confidence) = match name {
            "surname" => (doc.surname.clone(), Check::None, ocr),
            "given_names" => (doc.given_names.clone(), Check::None, ocr),
            "document_number" => {
                let c = Check::from(checks.document_number);
                (strip(&number), c, combine(ocr, c, repaired))
            }
            "nationality" => (
                strip(&doc.nationality),
                Check::None,
                code_conf(&doc.nationality, ocr),
            ),
            "issuing_state" => (
                strip(&doc.issuing_country),
                Check::None,
                code_conf(&doc.issuing_country, ocr),
            ),
            "birth_date" => {
                let c = Check::from(checks.date_of_birth);
                (date(&doc.date_of_birth), c, combine(ocr, c, false))
            }
            "expiry_date" => {
                let c = Check::from(checks.date_of_expiry);
                (date(&doc.date_of_expiry), c, combine(ocr, c, false))
            }
            "sex" => {
                let known = matches!(doc.sex, Sex::Male | Sex::Female | Sex::Unspecified);
                (
                    sex.clone(),
                    Check::None,
                    if known { ocr } else { 0.2 * ocr },
                )
            }
            _ => {
                if personal.is_empty() {
                    continue;
                }
                (
                    strip(&personal),
                    personal_check,
                    combine(ocr, personal_check, repaired),
                )
            }
        };
        let confidence = if doc.damaged_recovery {
            confidence.min(0.6)
        } else {
            confidence
        };
        out.push(Extracted {
            name,
            value,
            confidence: (confidence * 1000.0).round() / 1000.0,
            check,
            bbox: span.and_then(|(row, from, to)| locate(row, from, to)),
        });
    }
    out
}

/// Card fields from extracted values, read from `side`.
pub fn to_card_fields(extracted: &[Extracted], side: Side) -> Vec<Field> {
    extracted
        .iter()
        .map(|e| Field {
            name: e.name.to_string(),
            value: e.value.clone(),
            confidence: e.confidence,
            source: FieldSource::Mrz,
            side,
            bbox: e.bbox,
            candidates: vec![Candidate {
                value: e.value.clone(),
                confidence: e.confidence,
                source: FieldSource::Mrz,
                side,
                bbox: e.bbox,
            }],
        })
        .collect()
}
