//! [`ApiError`]: every failure of the API, answered in DRF's shapes: a 400 is an object keyed by
//! the request's field, each a list of messages (or an object keyed by a nested name); every
//! other error is `{"detail": "..."}`, a 401 with `WWW-Authenticate: Token`.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::card::CardError;

/// Why a request was not answered with what it asked for.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Field -> its messages (a list) or a nested object of them.
    #[error("invalid request: {0:?}")]
    Fields(BTreeMap<String, Value>),
    /// A 400 about the request as a whole (a body that does not parse), DRF's `ParseError`.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("Request was throttled. Expected available in {retry_after_secs} seconds.")]
    Throttled { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 naming one field.
    pub fn field(name: &str, message: impl Into<String>) -> ApiError {
        let mut fields = BTreeMap::new();
        fields.insert(name.to_string(), json!([message.into()]));
        ApiError::Fields(fields)
    }

    /// The 400 of an upload whose file is already on another user's card (`[inbox] duplicates
    /// = "reject"`), keyed by the file's part; the other card is not named to the uploader.
    pub fn reused(role: idreview_protocol::FileRole) -> ApiError {
        use idreview_protocol::FileRole;
        let part = match role {
            FileRole::Front => "front",
            FileRole::Back => "back",
            FileRole::Selfie => "selfie_video",
            FileRole::Extra => "non_field_errors",
        };
        ApiError::field(
            part,
            "This document was already submitted for another account.",
        )
    }

    /// DRF's 404 for an object the caller may not see or that does not exist.
    pub fn not_found() -> ApiError {
        ApiError::NotFound("Not found.".into())
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Fields(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            ApiError::Throttled { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "HTTP request failed");
        }
        let body = match self {
            ApiError::Fields(fields) => Value::Object(fields.into_iter().collect()),
            other => json!({ "detail": other.to_string() }),
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
        }
        response
    }
}

impl From<CardError> for ApiError {
    fn from(e: CardError) -> Self {
        match e {
            CardError::NotFound(_) => ApiError::not_found(),
            CardError::Invalid(why) => ApiError::field("non_field_errors", why),
            e @ CardError::Fields(_) => ApiError::field("non_field_errors", e.to_string()),
            e @ (CardError::Conflict { .. }
            | CardError::IllegalTransition { .. }
            | CardError::Held { .. }
            | CardError::Doubts { .. }
            | CardError::ActiveCard { .. }
            | CardError::DuplicateSubmission { .. }
            | CardError::SecondApprovalNeeded { .. }
            | CardError::SamePerson { .. }) => ApiError::Conflict(e.to_string()),
            CardError::DuplicateDocument { role, .. } => ApiError::reused(role),
            e @ (CardError::Store(_) | CardError::StoreFailed(_)) => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// Every unknown path.
pub async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// A known path asked with a method it does not take.
pub async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(format!("Method \"{method}\" not allowed."))
}
