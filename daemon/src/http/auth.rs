//! Who calls: `Authorization: Token <key>` (DRF's token scheme) resolved against the daemon's
//! token store before any byte of a body is read. A `submitter` token bound to a user is that
//! user (the user endpoints); `reviewer` and `admin` reach the admin endpoints.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use idreview_protocol::Role;

use super::{ApiError, HttpState};

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The audit identity, `token:<name>`.
    pub identity: String,
    pub role: Role,
    /// The user a submitter token acts for.
    pub user_id: Option<String>,
}

impl Caller {
    /// The user this caller is, for the user endpoints.
    pub fn user(&self) -> Result<&str, ApiError> {
        match (&self.role, &self.user_id) {
            (Role::Submitter, Some(user)) => Ok(user),
            _ => Err(ApiError::Forbidden(format!(
                "{} is not a user's token; the user endpoints need a submitter token bound to a user",
                self.identity
            ))),
        }
    }

    /// Refuses a caller that is not a reviewer or an admin.
    pub fn reviewer(&self) -> Result<(), ApiError> {
        match self.role {
            Role::Reviewer | Role::Admin => Ok(()),
            Role::Submitter => Err(ApiError::Forbidden(
                "You do not have permission to perform this action.".into(),
            )),
        }
    }
}

impl FromRequestParts<HttpState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Caller, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::Unauthenticated(
                "Authentication credentials were not provided.".into(),
            ));
        };
        let invalid = || ApiError::Unauthenticated("Invalid token.".into());
        let value = value.to_str().map_err(|_| invalid())?;
        let mut words = value.split_whitespace();
        let (Some(scheme), Some(key), None) = (words.next(), words.next(), words.next()) else {
            return Err(invalid());
        };
        if !scheme.eq_ignore_ascii_case("token") {
            return Err(invalid());
        }
        let token = state.store.authenticate(key).map_err(|_| invalid())?;
        if let Err(idreview_protocol::RpcError::RateLimited { retry_after_ms, .. }) =
            state.limits.call(&token.identity())
        {
            return Err(ApiError::Throttled {
                retry_after_secs: retry_after_ms.div_ceil(1000).max(1),
            });
        }
        Ok(Caller {
            identity: token.identity(),
            role: token.role,
            user_id: token.user_id,
        })
    }
}
