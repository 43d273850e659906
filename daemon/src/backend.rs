//! [`Backend`]: the store a daemon serves from, named once. The front ends (RPC, HTTP), the
//! ingestion pipeline and the card domain take a `Backend` and never ask which it is:
//! - `Sled`: the embedded store (`crate::store`), the default;
//! - `Pg`: PostgreSQL (`crate::pg`), shared by several daemons: cards and tokens in the
//!   database, reads (lists, search, counts, the low-confidence queue, the change feed) from
//!   the [`Follower`]'s index, and this machine's ingestion jobs in a sled tree of the data dir
//!   (a job belongs to the work area that holds its folder).
//!
//! Writes go through [`CardStore`] (the card domain) and [`TokenStore`] (tokens), each method
//! a dispatch. After a write to PostgreSQL the follower catches up before the call answers,
//! so the daemon's next read shows its own write without waiting for the notification.
//!
//! The queues of deferred work (verification retries, object cleanup) are taken through the
//! backend too (`queues.rs`), so one worker loop drains them on either: on PostgreSQL under a
//! lease held by this daemon's taker name, so that another daemon finishes the jobs of one
//! that died.
//!
//! What has no PostgreSQL home yet answers [`NotOnPostgres`], never a panic or silence:
//! [`Backend::sled`] hands the sled store to a feature that needs it, and `unsupported`
//! refuses at start the settings that would run one.

mod queues;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use idreview_protocol::{
    AuditEvent, Card, CardId, CardPage, CardRef, Changes, ListQuery, LowConfidencePage, NewToken,
    Status, TokenInfo, TokenSpec,
};

use crate::card::{CardError, CardStore};
use crate::config::{Config, StoreBackend};
use crate::pg::{FollowOptions, Follower, PgError, PgStore};
use crate::store::duplicates::Shared;
use crate::store::index::Index;
use crate::store::retention::Trail;
use crate::store::tokens::TokenError;
use crate::store::{Change, IngestJobs, Outcomes, Refused, Store, StoreError};
use crate::token_store::TokenStore;

/// A feature asked of a daemon serving from PostgreSQL that has no PostgreSQL home yet.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0} is not available with [store] backend = \"postgres\" yet")]
pub struct NotOnPostgres(pub &'static str);

/// Why the PostgreSQL backend did not start.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Unsupported(#[from] NotOnPostgres),
    #[error(transparent)]
    Postgres(#[from] PgError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The store the daemon serves from; cheap to clone.
#[derive(Clone)]
pub enum Backend {
    Sled(Store),
    Pg(Arc<Pg>),
}

/// The PostgreSQL backend's parts.
pub struct Pg {
    store: PgStore,
    /// The index every read that is not "one whole card" is served from.
    follower: Follower,
    /// This data dir's ingestion jobs, in a sled database of their own.
    jobs_db: sled::Db,
    jobs: IngestJobs,
    /// Who this daemon is to the shared queues: the lease holder of the jobs it takes.
    taker: String,
    /// How long a job taken from a shared queue is this daemon's (`[store] lease_secs`).
    lease: chrono::Duration,
    /// Wakes the cleanup worker when this daemon removed a card.
    cleanup_wake: tokio::sync::Notify,
}

impl From<Store> for Backend {
    fn from(store: Store) -> Self {
        Backend::Sled(store)
    }
}

/// Waits before the follower listens again after its connection dropped (doubled up to
/// [`FOLLOW_RETRY_MAX`]).
const FOLLOW_RETRY: Duration = Duration::from_millis(200);
const FOLLOW_RETRY_MAX: Duration = Duration::from_secs(10);

impl Backend {
    /// Connects to PostgreSQL (migrating its schema), loads the follower's index and opens the
    /// ingestion jobs in `data_dir`; refuses first the settings that have no PostgreSQL home.
    pub async fn postgres(config: &Config, data_dir: &Path) -> Result<Backend, BackendError> {
        unsupported(config)?;
        let store = PgStore::connect(&config.store.url, config.store.pool_size).await?;
        let options = FollowOptions {
            threshold: config.verification.confidence_threshold,
            seed_view: false,
            retry: FOLLOW_RETRY,
            retry_max: FOLLOW_RETRY_MAX,
        };
        let follower = Follower::start(&store, options).await?;
        let jobs_db = sled::Config::new()
            .path(data_dir.join("ingest-jobs"))
            .cache_capacity(1024 * 1024)
            .open()
            .map_err(StoreError::from)?;
        let jobs = IngestJobs::open(&jobs_db)?;
        let taker = taker_name();
        tracing::info!(taker = %taker, lease_secs = config.store.lease().as_secs(), "taking shared jobs from PostgreSQL under leases");
        Ok(Backend::Pg(Arc::new(Pg {
            store,
            follower,
            jobs_db,
            jobs,
            taker,
            lease: chrono::Duration::from_std(config.store.lease())
                .unwrap_or(chrono::Duration::MAX),
            cleanup_wake: tokio::sync::Notify::new(),
        })))
    }

    /// Which backend this is, for the log.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sled(_) => "sled",
            Backend::Pg(_) => "postgres",
        }
    }

    /// The sled store, for `feature`, which only sled has.
    pub fn sled(&self, feature: &'static str) -> Result<&Store, NotOnPostgres> {
        match self {
            Backend::Sled(store) => Ok(store),
            Backend::Pg(_) => Err(NotOnPostgres(feature)),
        }
    }

    /// Reads the index that serves lists, counts and the change feed.
    pub fn read<T>(&self, f: impl FnOnce(&Index) -> T) -> T {
        match self {
            Backend::Sled(store) => store.read_index(f),
            Backend::Pg(pg) => pg.follower.read(f),
        }
    }

    /// One page of summaries; see [`Index::list`].
    pub fn list(&self, query: &ListQuery, caller: &str) -> CardPage {
        self.read(|i| i.list(query, caller))
    }

    /// The ids and versions of the cards a list would show; see [`Index::refs`].
    pub fn refs(&self, query: &ListQuery, caller: &str) -> Vec<CardRef> {
        self.read(|i| i.refs(query, caller))
    }

    /// One page of the low-confidence queue; see [`Index::low_confidence`].
    pub fn low_confidence(&self, offset: u64, limit: u32) -> LowConfidencePage {
        self.read(|i| i.low_confidence(offset, limit))
    }

    /// Cards per status, in [`Status::ALL`] order.
    pub fn counts_by_status(&self) -> Vec<(Status, u64)> {
        self.read(Index::counts_by_status)
    }

    /// How many cards there are.
    pub fn card_count(&self) -> u64 {
        self.read(Index::len) as u64
    }

    /// Cards changed after the index's cursor `since`, waiting up to `wait` for one.
    pub async fn changes(&self, since: u64, wait: Duration) -> Changes {
        match self {
            Backend::Sled(store) => store.changes(since, wait).await,
            Backend::Pg(pg) => pg.follower.changes(since, wait).await,
        }
    }

    /// The audit events of one card, oldest first.
    pub async fn audit_for(&self, id: CardId) -> Result<Vec<AuditEvent>, StoreError> {
        match self {
            Backend::Sled(store) => store.audit_for(id),
            Backend::Pg(pg) => pg.store.audit_for(id).await,
        }
    }

    /// Up to `limit` audit events after `since`, in seq order.
    pub async fn audit_since(
        &self,
        since: u64,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        match self {
            Backend::Sled(store) => store.audit_since(since, limit),
            Backend::Pg(pg) => pg.store.audit_since(since, limit).await,
        }
    }

    /// This data dir's ingestion jobs.
    pub fn ingest_jobs(&self) -> &IngestJobs {
        match self {
            Backend::Sled(store) => store.ingest_jobs(),
            Backend::Pg(pg) => &pg.jobs,
        }
    }

    /// Runs a PostgreSQL write, then brings the index up to it (a failed catch-up is retried
    /// by the follower; the write stands).
    async fn then_caught_up<T>(pg: &Pg, write: impl Future<Output = T>) -> T {
        let done = write.await;
        if let Err(e) = pg.follower.catch_up().await {
            tracing::warn!(error = %e, "cannot bring the index up to this daemon's own write yet");
        }
        done
    }
}

/// This process's name as the holder of leases on shared jobs: host, process id and a random
/// part (a restarted daemon is another holder: its predecessor's leases run out).
fn taker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into());
    let mut random = [0u8; 4];
    let _ = getrandom::fill(&mut random);
    format!(
        "{host}/{}/{}",
        std::process::id(),
        u32::from_be_bytes(random)
    )
}

/// Refuses the settings that would start a feature PostgreSQL has no home for yet.
fn unsupported(config: &Config) -> Result<(), NotOnPostgres> {
    if config.store.backend != StoreBackend::Postgres {
        return Ok(());
    }
    if !config.http.listen.trim().is_empty() {
        return Err(NotOnPostgres("the HTTP API ([http] listen)"));
    }
    if !config.webhooks.urls.is_empty() {
        return Err(NotOnPostgres("webhooks ([webhooks] urls)"));
    }
    if !config.metrics.listen.trim().is_empty() {
        return Err(NotOnPostgres("metrics ([metrics] listen)"));
    }
    Ok(())
}

/// Each method is the backend's own; PostgreSQL's writes catch the index up before answering.
impl CardStore for Backend {
    async fn next_id(&self) -> Result<CardId, StoreError> {
        match self {
            Backend::Sled(store) => CardStore::next_id(store).await,
            Backend::Pg(pg) => pg.store.next_id().await,
        }
    }

    async fn get(&self, id: CardId) -> Result<Option<Card>, StoreError> {
        match self {
            Backend::Sled(store) => store.get(id),
            Backend::Pg(pg) => CardStore::get(&pg.store, id).await,
        }
    }

    async fn card_for_user(&self, user_id: &str) -> Result<Option<Card>, StoreError> {
        match self {
            Backend::Sled(store) => store.card_for_user(user_id),
            Backend::Pg(pg) => CardStore::card_for_user(&pg.store, user_id).await,
        }
    }

    async fn shared_with(&self, card: &Card) -> Result<Vec<Shared>, StoreError> {
        match self {
            Backend::Sled(store) => store.shared_with(card),
            Backend::Pg(pg) => CardStore::shared_with(&pg.store, card).await,
        }
    }

    async fn cards_matching(
        &self,
        keep: impl FnMut(&Card) -> bool + Send,
    ) -> Result<Vec<Card>, StoreError> {
        match self {
            Backend::Sled(store) => store.cards_matching(keep),
            Backend::Pg(pg) => CardStore::cards_matching(&pg.store, keep).await,
        }
    }

    async fn create(&self, card: Card, actor: &str) -> Result<Card, CardError> {
        match self {
            Backend::Sled(store) => CardStore::create(store, card, actor).await,
            Backend::Pg(pg) => Self::then_caught_up(pg, pg.store.create(card, actor)).await,
        }
    }

    async fn change<E: From<Refused> + From<StoreError> + Send>(
        &self,
        refs: &[CardRef],
        actor: &str,
        change: impl FnMut(&mut Card) -> Result<Change, E> + Send,
    ) -> Result<Outcomes<E>, StoreError> {
        match self {
            Backend::Sled(store) => CardStore::change(store, refs, actor, change).await,
            Backend::Pg(pg) => Self::then_caught_up(pg, pg.store.change(refs, actor, change)).await,
        }
    }

    async fn remove<E: From<Refused> + From<StoreError> + Send>(
        &self,
        at: CardRef,
        actor: &str,
        check: impl FnOnce(&Card) -> Result<Change, E> + Send,
        trail: Trail<'_>,
    ) -> Result<(Card, u64), E> {
        match self {
            Backend::Sled(store) => CardStore::remove(store, at, actor, check, trail).await,
            Backend::Pg(pg) => {
                let removed =
                    Self::then_caught_up(pg, pg.store.remove(at, actor, check, trail)).await;
                // Its objects are queued: this daemon's cleanup worker takes them now.
                pg.cleanup_wake.notify_one();
                removed
            }
        }
    }

    async fn user_token_identities(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        match self {
            Backend::Sled(store) => CardStore::user_token_identities(store, user_id).await,
            Backend::Pg(pg) => pg.store.user_token_identities(user_id).await,
        }
    }

    async fn erase_user_tokens(
        &self,
        user_id: &str,
        actor: &str,
        reason: &str,
    ) -> Result<(u64, u64), TokenError> {
        match self {
            Backend::Sled(store) => store.erase_user_tokens(user_id, actor, reason).await,
            Backend::Pg(pg) => {
                Self::then_caught_up(pg, pg.store.erase_user_tokens(user_id, actor, reason)).await
            }
        }
    }

    /// sled: every buffered write; PostgreSQL commits each call, so only the ingestion jobs.
    async fn flush(&self) -> Result<(), StoreError> {
        match self {
            Backend::Sled(store) => store.flush().await,
            Backend::Pg(pg) => {
                let db = pg.jobs_db.clone();
                tokio::task::spawn_blocking(move || db.flush())
                    .await
                    .map_err(|e| StoreError::Damaged(format!("flushing ingestion jobs: {e}")))??;
                Ok(())
            }
        }
    }
}

/// Tokens: sled's table or PostgreSQL's, by dispatch.
impl TokenStore for Backend {
    async fn create_token(&self, spec: &TokenSpec, actor: &str) -> Result<NewToken, TokenError> {
        match self {
            Backend::Sled(store) => TokenStore::create_token(store, spec, actor).await,
            Backend::Pg(pg) => pg.store.create_token(spec, actor).await,
        }
    }

    async fn revoke_token(&self, id: &str, actor: &str) -> Result<TokenInfo, TokenError> {
        match self {
            Backend::Sled(store) => TokenStore::revoke_token(store, id, actor).await,
            Backend::Pg(pg) => pg.store.revoke_token(id, actor).await,
        }
    }

    async fn list_tokens(&self) -> Result<Vec<TokenInfo>, TokenError> {
        match self {
            Backend::Sled(store) => TokenStore::list_tokens(store).await,
            Backend::Pg(pg) => pg.store.list_tokens().await,
        }
    }

    async fn authenticate(&self, bearer: &str) -> Result<TokenInfo, TokenError> {
        match self {
            Backend::Sled(store) => TokenStore::authenticate(store, bearer).await,
            Backend::Pg(pg) => pg.store.authenticate(bearer).await,
        }
    }

    async fn check_token(&self, id: &str) -> Result<TokenInfo, TokenError> {
        match self {
            Backend::Sled(store) => TokenStore::check_token(store, id).await,
            Backend::Pg(pg) => pg.store.check_token(id).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_refuses_what_it_has_no_home_for() {
        let mut config = Config::default();
        config.store.backend = StoreBackend::Postgres;
        assert!(unsupported(&config).is_ok());
        config.http.listen = "127.0.0.1:0".into();
        let err = unsupported(&config).expect_err("http refused");
        assert_eq!(
            err.to_string(),
            "the HTTP API ([http] listen) is not available with [store] backend = \"postgres\" yet"
        );
        config.store.backend = StoreBackend::Sled;
        assert!(unsupported(&config).is_ok(), "sled runs it");
    }
}
