//! Audit events and token records as the store lays them out (format 2, the layout protocol
//! 3's `AuditEvent` and `TokenInfo` had under bincode). [`event`] reads and writes one event;
//! [`token_info`] is a `serde(with)` module for the `TokenInfo` inside a stored token.

use chrono::{DateTime, Utc};
use idreview_protocol::{AuditEvent, CardId, TokenInfo};
use serde::{Deserialize, Serialize};

use super::{RoleCode, ToStored};

/// One audit event.
pub(in crate::store) mod event {
    use super::*;

    /// Appends the event's bytes to `out`.
    pub(in crate::store) fn encode_into(
        out: &mut Vec<u8>,
        event: &AuditEvent,
    ) -> Result<(), bincode::Error> {
        bincode::serialize_into(out, &event.stored())
    }

    /// The event stored in `bytes`.
    pub(in crate::store) fn decode(bytes: &[u8]) -> Result<AuditEvent, bincode::Error> {
        Ok(bincode::deserialize::<EventIn>(bytes)?.into())
    }

    /// The event stored in `bytes`, its texts borrowed from them (no allocation): for scans
    /// that look at many events and keep few.
    pub(in crate::store) fn decode_borrowed(bytes: &[u8]) -> Result<EventRef<'_>, bincode::Error> {
        bincode::deserialize(bytes)
    }
}

/// A stored event read in place.
#[derive(Deserialize)]
pub(in crate::store) struct EventRef<'a> {
    pub seq: u64,
    _card_id: Option<u64>,
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    pub action: &'a str,
    _reason: Option<&'a str>,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

#[derive(Serialize)]
pub(in crate::store) struct EventOut<'a> {
    seq: u64,
    card_id: Option<u64>,
    at: DateTime<Utc>,
    actor: &'a str,
    action: &'a str,
    reason: Option<&'a str>,
    before: Option<&'a str>,
    after: Option<&'a str>,
}

#[derive(Deserialize)]
struct EventIn {
    seq: u64,
    card_id: Option<u64>,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    reason: Option<String>,
    before: Option<String>,
    after: Option<String>,
}

impl ToStored for AuditEvent {
    type Out<'a> = EventOut<'a>;
    fn stored(&self) -> EventOut<'_> {
        EventOut {
            seq: self.seq,
            card_id: self.card_id.map(|c| c.0),
            at: self.at,
            actor: &self.actor,
            action: &self.action,
            reason: self.reason.as_deref(),
            before: self.before.as_deref(),
            after: self.after.as_deref(),
        }
    }
}

impl From<EventIn> for AuditEvent {
    fn from(e: EventIn) -> AuditEvent {
        AuditEvent {
            seq: e.seq,
            card_id: e.card_id.map(CardId),
            at: e.at,
            actor: e.actor,
            action: e.action,
            reason: e.reason,
            before: e.before,
            after: e.after,
        }
    }
}

/// `#[serde(with = "token_info")]`: a `TokenInfo` in its stored layout.
pub(in crate::store) mod token_info {
    use super::*;

    pub(in crate::store) fn serialize<S: serde::Serializer>(
        info: &TokenInfo,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        info.stored().serialize(serializer)
    }

    pub(in crate::store) fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<TokenInfo, D::Error> {
        Ok(TokenIn::deserialize(deserializer)?.into())
    }
}

#[derive(Serialize)]
pub(in crate::store) struct TokenOut<'a> {
    id: &'a str,
    name: &'a str,
    role: RoleCode,
    user_id: Option<&'a str>,
    created_at: DateTime<Utc>,
    created_by: &'a str,
    expires_at: Option<DateTime<Utc>>,
    last_used: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct TokenIn {
    id: String,
    name: String,
    role: RoleCode,
    user_id: Option<String>,
    created_at: DateTime<Utc>,
    created_by: String,
    expires_at: Option<DateTime<Utc>>,
    last_used: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl ToStored for TokenInfo {
    type Out<'a> = TokenOut<'a>;
    fn stored(&self) -> TokenOut<'_> {
        TokenOut {
            id: &self.id,
            name: &self.name,
            role: self.role.into(),
            user_id: self.user_id.as_deref(),
            created_at: self.created_at,
            created_by: &self.created_by,
            expires_at: self.expires_at,
            last_used: self.last_used,
            revoked_at: self.revoked_at,
        }
    }
}

impl From<TokenIn> for TokenInfo {
    fn from(t: TokenIn) -> TokenInfo {
        TokenInfo {
            id: t.id,
            name: t.name,
            role: t.role.into(),
            user_id: t.user_id,
            created_at: t.created_at,
            created_by: t.created_by,
            expires_at: t.expires_at,
            last_used: t.last_used,
            revoked_at: t.revoked_at,
            // Kept beside the info in the stored token (`store::tokens`).
            person: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use idreview_protocol::Role;

    use super::*;

    /// Format 2 wrote the wire types as they were: the stored forms must give the same bytes.
    #[test]
    fn events_and_tokens_keep_the_format_2_layout() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 25, 9, 0, 0)
            .single()
            .expect("time");
        let event = AuditEvent {
            seq: 17,
            card_id: Some(CardId(3)),
            at,
            actor: "token:alice".into(),
            action: "card.approved".into(),
            reason: Some("ok".into()),
            before: None,
            after: Some("{}".into()),
        };
        let mut bytes = Vec::new();
        event::encode_into(&mut bytes, &event).expect("encodes");
        assert_eq!(
            hex::encode(&bytes),
            include_str!("format2_event.hex").trim()
        );
        assert_eq!(event::decode(&bytes).expect("decodes"), event);

        let info = TokenInfo {
            id: "3f9a1c0b7e21".into(),
            name: "alice-laptop".into(),
            role: Role::Reviewer,
            user_id: None,
            created_at: at,
            created_by: "local:root".into(),
            expires_at: Some(at),
            last_used: None,
            revoked_at: None,
            person: None,
        };
        #[derive(Serialize, Deserialize)]
        struct Holder {
            #[serde(with = "token_info")]
            info: TokenInfo,
        }
        let bytes = bincode::serialize(&Holder { info: info.clone() }).expect("encodes");
        assert_eq!(
            hex::encode(&bytes),
            include_str!("format2_token.hex").trim()
        );
        let back: Holder = bincode::deserialize(&bytes).expect("decodes");
        assert_eq!(back.info, info);
    }
}
