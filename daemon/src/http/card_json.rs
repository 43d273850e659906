//! A card as the seed's clients read it (the contract's card object), built from the domain's
//! card through the seed view. Keys beyond the seed's (`idreview_status`, `version`) carry what
//! idreview knows besides.

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use chrono::{DateTime, NaiveDate, Utc};
use idreview_protocol::{Card, FileRole};
use serde::Serialize;
use utoipa::ToSchema;

use super::HttpState;
use crate::seed::{names, view};
use crate::store::people::Person;

/// The user a card belongs to, as the seed's clients know a user.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeedUser {
    pub id: u64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// One OCR value with its confidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct OcrValue {
    pub value: String,
    pub confidence: f64,
}

/// The contract's card.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeedCard {
    pub id: u64,
    pub user: SeedUser,
    #[schema(schema_with = super::openapi::document_type_choices)]
    pub document_type: &'static str,
    pub country: String,
    pub front_image: Option<String>,
    pub back_image: Option<String>,
    pub selfie_video: Option<String>,
    pub ocr_data: BTreeMap<&'static str, OcrValue>,
    pub confirmed_data: BTreeMap<&'static str, String>,
    pub first_name: String,
    pub last_name: String,
    pub document_number: String,
    pub nationality: String,
    pub date_of_birth: Option<String>,
    pub expiry_date: Option<String>,
    #[schema(schema_with = super::openapi::status_choices)]
    pub status: &'static str,
    pub verified: bool,
    #[schema(schema_with = super::openapi::decision_choices)]
    pub decision: &'static str,
    pub decision_reason: String,
    pub reviewed_by: Option<u64>,
    pub reviewed_at: Option<String>,
    pub confidence: Option<f64>,
    pub card_confidence: Option<f64>,
    pub low_confidence_fields: Vec<&'static str>,
    pub created_at: String,
    pub updated_at: String,
    /// idreview's own status (`needs_review`, `auto_verified`, ...).
    pub idreview_status: &'static str,
    /// Bumped on every change.
    pub version: u64,
}

/// A time as DRF writes it: microseconds and `Z`.
pub fn datetime(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The URL clients reach the API at: `[http] public_url`, else the listener's scheme + the
/// Host header.
pub fn base_url(state: &HttpState, headers: &HeaderMap) -> String {
    let public = state.config.http.public_url.trim().trim_end_matches('/');
    if !public.is_empty() {
        return public.to_string();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("{}://{host}", state.scheme)
}

/// Renders `card` for a client that reached the API at `base`.
pub fn render(state: &HttpState, base: &str, card: &Card) -> Result<SeedCard, super::ApiError> {
    let store = &state.store;
    let value = |ocr: &str| names::field(card, ocr).map(|f| f.value.clone());
    let date = |ocr: &str| {
        value(ocr)
            .and_then(|v| NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok())
            .map(|d| d.to_string())
    };
    let file = |role: FileRole| {
        card.files
            .iter()
            .any(|f| f.role == role)
            .then(|| format!("{base}/api/ocr/files/{}/{}/", card.id, role.as_str()))
    };
    let ocr_data: BTreeMap<&'static str, OcrValue> = names::ocr_fields(card)
        .map(|(name, f)| {
            let v = OcrValue {
                value: f.value.clone(),
                confidence: view::decimal(f.confidence),
            };
            (name, v)
        })
        .collect();
    let confirmed_data = if card.confirmed {
        names::ocr_fields(card)
            .map(|(name, f)| (name, f.value.clone()))
            .collect()
    } else {
        BTreeMap::new()
    };
    let reviewed_by = match &card.decision {
        Some(d) => Some(store.person(Person::Actor, &d.by)?),
        None => None,
    };
    let confidence = view::mean_confidence(card);
    Ok(SeedCard {
        id: card.id.0,
        user: SeedUser {
            id: store.person(Person::User, &card.user_id)?,
            username: card.user_id.clone(),
            email: String::new(),
            first_name: String::new(),
            last_name: String::new(),
        },
        document_type: card.document_type.as_str(),
        country: card.country.clone().unwrap_or_default(),
        front_image: file(FileRole::Front),
        back_image: file(FileRole::Back),
        selfie_video: file(FileRole::Selfie),
        ocr_data,
        confirmed_data,
        first_name: value("firstName").unwrap_or_default(),
        last_name: value("lastName").unwrap_or_default(),
        document_number: value("documentNumber").unwrap_or_default(),
        nationality: value("nationality").unwrap_or_default(),
        date_of_birth: date("dateOfBirth"),
        expiry_date: date("dateOfExpiry"),
        status: view::status(card).as_str(),
        verified: view::verified(card),
        decision: view::decision(card).as_str(),
        decision_reason: card
            .decision
            .as_ref()
            .map(|d| d.reason.clone())
            .unwrap_or_default(),
        reviewed_by,
        reviewed_at: card.decision.as_ref().map(|d| datetime(d.at)),
        confidence,
        card_confidence: confidence,
        low_confidence_fields: view::low_confidence_fields(
            card,
            state.config.verification.confidence_threshold,
        ),
        created_at: datetime(card.created_at),
        updated_at: datetime(card.updated_at),
        idreview_status: card.status.as_str(),
        version: card.version,
    })
}
