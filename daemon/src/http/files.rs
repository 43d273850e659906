//! `GET files/{id}/{role}/`: a card's stored file (the `front_image`, `back_image` and
//! `selfie_video` URLs), for the card's user, reviewers and service tokens; `Cache-Control: no-store` and
//! `X-Content-Type-Options: nosniff`, since these are identity documents.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use idreview_protocol::{CardId, FileRole};

use super::auth::Caller;
use super::{ApiError, HttpState};

/// `GET files/{id}/{role}/`.
#[utoipa::path(
    get,
    path = "/api/ocr/files/{id}/{role}/",
    params(
        ("id" = u64, Path, description = "The card's id"),
        ("role" = String, Path, description = "front, back or selfie"),
    ),
    responses(
        (status = 200, description = "The file's bytes, `Cache-Control: no-store`"),
        (status = 401, body = super::openapi::Detail),
        (status = 404, body = super::openapi::Detail),
    )
)]
pub async fn file(
    State(state): State<HttpState>,
    caller: Caller,
    Path((id, role)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id: u64 = id.parse().map_err(|_| ApiError::not_found())?;
    let role: FileRole = role.parse().map_err(|_| ApiError::not_found())?;
    let card = state
        .store
        .get(CardId(id))?
        .ok_or_else(ApiError::not_found)?;
    let anyone = caller.reviewer().is_ok() || caller.role == idreview_protocol::Role::Service;
    if !anyone && caller.user()? != card.user_id {
        return Err(ApiError::not_found());
    }
    let meta = card
        .files
        .iter()
        .find(|f| f.role == role)
        .ok_or_else(ApiError::not_found)?;
    let bytes = state
        .objects
        .get(&meta.object_key)
        .await
        .map_err(|e| ApiError::Unavailable(format!("The file cannot be read now: {e}")))?;
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    let media = HeaderValue::from_str(&meta.media_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, media);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}
