//! Wire types of remote access: bearer tokens (what an admin sees of them, never the secret
//! after creation), RPC upload sessions and pages of the audit log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{DocumentType, Role};

/// Prefix of every bearer token: `idr_<id>_<secret>`.
pub const TOKEN_PREFIX: &str = "idr_";

/// What an admin asks for when creating a token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenSpec {
    /// Shown in lists and audit events, e.g. `alice-laptop`.
    pub name: String,
    /// What the token may do.
    pub role: Role,
    /// The token stops working this many days after creation; `None`: never.
    pub expires_days: Option<u32>,
    /// A submitter token acts only for this user id.
    pub user_id: Option<String>,
    /// The person the token belongs to (one person's tokens count once where two people are
    /// needed, as in four-eyes approvals); `None`: the token's name.
    #[serde(default)]
    pub person: Option<String>,
}

/// A token as stored: everything but the secret, which is kept only as a hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Public part of the token, also its key in the store.
    pub id: String,
    /// Unique among active tokens; the connection's identity is `token:<name>`.
    pub name: String,
    /// What the token may do.
    pub role: Role,
    /// A submitter token acts only for this user id.
    pub user_id: Option<String>,
    #[serde(with = "crate::time")]
    pub created_at: DateTime<Utc>,
    /// The identity that created it.
    pub created_by: String,
    /// From then on the token is refused.
    #[serde(default, with = "crate::time::option")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Last handshake or call, to the minute.
    #[serde(default, with = "crate::time::option")]
    pub last_used: Option<DateTime<Utc>>,
    /// Set once revoked; the token is refused from then on.
    #[serde(default, with = "crate::time::option")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// The person the token belongs to, when set apart from its name ([`TokenInfo::person`]).
    #[serde(default)]
    pub person: Option<String>,
}

impl TokenInfo {
    /// The identity a connection with this token acts as, e.g. `token:alice-laptop`.
    pub fn identity(&self) -> String {
        format!("token:{}", self.name)
    }

    /// The person the token belongs to: as set at creation, else the token's name.
    pub fn person(&self) -> &str {
        self.person.as_deref().unwrap_or(&self.name)
    }

    /// Why the token may not be used at `now`, if it may not.
    pub fn unusable(&self, now: DateTime<Utc>) -> Option<String> {
        if let Some(at) = self.revoked_at {
            return Some(format!("token {} was revoked at {at}", self.id));
        }
        match self.expires_at {
            Some(at) if at <= now => Some(format!("token {} expired at {at}", self.id)),
            _ => None,
        }
    }
}

/// A freshly created token: the secret is in `token` and is never shown again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewToken {
    /// What is stored about it.
    pub info: TokenInfo,
    /// The whole bearer token, `idr_<id>_<secret>`.
    pub token: String,
}

/// The manifest fields of an RPC upload; the same as `submission.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadManifest {
    pub user_id: String,
    pub document_type: DocumentType,
    pub country: Option<String>,
}

/// Largest chunk `upload_chunk` accepts.
pub const MAX_CHUNK_BYTES: usize = 4 * 1024 * 1024;
