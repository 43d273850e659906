//! The idreview RPC contract, shared by the daemon and every client.
//!
//! Everything that crosses the wire lives here and nowhere else: the domain types ([`card`]),
//! list queries and their text form ([`query`]), the wire error ([`error`]), the `tarpc`
//! service ([`service`]), the dashboard's numbers ([`stats`]), named views ([`views`]), the
//! handshake plus framed transport both ends speak ([`transport`]), and the protocol versions
//! and the rule for changing the wire ([`version`]).
//! With the `clap` feature, the token commands' flags both binaries share (`cli`); with
//! `test-fixtures`, test data for every crate's tests (`fixtures`).
//! Types are plain serde structs and enums because bincode cannot carry untagged, flattened or
//! skipped fields.

pub mod access;
pub mod backup;
pub mod card;
#[cfg(feature = "clap")]
pub mod cli;
pub mod country;
pub mod error;
pub mod feed;
#[cfg(feature = "test-fixtures")]
pub mod fixtures;
pub mod invite;
pub mod low_confidence;
pub mod paths;
pub mod query;
pub mod rejected;
pub mod service;
pub mod stats;
pub mod time;
pub mod tls;
pub mod transport;
pub mod version;
pub mod views;

pub use access::*;
pub use backup::{EXPORT_FORMAT, ErasureReport, ExportCursor, ExportHeader, ExportPage};
pub use card::*;
pub use error::RpcError;
pub use feed::Changes;
pub use low_confidence::{LowConfidenceCard, LowConfidencePage};
pub use query::{AssigneeFilter, CardFilter, ListQuery, SortKey};
pub use rejected::{RejectedPage, RejectedSubmission};
pub use service::{IdReview, IdReviewClient, MAX_FILE_BYTES};
pub use stats::{ReviewerStats, Stats, StatsQuery};
pub use version::{OLDEST_PROTOCOL_VERSION, PROTOCOL_VERSION};
pub use views::{NamedView, ViewSpec};
