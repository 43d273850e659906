//! The store's own on-disk layout of the wire types it keeps: cards ([`card`]), audit events
//! and token records ([`audit`]). The protocol may change its types (add a field, a variant)
//! without changing a byte on disk: only the conversions here change, and a layout change
//! bumps the store's format version with a reader for the old one.
//!
//! Format 2 is exactly the layout protocol 3's types had under bincode, so every store written
//! before this split is read in place. Format 3 appends a card's raw zone to its record. Format 4,
//! the one written now, lays a card's times out as integers ([`Time`]); cards of formats 2 and 3
//! are read in place beside it (`card::decode`, told which by the record). Writing borrows the wire value
//! (`*Out<'_>`, nothing copied); reading decodes the owned twin (`*In`) and moves it into the
//! wire type. Enums are stored by their position in the stored enum, which only ever grows at
//! the end.

pub mod audit;
pub mod card;

use chrono::{DateTime, Utc};
use idreview_protocol::{
    Decision, DocumentType, FieldSource, FileRole, Role, Severity, Side, Status,
};
use serde::{Deserialize, Serialize, Serializer};

/// A time as the store lays it out from format 4 on: `(seconds since the epoch, nanoseconds)`,
/// every instant chrono holds. Formats 2 and 3 kept chrono's RFC 3339 text, whose formatting
/// and parsing cost more than the rest of a card's bytes (about 0.8 µs each way per time).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(into = "(i64, u32)", try_from = "(i64, u32)")]
pub(super) struct Time(pub(super) DateTime<Utc>);

impl From<Time> for (i64, u32) {
    fn from(t: Time) -> (i64, u32) {
        (t.0.timestamp(), t.0.timestamp_subsec_nanos())
    }
}

impl TryFrom<(i64, u32)> for Time {
    type Error = String;
    fn try_from((secs, nanos): (i64, u32)) -> Result<Time, String> {
        DateTime::from_timestamp(secs, nanos)
            .map(Time)
            .ok_or_else(|| format!("stored time out of range: {secs} s {nanos} ns"))
    }
}

impl From<DateTime<Utc>> for Time {
    fn from(at: DateTime<Utc>) -> Time {
        Time(at)
    }
}

impl From<Time> for DateTime<Utc> {
    fn from(t: Time) -> DateTime<Utc> {
        t.0
    }
}

/// A wire type with a stored form that borrows from it.
pub(super) trait ToStored {
    type Out<'a>: Serialize
    where
        Self: 'a;

    /// The value as it is laid out on disk, borrowing every string.
    fn stored(&self) -> Self::Out<'_>;
}

/// A slice written as a sequence of its stored forms, without building them all first.
pub(super) struct Seq<'a, T>(pub(super) &'a [T]);

impl<T: ToStored> Serialize for Seq<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(ToStored::stored))
    }
}

/// Declares a stored enum (positions fixed, new variants only at the end) and its conversions
/// to and from the wire enum; a wire variant without a stored one does not compile.
macro_rules! stored_enum {
    ($stored:ident <=> $wire:ident { $($variant:ident),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub(super) enum $stored { $($variant),+ }

        impl From<$wire> for $stored {
            fn from(value: $wire) -> Self {
                match value { $($wire::$variant => $stored::$variant),+ }
            }
        }

        impl From<$stored> for $wire {
            fn from(value: $stored) -> Self {
                match value { $($stored::$variant => $wire::$variant),+ }
            }
        }
    };
}

stored_enum!(DocumentTypeCode <=> DocumentType {
    Passport, NationalId, DriverLicense, ResidencePermit,
});
stored_enum!(StatusCode <=> Status {
    Received, Uploading, Verifying, NeedsReview, AutoVerified, Approved, Rejected,
});
stored_enum!(FieldSourceCode <=> FieldSource {
    Mrz, Visual, Barcode, Reviewer, User,
});
stored_enum!(SideCode <=> Side { Front, Back });
stored_enum!(FileRoleCode <=> FileRole { Front, Back, Selfie, Extra });
stored_enum!(DecisionCode <=> Decision { Approve, Reject });
stored_enum!(SeverityCode <=> Severity { Info, Warning, Error });
// A new role goes last: tokens are stored by variant index.
stored_enum!(RoleCode <=> Role { Submitter, Reviewer, Admin, Service });

#[cfg(test)]
mod role_tests {
    use super::*;

    #[test]
    fn stored_roles_keep_their_meaning() {
        // Tokens written before the service role: each role by its variant index.
        for (role, index) in [
            (Role::Submitter, 0u32),
            (Role::Reviewer, 1),
            (Role::Admin, 2),
        ] {
            let bytes = bincode::serialize(&RoleCode::from(role)).expect("encodes");
            assert_eq!(bytes, index.to_le_bytes(), "{role}");
            let back: RoleCode = bincode::deserialize(&index.to_le_bytes()).expect("decodes");
            assert_eq!(Role::from(back), role);
        }
        let service = bincode::serialize(&RoleCode::from(Role::Service)).expect("encodes");
        assert_eq!(service, 3u32.to_le_bytes(), "the new role goes last");
    }
}
