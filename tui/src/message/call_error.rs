//! Why one RPC call gave no answer: no connection, a broken one, no answer in time, or the
//! daemon's own error.

use std::time::Duration;

use idreview_protocol::RpcError;

/// Why one call did not give an answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// There is no connection and making one failed.
    #[error("not connected: {0}")]
    NotConnected(String),
    /// The connection broke under the call.
    #[error("lost the connection to the daemon: {0}")]
    Disconnected(String),
    /// The daemon did not answer in time.
    #[error("the daemon did not answer within {0:?}")]
    Timeout(Duration),
    /// The daemon answered with an error.
    #[error("{0}")]
    Daemon(RpcError),
}

impl CallError {
    /// Whether the connection is gone and the next call should reconnect.
    pub fn is_disconnect(&self) -> bool {
        matches!(
            self,
            CallError::Disconnected(_) | CallError::NotConnected(_)
        )
    }
}
