//! A card's row as the index keeps it: the fields of its [`CardSummary`] in 128 bytes of fixed
//! size plus one allocation. The texts of the card itself (user id, holder, search words) sit
//! one after the other in that allocation; the texts many cards share (country, assignee, the
//! first approver, the names of the unsure fields) are [`Code`]s into the index's [`Interned`]
//! table; the card id is the row's place in the index. 100,000 rows add up: this layout holds
//! a filled store's row in about 200 bytes where a row of strings took about 370. Clients get a
//! `CardSummary` built from it per page.

use chrono::{DateTime, Utc};
use idreview_protocol::{Card, CardId, CardSummary, DocumentType, Status};

use super::super::words;
use crate::interned::{Code, Interned};

const VERIFIED: u8 = 1;
const CONFIRMED: u8 = 2;
const PROVIDER_FAILED: u8 = 4;
const DUPLICATE: u8 = 8;
const HOLDER: u8 = 16;

pub(super) struct Row {
    /// The user id, the holder's name and the field values' search words (space-separated,
    /// kept to unindex them when the card changes; see [`each_word`]), one after the other.
    texts: Box<str>,
    user_end: u32,
    holder_end: u32,
    pub version: u64,
    /// The change-feed position of the card's last write.
    pub changed: u64,
    /// A hash of what the words are made of ([`words_source`]).
    pub words_source: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the assignee's claim lapses, if it does.
    pub lease_until: Option<DateTime<Utc>>,
    pub confidence: Option<f32>,
    pub low_confidence: u32,
    fields: u32,
    error_findings: u32,
    pub country: Option<Code>,
    pub assignee: Option<Code>,
    pending_approval: Option<Code>,
    /// Names of the fields below the threshold, space-separated, for the low-confidence queue.
    pub low_fields: Option<Code>,
    pub document_type: DocumentType,
    pub status: Status,
    flags: u8,
}

impl Row {
    /// The row of `card`, whose summary is `s`, holding its shared texts in `shared`.
    pub fn new(
        card: &Card,
        s: CardSummary,
        words: &str,
        words_source: u64,
        low_fields: &str,
        shared: &mut Interned,
    ) -> Row {
        let holder = s.holder.as_deref().unwrap_or("");
        let texts = [s.user_id.as_str(), holder, words].concat();
        let end = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let mut hold = |text: Option<&str>| text.map(|t| shared.hold(t));
        let flag = |on: bool, bit: u8| if on { bit } else { 0 };
        Row {
            user_end: end(s.user_id.len()),
            holder_end: end(s.user_id.len() + holder.len()),
            texts: texts.into_boxed_str(),
            version: s.version,
            changed: 0,
            words_source,
            created_at: s.created_at,
            updated_at: s.updated_at,
            lease_until: card.lease_until,
            confidence: s.confidence,
            low_confidence: s.low_confidence,
            fields: s.fields,
            error_findings: s.error_findings,
            country: hold(s.country.as_deref()),
            assignee: hold(s.assignee.as_deref()),
            pending_approval: hold(s.pending_approval.as_deref()),
            low_fields: hold(Some(low_fields).filter(|f| !f.is_empty())),
            document_type: s.document_type,
            status: s.status,
            flags: flag(s.verified, VERIFIED)
                | flag(s.confirmed, CONFIRMED)
                | flag(s.provider_failed, PROVIDER_FAILED)
                | flag(s.duplicate, DUPLICATE)
                | flag(s.holder.is_some(), HOLDER),
        }
    }

    /// Lets go of the shared texts this row holds (it is being dropped).
    pub fn release(&self, shared: &mut Interned) {
        let codes = [
            self.country,
            self.assignee,
            self.pending_approval,
            self.low_fields,
        ];
        for code in codes.into_iter().flatten() {
            shared.release(code);
        }
    }

    pub fn user_id(&self) -> &str {
        self.texts.get(..self.user_end as usize).unwrap_or("")
    }

    fn holder(&self) -> Option<&str> {
        let text = self
            .texts
            .get(self.user_end as usize..self.holder_end as usize);
        text.filter(|_| self.flags & HOLDER != 0)
    }

    /// The field values' search words, space-separated.
    pub fn words(&self) -> &str {
        self.texts.get(self.holder_end as usize..).unwrap_or("")
    }

    pub fn verified(&self) -> bool {
        self.flags & VERIFIED != 0
    }

    pub fn duplicate(&self) -> bool {
        self.flags & DUPLICATE != 0
    }

    /// The assignee whose claim still runs at `now`.
    pub fn assignee<'a>(&self, now: DateTime<Utc>, shared: &'a Interned) -> Option<&'a str> {
        match self.lease_until {
            Some(until) if until <= now => None,
            _ => self.assignee.map(|a| shared.get(a)),
        }
    }

    /// The summary as a client should see it at `now` (a lapsed claim reads as unassigned);
    /// `k` is the row's place, the card's id.
    pub fn view(&self, k: u32, now: DateTime<Utc>, shared: &Interned) -> CardSummary {
        let text = |code: Option<Code>| code.map(|c| shared.get(c).to_string());
        CardSummary {
            id: CardId(u64::from(k)),
            user_id: self.user_id().to_string(),
            holder: self.holder().map(String::from),
            document_type: self.document_type,
            country: text(self.country),
            status: self.status,
            verified: self.verified(),
            confirmed: self.flags & CONFIRMED != 0,
            confidence: self.confidence,
            low_confidence: self.low_confidence,
            fields: self.fields,
            error_findings: self.error_findings,
            provider_failed: self.flags & PROVIDER_FAILED != 0,
            assignee: self.assignee(now, shared).map(String::from),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            duplicate: self.duplicate(),
            pending_approval: text(self.pending_approval),
        }
    }
}

/// A hash of everything a card's words are made of, so that an unchanged card's words need not be
/// built again.
pub(super) fn words_source(card: &Card) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    card.user_id.hash(&mut h);
    for field in &card.fields {
        field.value.hash(&mut h);
    }
    card.country.hash(&mut h);
    h.finish()
}

/// The search words of a card's field values, space-separated: the part of its words the row
/// keeps, since those of the user id and the country are made again from the row's own.
pub(super) fn field_words(card: &Card) -> String {
    let mut out: Vec<String> = card
        .fields
        .iter()
        .flat_map(|f| words::split(&f.value))
        .collect();
    out.sort_unstable();
    out.dedup();
    out.join(" ")
}

/// Calls `f` with each search word of a card: its user id whole and in parts, its country's and
/// its field values' (`field_words`). A word may come twice.
pub(super) fn each_word(
    user_id: &str,
    country: Option<&str>,
    field_words: &str,
    mut f: impl FnMut(&str),
) {
    let whole = user_id.to_lowercase();
    if !whole.contains(' ') && !whole.is_empty() {
        f(&whole);
    }
    for word in words::split(user_id).chain(country.into_iter().flat_map(words::split)) {
        f(&word);
    }
    for word in field_words.split(' ').filter(|w| !w.is_empty()) {
        f(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_gives_back_the_summary_it_was_made_of() {
        let card = idreview_protocol::fixtures::card(7)
            .user("a-user-id-longer-than-twenty-four-bytes")
            .country(Some("DE"))
            .assignee(Some("rita"), None)
            .pending_approval("alice", "checked")
            .build();
        let summary = CardSummary::of(&card, 0.8);
        let mut shared = Interned::default();
        let row = Row::new(&card, summary.clone(), "a b", 1, "", &mut shared);
        assert_eq!(row.view(7, Utc::now(), &shared), summary);
        assert_eq!((row.words(), row.low_fields), ("a b", None));
        assert_eq!(shared.len(), 3, "country, assignee, first approver");
        row.release(&mut shared);
        assert!(shared.is_empty());
        assert!(std::mem::size_of::<Option<Row>>() <= 128);
    }
}
