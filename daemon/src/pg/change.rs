//! A change to cards in PostgreSQL: one transaction that reads each named card `FOR UPDATE`
//! (in id order), checks its version, applies the caller's change, and writes the new
//! versions, their duplicates rows, the deferred work the changes carry and their audit
//! events (numbered last, so the audit counter is held for the shortest time).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use deadpool_postgres::GenericClient;
use idreview_protocol::{Card, CardId, CardRef};
use tokio_postgres::types::Json;

use super::cards::{ONE_ACTIVE, active_card, decode};
use super::duplicates::Edits;
use super::error::violates;
use super::{PgStore, audit, db_id};
use crate::store::outbox::{Job, OutboxOp};
use crate::store::{Change, Outcomes, Refused, StoreError};

impl PgStore {
    /// Applies `change` to each named card whose version matches, all in one transaction; each
    /// card gets its own result, the changed card or why not (a [`Refused`] from the store, or
    /// the caller's own error), as the sled store answers.
    pub(super) async fn change_cards<E: From<Refused> + From<StoreError> + Send>(
        &self,
        refs: &[CardRef],
        actor: &str,
        mut change: impl FnMut(&mut Card) -> Result<Change, E> + Send,
    ) -> Result<Outcomes<E>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut ids: Vec<i64> = refs.iter().map(|r| db_id(r.id)).collect();
        ids.sort_unstable();
        ids.dedup();
        let rows = tx
            .query(
                "SELECT body FROM cards WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                &[&ids],
            )
            .await?;
        let mut current: HashMap<CardId, Card> = HashMap::with_capacity(rows.len());
        for row in &rows {
            let card = decode(row)?;
            current.insert(card.id, card);
        }
        let mut results: Outcomes<E> = Vec::with_capacity(refs.len());
        let mut befores = Vec::new();
        let mut events = Vec::new();
        let mut ops = Vec::new();
        let mut seen = HashSet::with_capacity(refs.len());
        for r in refs {
            let outcome = match current.get(&r.id) {
                None => Err(Refused::NotFound(r.id).into()),
                Some(card) => match r.expected_version {
                    Some(expected) if expected != card.version => Err(Refused::Conflict {
                        id: r.id,
                        expected,
                        actual: card.version,
                    }
                    .into()),
                    // A card named twice in one call: the second sees the first's change.
                    _ if seen.contains(&r.id) => Err(Refused::NamedTwice(r.id).into()),
                    _ => {
                        let mut next = card.clone();
                        change(&mut next).map(|what| {
                            next.version = card.version + 1;
                            next.updated_at = Utc::now();
                            (next, what)
                        })
                    }
                },
            };
            match outcome {
                Ok((after, mut what)) => {
                    let before = current.get(&r.id).cloned();
                    ops.append(&mut what.outbox);
                    events.push(what.event(
                        0,
                        Some(after.id),
                        actor,
                        before.as_ref(),
                        Some(&after),
                    ));
                    seen.insert(r.id);
                    befores.push(before);
                    results.push((r.id, Ok(after)));
                }
                Err(e) => results.push((r.id, Err(e))),
            }
        }
        let afters: Vec<&Card> = results
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .collect();
        if afters.is_empty() {
            tx.commit().await?;
            return Ok(results);
        }
        if let Err(e) = write_cards(&tx, &afters).await {
            if let StoreError::Database(super::PgError::Db(db)) = &e
                && violates(db, ONE_ACTIVE)
            {
                // A change made a second active card for a user (a rejected card reopened).
                tx.rollback().await?;
                return Err(second_active(&client, &afters).await?.unwrap_or(e));
            }
            return Err(e);
        }
        let mut edits = Edits::default();
        for (before, after) in befores.iter().zip(&afters) {
            edits.card(before.as_ref(), Some(after));
        }
        edits.write(&tx).await?;
        write_outbox(&tx, &ops).await?;
        audit::write(&tx, &mut events).await?;
        tx.commit().await?;
        Ok(results)
    }
}

/// Writes the new versions of `cards`.
async fn write_cards(tx: &impl GenericClient, cards: &[&Card]) -> Result<(), StoreError> {
    let ids: Vec<i64> = cards.iter().map(|c| db_id(c.id)).collect();
    let users: Vec<&str> = cards.iter().map(|c| c.user_id.as_str()).collect();
    let statuses: Vec<&str> = cards.iter().map(|c| c.status.as_str()).collect();
    let versions: Vec<i64> = cards
        .iter()
        .map(|c| i64::try_from(c.version).unwrap_or(i64::MAX))
        .collect();
    let bodies: Vec<Json<&Card>> = cards.iter().map(|c| Json(*c)).collect();
    let updated: Vec<_> = cards.iter().map(|c| c.updated_at).collect();
    tx.execute(
        "UPDATE cards SET user_id = u.user_id, status = u.status, version = u.version, \
         body = u.body, updated_at = u.updated_at \
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::jsonb[], \
         $6::timestamptz[]) AS u(id, user_id, status, version, body, updated_at) \
         WHERE cards.id = u.id",
        &[&ids, &users, &statuses, &versions, &bodies, &updated],
    )
    .await?;
    Ok(())
}

/// Applies the outbox ops in order: each card and kind ends as its last op left it.
async fn write_outbox(tx: &impl GenericClient, ops: &[OutboxOp]) -> Result<(), StoreError> {
    if ops.is_empty() {
        return Ok(());
    }
    let mut last: BTreeMap<(i64, i16), Option<&Job>> = BTreeMap::new();
    for op in ops {
        let (card, task, job) = match op {
            OutboxOp::Put(job) => (job.card, &job.task, Some(job)),
            OutboxOp::Remove(card, task) => (*card, task, None),
        };
        last.insert((db_id(card), i16::from(task.kind())), job);
    }
    let (mut gone_cards, mut gone_kinds) = (Vec::new(), Vec::new());
    let (mut cards, mut kinds, mut jobs, mut dues) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((card, kind), job) in last {
        match job {
            None => {
                gone_cards.push(card);
                gone_kinds.push(kind);
            }
            Some(job) => {
                cards.push(card);
                kinds.push(kind);
                jobs.push(Json(job));
                dues.push(job.due);
            }
        }
    }
    if !gone_cards.is_empty() {
        tx.execute(
            "DELETE FROM outbox o USING unnest($1::bigint[], $2::smallint[]) AS x(card_id, kind) \
             WHERE o.card_id = x.card_id AND o.kind = x.kind",
            &[&gone_cards, &gone_kinds],
        )
        .await?;
    }
    if !cards.is_empty() {
        tx.execute(
            "INSERT INTO outbox (card_id, kind, job, due) \
             SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::jsonb[], $4::timestamptz[]) \
             ON CONFLICT (card_id, kind) DO UPDATE SET job = EXCLUDED.job, due = EXCLUDED.due, \
             leased_until = NULL, leased_by = NULL",
            &[&cards, &kinds, &jobs, &dues],
        )
        .await?;
    }
    Ok(())
}

/// The refusal of a change that would have made a second active card: the first changed card
/// whose user has another active card.
async fn second_active(
    client: &impl GenericClient,
    changed: &[&Card],
) -> Result<Option<StoreError>, StoreError> {
    for card in changed {
        if let Some(other) = active_card(client, &card.user_id).await?
            && other != card.id
        {
            return Ok(Some(StoreError::ActiveCard {
                user: card.user_id.clone(),
                card: other,
            }));
        }
    }
    Ok(None)
}

impl PgStore {
    /// Every queued job of the verification outbox, in key order (card, then kind).
    pub async fn jobs(&self) -> Result<Vec<Job>, StoreError> {
        let rows = self
            .client()
            .await?
            .query("SELECT job FROM outbox ORDER BY card_id, kind", &[])
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<_, Json<Job>>(0)?.0))
            .collect()
    }
}
