//! The admin endpoints: the card list (the seed's filters, search, ordering and page-number
//! pagination, answered from the seed view's index), one card, the low-confidence queue, and the
//! bulk decision (through the domain's `decide`, whose stricter rules stay: a decided card is
//! not decided again, a card another reviewer holds is skipped, a rejection needs a reason;
//! `updated` counts only what changed, and `results` says why per card).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use idreview_protocol::{CardId, CardRef, Decision};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::auth::Caller;
use super::card_json::{SeedCard, base_url, render};
use super::openapi::{BulkBody, Detail, FieldErrors, ListParams};
use super::params::{self, PAGE_SIZE};
use super::{ApiError, HttpState};
use crate::card::Approval;
use crate::seed::{SeedOrder, SeedQuery};
use crate::store::people::Person;

/// Most ids one bulk decision may name.
pub const MAX_BULK_IDS: usize = 1000;

/// A page of cards, DRF's `PageNumberPagination`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page {
    pub count: u64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<SeedCard>,
}

/// `GET admin/id-cards/`.
#[utoipa::path(
    get,
    path = "/api/ocr/admin/id-cards/",
    params(ListParams),
    responses(
        (status = 200, body = Page),
        (status = 400, description = "Keyed by the bad parameter", body = FieldErrors),
        (status = 401, body = Detail),
        (status = 403, body = Detail),
        (status = 404, description = "Invalid page.", body = Detail),
    )
)]
pub async fn list(
    State(state): State<HttpState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Json<Page>, ApiError> {
    caller.reviewer()?;
    let (query, page) = params::parse(&raw)?;
    answer_page(&state, &headers, &uri, query, page)
}

/// `GET admin/id-cards/low-confidence/`: unverified cards whose mean confidence is below the
/// threshold, worst first (the list's filters apply too).
#[utoipa::path(
    get,
    path = "/api/ocr/admin/id-cards/low-confidence/",
    params(ListParams),
    responses(
        (status = 200, body = Page),
        (status = 400, description = "Keyed by the bad parameter", body = FieldErrors),
        (status = 401, body = Detail),
        (status = 403, body = Detail),
        (status = 404, description = "Invalid page.", body = Detail),
    )
)]
pub async fn low_confidence(
    State(state): State<HttpState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Json<Page>, ApiError> {
    caller.reviewer()?;
    let (mut query, page) = params::parse(&raw)?;
    query.low_confidence = true;
    query.order = SeedOrder::Confidence;
    query.descending = false;
    answer_page(&state, &headers, &uri, query, page)
}

/// One page of `query`, with absolute links to its neighbours.
fn answer_page(
    state: &HttpState,
    headers: &HeaderMap,
    uri: &Uri,
    query: SeedQuery,
    page: usize,
) -> Result<Json<Page>, ApiError> {
    let found = state.store.seed_list(&query);
    let total = usize::try_from(found.total).unwrap_or(usize::MAX);
    if page > 1 && query.offset >= total {
        return Err(ApiError::NotFound("Invalid page.".into()));
    }
    let base = base_url(state, headers);
    let mut results = Vec::with_capacity(found.ids.len());
    for id in found.ids {
        if let Some(card) = state.store.get(id)? {
            results.push(render(state, &base, &card)?);
        }
    }
    let link = |n: usize| page_link(&base, uri, n);
    Ok(Json(Page {
        count: found.total,
        next: (query.offset + PAGE_SIZE < total).then(|| link(page + 1)),
        previous: (page > 1).then(|| link(page - 1)),
        results,
    }))
}

/// The absolute URL of page `n` of the same query (page 1 without a `page` parameter, as DRF
/// writes it).
fn page_link(base: &str, uri: &Uri, n: usize) -> String {
    let mut pairs: Vec<String> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && *p != "page" && !p.starts_with("page="))
        .map(str::to_string)
        .collect();
    if n > 1 {
        pairs.push(format!("page={n}"));
    }
    let path = uri.path();
    if pairs.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{}", pairs.join("&"))
    }
}

/// `GET admin/id-cards/{id}/`.
#[utoipa::path(
    get,
    path = "/api/ocr/admin/id-cards/{id}/",
    params(("id" = u64, Path, description = "The card's id")),
    responses(
        (status = 200, body = SeedCard),
        (status = 401, body = Detail),
        (status = 403, body = Detail),
        (status = 404, body = Detail),
    )
)]
pub async fn retrieve(
    State(state): State<HttpState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<SeedCard>, ApiError> {
    caller.reviewer()?;
    let id: u64 = id.parse().map_err(|_| ApiError::not_found())?;
    let card = state
        .store
        .get(CardId(id))?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(render(&state, &base_url(&state, &headers), &card)?))
}

/// What happened to one card of a bulk decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct Outcome {
    pub id: u64,
    /// Whether this call changed the card.
    pub updated: bool,
    /// Why it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The answer of a bulk decision: the seed's `requested` and `updated`, and ours per card.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkAnswer {
    /// `len(ids)`.
    pub requested: u64,
    /// Cards this call changed.
    pub updated: u64,
    pub results: Vec<Outcome>,
}

/// `POST admin/id-cards/bulk-decision/` with `{"ids": [int], "decision": "approved" |
/// "rejected", "reason": str}`.
/// With an `Idempotency-Key`, a retry answers the first result.
#[utoipa::path(
    post,
    path = "/api/ocr/admin/id-cards/bulk-decision/",
    request_body = BulkBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key answers the first result")),
    responses(
        (status = 200, body = BulkAnswer),
        (status = 400, description = "Keyed by `ids`, `decision` or `reason`", body = FieldErrors),
        (status = 401, body = Detail),
        (status = 403, body = Detail),
    )
)]
pub async fn bulk_decision(
    State(state): State<HttpState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = super::idempotency::key(&headers, &caller.identity, "bulk-decision");
    let replays = state.replays.clone();
    let run = |body| async move { decide_once(state, caller, body).await.into_response() };
    replays.once(key, body, run).await.0
}

/// One bulk decision.
async fn decide_once(
    state: HttpState,
    caller: Caller,
    body: Bytes,
) -> Result<Json<BulkAnswer>, ApiError> {
    caller.reviewer()?;
    let (ids, decision, reason) = parse_bulk(&body)?;
    let requested = ids.len();
    let mut unique: Vec<u64> = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    let refs: Vec<CardRef> = unique
        .iter()
        .map(|id| CardRef {
            id: CardId(*id),
            expected_version: None,
        })
        .collect();
    state.store.person(Person::Actor, &caller.identity)?;
    // The seed's bulk approval is an explicit decision over whatever the OCR doubted; ours
    // takes a reason for that, so without one only cards without doubts are approved.
    let approval = Approval {
        decision,
        reason: &reason,
        override_doubts: decision == Decision::Approve && !reason.trim().is_empty(),
        person: &caller.person,
    };
    let results = state.cards.decide(&caller.identity, &refs, approval).await;
    let mut updated = 0u64;
    let outcomes: Vec<Outcome> = results
        .into_iter()
        .map(|(id, result)| match result {
            Ok(_) => {
                updated += 1;
                Outcome {
                    id: id.0,
                    updated: true,
                    detail: None,
                }
            }
            Err(e) => Outcome {
                id: id.0,
                updated: false,
                detail: Some(e.to_string()),
            },
        })
        .collect();
    Ok(Json(BulkAnswer {
        requested: requested as u64,
        updated,
        results: outcomes,
    }))
}

/// The bulk decision's body, each bad value a 400 keyed by its name.
fn parse_bulk(body: &[u8]) -> Result<(Vec<u64>, Decision, String), ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("JSON parse error - {e}")))?;
    let Value::Object(top) = value else {
        return Err(ApiError::field(
            "non_field_errors",
            "Invalid data. Expected a dictionary.",
        ));
    };
    let mut errors = std::collections::BTreeMap::new();
    let ids = match top.get("ids") {
        None | Some(Value::Null) => {
            errors.insert("ids".to_string(), json!(["This field is required."]));
            Vec::new()
        }
        Some(Value::Array(items)) => {
            let ids: Option<Vec<u64>> = items
                .iter()
                .map(|v| match v {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                })
                .collect();
            match ids {
                None => {
                    errors.insert("ids".to_string(), json!(["A valid integer is required."]));
                    Vec::new()
                }
                Some(ids) if ids.is_empty() => {
                    errors.insert("ids".to_string(), json!(["This list may not be empty."]));
                    ids
                }
                Some(ids) if ids.len() > MAX_BULK_IDS => {
                    errors.insert(
                        "ids".to_string(),
                        json!([format!(
                            "Ensure this field has no more than {MAX_BULK_IDS} elements."
                        )]),
                    );
                    ids
                }
                Some(ids) => ids,
            }
        }
        Some(_) => {
            errors.insert(
                "ids".to_string(),
                json!(["Expected a list of items but got type \"str\"."]),
            );
            Vec::new()
        }
    };
    let decision = match top.get("decision").and_then(Value::as_str) {
        Some("approved") => Some(Decision::Approve),
        Some("rejected") => Some(Decision::Reject),
        Some(other) => {
            errors.insert(
                "decision".to_string(),
                json!([format!("\"{other}\" is not a valid choice.")]),
            );
            None
        }
        None => {
            errors.insert("decision".to_string(), json!(["This field is required."]));
            None
        }
    };
    let reason = match top.get("reason") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            errors.insert("reason".to_string(), json!(["Not a valid string."]));
            String::new()
        }
    };
    match decision {
        Some(decision) if errors.is_empty() => Ok((ids, decision, reason)),
        _ => Err(ApiError::Fields(errors)),
    }
}
