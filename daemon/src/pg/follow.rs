//! A daemon's view of every card in PostgreSQL, kept current across daemons: the [`Index`]
//! that serves lists, counts, search, the low-confidence queue and the change feed (the one
//! the sled store keeps), loaded from the database at start and fed from the audit log.
//!
//! The audit log is the change log: every card creation, change and removal writes its events
//! in the card's transaction, numbered from the counter row, so seqs commit in order and never
//! gap (`audit.rs`); the events after n name every card changed since n, also a removed one
//! (its events keep their card id). A card row's own sequence column would not do: numbers
//! taken from a sequence commit out of order, so "after n" could miss one that commits later.
//! Each audit write notifies [`CHANNEL`] with its last seq at commit, once per transaction.
//!
//! The follower's position is the audit seq its index reflects. At start it `LISTEN`s, then
//! reads every card and the newest seq in one snapshot; on each notification past its position
//! (many coalesce into one), and after every reconnect of its listening connection, it catches
//! up: one query for each card with events after its position, the card as it is now or none
//! (removed), applied in seq order, streamed in batches. A drop loses nothing: the catch-up
//! after the reconnect reads from the position.

use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use idreview_protocol::{Card, CardId, Changes};
use tokio::sync::{Mutex, watch};
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::{AsyncMessage, IsolationLevel, NoTls};

use super::PgStore;
use super::audit::CHANNEL;
use super::cards::decode;
use crate::store::StoreError;
use crate::store::feed::wait_for_changes;
use crate::store::index::Index;

/// Cards applied to the index under one write lock while catching up.
const BATCH: usize = 512;

/// How a follower builds its index and keeps its connection.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Fields below this confidence count as unsure in the index.
    pub threshold: f32,
    /// Keep the seed view's index too (see `store::Options::seed_view`).
    pub seed_view: bool,
    /// The wait before reconnecting (or retrying a failed catch-up), doubled up to `retry_max`.
    pub retry: Duration,
    pub retry_max: Duration,
}

/// The state of the follower's listening connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Link {
    /// The server process of the listening connection, while it is up.
    pub backend_pid: Option<i32>,
    /// How many times it connected (1 after start).
    pub connects: u64,
    /// Notifications heard on it, over every connection.
    pub heard: u64,
}

/// The index fed from PostgreSQL, and the task that feeds it (stopped when this is dropped).
pub struct Follower {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    store: PgStore,
    index: RwLock<Index>,
    /// The index's change-feed cursor after every applied batch.
    changed: watch::Sender<u64>,
    /// The audit seq the index reflects.
    position: AtomicU64,
    /// Held through a catch-up, so that two never apply out of order.
    catching: Mutex<()>,
    link: watch::Sender<Link>,
}

/// A card as a catch-up found it.
enum Update {
    Now(Box<Card>),
    Removed(CardId),
}

impl Follower {
    /// Listens, loads every card of `store`'s database into an index and starts following.
    pub async fn start(store: &PgStore, options: FollowOptions) -> Result<Follower, StoreError> {
        let link = watch::Sender::new(Link::default());
        // Listening before the snapshot: a change committed after it is heard.
        let listener = Listener::open(store, &link).await?;
        let (index, position) = load(store, &options).await?;
        let shared = Arc::new(Shared {
            store: store.clone(),
            changed: watch::Sender::new(index.cursor()),
            index: RwLock::new(index),
            position: AtomicU64::new(position),
            catching: Mutex::new(()),
            link,
        });
        let task = tokio::spawn(follow(Arc::clone(&shared), listener, options));
        Ok(Follower { shared, task })
    }

    /// Reads the index.
    pub fn read<T>(&self, f: impl FnOnce(&Index) -> T) -> T {
        // A panic while holding the lock leaves a consistent index (upsert is one insert).
        let guard = self.shared.index.read().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }

    /// The audit seq the index reflects: every change up to it is in.
    pub fn position(&self) -> u64 {
        self.shared.position.load(Ordering::Acquire)
    }

    /// Cards changed after the index's cursor `since`, waiting up to `wait` for one; see
    /// [`wait_for_changes`].
    pub async fn changes(&self, since: u64, wait: Duration) -> Changes {
        wait_for_changes(&self.shared.changed, since, wait, |since| {
            self.read(|i| i.changes_since(since))
        })
        .await
    }

    /// Brings the index up to every change committed before this call (a daemon calls it after
    /// its own write, so that its next read shows the write without waiting for the
    /// notification).
    pub async fn catch_up(&self) -> Result<(), StoreError> {
        self.shared.catch_up().await
    }

    /// The listening connection's state, as it changes.
    pub fn link(&self) -> watch::Receiver<Link> {
        self.shared.link.subscribe()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Every card and the audit seq they reflect, read in one snapshot and streamed into a new
/// index.
async fn load(store: &PgStore, options: &FollowOptions) -> Result<(Index, u64), StoreError> {
    let mut client = store.client().await?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let position: i64 = tx
        .query_one("SELECT coalesce(max(seq), 0) FROM audit", &[])
        .await?
        .try_get(0)?;
    let none: [&(dyn ToSql + Sync); 0] = [];
    let rows = tx.query_raw("SELECT body FROM cards", none).await?;
    let mut rows = pin!(rows);
    let mut index = Index::rebuilding(options.threshold, options.seed_view);
    while let Some(row) = rows.try_next().await? {
        index.upsert(&decode(&row)?);
    }
    index.compact();
    tx.commit().await?;
    Ok((index, u64::try_from(position).unwrap_or(0)))
}

/// Keeps the index current until the follower is dropped: catches up at start and on every
/// notification past the position; when the listening connection ends, listens again and
/// catches up.
async fn follow(shared: Arc<Shared>, mut listener: Listener, options: FollowOptions) {
    loop {
        shared.catch_up_until_done(&options).await;
        while listener.seqs.changed().await.is_ok() {
            let newest = *listener.seqs.borrow_and_update();
            if newest > shared.position.load(Ordering::Acquire) {
                shared.catch_up_until_done(&options).await;
            }
        }
        shared.link.send_modify(|l| l.backend_pid = None);
        tracing::warn!("the PostgreSQL change feed's connection ended; reconnecting");
        listener = shared.listen_until_done(&options).await;
    }
}

impl Shared {
    /// Catches up, retrying after failures (the database away) until it succeeds.
    async fn catch_up_until_done(&self, options: &FollowOptions) {
        let mut wait = options.retry;
        while let Err(e) = self.catch_up().await {
            tracing::warn!(error = %e, retry_in = ?wait, "cannot read PostgreSQL's changes");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(options.retry_max);
        }
    }

    /// Listens again, retrying after failures until it does.
    async fn listen_until_done(&self, options: &FollowOptions) -> Listener {
        let mut wait = options.retry;
        loop {
            tokio::time::sleep(wait).await;
            match Listener::open(&self.store, &self.link).await {
                Ok(listener) => return listener,
                Err(e) => tracing::warn!(error = %e, retry_in = ?wait, "cannot listen again"),
            }
            wait = (wait * 2).min(options.retry_max);
        }
    }

    /// Applies every card changed after the position, as it is now, in the order of their last
    /// change, and moves the position past them.
    async fn catch_up(&self) -> Result<(), StoreError> {
        let _turn = self.catching.lock().await;
        let since = i64::try_from(self.position.load(Ordering::Acquire)).unwrap_or(i64::MAX);
        let client = self.store.client().await?;
        let rows = client
            .query_raw(
                "SELECT a.seq, a.card_id, c.body FROM \
                 (SELECT card_id, max(seq) AS seq FROM audit WHERE seq > $1 GROUP BY card_id) a \
                 LEFT JOIN cards c ON c.id = a.card_id ORDER BY a.seq",
                [since],
            )
            .await?;
        let mut rows = pin!(rows);
        let mut batch = Vec::with_capacity(BATCH);
        let mut position = since;
        while let Some(row) = rows.try_next().await? {
            position = row.try_get(0)?;
            let card: Option<i64> = row.try_get(1)?;
            let body: Option<Json<Card>> = row.try_get(2)?;
            match (body, card) {
                (Some(Json(card)), _) => batch.push(Update::Now(Box::new(card))),
                (None, Some(id)) => batch.push(Update::Removed(CardId(id.unsigned_abs()))),
                // Events of no card (none are written yet) only move the position.
                (None, None) => {}
            }
            if batch.len() == BATCH {
                self.apply(&mut batch, position);
            }
        }
        self.apply(&mut batch, position);
        Ok(())
    }

    /// Applies `batch` (emptying it) and moves the position to `position`, the seq of its
    /// last card.
    fn apply(&self, batch: &mut Vec<Update>, position: i64) {
        let cursor = {
            let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
            for update in batch.drain(..) {
                match update {
                    Update::Now(card) => index.upsert(&card),
                    Update::Removed(id) => index.remove(id),
                }
            }
            index.cursor()
        };
        let position = u64::try_from(position).unwrap_or(0);
        self.position.store(position, Ordering::Release);
        self.changed
            .send_if_modified(|c| std::mem::replace(c, cursor) != cursor);
    }
}

/// A connection of its own that `LISTEN`s on [`CHANNEL`]; `seqs` holds the newest seq heard,
/// and closes when the connection ends.
struct Listener {
    /// Kept: dropping it closes the connection.
    _client: tokio_postgres::Client,
    seqs: watch::Receiver<u64>,
}

impl Listener {
    async fn open(store: &PgStore, link: &watch::Sender<Link>) -> Result<Listener, StoreError> {
        let (client, mut connection) = store.config.connect(NoTls).await?;
        let (newest, seqs) = watch::channel(0u64);
        let heard = link.clone();
        tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(n)) => {
                        heard.send_modify(|l| l.heard += 1);
                        match n.payload().parse::<u64>() {
                            Ok(seq) => newest.send_modify(|s| *s = (*s).max(seq)),
                            Err(_) => tracing::warn!(
                                payload = n.payload(),
                                "a change notice without a seq"
                            ),
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let error = super::error::chain(&e);
                        tracing::warn!(error, "the PostgreSQL change feed's connection failed");
                        break;
                    }
                }
            }
            // Dropping `newest` tells the follower the connection ended.
        });
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await?
            .try_get(0)?;
        link.send_modify(|l| {
            l.backend_pid = Some(pid);
            l.connects += 1;
        });
        Ok(Listener {
            _client: client,
            seqs,
        })
    }
}
