//! The in-memory index of card summaries that serves every list, count, search and the change
//! feed, so that listing never decodes a stored card. Rebuilt at start; updated by the store on
//! every write. Lapsed claims read as unassigned.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use idreview_protocol::{
    AssigneeFilter, Card, CardFilter, CardId, CardPage, CardSummary, Changes, ListQuery, SortKey,
    Status,
};

/// One card as the index knows it.
struct Entry {
    summary: CardSummary,
    /// When the assignee's claim lapses, if it does.
    lease_until: Option<DateTime<Utc>>,
    /// The change-feed position of the card's last write.
    changed: u64,
    /// Lower-case words from the user id, card id and field values, for text search.
    tokens: Box<[String]>,
}

impl Entry {
    /// The assignee whose claim still runs at `now`.
    fn assignee(&self, now: DateTime<Utc>) -> Option<&str> {
        match self.lease_until {
            Some(until) if until <= now => None,
            _ => self.summary.assignee.as_deref(),
        }
    }

    /// The summary as a client should see it at `now`.
    fn view(&self, now: DateTime<Utc>) -> CardSummary {
        let mut summary = self.summary.clone();
        if self.assignee(now).is_none() {
            summary.assignee = None;
        }
        summary
    }
}

/// Summaries of every card, by id (which is creation order).
#[derive(Default)]
pub struct Index {
    by_id: BTreeMap<CardId, Entry>,
    /// Fields below this confidence count as low-confidence.
    threshold: f32,
    /// The change-feed position of the newest write.
    cursor: u64,
}

impl Index {
    pub fn new(threshold: f32) -> Index {
        Index {
            by_id: BTreeMap::new(),
            threshold,
            cursor: 0,
        }
    }

    /// The change-feed position of the newest write.
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Cards written after `since`, oldest write first, at most [`Changes::MAX_CARDS`].
    pub fn changes_since(&self, since: u64) -> Changes {
        let now = Utc::now();
        let mut hits: Vec<&Entry> = self.by_id.values().filter(|e| e.changed > since).collect();
        hits.sort_unstable_by_key(|e| e.changed);
        hits.truncate(Changes::MAX_CARDS);
        let cursor = match hits.len() {
            Changes::MAX_CARDS => hits.last().map_or(self.cursor, |e| e.changed),
            _ => self.cursor,
        };
        Changes {
            cursor,
            cards: hits.iter().map(|e| e.view(now)).collect(),
        }
    }

    /// The summary the index would hold for `card`.
    pub fn summarize(&self, card: &Card) -> CardSummary {
        CardSummary {
            id: card.id,
            user_id: card.user_id.clone(),
            document_type: card.document_type,
            country: card.country.clone(),
            status: card.status,
            verified: card.verified,
            confirmed: card.confirmed,
            confidence: card.confidence(),
            low_confidence: card.low_confidence_fields(self.threshold).len() as u32,
            assignee: card.assignee.clone(),
            version: card.version,
            created_at: card.created_at,
            updated_at: card.updated_at,
        }
    }

    /// Adds or replaces a card; an older version never replaces a newer one.
    pub fn upsert(&mut self, card: &Card) {
        if self
            .by_id
            .get(&card.id)
            .is_some_and(|e| e.summary.version > card.version)
        {
            return;
        }
        self.cursor += 1;
        let entry = Entry {
            summary: self.summarize(card),
            lease_until: card.lease_until,
            changed: self.cursor,
            tokens: tokens(card),
        };
        self.by_id.insert(card.id, entry);
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The card's summary as clients see it now.
    pub fn summary(&self, id: CardId) -> Option<CardSummary> {
        self.by_id.get(&id).map(|e| e.view(Utc::now()))
    }

    /// Cards per status, in [`Status::ALL`] order.
    pub fn counts_by_status(&self) -> Vec<(Status, u64)> {
        let mut counts: Vec<(Status, u64)> = Status::ALL.iter().map(|s| (*s, 0)).collect();
        for e in self.by_id.values() {
            if let Some(slot) = counts.iter_mut().find(|(s, _)| *s == e.summary.status) {
                slot.1 += 1;
            }
        }
        counts
    }

    /// One page of the cards matching the query, with the total count. `caller` resolves
    /// `assignee:me`.
    pub fn list(&self, query: &ListQuery, caller: &str) -> CardPage {
        let now = Utc::now();
        let filter = Matcher::new(&query.filter, caller, now);
        let offset = query.offset as usize;
        let limit = query.limit.min(ListQuery::MAX_LIMIT) as usize;
        if query.sort == SortKey::Created {
            // Ids increase with creation: walk the map in order and keep only the page.
            let mut total = 0usize;
            let mut cards = Vec::with_capacity(limit);
            let mut visit = |e: &Entry| {
                if filter.matches(e) {
                    if total >= offset && cards.len() < limit {
                        cards.push(e.view(now));
                    }
                    total += 1;
                }
            };
            if query.descending {
                self.by_id.values().rev().for_each(&mut visit);
            } else {
                self.by_id.values().for_each(&mut visit);
            }
            return CardPage {
                total: total as u64,
                offset: query.offset,
                cards,
            };
        }
        let mut hits: Vec<&Entry> = self.by_id.values().filter(|e| filter.matches(e)).collect();
        let total = hits.len() as u64;
        let by_key = |a: &&Entry, b: &&Entry| {
            compare(query.sort, a, b, now).then(a.summary.id.cmp(&b.summary.id))
        };
        let descending = query.descending;
        let cmp = |a: &&Entry, b: &&Entry| match descending {
            true => by_key(b, a),
            false => by_key(a, b),
        };
        // Only the cards up to the page's end need their order: select them in linear time,
        // then sort just those.
        let end = offset.saturating_add(limit).min(hits.len());
        if end > 0 && end < hits.len() {
            hits.select_nth_unstable_by(end - 1, cmp);
            hits.truncate(end);
        }
        hits.sort_unstable_by(cmp);
        let cards = hits
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|e| e.view(now))
            .collect();
        CardPage {
            total,
            offset: query.offset,
            cards,
        }
    }
}

fn compare(key: SortKey, x: &Entry, y: &Entry, now: DateTime<Utc>) -> Ordering {
    let (a, b) = (&x.summary, &y.summary);
    match key {
        SortKey::Created => a.created_at.cmp(&b.created_at),
        SortKey::Updated => a.updated_at.cmp(&b.updated_at),
        SortKey::User => a.user_id.cmp(&b.user_id),
        SortKey::DocumentType => a.document_type.cmp(&b.document_type),
        SortKey::Country => a.country.cmp(&b.country),
        SortKey::Status => a.status.cmp(&b.status),
        SortKey::Confidence => a
            .confidence
            .partial_cmp(&b.confidence)
            .unwrap_or(Ordering::Equal),
        SortKey::Assignee => x.assignee(now).cmp(&y.assignee(now)),
    }
}

/// A filter prepared once per query.
struct Matcher<'a> {
    filter: &'a CardFilter,
    caller: &'a str,
    words: Vec<String>,
    /// Claims lapsed before this count as unassigned.
    now: DateTime<Utc>,
}

impl<'a> Matcher<'a> {
    fn new(filter: &'a CardFilter, caller: &'a str, now: DateTime<Utc>) -> Self {
        let words = filter
            .text
            .as_deref()
            .map(|t| t.split_whitespace().map(str::to_lowercase).collect())
            .unwrap_or_default();
        Matcher {
            filter,
            caller,
            words,
            now,
        }
    }

    fn matches(&self, e: &Entry) -> bool {
        let f = self.filter;
        let s = &e.summary;
        (f.statuses.is_empty() || f.statuses.contains(&s.status))
            && (f.document_types.is_empty() || f.document_types.contains(&s.document_type))
            && (f.countries.is_empty()
                || s.country
                    .as_ref()
                    .is_some_and(|c| f.countries.iter().any(|w| w.eq_ignore_ascii_case(c))))
            && f.min_confidence
                .is_none_or(|lo| s.confidence.is_some_and(|c| c >= lo))
            && f.max_confidence
                .is_none_or(|hi| s.confidence.is_some_and(|c| c < hi))
            && (!f.low_confidence_only || s.low_confidence > 0)
            && f.created_from.is_none_or(|t| s.created_at >= t)
            && f.created_to.is_none_or(|t| s.created_at < t)
            && f.updated_from.is_none_or(|t| s.updated_at >= t)
            && f.updated_to.is_none_or(|t| s.updated_at < t)
            && f.verified.is_none_or(|v| s.verified == v)
            && match &f.assignee {
                AssigneeFilter::Anyone => true,
                AssigneeFilter::Unassigned => e.assignee(self.now).is_none(),
                AssigneeFilter::Me => e.assignee(self.now) == Some(self.caller),
                AssigneeFilter::Named(n) => e.assignee(self.now) == Some(n.as_str()),
            }
            && self
                .words
                .iter()
                .all(|w| e.tokens.iter().any(|t| t.starts_with(w.as_str())))
    }
}

/// Search words of a card: the user id whole and in parts, the card id, and field values.
fn tokens(card: &Card) -> Box<[String]> {
    let mut out = vec![card.user_id.to_lowercase(), card.id.to_string()];
    let mut split = |text: &str| {
        out.extend(
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase),
        );
    };
    split(&card.user_id);
    for field in &card.fields {
        split(&field.value);
    }
    if let Some(country) = &card.country {
        split(country);
    }
    out.sort_unstable();
    out.dedup();
    out.into_boxed_slice()
}

#[cfg(test)]
mod tests;
