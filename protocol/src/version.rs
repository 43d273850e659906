//! Protocol versions: the range each side speaks, how the handshake picks the version a
//! connection speaks, and the message when the ranges do not meet.
//!
//! # The rule for changing the wire
//!
//! The bytes are bincode: a struct is its fields in order with nothing to say which is which,
//! and a tarpc request or response is an enum whose variant index is the method's position in
//! the [`IdReview`](crate::IdReview) trait. So:
//!
//! - **Compatible (bump [`PROTOCOL_VERSION`], keep [`OLDEST_PROTOCOL_VERSION`]):** a new method
//!   appended at the *end* of the service trait. Older requests keep their indexes, so an older
//!   console works with a newer daemon unchanged; a newer console speaking to an older daemon
//!   learns the connection's version from [`Welcome`](crate::transport::Welcome) and does not
//!   call the new method there: it says that the daemon is too old for it
//!   ([`Welcome::require`](crate::transport::Welcome::require)).
//! - **Incompatible (bump both constants to the new version):** anything else: a field added to,
//!   removed from or moved in a type that crosses the wire (a `Card`, a `CardSummary`, a
//!   request), a variant added to an enum an older peer may receive (including `RpcError`), a
//!   method moved or removed. An older peer would misread the bytes, so the new side refuses it
//!   in the handshake with a message that names both ranges and which side to upgrade.
//!
//! Version 11 added fields to existing wire types, so it is the oldest this release speaks.
//! Peers of version 10 and before send a single version; the handshake reads that as a range
//! of one.

use serde::{Deserialize, Serialize};

/// The newest protocol version this build speaks: bumped on every change of the wire types or
/// the service (see the module's rule).
pub const PROTOCOL_VERSION: u32 = 11;

/// The oldest protocol version this build still speaks: raised to [`PROTOCOL_VERSION`] by every
/// change that is not an appended method.
pub const OLDEST_PROTOCOL_VERSION: u32 = 11;

/// Every protocol version from `oldest` to `newest`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    pub oldest: u32,
    pub newest: u32,
}

/// What this build speaks.
pub const SPOKEN: Versions = Versions {
    oldest: OLDEST_PROTOCOL_VERSION,
    newest: PROTOCOL_VERSION,
};

impl Versions {
    /// Just `version` (a peer of protocol 10 or before).
    pub fn only(version: u32) -> Versions {
        Versions {
            oldest: version,
            newest: version,
        }
    }

    /// Whether `version` is in the range.
    pub fn contains(self, version: u32) -> bool {
        (self.oldest..=self.newest).contains(&version)
    }

    /// The version a daemon speaking `self` and a console speaking `console` use: the newest
    /// both speak; or why there is none.
    pub fn agree(self, console: Versions) -> Result<u32, Mismatch> {
        let mismatch = Mismatch {
            daemon: self,
            console,
        };
        if console.oldest > console.newest {
            return Err(mismatch);
        }
        let version = self.newest.min(console.newest);
        if version >= self.oldest.max(console.oldest) {
            Ok(version)
        } else {
            Err(mismatch)
        }
    }
}

impl std::fmt::Display for Versions {
    /// `protocol 11`, or `protocol 11 to 12`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.oldest == self.newest {
            write!(f, "protocol {}", self.newest)
        } else {
            write!(f, "protocol {} to {}", self.oldest, self.newest)
        }
    }
}

/// A console and a daemon with no protocol version in common.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.explain())]
pub struct Mismatch {
    pub daemon: Versions,
    pub console: Versions,
}

impl Mismatch {
    /// Both ranges and which side to upgrade.
    fn explain(&self) -> String {
        let (daemon, console) = (self.daemon, self.console);
        let both = format!(
            "idreview (the console) speaks {console}, idreviewd (the daemon) speaks {daemon}"
        );
        if console.oldest > console.newest {
            format!("{both}: the console's range is empty; it is broken, reinstall idreview")
        } else if console.newest < daemon.oldest {
            format!(
                "{both}: upgrade idreview to a release that speaks protocol {}",
                daemon.oldest
            )
        } else {
            format!(
                "{both}: upgrade idreviewd to a release that speaks protocol {}",
                console.oldest
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(oldest: u32, newest: u32) -> Versions {
        Versions { oldest, newest }
    }

    #[test]
    fn the_newest_version_both_speak_is_used() {
        assert_eq!(range(11, 11).agree(range(11, 11)), Ok(11));
        // A console one version newer that still speaks ours.
        assert_eq!(range(11, 11).agree(range(11, 12)), Ok(11));
        // A console one version older that a newer daemon still speaks.
        assert_eq!(range(11, 12).agree(range(11, 11)), Ok(11));
        assert_eq!(range(11, 13).agree(range(12, 14)), Ok(13));
    }

    #[test]
    fn a_mismatch_names_both_ranges_and_the_side_to_upgrade() {
        let old_console = range(11, 11)
            .agree(Versions::only(10))
            .expect_err("too old");
        let text = old_console.to_string();
        assert!(
            text.contains("idreview (the console) speaks protocol 10"),
            "{text}"
        );
        assert!(
            text.contains("idreviewd (the daemon) speaks protocol 11"),
            "{text}"
        );
        assert!(
            text.ends_with("upgrade idreview to a release that speaks protocol 11"),
            "{text}"
        );
        let old_daemon = range(11, 11).agree(range(12, 13)).expect_err("too new");
        let text = old_daemon.to_string();
        assert!(text.contains("speaks protocol 12 to 13"), "{text}");
        assert!(
            text.ends_with("upgrade idreviewd to a release that speaks protocol 12"),
            "{text}"
        );
        assert!(
            range(11, 11).agree(range(13, 12)).is_err(),
            "an empty range"
        );
    }
}
