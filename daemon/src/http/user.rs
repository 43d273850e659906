//! The user endpoints: the onboarding stage, the user's own card, and the confirmation of its
//! data (corrections under the seed's OCR names, translated to ours; the card domain judges
//! them and refuses what cannot stand).

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use idreview_protocol::{CardId, CardRef, FieldCorrection};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::auth::Caller;
use super::card_json::{SeedCard, base_url, render};
use super::openapi::{ConfirmBody, Detail, FieldErrors};
use super::{ApiError, HttpState};
use crate::card::CardError;
use crate::seed::{names, view};

/// The onboarding stage of the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stage {
    /// `started`, `document_uploaded`, `ocr_review`, `confirmed` or `completed`.
    pub stage: &'static str,
}

/// `GET onboarding/stage/`.
#[utoipa::path(
    get,
    path = "/api/ocr/onboarding/stage/",
    responses(
        (status = 200, body = Stage),
        (status = 401, body = Detail),
        (status = 403, body = Detail),
    )
)]
pub async fn stage(
    State(state): State<HttpState>,
    caller: Caller,
) -> Result<Json<Stage>, ApiError> {
    let user = caller.user()?;
    let card = state.store.card_for_user(user)?;
    Ok(Json(Stage {
        stage: view::stage(card.as_ref()),
    }))
}

/// `GET id-cards/detail/`: the caller's newest card.
#[utoipa::path(
    get,
    path = "/api/ocr/id-cards/detail/",
    responses(
        (status = 200, body = SeedCard),
        (status = 401, body = Detail),
        (status = 404, description = "The user has no card", body = Detail),
    )
)]
pub async fn detail(
    State(state): State<HttpState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Json<SeedCard>, ApiError> {
    let user = caller.user()?;
    let card = state
        .store
        .card_for_user(user)?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(render(&state, &base_url(&state, &headers), &card)?))
}

/// `PUT id-cards/{id}/confirm/` with `{"fields": {OCR name: value}}` (optional).
#[utoipa::path(
    put,
    path = "/api/ocr/id-cards/{id}/confirm/",
    params(("id" = u64, Path, description = "The card's id")),
    request_body = ConfirmBody,
    responses(
        (status = 200, description = "The confirmed card", body = SeedCard),
        (status = 400, description = "`{\"fields\": {name: [...]}}`", body = FieldErrors),
        (status = 401, body = Detail),
        (status = 404, description = "Unknown id or another user's card", body = Detail),
    )
)]
pub async fn confirm(
    State(state): State<HttpState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<SeedCard>, ApiError> {
    let user = caller.user()?.to_string();
    let id: u64 = id.parse().map_err(|_| ApiError::not_found())?;
    let fields = parse_fields(&body)?;
    let card = state
        .store
        .get(CardId(id))?
        .filter(|c| c.user_id == user)
        .ok_or_else(ApiError::not_found)?;
    let mut unknown = BTreeMap::new();
    // Ours -> the seed's name the client sent, to key refusals by.
    let mut sent_as: BTreeMap<&str, String> = BTreeMap::new();
    let mut corrections = Vec::new();
    for (name, value) in &fields {
        match names::target(&card, name) {
            Some(ours) => {
                sent_as.insert(ours, name.clone());
                corrections.push(FieldCorrection {
                    name: ours.to_string(),
                    value: value.clone(),
                });
            }
            None => {
                unknown.insert(name.clone(), json!(["Unknown field."]));
            }
        }
    }
    if !unknown.is_empty() {
        return Err(fields_error(unknown));
    }
    let at = CardRef {
        id: card.id,
        expected_version: None,
    };
    let confirmed = state
        .cards
        .confirm(&caller.identity, at, &corrections)
        .await;
    match confirmed {
        Ok(card) => Ok(Json(render(&state, &base_url(&state, &headers), &card)?)),
        Err(CardError::Fields(refused)) => {
            let mut by_name: BTreeMap<String, Value> = BTreeMap::new();
            for (ours, why) in refused {
                let name = sent_as.get(ours.as_str()).cloned().unwrap_or(ours);
                let entry = by_name.entry(name).or_insert_with(|| json!([]));
                if let Value::Array(list) = entry {
                    list.push(Value::String(why));
                }
            }
            Err(fields_error(by_name))
        }
        Err(e) => Err(e.into()),
    }
}

/// `{"fields": {...}}` as a 400.
fn fields_error(by_name: BTreeMap<String, Value>) -> ApiError {
    let mut fields = BTreeMap::new();
    fields.insert(
        "fields".to_string(),
        Value::Object(by_name.into_iter().collect()),
    );
    ApiError::Fields(fields)
}

/// The request's `fields`: an object of strings; an empty body or no `fields` is none.
fn parse_fields(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::field("non_field_errors", format!("JSON parse error - {e}")))?;
    let Value::Object(mut top) = value else {
        return Err(ApiError::field(
            "non_field_errors",
            "Invalid data. Expected a dictionary.",
        ));
    };
    let fields = match top.remove("fields") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(fields)) => fields,
        Some(_) => {
            return Err(ApiError::field("fields", "Expected a dictionary of items."));
        }
    };
    let mut out = Vec::new();
    let mut bad = BTreeMap::new();
    for (name, value) in fields {
        match value {
            Value::String(s) => out.push((name, s)),
            Value::Number(n) => out.push((name, n.to_string())),
            _ => {
                bad.insert(name, json!(["Not a valid string."]));
            }
        }
    }
    if bad.is_empty() {
        Ok(out)
    } else {
        Err(fields_error(bad))
    }
}
