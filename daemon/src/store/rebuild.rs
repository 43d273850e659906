//! The store's start-up: every stored card put into the in-memory index (on two threads), and
//! sled opened again afterwards so that the scan leaves no pages in its cache.

use idreview_protocol::Card;

use super::index::Index;
use super::{StoreError, record};

/// Opens the store this process has just closed. sled lets go of its file lock only when its
/// last deferred drop runs, a moment after the last handle is dropped: a refused lock is tried
/// again for up to ten seconds (another process holding it was refused by the first open).
pub(super) fn reopen_db(config: impl Fn() -> sled::Config) -> Result<sled::Db, sled::Error> {
    let started = std::time::Instant::now();
    loop {
        match config().open() {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && started.elapsed() < std::time::Duration::from_secs(10) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => {
                tracing::debug!(took = ?started.elapsed(), "store opened again after the rebuild");
                return other;
            }
        }
    }
}

/// Puts every stored card into `index`, in key order: one thread reads and decodes the cards
/// while this one indexes them (the two halves of the start-up cost, about even), handing them
/// over in batches.
pub(super) fn rebuild(cards: &sled::Tree, index: &mut Index) -> Result<(), StoreError> {
    const BATCH: usize = 256;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Card>>(4);
        let reader = scope.spawn(move || -> Result<(), StoreError> {
            let mut batch = Vec::with_capacity(BATCH);
            for item in cards.iter() {
                let (_, bytes) = item?;
                batch.push(record::card(&bytes)?);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if tx.send(full).is_err() {
                        return Ok(());
                    }
                }
            }
            // The indexing side only goes away by panicking, which the scope passes on.
            let _ = tx.send(batch);
            Ok(())
        });
        for batch in rx {
            for card in &batch {
                index.upsert(card);
            }
        }
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
