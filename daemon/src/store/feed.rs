//! The change feed's read side: long-polling readers wait on the watch that the store's write
//! paths (`commit`, a deletion) bump, then read the changed summaries and removals from the
//! index.

use idreview_protocol::Changes;

use super::Store;

impl Store {
    /// Cards written after cursor `since`; waits up to `wait` for one when there are none yet.
    /// `since == 0`, or a cursor from before a restart (ahead of this store's), answers at once
    /// with the current cursor.
    pub async fn changes(&self, since: u64, wait: std::time::Duration) -> Changes {
        let mut watch = self.inner.changed.subscribe();
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
        self.read_index(|i| i.changes_since(since))
    }
}
