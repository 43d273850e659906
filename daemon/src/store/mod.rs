//! The store: the only owner of persistence. Cards, the user -> card index, the audit log and
//! the object cleanup queue ([`cleanup`]) live in sled; every change and its audit event are
//! written in one transaction, and the in-memory [`index::Index`] that serves listing is
//! updated in the same code path. Beside the cards: named views ([`views`]) and the
//! dashboard's numbers (`stats.rs`, over the index and the audit log's tally, `tally.rs`).

mod audit_log;
mod change;
pub mod cleanup;
mod commit;
pub mod duplicates;
pub mod export;
pub(crate) mod feed;
pub mod index;
mod jobs;
pub use jobs::IngestJobs;
pub mod outbox;
pub mod people;
mod rebuild;
mod record;
pub mod retention;
mod stats;
mod stored;
mod tally;
pub mod tokens;
pub mod views;
pub mod webhook_outbox;
mod words;

pub use change::Change;

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use chrono::Utc;
use idreview_protocol::{
    Card, CardId, CardPage, CardRef, CardSummary, ListQuery, LowConfidencePage, Status,
};

use commit::{Write, abort, untx};
use index::Index;

/// What went wrong inside the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store I/O: {0}")]
    Sled(#[from] sled::Error),
    /// The PostgreSQL backend failed (see `crate::pg`).
    #[error(transparent)]
    Database(#[from] crate::pg::PgError),
    /// A feature with no PostgreSQL home yet, asked of a daemon serving from PostgreSQL.
    #[error(transparent)]
    NotOnPostgres(#[from] crate::backend::NotOnPostgres),
    #[error("stored record does not decode: {0}")]
    Codec(#[from] bincode::Error),
    #[error("user {user} already has an active card ({card}); reject it before submitting again")]
    ActiveCard { user: String, card: CardId },
    #[error("the store is damaged: {0}")]
    Damaged(String),
    #[error("the store's write lock was poisoned by a panic")]
    Poisoned,
    #[error(
        "the store is in format {found}; this idreviewd reads format {FORMAT_VERSION}. Export it with the idreviewd that wrote it (`idreviewd export`) and import it into a new data dir"
    )]
    Format { found: u64 },
}

/// Each named card of an update with its outcome: the changed card, or why not.
pub type Outcomes<E> = Vec<(CardId, Result<Card, E>)>;

/// Why the store would not apply a change to one card: the caller's rules never ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("card {0} not found")]
    NotFound(CardId),
    #[error(
        "conflict: card {id} is at version {actual}, the change was based on {expected}; reload and try again"
    )]
    Conflict {
        id: CardId,
        expected: u64,
        actual: u64,
    },
    #[error("card {0} is named twice in one call")]
    NamedTwice(CardId),
}

/// Key in `meta` of the last card id handed out.
const NEXT_CARD_ID: &[u8] = b"next_card_id";

/// Key in `meta` of the on-disk format; stores without it predate batched audit records.
const FORMAT: &[u8] = b"format";
/// The on-disk format this build writes: 2 = audit events in one batch per commit; 3 = a
/// card's record may end with its raw zone; 4 = a card's times as integers, the record saying
/// which layout its card is in (see `store::record`, `stored::card`).
const FORMAT_VERSION: u64 = 4;
/// Older formats this build reads in place (and stamps [`FORMAT_VERSION`], since it writes
/// format-4 records into them from then on).
const FORMAT_READ_IN_PLACE: [u64; 2] = [2, 3];

/// A cheap handle to the store; clone it freely.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: sled::Db,
    /// card id (u64 BE) -> the card and the seqs of its audit events (see [`record`])
    cards: sled::Tree,
    /// user id -> card id (u64 BE) of the user's newest card
    users: sled::Tree,
    /// first seq (u64 BE) -> the audit events of one commit (see [`audit_log`])
    audit: sled::Tree,
    /// deleted card id (u64 BE) -> the seqs of its audit events (u64 BE each)
    graves: sled::Tree,
    /// file SHA-256 or document number ++ card id -> user id: reused documents, see
    /// [`duplicates`].
    duplicates: sled::Tree,
    /// Counters and other single values, e.g. [`NEXT_CARD_ID`].
    meta: sled::Tree,
    /// card id (u64 BE) ++ task kind -> bincode [`outbox::Job`]
    outbox: sled::Tree,
    /// Ingestion jobs, see [`jobs`].
    jobs: IngestJobs,
    /// seq (u64 BE) -> bincode `cleanup::CleanupJob`: objects of deleted cards still to remove.
    cleanup: sled::Tree,
    /// Wakes the cleanup worker when jobs are queued (a stored permit if it is busy).
    cleanup_wake: tokio::sync::Notify,
    /// Bearer tokens, in sled and in memory.
    tokens: tokens::TokenTable,
    /// Stable numbers of users and acting identities, in sled and in memory.
    people: people::People,
    /// audit seq (u64 BE) -> bincode [`webhook_outbox::OutboxItem`]: webhooks not yet delivered.
    webhook_outbox: sled::Tree,
    /// The webhook events queued (`[webhooks] events`); none until receivers are configured.
    webhooks: std::sync::OnceLock<Vec<webhook_outbox::WebhookEvent>>,
    /// Wakes the webhook worker when the outbox grows.
    webhook_added: tokio::sync::Notify,
    /// Summaries serving every read that is not "one whole card".
    index: RwLock<Index>,
    /// Serialises writers so that version checks, transactions and index updates happen in
    /// one order; readers never take it.
    writer: Mutex<()>,
    /// The change-feed cursor after every write, for long-polling readers of [`Store::changes`].
    changed: tokio::sync::watch::Sender<u64>,
    /// The seq of the last audit event numbered: the log's own gapless counter (from 1, so that
    /// "events after 0" is the whole log), restarted from the log at every write.
    audit_seq: std::sync::atomic::AtomicU64,
    /// The audit log's last week tallied for the dashboard, caught up by each `stats` call
    /// (which holds it while reading the new events; writers never take it).
    tally: Mutex<tally::Tally>,
    /// Named views (see [`views`]): saved filters and sorts, per reviewer and the team's.
    views: sled::Tree,
}

/// How a store is opened.
pub struct Options {
    /// Fields below this confidence count as unsure in the index.
    pub threshold: f32,
    /// sled's page cache (its own default is 1 GiB).
    pub cache_bytes: u64,
    /// Keep the seed view's index (the HTTP API's admin lists and search: 23 MiB more
    /// resident memory at 100,000 cards in `bench`); without it those lists are empty.
    pub seed_view: bool,
}

impl Store {
    /// Opens (or creates) the store at `path` with a small page cache and every index; see
    /// [`Store::open_with`].
    pub fn open(path: &Path, threshold: f32) -> Result<Store, StoreError> {
        Self::open_with(
            path,
            &Options {
                threshold,
                cache_bytes: 32 * 1024 * 1024,
                seed_view: true,
            },
        )
    }

    /// Opens (or creates) the store at `path` and rebuilds the index from every card.
    pub fn open_with(path: &Path, options: &Options) -> Result<Store, StoreError> {
        let config = || {
            sled::Config::new()
                .path(path)
                .cache_capacity(options.cache_bytes)
        };
        let db = config().open()?;
        let cards = db.open_tree("cards")?;
        check_format(&db, &cards)?;
        let mut index = Index::rebuilding(options.threshold, options.seed_view);
        rebuild::rebuild(&cards, &mut index)?;
        index.compact();
        // The rebuild read every page of cards, and sled keeps them all: its cache counts a
        // page only once 64 reads have queued in one of its 256 shards, so one scan evicts
        // nothing (tens of MB at 100,000 cards, whatever `cache_bytes` says). Closed and
        // opened again, the store starts with an empty cache that reads fill as they go.
        db.flush()?;
        drop((cards, db));
        let db = rebuild::reopen_db(config)?;
        let cards = db.open_tree("cards")?;
        let duplicates = db.open_tree("duplicates")?;
        duplicates::build_if_missing(&cards, &duplicates)?;
        let inner = Inner {
            duplicates,
            users: db.open_tree("users")?,
            audit: db.open_tree("audit")?,
            graves: db.open_tree("graves")?,
            meta: db.open_tree("meta")?,
            outbox: db.open_tree("outbox")?,
            cleanup: db.open_tree("cleanup")?,
            jobs: IngestJobs::open(&db)?,
            cleanup_wake: tokio::sync::Notify::new(),
            tokens: tokens::TokenTable::open(&db)?,
            people: people::People::open(&db)?,
            webhook_outbox: db.open_tree("webhook_outbox")?,
            views: db.open_tree("views")?,
            webhooks: std::sync::OnceLock::new(),
            webhook_added: tokio::sync::Notify::new(),
            cards,
            db,
            changed: tokio::sync::watch::Sender::new(index.cursor()),
            index: RwLock::new(index),
            writer: Mutex::new(()),
            audit_seq: std::sync::atomic::AtomicU64::new(0),
            tally: Mutex::new(tally::Tally::default()),
        };
        Ok(Store {
            inner: Arc::new(inner),
        })
    }

    /// A fresh card id, larger than every id handed out before (also across restarts).
    pub fn next_id(&self) -> Result<CardId, StoreError> {
        // A counter of its own (not `generate_id`, which audit events share) keeps card ids
        // consecutive: 1, 2, 3...
        let next = self.inner.meta.update_and_fetch(NEXT_CARD_ID, |old| {
            let n = old.map_or(0, be_u64) + 1;
            Some(n.to_be_bytes().to_vec())
        })?;
        Ok(CardId(next.as_deref().map_or(1, be_u64)))
    }

    /// Stores a new card, refusing a second active card for the same user.
    pub async fn create(&self, card: Card, actor: &str) -> Result<Card, StoreError> {
        let card = self.create_buffered(card, actor)?;
        self.flush().await?;
        Ok(card)
    }

    /// [`Store::create`] without waiting for the disk: for the pipeline's steps, which are
    /// redone from the work folder if a crash loses them. A later flush makes them durable.
    pub fn create_buffered(&self, card: Card, actor: &str) -> Result<Card, StoreError> {
        {
            let _writer = self.inner.writer.lock().map_err(|_| StoreError::Poisoned)?;
            self.start_events()?;
            if let Some(existing) = self.card_for_user(&card.user_id)?
                && existing.status != Status::Rejected
            {
                return Err(StoreError::ActiveCard {
                    user: card.user_id.clone(),
                    card: existing.id,
                });
            }
            let event = self.event(
                Some(card.id),
                actor,
                Change::new("card.created"),
                None,
                Some(&card),
            )?;
            self.commit(
                &[Write::read(&card)],
                &[event],
                &[(&card.user_id, card.id)],
                &[],
            )?;
        }
        Ok(card)
    }

    /// Writes cards as they are, without the rules of [`Store::create`] (a restore, or a seeded
    /// benchmark store): one transaction, one `card.imported` audit event per card, one flush.
    pub async fn import(&self, cards: &[Card], actor: &str) -> Result<(), StoreError> {
        {
            let _writer = self.inner.writer.lock().map_err(|_| StoreError::Poisoned)?;
            self.start_events()?;
            let events = cards
                .iter()
                .map(|c| {
                    self.event(
                        Some(c.id),
                        actor,
                        Change::new("card.imported"),
                        None,
                        Some(c),
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            let writes: Vec<Write> = cards.iter().map(Write::read).collect();
            let users: Vec<(&str, CardId)> =
                cards.iter().map(|c| (c.user_id.as_str(), c.id)).collect();
            self.commit(&writes, &events, &users, &[])?;
            let top = cards.iter().map(|c| c.id.0).max().unwrap_or(0);
            self.inner.meta.fetch_and_update(NEXT_CARD_ID, |old| {
                Some(old.map_or(top, be_u64).max(top).to_be_bytes().to_vec())
            })?;
        }
        self.flush().await?;
        Ok(())
    }

    /// Applies `change` to each named card whose version matches, all in one transaction and
    /// one flush; each card gets its own result, the changed card or why not (a [`Refused`]
    /// from the store, or the caller's own error). `change` sees a copy and returns what to
    /// audit.
    pub async fn update_many<E: From<Refused>>(
        &self,
        refs: &[CardRef],
        actor: &str,
        change: impl FnMut(&mut Card) -> Result<Change, E>,
    ) -> Result<Outcomes<E>, StoreError> {
        let results = self.update_many_buffered(refs, actor, change)?;
        self.flush().await?;
        Ok(results)
    }

    /// [`Store::update_many`] without waiting for the disk; see [`Store::create_buffered`].
    pub fn update_many_buffered<E: From<Refused>>(
        &self,
        refs: &[CardRef],
        actor: &str,
        mut change: impl FnMut(&mut Card) -> Result<Change, E>,
    ) -> Result<Outcomes<E>, StoreError> {
        let _writer = self.inner.writer.lock().map_err(|_| StoreError::Poisoned)?;
        self.start_events()?;
        let mut results: Vec<(CardId, Result<Card, E>)> = Vec::with_capacity(refs.len());
        let mut histories = Vec::new();
        let mut befores = Vec::new();
        let mut seen = HashSet::with_capacity(refs.len());
        let mut events = Vec::new();
        let mut outbox = Vec::new();
        let mut scratch = Vec::new();
        for r in refs {
            let outcome = match self.record(r.id)? {
                None => Err(Refused::NotFound(r.id).into()),
                Some((card, history)) => match r.expected_version {
                    Some(expected) if expected != card.version => Err(Refused::Conflict {
                        id: r.id,
                        expected,
                        actual: card.version,
                    }
                    .into()),
                    // A card named twice in one call: the second sees the first's change.
                    _ if seen.contains(&r.id) => Err(Refused::NamedTwice(r.id).into()),
                    _ => {
                        // The change works on the card read; what its event and the
                        // duplicates index need of the card as it was is taken first.
                        let mut card = card;
                        let before = (
                            change::snapshot(&card, &[]),
                            duplicates::Identity::of(&card),
                        );
                        let version = card.version;
                        change(&mut card).map(|what| {
                            card.version = version + 1;
                            card.updated_at = Utc::now();
                            (before, card, history, what)
                        })
                    }
                },
            };
            match outcome {
                Ok(((snapshot, identity), after, history, mut what)) => {
                    // The duplicates entries as they were, when the change moved them (a
                    // correction of the number, a re-verification): read from the card as
                    // stored, which the writer lock keeps as it was.
                    let entries = if identity.is_of(&after, &mut scratch) {
                        None
                    } else {
                        let stored = self.record(r.id)?.map(|(card, _)| card);
                        Some(duplicates::Entries::of(stored.as_ref()))
                    };
                    outbox.append(&mut what.outbox);
                    events.push(self.event_after(
                        Some(after.id),
                        actor,
                        what,
                        Some(snapshot),
                        Some(&after),
                    )?);
                    seen.insert(r.id);
                    histories.push(history);
                    befores.push(entries);
                    results.push((r.id, Ok(after)));
                }
                Err(e) => results.push((r.id, Err(e))),
            }
        }
        // The writer lock, held since each record was read, keeps these histories current.
        let writes: Vec<Write> = results
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .zip(histories.iter().zip(&befores))
            .map(|(card, (history, before))| Write::known(card, history, before.as_ref()))
            .collect();
        self.commit(&writes, &events, &[], &outbox)?;
        Ok(results)
    }

    /// [`Store::update_many_buffered`] for one card, answering with the changed card.
    pub fn update_buffered<E: From<Refused> + From<StoreError>>(
        &self,
        card: CardRef,
        actor: &str,
        change: impl FnMut(&mut Card) -> Result<Change, E>,
    ) -> Result<Card, E> {
        one(self.update_many_buffered(&[card], actor, change)?)
    }

    /// [`Store::update_many`] for one card, answering with the changed card.
    pub async fn update<E: From<Refused> + From<StoreError>>(
        &self,
        card: CardRef,
        actor: &str,
        change: impl FnMut(&mut Card) -> Result<Change, E>,
    ) -> Result<Card, E> {
        one(self.update_many(&[card], actor, change).await?)
    }

    /// The whole card.
    pub fn get(&self, id: CardId) -> Result<Option<Card>, StoreError> {
        match self.inner.cards.get(id.0.to_be_bytes())? {
            Some(bytes) => Ok(Some(record::card(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The whole card and the seqs of its audit events (see [`record`]).
    fn record(&self, id: CardId) -> Result<Option<(Card, Vec<u8>)>, StoreError> {
        match self.inner.cards.get(id.0.to_be_bytes())? {
            Some(bytes) => Ok(Some((
                record::card(&bytes)?,
                record::history(&bytes)?.to_vec(),
            ))),
            None => Ok(None),
        }
    }

    /// The user's newest card, active or rejected.
    pub fn card_for_user(&self, user_id: &str) -> Result<Option<Card>, StoreError> {
        match self.inner.users.get(user_id.as_bytes())? {
            Some(id) => self.get(CardId(be_u64(&id))),
            None => Ok(None),
        }
    }

    /// One page of summaries; see [`Index::list`].
    pub fn list(&self, query: &ListQuery, caller: &str) -> CardPage {
        self.read_index(|i| i.list(query, caller))
    }

    /// The ids and versions of the cards a list would show; see [`Index::refs`].
    pub fn refs(&self, query: &ListQuery, caller: &str) -> Vec<CardRef> {
        self.read_index(|i| i.refs(query, caller))
    }

    /// One page of the low-confidence queue; see [`Index::low_confidence`].
    pub fn low_confidence(&self, offset: u64, limit: u32) -> LowConfidencePage {
        self.read_index(|i| i.low_confidence(offset, limit))
    }

    /// The card's summary as the list shows it.
    pub fn summary(&self, id: CardId) -> Option<CardSummary> {
        self.read_index(|i| i.summary(id))
    }

    /// One page of the seed view's admin list; see [`crate::seed::SeedIndex::list`].
    pub fn seed_list(&self, query: &crate::seed::SeedQuery) -> crate::seed::SeedPage {
        self.read_index(|i| i.seed_list(query))
    }

    /// Cards per status, in [`Status::ALL`] order.
    pub fn counts_by_status(&self) -> Vec<(Status, u64)> {
        self.read_index(Index::counts_by_status)
    }

    /// How many cards there are.
    pub fn card_count(&self) -> u64 {
        self.read_index(Index::len) as u64
    }

    /// The ingestion jobs of this data dir's work area.
    pub fn ingest_jobs(&self) -> &IngestJobs {
        &self.inner.jobs
    }

    /// Makes everything written so far durable. A blocking flush on the blocking pool: sled
    /// 0.34's `flush_async` can leave concurrent callers waiting forever (sled issue 1241).
    pub async fn flush(&self) -> Result<(), StoreError> {
        let db = self.inner.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|e| StoreError::Sled(sled::Error::ReportableBug(e.to_string())))??;
        Ok(())
    }

    /// Reads the index that serves lists, counts and the change feed.
    pub fn read_index<T>(&self, f: impl FnOnce(&Index) -> T) -> T {
        // A panic while holding the lock leaves a consistent index (upsert is one insert).
        let guard = self.inner.index.read().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }
}

/// The changed card of a one-card update, or why it did not change.
fn one<E: From<StoreError>>(mut results: Outcomes<E>) -> Result<Card, E> {
    match results.pop() {
        Some((_, result)) => result,
        None => Err(StoreError::Damaged("an update produced no result".into()).into()),
    }
}

/// Refuses a store written in another format; stamps a new one.
fn check_format(db: &sled::Db, cards: &sled::Tree) -> Result<(), StoreError> {
    let meta = db.open_tree("meta")?;
    match meta.get(FORMAT)? {
        Some(v) if be_u64(&v) == FORMAT_VERSION => Ok(()),
        Some(v) if FORMAT_READ_IN_PLACE.contains(&be_u64(&v)) => {
            meta.insert(FORMAT, &FORMAT_VERSION.to_be_bytes())?;
            Ok(())
        }
        Some(v) => Err(StoreError::Format { found: be_u64(&v) }),
        None if cards.is_empty() && db.open_tree("audit")?.is_empty() => {
            meta.insert(FORMAT, &FORMAT_VERSION.to_be_bytes())?;
            Ok(())
        }
        None => Err(StoreError::Format { found: 1 }),
    }
}

fn be_u64(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let n = bytes.len().min(8);
    buf[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(buf)
}
/// Opens a store a test has just closed. sled lets go of its file lock only when its last
/// background write finishes, a moment after the last handle is dropped; on a loaded machine
/// an immediate reopen can find the lock still held.
#[cfg(test)]
pub(crate) fn reopen(path: &Path) -> Store {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match Store::open(path, 0.8) {
            Ok(store) => return store,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            Err(e) => panic!("reopen {}: {e}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests;
