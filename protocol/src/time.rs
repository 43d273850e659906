//! How a time crosses the wire: as text where people read it (JSON exports, backups, `--json`),
//! as two integers where only programs do (bincode on the RPC socket).
//!
//! chrono writes a `DateTime` as RFC 3339 text in every format, so each time on the wire was
//! formatted by one end and parsed by the other: about 1.6 µs per time, 65 µs for a page of 20
//! list rows on this project's 2-core box, more than the rest of the call. Here a binary
//! format (`is_human_readable() == false`) gets `(seconds since the epoch, nanoseconds)`, which
//! keeps every instant chrono can hold, and a human-readable one gets chrono's own text, so
//! JSON shapes do not change.
//!
//! Use as `#[serde(with = "crate::time")]` on a `DateTime<Utc>` and
//! `#[serde(with = "crate::time::option")]` on an `Option<DateTime<Utc>>`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error};

/// `(seconds, nanoseconds)` of `at`.
fn parts(at: &DateTime<Utc>) -> (i64, u32) {
    (at.timestamp(), at.timestamp_subsec_nanos())
}

/// The instant of `(seconds, nanoseconds)`, or an error a peer's bad bytes deserve.
fn instant<E: Error>((secs, nanos): (i64, u32)) -> Result<DateTime<Utc>, E> {
    DateTime::from_timestamp(secs, nanos)
        .ok_or_else(|| E::custom(format!("time out of range: {secs} s {nanos} ns")))
}

pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    if serializer.is_human_readable() {
        at.serialize(serializer)
    } else {
        parts(at).serialize(serializer)
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    if deserializer.is_human_readable() {
        DateTime::deserialize(deserializer)
    } else {
        instant(<(i64, u32)>::deserialize(deserializer)?)
    }
}

/// The same for an optional time.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            at.serialize(serializer)
        } else {
            at.as_ref().map(parts).serialize(serializer)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        if deserializer.is_human_readable() {
            Option::deserialize(deserializer)
        } else {
            <Option<(i64, u32)>>::deserialize(deserializer)?
                .map(instant)
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Times {
        #[serde(with = "crate::time")]
        at: DateTime<Utc>,
        #[serde(with = "crate::time::option")]
        maybe: Option<DateTime<Utc>>,
        #[serde(with = "crate::time::option")]
        never: Option<DateTime<Utc>>,
    }

    fn sample() -> Times {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 6, 5, 4).unwrap()
            + chrono::Duration::nanoseconds(123_456_789);
        Times {
            at,
            maybe: Some(Utc.with_ymd_and_hms(1969, 7, 20, 20, 17, 40).unwrap()),
            never: None,
        }
    }

    #[test]
    fn bincode_carries_every_instant_as_integers() {
        let times = sample();
        let bytes = bincode::serialize(&times).expect("encodes");
        // Two (i64, u32) pairs, one Option tag each, one None: no text.
        assert_eq!(bytes.len(), 12 + 1 + 12 + 1);
        assert_eq!(
            bincode::deserialize::<Times>(&bytes).expect("decodes"),
            times
        );
        let extremes = Times {
            at: DateTime::<Utc>::MIN_UTC,
            maybe: Some(DateTime::<Utc>::MAX_UTC),
            never: None,
        };
        let bytes = bincode::serialize(&extremes).expect("encodes");
        assert_eq!(
            bincode::deserialize::<Times>(&bytes).expect("decodes"),
            extremes
        );
    }

    #[test]
    fn json_keeps_chronos_text() {
        let json = serde_json::to_value(sample()).expect("json");
        assert_eq!(json["at"], "2026-12-07T06:05:04.123456789Z");
        assert_eq!(json["maybe"], "1969-07-20T20:17:40Z");
        assert_eq!(json["never"], serde_json::Value::Null);
        let back: Times = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, sample());
    }

    #[test]
    fn a_time_out_of_range_is_an_error_not_a_panic() {
        let bytes = bincode::serialize(&(i64::MAX, 0u32, None::<(i64, u32)>, None::<(i64, u32)>))
            .expect("encodes");
        let err = bincode::deserialize::<Times>(&bytes).expect_err("refused");
        assert!(err.to_string().contains("time out of range"), "{err}");
    }
}

/// Every time a card carries crosses bincode as integers: a field added without
/// `#[serde(with = "crate::time")]` would put chrono's text back on the wire and fail here.
#[cfg(test)]
mod card_tests {
    use crate::fixtures::{card, now};
    use crate::{CardSummary, DecisionRecord};

    /// Whether `bytes` hold a time as chrono writes it (`2026-12-07T...`).
    fn holds_time_text(bytes: &[u8]) -> bool {
        bytes.windows(11).any(|w| {
            w[..4].iter().all(u8::is_ascii_digit) && w[4] == b'-' && w[7] == b'-' && w[10] == b'T'
        })
    }

    #[test]
    fn a_full_card_and_its_list_row_carry_no_time_as_text() {
        let full = card(7)
            .assignee(Some("alice"), Some(now()))
            .pending_approval("alice", "looks right")
            .decision(DecisionRecord {
                decision: crate::Decision::Approve,
                by: "token:bob".into(),
                at: now(),
                reason: "second look".into(),
            })
            .build();
        assert!(
            holds_time_text(now().to_rfc3339().as_bytes()),
            "the probe finds chrono's text"
        );
        let bytes = bincode::serialize(&full).expect("encodes");
        assert!(!holds_time_text(&bytes), "a card's time went out as text");
        let row = CardSummary::of(&full, 0.8);
        let bytes = bincode::serialize(&row).expect("encodes");
        assert!(
            !holds_time_text(&bytes),
            "a list row's time went out as text"
        );
    }
}
