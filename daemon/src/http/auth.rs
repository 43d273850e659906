//! Who calls: `Authorization: Token <key>` (DRF's token scheme) resolved against the daemon's
//! token store before any byte of a body is read. A `submitter` token bound to a user is that
//! user (the user endpoints); `reviewer` and `admin` reach the admin endpoints; a `service`
//! token (an app backend) acts for the user named in [`ACTING_FOR`] (a user made on first
//! use), audited as `token:<service> for <user>`, and never reaches the admin endpoints.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use idreview_protocol::Role;

use super::{ApiError, HttpState};
use crate::store::people::Person;

/// The header a service token names the user it acts for in.
pub const ACTING_FOR: &str = "x-idreview-user";

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The audit identity, `token:<name>`.
    pub identity: String,
    pub role: Role,
    /// The user a submitter token acts for.
    pub user_id: Option<String>,
    /// The person the token belongs to (four eyes counts persons, not tokens).
    pub person: String,
}

impl Caller {
    /// The user this caller is, for the user endpoints.
    pub fn user(&self) -> Result<&str, ApiError> {
        match (&self.role, &self.user_id) {
            (Role::Submitter | Role::Service, Some(user)) => Ok(user),
            (Role::Service, None) => Err(ApiError::Forbidden(format!(
                "{} is a service token; name the user it acts for in the X-Idreview-User header",
                self.identity
            ))),
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
            Role::Submitter | Role::Service => Err(ApiError::Forbidden(
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
        if token.role == Role::Service {
            let user = parts
                .headers
                .get(ACTING_FOR)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|u| valid_user(u));
            return match user {
                Some(user) => {
                    state.store.person(Person::User, user)?;
                    Ok(Caller {
                        identity: format!("{} for {user}", token.identity()),
                        role: token.role,
                        user_id: Some(user.to_string()),
                        person: token.person().to_string(),
                    })
                }
                None => Ok(Caller {
                    identity: token.identity(),
                    role: token.role,
                    user_id: None,
                    person: token.person().to_string(),
                }),
            };
        }
        Ok(Caller {
            identity: token.identity(),
            role: token.role,
            person: token.person().to_string(),
            user_id: token.user_id,
        })
    }
}

/// A user id a service may name: 1..=128 printable characters without spaces.
fn valid_user(user: &str) -> bool {
    !user.is_empty() && user.len() <= 128 && user.chars().all(|c| c.is_ascii_graphic())
}
