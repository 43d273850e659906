//! Reading the whole audit log in order, for export.

use idreview_protocol::AuditEvent;

use super::{Store, StoreError};

impl Store {
    /// Up to `limit` audit events with `seq > since`, oldest first.
    pub fn audit_since(&self, since: u64, limit: usize) -> Result<Vec<AuditEvent>, StoreError> {
        let Some(from) = since.checked_add(1) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for item in self.inner.audit.range(from.to_be_bytes()..).take(limit) {
            let (_, bytes) = item?;
            out.push(bincode::deserialize(&bytes)?);
        }
        Ok(out)
    }
}
