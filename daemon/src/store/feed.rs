//! The change feed's read side: long-polling readers wait on the watch that the index's writer
//! bumps (the sled store's write paths, `commit` and a deletion; PostgreSQL's follower,
//! `pg/follow.rs`), then read the changed summaries and removals from the index.

use std::time::Duration;

use idreview_protocol::Changes;
use tokio::sync::watch;

use super::Store;

impl Store {
    /// Cards written after cursor `since`; see [`wait_for_changes`].
    pub async fn changes(&self, since: u64, wait: Duration) -> Changes {
        wait_for_changes(&self.inner.changed, since, wait, |since| {
            self.read_index(|i| i.changes_since(since))
        })
        .await
    }
}

/// Cards written after cursor `since` of the index whose cursor `changed` announces (read by
/// `read`, see [`super::index::Index::changes_since`]); waits up to `wait` for one when there are none yet.
/// `since == 0`, or a cursor from before a restart (ahead of the index's), answers at once with
/// the current cursor.
pub(crate) async fn wait_for_changes(
    changed: &watch::Sender<u64>,
    since: u64,
    wait: Duration,
    read: impl FnOnce(u64) -> Changes,
) -> Changes {
    let mut watch = changed.subscribe();
    let cursor = *watch.borrow_and_update();
    if since == 0 || since > cursor {
        return Changes {
            cursor,
            cards: Vec::new(),
            deleted: Vec::new(),
        };
    }
    if cursor <= since {
        // Any write after the borrow above marks the receiver changed, so none is missed.
        let _ = tokio::time::timeout(wait, watch.changed()).await;
    }
    read(since)
}
