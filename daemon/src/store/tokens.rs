//! Bearer tokens: the `tokens` tree (id -> name, role, times and the SHA-256 of the secret,
//! never the secret) and the in-memory token table that every connection checks its token
//! against on every call, so that a revocation takes effect at once. Token changes are audited
//! in the same transaction as the change.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Duration, Utc};
use idreview_protocol::{NewToken, Role, TOKEN_PREFIX, TokenInfo, TokenSpec};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sled::Transactional;

use super::audit_log::Batch;
use super::{Change, Store, StoreError, untx};

/// How stale a token's persisted `last_used` may get before a use writes it again.
const LAST_USED_EVERY_SECS: i64 = 60;

/// What the store keeps of one token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct StoredToken {
    #[serde(with = "super::stored::audit::token_info")]
    pub(super) info: TokenInfo,
    /// SHA-256 of the secret part.
    pub(super) secret_sha256: [u8; 32],
    /// When `last_used` was last written to sled.
    pub(super) persisted_use: Option<DateTime<Utc>>,
    /// The token's person when set apart from its name (`TokenInfo::person`, which the stored
    /// `info` layout predates). Tokens stored before it end without it: see [`decode`].
    pub(super) person: Option<String>,
}

/// A token as stored before it had a person: the same bytes without the last field.
#[derive(Deserialize)]
struct StoredTokenWithoutPerson {
    #[serde(with = "super::stored::audit::token_info")]
    info: TokenInfo,
    secret_sha256: [u8; 32],
    persisted_use: Option<DateTime<Utc>>,
}

/// The token stored in `bytes`, with or without a person.
pub(super) fn decode(bytes: &[u8]) -> Result<StoredToken, bincode::Error> {
    let mut token = match bincode::deserialize::<StoredToken>(bytes) {
        Ok(token) => token,
        Err(_) => {
            let old: StoredTokenWithoutPerson = bincode::deserialize(bytes)?;
            StoredToken {
                info: old.info,
                secret_sha256: old.secret_sha256,
                persisted_use: old.persisted_use,
                person: None,
            }
        }
    };
    token.info.person = token.person.clone();
    Ok(token)
}

/// Why a token could not be created, used or revoked.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("invalid token request: {0}")]
    Invalid(String),
    #[error("{0}")]
    Refused(String),
    #[error("no token with id {0}")]
    NotFound(String),
    #[error("no randomness for a token: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sled::Error> for TokenError {
    fn from(e: sled::Error) -> Self {
        TokenError::Store(StoreError::Sled(e))
    }
}

/// The `tokens` tree and its in-memory table.
pub(super) struct TokenTable {
    /// token id -> bincode [`StoredToken`]
    pub(super) tree: sled::Tree,
    /// Every token by id, loaded at open and changed with every write; read on every call.
    pub(super) table: RwLock<HashMap<String, StoredToken>>,
}

impl TokenTable {
    /// Opens the tree and loads every token.
    pub(super) fn open(db: &sled::Db) -> Result<TokenTable, StoreError> {
        let tree = db.open_tree("tokens")?;
        let mut table = HashMap::new();
        for item in tree.iter() {
            let (_, bytes) = item?;
            let token = decode(&bytes)?;
            table.insert(token.info.id.clone(), token);
        }
        Ok(TokenTable {
            tree,
            table: RwLock::new(table),
        })
    }
}

fn random_hex(bytes: usize) -> Result<String, TokenError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(hex::encode(buf))
}

/// Compares two hashes in time independent of where they differ.
pub(crate) fn same_hash(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn summary(info: &TokenInfo) -> String {
    serde_json::json!({
        "id": info.id, "name": info.name, "role": info.role, "user_id": info.user_id,
        "person": info.person(),
        "expires_at": info.expires_at, "revoked_at": info.revoked_at,
    })
    .to_string()
}

/// A token made by [`mint`], not yet stored.
pub(crate) struct Minted {
    pub(crate) info: TokenInfo,
    /// SHA-256 of the secret: all a store keeps of it.
    pub(crate) secret_sha256: [u8; 32],
    /// The whole bearer string, shown once.
    pub(crate) bearer: String,
    /// The `token.created` event's change.
    pub(crate) change: Change,
}

/// A new token for `spec`, made by `actor` at `now`: 256 random bits. Checks the spec; that no
/// active token has its name is the store's to check ([`name_taken`]), against every token.
pub(crate) fn mint(
    spec: &TokenSpec,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Minted, TokenError> {
    let name = spec.name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        return Err(TokenError::Invalid(
            "a token needs a name of 1..=64 printable characters".into(),
        ));
    }
    match (spec.role, &spec.user_id) {
        (Role::Submitter, None) => {
            return Err(TokenError::Invalid(
                "a submitter token acts for one user; name it with --user".into(),
            ));
        }
        (Role::Reviewer | Role::Admin | Role::Service, Some(_)) => {
            return Err(TokenError::Invalid(
                "only submitter tokens are bound to a user (a service token names its user per request)".into(),
            ));
        }
        _ => {}
    }
    let person = match spec.person.as_deref().map(str::trim) {
        None => None,
        Some(p) if p.is_empty() || p.len() > 64 || p.chars().any(char::is_control) => {
            return Err(TokenError::Invalid(
                "a token's person needs 1..=64 printable characters".into(),
            ));
        }
        Some(p) => Some(p.to_string()),
    };
    let id = random_hex(6)?;
    let secret = random_hex(32)?;
    let info = TokenInfo {
        id: id.clone(),
        name: name.to_string(),
        role: spec.role,
        user_id: spec.user_id.clone(),
        person,
        created_at: now,
        created_by: actor.to_string(),
        expires_at: spec
            .expires_days
            .map(|d| now + Duration::days(i64::from(d))),
        last_used: None,
        revoked_at: None,
    };
    let change = Change {
        detail: Some(("null".into(), summary(&info))),
        ..Change::new("token.created")
    };
    Ok(Minted {
        info,
        secret_sha256: Sha256::digest(secret.as_bytes()).into(),
        bearer: format!("{TOKEN_PREFIX}{id}_{secret}"),
        change,
    })
}

/// The refusal of a token named as an active one.
pub(crate) fn name_taken(name: &str) -> TokenError {
    TokenError::Invalid(format!(
        "an active token is already called {name:?}; names are identities in the audit log"
    ))
}

/// Revokes `info` at `now`: the `token.revoked` event's change, or why not.
pub(crate) fn revoke(info: &mut TokenInfo, now: DateTime<Utc>) -> Result<Change, TokenError> {
    if info.revoked_at.is_some() {
        return Err(TokenError::Invalid(format!(
            "token {} is already revoked",
            info.id
        )));
    }
    let before = summary(info);
    info.revoked_at = Some(now);
    Ok(Change {
        detail: Some((before, summary(info))),
        ..Change::new("token.revoked")
    })
}

/// Revokes (if not yet) and unbinds a token of an erased user: the `token.erased` event's
/// change.
pub(crate) fn erase(info: &mut TokenInfo, now: DateTime<Utc>, reason: &str) -> Change {
    info.revoked_at.get_or_insert(now);
    info.user_id = None;
    Change::new("token.erased").because(reason)
}

/// The id and the secret's SHA-256 of a bearer string, or the refusal of a malformed one.
pub(crate) fn parse_bearer(bearer: &str) -> Result<(&str, [u8; 32]), TokenError> {
    let rest = bearer
        .trim()
        .strip_prefix(TOKEN_PREFIX)
        .ok_or_else(refused)?;
    let (id, secret) = rest.split_once('_').ok_or_else(refused)?;
    Ok((id, Sha256::digest(secret.as_bytes()).into()))
}

/// The refusal of a bearer string that names no usable token (the same for every reason, so
/// that it tells nothing).
pub(crate) fn refused() -> TokenError {
    TokenError::Refused("unknown or malformed token".into())
}

/// Whether a use at `now` of a token whose use was last recorded at `recorded` should be
/// recorded (at most once every [`LAST_USED_EVERY_SECS`]).
pub(crate) fn use_is_stale(recorded: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    recorded.is_none_or(|at| (now - at).num_seconds() >= LAST_USED_EVERY_SECS)
}

impl Store {
    /// Creates a token for `spec` (see [`mint`]), stored only as the SHA-256 of its secret.
    pub async fn create_token(
        &self,
        spec: &TokenSpec,
        actor: &str,
    ) -> Result<NewToken, TokenError> {
        let now = Utc::now();
        let minted = mint(spec, actor, now)?;
        let info = minted.info;
        let taken = self
            .read_tokens()
            .values()
            .any(|t| t.info.name == info.name && t.info.unusable(now).is_none());
        if taken {
            return Err(name_taken(&info.name));
        }
        let stored = StoredToken {
            info: info.clone(),
            secret_sha256: minted.secret_sha256,
            persisted_use: None,
            person: info.person.clone(),
        };
        self.write_token(stored, actor, minted.change).await?;
        tracing::info!(token_id = %info.id, name = %info.name, role = %info.role, %actor, "token created");
        Ok(NewToken {
            info,
            token: minted.bearer,
        })
    }

    /// Revokes the token `id`; every connection using it fails its next call.
    pub async fn revoke_token(&self, id: &str, actor: &str) -> Result<TokenInfo, TokenError> {
        let mut stored = self
            .read_tokens()
            .get(id)
            .cloned()
            .ok_or_else(|| TokenError::NotFound(id.to_string()))?;
        let change = revoke(&mut stored.info, Utc::now())?;
        let info = stored.info.clone();
        self.write_token(stored, actor, change).await?;
        tracing::info!(token_id = %id, %actor, "token revoked");
        Ok(info)
    }

    /// Every token, oldest first.
    pub fn list_tokens(&self) -> Vec<TokenInfo> {
        let mut all: Vec<TokenInfo> = self
            .read_tokens()
            .values()
            .map(|t| t.info.clone())
            .collect();
        all.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        all
    }

    /// The token a bearer string names, if it is known, matches and is usable now.
    pub fn authenticate(&self, bearer: &str) -> Result<TokenInfo, TokenError> {
        let (id, hash) = parse_bearer(bearer)?;
        let stored = self.read_tokens().get(id).cloned().ok_or_else(refused)?;
        if !same_hash(&hash, &stored.secret_sha256) {
            return Err(refused());
        }
        self.check_token(id)
    }

    /// Re-checks the token `id` for a call on an open connection and notes its use.
    pub fn check_token(&self, id: &str) -> Result<TokenInfo, TokenError> {
        let now = Utc::now();
        let info = {
            let table = self.read_tokens();
            let stored = table
                .get(id)
                .ok_or_else(|| TokenError::Refused(format!("token {id} no longer exists")))?;
            if let Some(why) = stored.info.unusable(now) {
                return Err(TokenError::Refused(why));
            }
            if !use_is_stale(stored.persisted_use, now) {
                return Ok(stored.info.clone());
            }
            stored.info.clone()
        };
        self.note_use(id, now);
        Ok(info)
    }

    /// Records a use of `id` in memory and in sled (best effort: a failed write only loses
    /// the time of last use).
    fn note_use(&self, id: &str, now: DateTime<Utc>) {
        let mut table = self
            .inner
            .tokens
            .table
            .write()
            .unwrap_or_else(|p| p.into_inner());
        let Some(stored) = table.get_mut(id) else {
            return;
        };
        stored.info.last_used = Some(now);
        stored.persisted_use = Some(now);
        match bincode::serialize(&*stored) {
            Ok(bytes) => {
                if let Err(e) = self.inner.tokens.tree.insert(id.as_bytes(), bytes) {
                    tracing::warn!(token_id = %id, error = %e, "cannot record a token's last use");
                }
            }
            Err(e) => tracing::warn!(token_id = %id, error = %e, "cannot encode a token"),
        }
    }

    pub(super) fn read_tokens(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, HashMap<String, StoredToken>> {
        // Every write replaces a whole entry, so a poisoned table is still consistent.
        self.inner
            .tokens
            .table
            .read()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Writes `stored` and its audit event in one transaction, then the table, then flushes.
    pub(super) async fn write_token(
        &self,
        stored: StoredToken,
        actor: &str,
        change: Change,
    ) -> Result<(), TokenError> {
        {
            let _writer = self.inner.writer.lock().map_err(|_| StoreError::Poisoned)?;
            self.start_events()?;
            let event = self.event(None, actor, change, None, None)?;
            let batch = Batch::encode(std::slice::from_ref(&event))?;
            let token_bytes = bincode::serialize(&stored).map_err(StoreError::Codec)?;
            let i = &self.inner;
            (&i.tokens.tree, &i.audit)
                .transaction(|(tokens, audit)| {
                    tokens.insert(stored.info.id.as_bytes(), token_bytes.as_slice())?;
                    if let Some(batch) = &batch {
                        batch.write(audit)?;
                    }
                    Ok(())
                })
                .map_err(untx)?;
            let mut table = i.tokens.table.write().unwrap_or_else(|p| p.into_inner());
            table.insert(stored.info.id.clone(), stored);
        }
        self.flush().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, role: Role) -> TokenSpec {
        TokenSpec {
            name: name.into(),
            role,
            expires_days: None,
            user_id: None,
            person: None,
        }
    }

    #[tokio::test]
    async fn tokens_authenticate_until_revoked_and_survive_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let token = {
            let store = Store::open(dir.path(), 0.8).expect("open");
            let new = store
                .create_token(&spec("ops", Role::Admin), "local:root")
                .await
                .expect("create");
            assert!(new.token.starts_with("idr_") && new.token.len() > 64 + 4);
            assert_eq!(store.authenticate(&new.token).expect("valid").name, "ops");
            let wrong = format!("{}x", new.token);
            assert!(store.authenticate(&wrong).is_err());
            assert!(store.authenticate("idr_nope_nope").is_err());
            store.flush().await.expect("flush");
            new
        };
        let store = crate::store::reopen(dir.path());
        let info = store.authenticate(&token.token).expect("still valid");
        assert!(info.last_used.is_some());
        store
            .revoke_token(&info.id, "local:root")
            .await
            .expect("revoke");
        assert!(store.check_token(&info.id).is_err());
        assert!(store.authenticate(&token.token).is_err());
        let audit = store.audit_since(0, 100).expect("audit");
        let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, vec!["token.created", "token.revoked"]);
        let bytes = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
            .flatten()
            .collect::<Vec<u8>>();
        let secret = token.token.rsplit('_').next().expect("secret");
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the secret is never stored"
        );
    }

    #[tokio::test]
    async fn a_tokens_person_survives_reopening_and_older_tokens_are_their_names() {
        use crate::store::stored::ToStored;
        let dir = tempfile::tempdir().expect("tempdir");
        let id = {
            let store = Store::open(dir.path(), 0.8).expect("open");
            let mut laptop = spec("alice-laptop", Role::Reviewer);
            laptop.person = Some(" alice ".into());
            let new = store.create_token(&laptop, "t").await.expect("create");
            assert_eq!(new.info.person(), "alice");
            let plain = store.create_token(&spec("bob", Role::Reviewer), "t").await;
            assert_eq!(
                plain.expect("create").info.person(),
                "bob",
                "the name by default"
            );
            let mut blank = spec("x", Role::Reviewer);
            blank.person = Some("  ".into());
            assert!(store.create_token(&blank, "t").await.is_err());
            new.info.id
        };
        let store = crate::store::reopen(dir.path());
        let stored = store.read_tokens().get(&id).cloned().expect("kept");
        assert_eq!(stored.info.person(), "alice");
        // A token as a daemon before persons stored it: the same fields, without the last.
        let old = bincode::serialize(&(
            stored.info.stored(),
            stored.secret_sha256,
            stored.persisted_use,
        ))
        .expect("encodes");
        let read = decode(&old).expect("an older token reads");
        assert_eq!((read.person, read.info.person()), (None, "alice-laptop"));
        let now = bincode::serialize(&stored).expect("encodes");
        assert_eq!(decode(&now).expect("reads").info.person(), "alice");
    }

    #[tokio::test]
    async fn only_submitters_are_bound_to_users() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 0.8).expect("open");
        let mut s = spec("x", Role::Reviewer);
        s.user_id = Some("u".into());
        assert!(store.create_token(&s, "t").await.is_err());
        s.role = Role::Submitter;
        assert!(store.create_token(&s, "t").await.is_ok());
        s.name = "y".into();
        s.user_id = None;
        assert!(
            store.create_token(&s, "t").await.is_err(),
            "a submitter needs a user"
        );
        s.user_id = Some("u".into());
        s.name = "x".into();
        assert!(
            store.create_token(&s, "t").await.is_err(),
            "names of active tokens are unique"
        );
    }
}
