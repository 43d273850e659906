//! The audit log in PostgreSQL: one row per event, numbered from the one row of
//! `audit_counter`. `UPDATE ... RETURNING` locks that row until the writer's transaction ends,
//! so writers number one after another in commit order: a seq is visible only once every
//! smaller seq is (or never was handed out: a rolled-back writer's increment rolls back with
//! it). The price: audit writers commit one at a time, each holding the row for its last
//! statements and its commit (measured in the module's tests, see the README).
//!
//! Every write notifies [`CHANNEL`] with its last seq at commit: since every card creation,
//! change and removal writes its events here, "the events after n" names every card changed
//! since n, in commit order, which is what a follower (`follow.rs`) catches up from.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use idreview_protocol::{AuditEvent, CardId};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{PgStore, db_id};
use crate::store::StoreError;
use crate::store::retention::ERASED;

/// The channel every audit write notifies at its commit, with the write's last seq as the
/// payload: the audit log is the change feed across daemons (`follow.rs`). One notification
/// per transaction, however many cards it changed (a payload holds at most 8000 bytes).
pub(super) const CHANNEL: &str = "idreview_audit";

/// Numbers `events` (in order, after every event written before) and writes them, in the
/// caller's transaction `tx`. Call it last before the commit: the counter row stays locked
/// until then.
pub(super) async fn write(
    tx: &impl GenericClient,
    events: &mut [AuditEvent],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let n = i64::try_from(events.len()).unwrap_or(i64::MAX);
    let last: i64 = tx
        .query_one(
            "UPDATE audit_counter SET last = last + $1 RETURNING last",
            &[&n],
        )
        .await?
        .get(0);
    let first = u64::try_from(last - n + 1).unwrap_or(0);
    let mut seqs = Vec::with_capacity(events.len());
    let mut cards = Vec::with_capacity(events.len());
    let mut ats = Vec::with_capacity(events.len());
    let (mut actors, mut actions) = (Vec::new(), Vec::new());
    let (mut reasons, mut befores, mut afters) = (Vec::new(), Vec::new(), Vec::new());
    for (i, event) in events.iter_mut().enumerate() {
        event.seq = first + i as u64;
        seqs.push(i64::try_from(event.seq).unwrap_or(i64::MAX));
        cards.push(event.card_id.map(db_id));
        ats.push(event.at);
        actors.push(event.actor.as_str());
        actions.push(event.action.as_str());
        reasons.push(event.reason.as_deref());
        befores.push(event.before.as_deref());
        afters.push(event.after.as_deref());
    }
    // The insert and the transaction's one notification (delivered at commit) in one round
    // trip: a data-modifying WITH runs whether or not the query reads it.
    tx.execute(
        "WITH written AS (INSERT INTO audit (seq, card_id, at, actor, action, reason, before, \
         after) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], \
         $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])) \
         SELECT pg_notify($9, $10)",
        &[
            &seqs,
            &cards,
            &ats,
            &actors,
            &actions,
            &reasons,
            &befores,
            &afters,
            &CHANNEL,
            &last.to_string(),
        ],
    )
    .await?;
    Ok(())
}

/// Scrubs the events `which` selects (an SQL condition on an audit row, of parameter `$1`
/// = `key`) as `retention::scrub` does: their snapshots and reasons go, and the actors named in
/// `actors` become [`ERASED`]. Answers how many events changed.
pub(super) async fn scrub(
    tx: &impl GenericClient,
    which: &str,
    key: &(dyn ToSql + Sync),
    actors: &[String],
) -> Result<u64, StoreError> {
    Ok(tx
        .execute(
            &format!(
                "UPDATE audit SET before = NULL, after = NULL, reason = NULL, \
                 actor = CASE WHEN actor = ANY($2) THEN $3 ELSE actor END \
                 WHERE ({which}) AND (before IS NOT NULL OR after IS NOT NULL \
                 OR reason IS NOT NULL OR actor = ANY($2))"
            ),
            &[key, &actors, &ERASED],
        )
        .await?)
}

const COLUMNS: &str = "seq, card_id, at, actor, action, reason, before, after";

fn event(row: &Row) -> AuditEvent {
    let seq: i64 = row.get(0);
    let card: Option<i64> = row.get(1);
    let at: DateTime<Utc> = row.get(2);
    AuditEvent {
        seq: u64::try_from(seq).unwrap_or(0),
        card_id: card.and_then(|c| u64::try_from(c).ok()).map(CardId),
        at,
        actor: row.get(3),
        action: row.get(4),
        reason: row.get(5),
        before: row.get(6),
        after: row.get(7),
    }
}

impl PgStore {
    /// Up to `limit` audit events with `seq > since`, oldest first.
    pub async fn audit_since(
        &self,
        since: u64,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let since = i64::try_from(since).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {COLUMNS} FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2"),
                &[&since, &limit],
            )
            .await?;
        Ok(rows.iter().map(event).collect())
    }

    /// The card's audit events, oldest first (also after the card is removed).
    pub async fn audit_for(&self, id: CardId) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {COLUMNS} FROM audit WHERE card_id = $1 ORDER BY seq"),
                &[&db_id(id)],
            )
            .await?;
        Ok(rows.iter().map(event).collect())
    }
}
