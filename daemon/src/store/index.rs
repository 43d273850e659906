//! The in-memory index of card summaries that serves every list, count and search, so that
//! listing never decodes a stored card. Rebuilt at start; updated by the store on every write.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use idreview_protocol::{
    AssigneeFilter, Card, CardFilter, CardId, CardPage, CardSummary, ListQuery, SortKey, Status,
};

/// One card as the index knows it.
struct Entry {
    summary: CardSummary,
    /// Lower-case words from the user id, card id and field values, for text search.
    tokens: Box<[String]>,
}

/// Summaries of every card, by id (which is creation order).
#[derive(Default)]
pub struct Index {
    by_id: BTreeMap<CardId, Entry>,
    /// Fields below this confidence count as low-confidence.
    threshold: f32,
}

impl Index {
    pub fn new(threshold: f32) -> Index {
        Index {
            by_id: BTreeMap::new(),
            threshold,
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
        let entry = Entry {
            summary: self.summarize(card),
            tokens: tokens(card),
        };
        self.by_id.insert(card.id, entry);
    }

    /// Forgets a deleted card.
    pub fn remove(&mut self, id: CardId) {
        self.by_id.remove(&id);
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn summary(&self, id: CardId) -> Option<&CardSummary> {
        self.by_id.get(&id).map(|e| &e.summary)
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
        let filter = Matcher::new(&query.filter, caller);
        let offset = query.offset as usize;
        let limit = query.limit.min(ListQuery::MAX_LIMIT) as usize;
        if query.sort == SortKey::Created {
            // Ids increase with creation: walk the map in order and keep only the page.
            let mut total = 0usize;
            let mut cards = Vec::with_capacity(limit);
            let mut visit = |e: &Entry| {
                if filter.matches(e) {
                    if total >= offset && cards.len() < limit {
                        cards.push(e.summary.clone());
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
        let mut hits: Vec<&CardSummary> = self
            .by_id
            .values()
            .filter(|e| filter.matches(e))
            .map(|e| &e.summary)
            .collect();
        let total = hits.len() as u64;
        let cmp =
            |a: &&CardSummary, b: &&CardSummary| compare(query.sort, a, b).then(a.id.cmp(&b.id));
        if query.descending {
            hits.sort_unstable_by(|a, b| cmp(b, a));
        } else {
            hits.sort_unstable_by(cmp);
        }
        let cards = hits.into_iter().skip(offset).take(limit).cloned().collect();
        CardPage {
            total,
            offset: query.offset,
            cards,
        }
    }
}

fn compare(key: SortKey, a: &CardSummary, b: &CardSummary) -> Ordering {
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
        SortKey::Assignee => a.assignee.cmp(&b.assignee),
    }
}

/// A filter prepared once per query.
struct Matcher<'a> {
    filter: &'a CardFilter,
    caller: &'a str,
    words: Vec<String>,
}

impl<'a> Matcher<'a> {
    fn new(filter: &'a CardFilter, caller: &'a str) -> Self {
        let words = filter
            .text
            .as_deref()
            .map(|t| t.split_whitespace().map(str::to_lowercase).collect())
            .unwrap_or_default();
        Matcher {
            filter,
            caller,
            words,
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
            && f.verified.is_none_or(|v| s.verified == v)
            && match &f.assignee {
                AssigneeFilter::Anyone => true,
                AssigneeFilter::Unassigned => s.assignee.is_none(),
                AssigneeFilter::Me => s.assignee.as_deref() == Some(self.caller),
                AssigneeFilter::Named(n) => s.assignee.as_deref() == Some(n.as_str()),
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
mod tests {
    use super::*;
    use crate::lifecycle::tests::card;
    use idreview_protocol::{DocumentType, Field, FieldSource, Side};

    fn index() -> Index {
        let mut index = Index::new(0.8);
        for i in 1..=30u64 {
            let mut c = card(if i % 3 == 0 {
                Status::Approved
            } else {
                Status::NeedsReview
            });
            c.id = CardId(i);
            c.user_id = format!("user-{i}");
            c.document_type = if i % 2 == 0 {
                DocumentType::Passport
            } else {
                DocumentType::NationalId
            };
            c.created_at += chrono::Duration::seconds(i as i64);
            c.fields.push(Field {
                name: "surname".into(),
                value: if i == 7 {
                    "Eriksson".into()
                } else {
                    "Doe".into()
                },
                confidence: i as f32 / 30.0,
                source: FieldSource::Mrz,
                side: Side::Front,
                bbox: None,
                candidates: vec![],
            });
            index.upsert(&c);
        }
        index
    }

    fn ids(page: &CardPage) -> Vec<u64> {
        page.cards.iter().map(|c| c.id.0).collect()
    }

    #[test]
    fn pages_newest_first_with_total() {
        let q = ListQuery {
            offset: 2,
            limit: 3,
            ..ListQuery::default()
        };
        let page = index().list(&q, "me");
        assert_eq!(page.total, 30);
        assert_eq!(ids(&page), vec![28, 27, 26]);
    }

    #[test]
    fn filters_combine() {
        let filter =
            CardFilter::parse("status:needs_review type:passport conf:<0.5").expect("parses");
        let q = ListQuery {
            filter,
            limit: 100,
            descending: false,
            ..ListQuery::default()
        };
        let page = index().list(&q, "me");
        // Even ids below 15 (confidence i/30 < 0.5), not multiples of 3.
        assert_eq!(ids(&page), vec![2, 4, 8, 10, 14]);
        assert_eq!(page.total, 5);
    }

    #[test]
    fn text_search_matches_prefixes_of_any_field() {
        let q = ListQuery {
            filter: CardFilter::parse("eriks").expect("parses"),
            ..ListQuery::default()
        };
        assert_eq!(ids(&index().list(&q, "me")), vec![7]);
        let q = ListQuery {
            filter: CardFilter::parse("user-12").expect("parses"),
            ..ListQuery::default()
        };
        assert_eq!(ids(&index().list(&q, "me")), vec![12]);
    }

    #[test]
    fn sorts_by_confidence_both_ways() {
        let mut q = ListQuery {
            sort: SortKey::Confidence,
            limit: 2,
            descending: true,
            ..ListQuery::default()
        };
        assert_eq!(ids(&index().list(&q, "me")), vec![30, 29]);
        q.descending = false;
        assert_eq!(ids(&index().list(&q, "me")), vec![1, 2]);
    }

    #[test]
    fn low_confidence_counts_against_threshold() {
        let q = ListQuery {
            filter: CardFilter::parse("low:yes").expect("parses"),
            ..ListQuery::default()
        };
        // confidence i/30 < 0.8  <=>  i < 24
        assert_eq!(index().list(&q, "me").total, 23);
    }

    #[test]
    fn older_versions_never_overwrite_newer() {
        let mut index = index();
        let mut c = card(Status::Rejected);
        c.id = CardId(5);
        c.version = 0;
        index.upsert(&c);
        assert_eq!(
            index.summary(CardId(5)).map(|s| s.status),
            Some(Status::NeedsReview)
        );
    }
}
