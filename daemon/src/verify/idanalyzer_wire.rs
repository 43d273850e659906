//! The ID Analyzer API v2 on the wire: the `/scan` request, its answer and the error shape, as
//! serde types, and their mapping onto our [`Field`]s and [`ProviderVerdict`]. Parsing is lenient
//! where the API is loose (a value or an error code may be a string or a number, a box may be
//! corners or points) and strict where it matters (a candidate needs a value).

use std::collections::BTreeMap;

use idreview_protocol::{
    BoundingBox, Candidate, Field, FieldSource, ProviderVerdict, ProviderWarning, Severity, Side,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The body of `POST /scan`; images are base64.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanRequest<'a> {
    pub profile: &'a str,
    pub document: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_back: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub face: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub face_video: Option<String>,
    /// Our card id, echoed back and shown in the provider's portal.
    pub custom_data: String,
    pub verify_age: &'a str,
}

/// The body of `PATCH /transaction/{id}`.
#[derive(Debug, Serialize)]
pub struct DecisionRequest<'a> {
    pub decision: &'a str,
}

/// Any answer: a scan result, a transaction update or an error.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Answer {
    pub success: Option<bool>,
    pub error: Option<ApiError>,
    /// Field name -> candidates. Kept as JSON so one odd entry does not spoil the rest.
    #[serde(deserialize_with = "null_as_default")]
    pub data: BTreeMap<String, Value>,
    #[serde(deserialize_with = "null_as_default")]
    pub warning: Vec<WireWarning>,
    pub review_score: Option<f64>,
    pub reject_score: Option<f64>,
    pub decision: Option<String>,
    pub transaction_id: Option<String>,
}

/// `{"status": 401, "code": "ERROR_UNAUTHORIZED" | 8, "message": "..."}`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ApiError {
    pub status: Option<u16>,
    pub code: Value,
    pub message: String,
}

impl ApiError {
    /// The code as text, whether the API sent a string or a number.
    pub fn code_text(&self) -> String {
        text(&self.code).unwrap_or_else(|| "unknown".into())
    }
}

/// One entry of `warning[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WireWarning {
    pub code: String,
    pub description: String,
    pub severity: String,
    pub confidence: f32,
    pub decision: String,
}

/// One candidate value of a field.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCandidate {
    value: Value,
    #[serde(default)]
    confidence: f32,
    #[serde(default)]
    source: String,
    #[serde(default)]
    index: u32,
    #[serde(default)]
    input_box: Value,
}

/// The API's field names mapped onto ours; others become snake_case.
const NAMES: &[(&str, &str)] = &[
    ("dob", "birth_date"),
    ("expiry", "expiry_date"),
    ("issued", "issue_date"),
    ("nationalityIso2", "nationality"),
    ("nationalityFull", "nationality_name"),
    ("countryIso2", "country"),
    ("countryFull", "country_name"),
    ("placeOfBirth", "birth_place"),
];

/// Our canonical snake_case name for an API field name.
pub fn canonical_name(api: &str) -> String {
    if let Some((_, ours)) = NAMES.iter().find(|(theirs, _)| *theirs == api) {
        return (*ours).to_string();
    }
    let mut out = String::with_capacity(api.len() + 4);
    for (i, c) in api.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl Answer {
    /// Every field with all its candidates, best first; the best is the field's value.
    pub fn fields(&self) -> Vec<Field> {
        self.data
            .iter()
            .filter_map(|(api_name, raw)| {
                let mut candidates: Vec<Candidate> = raw
                    .as_array()?
                    .iter()
                    .filter_map(|c| candidate(serde_json::from_value(c.clone()).ok()?))
                    .collect();
                candidates.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
                let best = candidates.first()?.clone();
                Some(Field {
                    name: canonical_name(api_name),
                    value: best.value,
                    confidence: best.confidence,
                    source: best.source,
                    side: best.side,
                    bbox: best.bbox,
                    candidates,
                })
            })
            .collect()
    }

    /// The provider's decision, warnings and transaction.
    pub fn verdict(&self) -> ProviderVerdict {
        let decision = match self.decision.as_deref().map(str::to_ascii_lowercase) {
            Some(d) if matches!(d.as_str(), "accept" | "review" | "reject") => d,
            _ => "review".into(),
        };
        ProviderVerdict {
            provider: "idanalyzer".into(),
            decision,
            warnings: self.warning.iter().map(warning).collect(),
            transaction_id: self.transaction_id.clone(),
            failure: None,
        }
    }
}

fn candidate(c: WireCandidate) -> Option<Candidate> {
    let value = normalize_date(&text(&c.value)?);
    Some(Candidate {
        value,
        confidence: if c.confidence.is_finite() {
            c.confidence.clamp(0.0, 1.0)
        } else {
            0.0
        },
        source: match c.source.to_ascii_lowercase().as_str() {
            "mrz" => FieldSource::Mrz,
            "barcode" => FieldSource::Barcode,
            _ => FieldSource::Visual,
        },
        side: if c.index == 1 {
            Side::Back
        } else {
            Side::Front
        },
        bbox: bounding_box(&c.input_box),
    })
}

fn warning(w: &WireWarning) -> ProviderWarning {
    let severity = match (
        w.severity.to_ascii_lowercase().as_str(),
        w.decision.as_str(),
    ) {
        (_, "reject") | ("high" | "error", _) => Severity::Error,
        ("medium" | "warning", _) | (_, "review") => Severity::Warning,
        _ => Severity::Info,
    };
    ProviderWarning {
        code: w.code.clone(),
        description: w.description.clone(),
        severity,
        confidence: w.confidence,
    }
}

/// `null` reads as the empty value, as an absent key does.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A JSON string or number as text.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `YYYY/MM/DD` -> `YYYY-MM-DD`; anything else unchanged.
pub fn normalize_date(value: &str) -> String {
    let b = value.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'/'
        && b[7] == b'/'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if shaped {
        value.replace('/', "-")
    } else {
        value.to_string()
    }
}

/// `[x1, y1, x2, y2]` or `[[x, y], ...]` corner points -> the enclosing rectangle.
fn bounding_box(v: &Value) -> Option<BoundingBox> {
    let items = v.as_array()?;
    let points: Vec<(f64, f64)> = if items.iter().all(Value::is_number) && items.len() == 4 {
        let n: Vec<f64> = items.iter().filter_map(Value::as_f64).collect();
        vec![(n[0], n[1]), (n[2], n[3])]
    } else {
        items
            .iter()
            .filter_map(|p| {
                let p = p.as_array()?;
                Some((p.first()?.as_f64()?, p.get(1)?.as_f64()?))
            })
            .collect()
    };
    let min_x = points.iter().map(|p| p.0).reduce(f64::min)?.max(0.0);
    let min_y = points.iter().map(|p| p.1).reduce(f64::min)?.max(0.0);
    let max_x = points.iter().map(|p| p.0).reduce(f64::max)?.max(min_x);
    let max_y = points.iter().map(|p| p.1).reduce(f64::max)?.max(min_y);
    Some(BoundingBox {
        x: min_x as u32,
        y: min_y as u32,
        width: (max_x - min_x) as u32,
        height: (max_y - min_y) as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_names_become_canonical_snake_case() {
        for (api, ours) in [
            ("firstName", "first_name"),
            ("lastName", "last_name"),
            ("fullName", "full_name"),
            ("dob", "birth_date"),
            ("expiry", "expiry_date"),
            ("issued", "issue_date"),
            ("documentNumber", "document_number"),
            ("personalNumber", "personal_number"),
            ("sex", "sex"),
            ("nationalityIso2", "nationality"),
            ("countryIso2", "country"),
            ("documentType", "document_type"),
            ("address1", "address1"),
        ] {
            assert_eq!(canonical_name(api), ours);
        }
    }

    #[test]
    fn slashed_dates_become_iso_and_nothing_else_changes() {
        assert_eq!(normalize_date("1990/05/17"), "1990-05-17");
        assert_eq!(normalize_date("1990-05-17"), "1990-05-17");
        assert_eq!(normalize_date("A/B/C"), "A/B/C");
        assert_eq!(normalize_date("12/05/1990"), "12/05/1990");
    }

    #[test]
    fn null_data_and_warnings_read_as_empty() {
        let answer: Answer =
            serde_json::from_str(r#"{"success": true, "data": null, "warning": null}"#)
                .expect("parses");
        assert!(answer.fields().is_empty());
        assert_eq!(
            answer.verdict().decision,
            "review",
            "no decision: a person looks"
        );
    }

    #[test]
    fn odd_entries_are_skipped_not_fatal() {
        let answer: Answer = serde_json::from_str(
            r#"{"data": {"sex": [{"value": "M", "confidence": 2.0}, {"confidence": 0.5}],
                "age": [{"value": 36, "confidence": 0.9, "source": "barcode", "index": 1}],
                "face": {"not": "an array"}},
                "decision": "ACCEPT", "warning": [{"code": "X", "severity": "low"}]}"#,
        )
        .expect("parses");
        let fields = answer.fields();
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, vec!["age", "sex"]);
        assert_eq!(fields[0].value, "36");
        assert_eq!(
            (fields[0].source, fields[0].side),
            (FieldSource::Barcode, Side::Back)
        );
        assert_eq!(fields[1].confidence, 1.0, "clamped");
        assert_eq!(fields[1].candidates.len(), 1);
        let verdict = answer.verdict();
        assert_eq!(verdict.decision, "accept");
        assert_eq!(verdict.warnings[0].severity, Severity::Info);
    }
}
