//! PostgreSQL: the store backend several daemons share (issue #21), and the only
//! owner of the database. [`PgStore`] implements the card domain's persistence
//! ([`CardStore`]) with the sled store's guarantees, each resting on one mechanism:
//! - a card change, its audit event, its duplicates entries and the deferred work it carries
//!   commit in one transaction (`change.rs`; a creation and a removal likewise);
//! - the cards a change names are read `FOR UPDATE`, in id order (two bulk changes never
//!   deadlock): a version check sees the last committed version, so two changes of one card
//!   made at one version have exactly one winner, and a change naming no version never loses
//!   another's;
//! - audit events are numbered from one counter row (`audit.rs`), locked from numbering to
//!   commit: seqs are gapless and commit in order, so "the events after n" never misses one
//!   that commits later;
//! - at most one card per user is not rejected: a partial unique index
//!   (`cards_one_active_per_user`), which holds under any concurrency, across daemons;
//! - the duplicates index (`duplicates.rs`) is a table written in the card's transaction;
//! - the verification outbox and the cleanup queue are queues any daemon takes from
//!   (`queue.rs`, one statement for both): `FOR UPDATE SKIP LOCKED` under a lease, so a job is
//!   taken once at a time and a dead taker's job is taken again after its lease;
//! - every audit write notifies (`LISTEN`/`NOTIFY`, delivered at commit, once per transaction
//!   with its last seq); a [`Follower`] (`follow.rs`) keeps the in-memory index that serves
//!   lists, counts, search, the low-confidence queue and the change feed current from the audit
//!   log, which names every card changed after a seq, in commit order: a change through one
//!   daemon is in every other's index within milliseconds, and one whose listening connection
//!   dropped catches up from its position;
//! - tokens (`tokens.rs`) are a table every daemon checks (only the SHA-256 of a secret is
//!   stored); creations take turns, so names of active tokens stay unique across daemons; both
//!   backends implement [`crate::token_store::TokenStore`].
//!
//! The schema is versioned (`migrations/`, refinery) and migrated at connect, under an
//! advisory lock so that daemons starting together migrate once.
//!
//! The daemon serves from it through `crate::backend::Backend` (the card domain, the RPC
//! reads from the follower's index, tokens, ingestion), whose workers drain the two queues
//! under leases. Not here yet: the webhook outbox (no rows are written for PostgreSQL yet);
//! people numbers and views (so no HTTP API and no named views); the dashboard's tally;
//! export/import.

mod audit;
mod cards;
mod change;
mod duplicates;
mod error;
mod follow;
mod queue;
mod removal;
/// A fresh database per test, for this crate's tests and the end-to-end tests.
#[doc(hidden)]
pub mod testdb;
#[cfg(test)]
mod tests;
mod tokens;

use std::future::Future;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use idreview_protocol::{Card, CardId, CardRef};
use tokio_postgres::NoTls;

pub use error::PgError;
pub use follow::{FollowOptions, Follower, Link};

use crate::card::{CardError, CardStore};
use crate::secret::Secret;
use crate::store::duplicates::Shared;
use crate::store::retention::Trail;
use crate::store::tokens::TokenError;
use crate::store::{Change, Outcomes, Refused, StoreError};

mod embedded {
    refinery::embed_migrations!("src/pg/migrations");
}

/// The advisory lock key daemons take to migrate one at a time ("idreview" in ASCII).
const MIGRATION_LOCK: i64 = 0x6964_7265_7669_6577;

/// A cheap handle to the database (a connection pool); clone it freely.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// Where the pool connects, for connections of their own (a follower's `LISTEN`).
    config: std::sync::Arc<tokio_postgres::Config>,
}

impl PgStore {
    /// Connects to the database at `url` (keeping at most `pool_size` connections) and
    /// migrates its schema to this build's.
    pub async fn connect(url: &Secret, pool_size: usize) -> Result<PgStore, PgError> {
        let config: tokio_postgres::Config = url.expose().parse().map_err(PgError::Url)?;
        Self::connect_with(config, pool_size).await
    }

    /// [`PgStore::connect`] with a parsed configuration.
    pub async fn connect_with(
        config: tokio_postgres::Config,
        pool_size: usize,
    ) -> Result<PgStore, PgError> {
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager).max_size(pool_size).build()?;
        let store = PgStore {
            pool,
            config: std::sync::Arc::new(config),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations the database lacks, one daemon at a time.
    async fn migrate(&self) -> Result<(), PgError> {
        let mut client = self.client().await?;
        client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        let migrated = embedded::migrations::runner()
            .run_async(&mut **client)
            .await;
        client
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
            .await?;
        let report = migrated?;
        for m in report.applied_migrations() {
            tracing::info!(
                version = m.version(),
                name = m.name(),
                "migrated the schema"
            );
        }
        Ok(())
    }

    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<i32, PgError> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT coalesce(max(version), 0) FROM refinery_schema_history",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }

    /// A pooled connection.
    async fn client(&self) -> Result<Object, PgError> {
        Ok(self.pool.get().await?)
    }
}

/// A card id as the database keys it (ids come from a `bigint` sequence, so they fit).
fn db_id(id: CardId) -> i64 {
    i64::try_from(id.0).unwrap_or(i64::MAX)
}

/// Each method is the store's own (see the files of this module); every write commits before
/// it answers, so there is nothing to flush.
impl CardStore for PgStore {
    async fn next_id(&self) -> Result<CardId, StoreError> {
        self.next_card_id().await
    }

    async fn get(&self, id: CardId) -> Result<Option<Card>, StoreError> {
        self.card(id).await
    }

    async fn card_for_user(&self, user_id: &str) -> Result<Option<Card>, StoreError> {
        self.newest_card_of(user_id).await
    }

    async fn shared_with(&self, card: &Card) -> Result<Vec<Shared>, StoreError> {
        self.shared(card).await
    }

    async fn cards_matching(
        &self,
        keep: impl FnMut(&Card) -> bool + Send,
    ) -> Result<Vec<Card>, StoreError> {
        self.scan(keep).await
    }

    async fn create(&self, card: Card, actor: &str) -> Result<Card, CardError> {
        self.create_card(card, actor).await
    }

    async fn change<E: From<Refused> + From<StoreError> + Send>(
        &self,
        refs: &[CardRef],
        actor: &str,
        change: impl FnMut(&mut Card) -> Result<Change, E> + Send,
    ) -> Result<Outcomes<E>, StoreError> {
        self.change_cards(refs, actor, change).await
    }

    fn remove<E: From<Refused> + From<StoreError> + Send>(
        &self,
        at: CardRef,
        actor: &str,
        check: impl FnOnce(&Card) -> Result<Change, E> + Send,
        trail: Trail<'_>,
    ) -> impl Future<Output = Result<(Card, u64), E>> + Send {
        self.remove_card(at, actor, check, trail)
    }

    async fn user_token_identities(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        self.bound_identities(user_id).await
    }

    async fn erase_user_tokens(
        &self,
        user_id: &str,
        actor: &str,
        reason: &str,
    ) -> Result<(u64, u64), TokenError> {
        self.erase_tokens_of(user_id, actor, reason).await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
