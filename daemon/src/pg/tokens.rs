//! Bearer tokens in PostgreSQL: the `tokens` table, one row per token, with the SHA-256 of
//! its secret and never the secret. The rules are the sled store's (`store::tokens`: `mint`,
//! `revoke`, `erase`); what rests on the database:
//! - every daemon reads the one table, so a revocation through one daemon refuses the token's
//!   next check on any (a check is one read by primary key);
//! - a token change and its audit event commit in one transaction;
//! - creations take turns (a table lock that only creations take), so two daemons creating
//!   tokens of one name at once never leave two active tokens of that name.

use chrono::Utc;
use deadpool_postgres::GenericClient;
use idreview_protocol::{NewToken, TokenInfo, TokenSpec};
use tokio_postgres::Row;

use super::{PgStore, audit};
use crate::store::StoreError;
use crate::store::tokens::{self, TokenError};

const COLUMNS: &str = "id, name, role, user_id, person, created_at, created_by, expires_at, \
                       last_used, revoked_at";

/// The token in a row of [`COLUMNS`].
fn info(row: &Row) -> Result<TokenInfo, StoreError> {
    let role: &str = row.try_get(2)?;
    Ok(TokenInfo {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        role: role
            .parse()
            .map_err(|_| StoreError::Damaged(format!("a token's role {role:?} is unknown")))?,
        user_id: row.try_get(3)?,
        person: row.try_get(4)?,
        created_at: row.try_get(5)?,
        created_by: row.try_get(6)?,
        expires_at: row.try_get(7)?,
        last_used: row.try_get(8)?,
        revoked_at: row.try_get(9)?,
    })
}

/// The token `id`'s row ([`COLUMNS`], then the secret's hash), if there is one.
async fn row(client: &impl GenericClient, id: &str, lock: bool) -> Result<Option<Row>, StoreError> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    Ok(client
        .query_opt(
            &format!("SELECT {COLUMNS}, secret_sha256 FROM tokens WHERE id = $1{lock}"),
            &[&id],
        )
        .await?)
}

impl PgStore {
    /// Creates a token for `spec` (see `tokens::mint`) with its `token.created` event.
    pub(crate) async fn new_token(
        &self,
        spec: &TokenSpec,
        actor: &str,
    ) -> Result<NewToken, TokenError> {
        let now = Utc::now();
        let minted = tokens::mint(spec, actor, now)?;
        let info = minted.info;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Creations take turns (reads and checks do not wait): the name check below sees
        // every token created before.
        tx.batch_execute("LOCK TABLE tokens IN SHARE ROW EXCLUSIVE MODE")
            .await?;
        let taken = tx
            .query_opt(
                "SELECT 1 FROM tokens WHERE name = $1 AND revoked_at IS NULL \
                 AND (expires_at IS NULL OR expires_at > $2)",
                &[&info.name, &now],
            )
            .await?;
        if taken.is_some() {
            return Err(tokens::name_taken(&info.name));
        }
        tx.execute(
            &format!(
                "INSERT INTO tokens ({COLUMNS}, secret_sha256) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ),
            &[
                &info.id,
                &info.name,
                &info.role.as_str(),
                &info.user_id,
                &info.person,
                &info.created_at,
                &info.created_by,
                &info.expires_at,
                &info.last_used,
                &info.revoked_at,
                &minted.secret_sha256.as_slice(),
            ],
        )
        .await?;
        let mut events = [minted.change.event(0, None, actor, None, None)];
        audit::write(&tx, &mut events).await?;
        tx.commit().await?;
        tracing::info!(token_id = %info.id, name = %info.name, role = %info.role, %actor, "token created");
        Ok(NewToken {
            info,
            token: minted.bearer,
        })
    }

    /// Revokes the token `id` with its `token.revoked` event.
    pub(crate) async fn revoke(&self, id: &str, actor: &str) -> Result<TokenInfo, TokenError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let row = row(&tx, id, true)
            .await?
            .ok_or_else(|| TokenError::NotFound(id.to_string()))?;
        let mut info = info(&row)?;
        let change = tokens::revoke(&mut info, Utc::now())?;
        tx.execute(
            "UPDATE tokens SET revoked_at = $2 WHERE id = $1",
            &[&id, &info.revoked_at],
        )
        .await?;
        audit::write(&tx, &mut [change.event(0, None, actor, None, None)]).await?;
        tx.commit().await?;
        tracing::info!(token_id = %id, %actor, "token revoked");
        Ok(info)
    }

    /// Every token, oldest first.
    pub(crate) async fn tokens(&self) -> Result<Vec<TokenInfo>, TokenError> {
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {COLUMNS} FROM tokens ORDER BY created_at, id"),
                &[],
            )
            .await?;
        Ok(rows.iter().map(info).collect::<Result<_, _>>()?)
    }

    /// The token a bearer string names, if it is known, matches and is usable now.
    pub(crate) async fn bearer(&self, bearer: &str) -> Result<TokenInfo, TokenError> {
        let (id, hash) = tokens::parse_bearer(bearer)?;
        let client = self.client().await?;
        let row = row(&client, id, false).await?.ok_or_else(tokens::refused)?;
        let stored: &[u8] = row.try_get(10).map_err(StoreError::from)?;
        match <[u8; 32]>::try_from(stored) {
            Ok(stored) if tokens::same_hash(&hash, &stored) => usable(&client, &row).await,
            _ => Err(tokens::refused()),
        }
    }

    /// Re-checks the token `id` for a call and notes its use.
    pub(crate) async fn recheck(&self, id: &str) -> Result<TokenInfo, TokenError> {
        let client = self.client().await?;
        let row = row(&client, id, false)
            .await?
            .ok_or_else(|| TokenError::Refused(format!("token {id} no longer exists")))?;
        usable(&client, &row).await
    }

    /// The audit identities of the submitter tokens bound to `user_id`.
    pub(super) async fn bound_identities(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {COLUMNS} FROM tokens WHERE user_id = $1"),
                &[&user_id],
            )
            .await?;
        rows.iter().map(|r| Ok(info(r)?.identity())).collect()
    }

    /// Revokes and unbinds the tokens bound to `user_id` (each with a `token.erased` event
    /// carrying `reason`) and scrubs the token events whose snapshots name the user, in one
    /// transaction; answers how many tokens and events changed.
    pub(super) async fn erase_tokens_of(
        &self,
        user_id: &str,
        actor: &str,
        reason: &str,
    ) -> Result<(u64, u64), TokenError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let rows = tx
            .query(
                &format!("SELECT {COLUMNS} FROM tokens WHERE user_id = $1 ORDER BY id FOR UPDATE"),
                &[&user_id],
            )
            .await?;
        let now = Utc::now();
        let (mut ids, mut revoked, mut events) = (Vec::new(), Vec::new(), Vec::new());
        for row in &rows {
            let mut info = info(row)?;
            let change = tokens::erase(&mut info, now, reason);
            events.push(change.event(0, None, actor, None, None));
            revoked.push(info.revoked_at);
            ids.push(info.id);
        }
        tx.execute(
            "UPDATE tokens t SET revoked_at = u.revoked_at, user_id = NULL \
             FROM unnest($1::text[], $2::timestamptz[]) AS u(id, revoked_at) WHERE t.id = u.id",
            &[&ids, &revoked],
        )
        .await?;
        // Token events belong to no card; their snapshots are JSON summaries of the token.
        let names_user = "card_id IS NULL AND CASE WHEN action LIKE 'token.%' \
                          THEN before::jsonb ->> 'user_id' = $1 OR after::jsonb ->> 'user_id' = $1 \
                          ELSE false END";
        let scrubbed = audit::scrub(&tx, names_user, &user_id, &[]).await?;
        audit::write(&tx, &mut events).await?;
        tx.commit().await?;
        Ok((ids.len() as u64, scrubbed))
    }
}

/// The token in `row` if it is usable now; notes its use (at most once a minute, best
/// effort: a failed write only loses the time of last use).
async fn usable(client: &impl GenericClient, row: &Row) -> Result<TokenInfo, TokenError> {
    let info = info(row)?;
    let now = Utc::now();
    if let Some(why) = info.unusable(now) {
        return Err(TokenError::Refused(why));
    }
    if tokens::use_is_stale(info.last_used, now) {
        let noted = client
            .execute(
                "UPDATE tokens SET last_used = $2 WHERE id = $1",
                &[&info.id, &now],
            )
            .await;
        if let Err(e) = noted {
            tracing::warn!(token_id = %info.id, error = %e, "cannot record a token's last use");
        }
    }
    Ok(info)
}
