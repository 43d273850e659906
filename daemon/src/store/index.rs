//! The in-memory index that serves every list, count and search, so that listing never decodes
//! a stored card. One compact row per card (its summary) plus bitmaps of card ids per status,
//! document type, country, assignee, verified, low-confidence and reused documents (`dup:`),
//! and an inverted word index:
//! a filter is a few bitmap intersections, the total is a bitmap's length, and a page newest
//! first is a walk from the bitmap's end. Rebuilt at start; updated by the store on every write.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use idreview_protocol::{
    AssigneeFilter, Card, CardFilter, CardId, CardPage, CardRef, CardSummary, Changes,
    DocumentType, ListQuery, LowConfidenceCard, LowConfidencePage, SortKey, Stats, Status, country,
};
use roaring::RoaringBitmap;

use super::words::{self, Words};
use crate::interned::Interned;
use crate::seed::{SeedIndex, SeedPage, SeedQuery};
use crate::slots::Slots;
use row::{Row, each_word, field_words, words_source};

/// Summaries of every card and the bitmaps over them. Card ids are the bitmaps' members.
#[derive(Default)]
pub struct Index {
    /// By card id; ids are handed out by a counter, so this stays dense.
    rows: Slots<Row>,
    all: RoaringBitmap,
    by_status: [RoaringBitmap; Status::ALL.len()],
    by_type: [RoaringBitmap; DocumentType::ALL.len()],
    by_country: HashMap<Box<str>, RoaringBitmap>,
    by_assignee: HashMap<Box<str>, RoaringBitmap>,
    assigned: RoaringBitmap,
    verified: RoaringBitmap,
    low_confidence: RoaringBitmap,
    /// Cards with a file or document number on another user's card.
    duplicates: RoaringBitmap,
    /// Cards per tenth of confidence (the dashboard's histogram; see `counts.rs`).
    confidence: [u64; Stats::BUCKETS],
    words: Words,
    /// The texts rows share: countries, assignees, first approvers, unsure field names.
    shared: Interned,
    /// Fields below this confidence count as low-confidence.
    threshold: f32,
    /// The change-feed position of the newest write.
    cursor: u64,
    /// The newest removals, with the feed position of each (at most [`MAX_REMOVALS`]).
    removed: VecDeque<(u64, CardId)>,
    /// The seed view's bitmaps and orders (the HTTP API's admin lists), when kept.
    seed: Option<SeedIndex>,
}

/// Removals the change feed remembers. A reader further behind still sees the newest ones, so
/// it still knows to reload.
const MAX_REMOVALS: usize = 10_000;

fn status_slot(s: Status) -> usize {
    Status::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

fn type_slot(t: DocumentType) -> usize {
    DocumentType::ALL.iter().position(|x| *x == t).unwrap_or(0)
}

/// Bitmaps hold u32 ids; a card id beyond that (never handed out by the counter) is not indexed.
fn key(id: CardId) -> Option<u32> {
    u32::try_from(id.0).ok()
}

impl Index {
    /// An empty index; `seed_view` keeps the seed view's index too.
    pub fn new(threshold: f32, seed_view: bool) -> Index {
        Index {
            threshold,
            seed: seed_view.then(|| SeedIndex::new(threshold)),
            ..Index::default()
        }
    }

    /// An empty index about to receive every stored card once (the rebuild at start): the
    /// word index collects the words and builds itself at once in [`Index::compact`], which
    /// must come before the first search.
    pub fn rebuilding(threshold: f32, seed_view: bool) -> Index {
        Index {
            words: Words::loading(),
            ..Index::new(threshold, seed_view)
        }
    }

    /// The summary the index would hold for `card`.
    pub fn summarize(&self, card: &Card) -> CardSummary {
        CardSummary::of(card, self.threshold)
    }

    /// Adds or replaces a card; an older version never replaces a newer one.
    pub fn upsert(&mut self, card: &Card) {
        let Some(k) = key(card.id) else { return };
        if self.row(k).is_some_and(|r| r.version > card.version) {
            return;
        }
        // A decision or a claim leaves the words as they were: keep them and their postings,
        // without building them again (a bulk decision rewrites thousands of rows).
        let source = words_source(card);
        let same_words = self.row(k).is_some_and(|r| r.words_source == source);
        let old = self.remove_row(k, !same_words);
        let built;
        let words = match &old {
            Some(row) if same_words => row.words(),
            _ => {
                built = field_words(card);
                &built
            }
        };
        if let Some(seed) = &mut self.seed {
            seed.upsert(k, card);
        }
        let summary = self.summarize(card);
        self.all.insert(k);
        self.by_status[status_slot(summary.status)].insert(k);
        self.by_type[type_slot(summary.document_type)].insert(k);
        if let Some(country) = &summary.country {
            self.by_country
                .entry(country::key(country).into())
                .or_default()
                .insert(k);
        }
        if let Some(assignee) = &summary.assignee {
            self.by_assignee
                .entry(assignee.as_str().into())
                .or_default()
                .insert(k);
            self.assigned.insert(k);
        }
        if summary.verified {
            self.verified.insert(k);
        }
        if summary.low_confidence > 0 {
            self.low_confidence.insert(k);
        }
        if summary.duplicate {
            self.duplicates.insert(k);
        }
        if let Some(c) = summary.confidence {
            self.confidence[Stats::bucket(c)] += 1;
        }
        if !same_words {
            each_word(&card.user_id, card.country.as_deref(), words, |w| {
                self.words.insert(w, k)
            });
        }
        let low_fields = card.low_confidence_fields(self.threshold).join(" ");
        self.cursor += 1;
        let mut row = Row::new(card, summary, words, source, &low_fields, &mut self.shared);
        row.changed = self.cursor;
        self.rows.set(k, row);
    }

    /// Packs what the rebuild at start grew one card at a time: the word index's nodes. Once,
    /// after the rebuild.
    pub fn compact(&mut self) {
        self.words.compact();
    }

    /// Forgets a card, and tells the change feed.
    pub fn remove(&mut self, id: CardId) {
        if let Some(k) = key(id) {
            let _ = self.remove_row(k, true);
            if let Some(seed) = &mut self.seed {
                seed.remove(k);
            }
            self.cursor += 1;
            if self.removed.len() == MAX_REMOVALS {
                self.removed.pop_front();
            }
            self.removed.push_back((self.cursor, id));
        }
    }

    /// Takes row `k` out of every bitmap, and out of the word index if `words`.
    /// Answers the row taken out. The seed view's index is not touched: its `upsert` replaces
    /// its own row (keeping the trigrams of an unchanged text), [`Index::remove`] removes it.
    fn remove_row(&mut self, k: u32, words: bool) -> Option<Row> {
        let row = self.rows.take(k)?;
        self.all.remove(k);
        self.by_status[status_slot(row.status)].remove(k);
        self.by_type[type_slot(row.document_type)].remove(k);
        let country = row.country.map(|c| country::key(self.shared.get(c)));
        if let Some(ids) = country.and_then(|c| self.by_country.get_mut(c.as_str())) {
            ids.remove(k);
        }
        let assignee = row.assignee.map(|a| self.shared.get(a));
        if let Some(ids) = assignee.and_then(|a| self.by_assignee.get_mut(a)) {
            ids.remove(k);
        }
        self.assigned.remove(k);
        self.verified.remove(k);
        self.low_confidence.remove(k);
        self.duplicates.remove(k);
        if let Some(c) = row.confidence {
            let bucket = &mut self.confidence[Stats::bucket(c)];
            *bucket = bucket.saturating_sub(1);
        }
        if words {
            let country = row.country.map(|c| self.shared.get(c));
            each_word(row.user_id(), country, row.words(), |w| {
                self.words.remove(w, k)
            });
        }
        row.release(&mut self.shared);
        Some(row)
    }

    fn row(&self, k: u32) -> Option<&Row> {
        self.rows.get(k)
    }

    pub fn len(&self) -> usize {
        self.all.len() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The card's summary as clients see it now.
    pub fn summary(&self, id: CardId) -> Option<CardSummary> {
        let k = key(id)?;
        self.row(k).map(|r| r.view(k, Utc::now(), &self.shared))
    }

    /// The change-feed position of the newest write.
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Cards written after `since`, oldest write first, at most [`Changes::MAX_CARDS`], and the
    /// cards removed up to the answer's cursor.
    pub fn changes_since(&self, since: u64) -> Changes {
        let now = Utc::now();
        let mut hits: Vec<(u32, &Row)> = self
            .rows
            .iter()
            .filter(|(_, r)| r.changed > since)
            .collect();
        hits.sort_unstable_by_key(|(_, r)| r.changed);
        hits.truncate(Changes::MAX_CARDS);
        let cursor = match hits.len() {
            Changes::MAX_CARDS => hits.last().map_or(self.cursor, |(_, r)| r.changed),
            _ => self.cursor,
        };
        let deleted = self
            .removed
            .iter()
            .filter(|(at, _)| *at > since && *at <= cursor)
            .map(|(_, id)| *id)
            .collect();
        Changes {
            cursor,
            cards: hits
                .iter()
                .map(|(k, r)| r.view(*k, now, &self.shared))
                .collect(),
            deleted,
        }
    }

    /// The low-confidence queue: undecided cards with fields below the threshold, oldest
    /// first, with the total and the names of those fields.
    pub fn low_confidence(&self, offset: u64, limit: u32) -> LowConfidencePage {
        let now = Utc::now();
        let decided = &self.by_status[status_slot(Status::Approved)]
            | &self.by_status[status_slot(Status::Rejected)];
        let queue = &self.low_confidence - &decided;
        let limit = limit.min(ListQuery::MAX_LIMIT) as usize;
        let cards = queue
            .iter()
            .skip(offset as usize)
            .take(limit)
            .filter_map(|k| Some((k, self.row(k)?)))
            .map(|(k, r)| LowConfidenceCard {
                summary: r.view(k, now, &self.shared),
                fields: r
                    .low_fields
                    .map_or("", |c| self.shared.get(c))
                    .split_whitespace()
                    .map(String::from)
                    .collect(),
            })
            .collect();
        LowConfidencePage {
            total: queue.len(),
            offset,
            threshold: self.threshold,
            cards,
        }
    }

    /// One page of the seed view's admin list (low-confidence measured against the threshold).
    pub fn seed_list(&self, query: &SeedQuery) -> SeedPage {
        match &self.seed {
            Some(seed) => seed.list(query, self.threshold),
            None => SeedPage {
                total: 0,
                ids: Vec::new(),
            },
        }
    }

    /// Cards per status, in [`Status::ALL`] order.
    pub fn counts_by_status(&self) -> Vec<(Status, u64)> {
        Status::ALL
            .iter()
            .map(|s| (*s, self.by_status[status_slot(*s)].len()))
            .collect()
    }

    /// One page of the cards matching the query, with the total count. `caller` resolves
    /// `assignee:me`.
    pub fn list(&self, query: &ListQuery, caller: &str) -> CardPage {
        let now = Utc::now();
        let limit = query.limit.min(ListQuery::MAX_LIMIT);
        let (total, ids) = self.ordered(query, limit, caller, now);
        CardPage {
            total,
            offset: query.offset,
            cards: ids
                .into_iter()
                .filter_map(|k| Some(self.row(k)?.view(k, now, &self.shared)))
                .collect(),
        }
    }

    /// The id and version of each card [`Index::list`] would show, from the query's offset, at
    /// most [`ListQuery::MAX_REFS`].
    pub fn refs(&self, query: &ListQuery, caller: &str) -> Vec<CardRef> {
        let limit = query.limit.min(ListQuery::MAX_REFS);
        let (_, ids) = self.ordered(query, limit, caller, Utc::now());
        ids.into_iter()
            .filter_map(|k| {
                Some(CardRef {
                    id: CardId(u64::from(k)),
                    expected_version: Some(self.row(k)?.version),
                })
            })
            .collect()
    }

    /// How many cards match, and the ids of `limit` of them from the query's offset, in its
    /// order.
    fn ordered(
        &self,
        query: &ListQuery,
        limit: u32,
        caller: &str,
        now: DateTime<Utc>,
    ) -> (u64, Vec<u32>) {
        let hits = self.matching(&query.filter, caller, now);
        let offset = usize::try_from(query.offset).unwrap_or(usize::MAX);
        let limit = limit as usize;
        let ids = if query.sort == SortKey::Created {
            // Ids increase with creation: the bitmap's order is the list's order.
            if query.descending {
                hits.iter().rev().skip(offset).take(limit).collect()
            } else {
                hits.iter().skip(offset).take(limit).collect()
            }
        } else {
            let end = offset.saturating_add(limit);
            let mut ids = self.sorted(&hits, query.sort, query.descending, end, now);
            ids.drain(..offset.min(ids.len()));
            ids
        };
        (hits.len(), ids)
    }

    /// The first `end` of `hits` in `sort`'s order (ties by id, both reversed when descending).
    /// Each card's sort key is read once into a compact vector, so that the sort compares
    /// neighbouring memory instead of visiting rows.
    fn sorted(
        &self,
        hits: &RoaringBitmap,
        sort: SortKey,
        descending: bool,
        end: usize,
        now: DateTime<Utc>,
    ) -> Vec<u32> {
        let rows = || hits.iter().filter_map(|k| Some((self.row(k)?, k)));
        let time = |t: DateTime<Utc>| t.timestamp_micros();
        match sort {
            SortKey::Created => top(
                rows().map(|(r, k)| (time(r.created_at), k)),
                descending,
                end,
            ),
            SortKey::Updated => top(
                rows().map(|(r, k)| (time(r.updated_at), k)),
                descending,
                end,
            ),
            SortKey::DocumentType => {
                top(rows().map(|(r, k)| (r.document_type, k)), descending, end)
            }
            SortKey::Status => top(rows().map(|(r, k)| (r.status, k)), descending, end),
            // Unrated cards first, as `Option`'s order has it; confidences are never negative,
            // so their bits order as they do.
            SortKey::Confidence => top(
                rows().map(|(r, k)| (r.confidence.map(|c| c.max(0.0).to_bits()), k)),
                descending,
                end,
            ),
            SortKey::User => top(rows().map(|(r, k)| (r.user_id(), k)), descending, end),
            SortKey::Country => top(
                rows().map(|(r, k)| (r.country.map(|c| self.shared.get(c)), k)),
                descending,
                end,
            ),
            // As the list shows it: a lapsed claim sorts as unassigned.
            SortKey::Assignee => top(
                rows().map(|(r, k)| (r.assignee(now, &self.shared), k)),
                descending,
                end,
            ),
        }
    }

    /// The ids of every card the filter admits.
    fn matching(&self, f: &CardFilter, caller: &str, now: DateTime<Utc>) -> RoaringBitmap {
        let mut hits = self.all.clone();
        if !f.statuses.is_empty() {
            hits &= union(f.statuses.iter().map(|s| &self.by_status[status_slot(*s)]));
        }
        if !f.document_types.is_empty() {
            hits &= union(
                f.document_types
                    .iter()
                    .map(|t| &self.by_type[type_slot(*t)]),
            );
        }
        if !f.countries.is_empty() {
            let found = f
                .countries
                .iter()
                .filter_map(|c| self.by_country.get(country::key(c).as_str()));
            hits &= union(found);
        }
        if f.low_confidence_only {
            hits &= &self.low_confidence;
        }
        match f.verified {
            Some(true) => hits &= &self.verified,
            Some(false) => hits -= &self.verified,
            None => {}
        }
        match f.duplicate {
            Some(true) => hits &= &self.duplicates,
            Some(false) => hits -= &self.duplicates,
            None => {}
        }
        let named = |name: &str| self.by_assignee.get(name).cloned().unwrap_or_default();
        match &f.assignee {
            AssigneeFilter::Anyone => {}
            AssigneeFilter::Unassigned => {
                // Claims that lapsed still sit in `assigned`; they read as unassigned.
                let mut held = self.assigned.clone();
                held.retain(|k| {
                    self.row(k)
                        .is_some_and(|r| r.assignee(now, &self.shared).is_some())
                });
                hits -= held;
            }
            AssigneeFilter::Me => hits &= self.live(named(caller), now),
            AssigneeFilter::Named(n) => hits &= self.live(named(n), now),
        }
        if !f.ids.is_empty() {
            let ids = f.ids.iter().filter_map(|id| u32::try_from(*id).ok());
            hits &= RoaringBitmap::from_iter(ids);
        }
        if !f.users.is_empty() {
            // User ids are indexed whole as words: narrow by prefix, then keep exact matches.
            let mut users = union(
                f.users
                    .iter()
                    .map(|u| self.words.with_prefix(&u.to_lowercase()))
                    .collect::<Vec<_>>()
                    .iter(),
            );
            users.retain(|k| {
                self.row(k).is_some_and(|r| {
                    f.users
                        .iter()
                        .any(|u| u.to_lowercase() == r.user_id().to_lowercase())
                })
            });
            hits &= users;
        }
        for word in f.text.iter().flat_map(|t| t.split_whitespace()) {
            hits &= self.word_hits(word);
        }
        let needs_rows = f.min_confidence.is_some()
            || f.max_confidence.is_some()
            || f.created_from.is_some()
            || f.created_to.is_some()
            || f.updated_from.is_some()
            || f.updated_to.is_some();
        if needs_rows {
            hits.retain(|k| self.row(k).is_some_and(|r| row_matches(f, r)));
        }
        hits
    }

    /// The cards of `held` whose claim still runs at `now`.
    fn live(&self, mut held: RoaringBitmap, now: DateTime<Utc>) -> RoaringBitmap {
        held.retain(|k| {
            self.row(k)
                .is_some_and(|r| r.assignee(now, &self.shared).is_some())
        });
        held
    }

    /// Cards with a word starting with `word` (user ids are indexed whole), or with a word
    /// starting with each of its parts (`anna maria` in `ANNA<MARIA`), or the card whose id it is.
    fn word_hits(&self, word: &str) -> RoaringBitmap {
        let mut parts = words::split(word);
        let Some(first) = parts.next() else {
            return self.all.clone();
        };
        let mut hits = self.words.with_prefix(&first);
        for part in parts {
            hits &= self.words.with_prefix(&part);
        }
        hits |= self.words.with_prefix(&word.to_lowercase());
        if let Ok(id) = word.trim_start_matches('#').parse::<u32>()
            && self.row(id).is_some()
        {
            hits.insert(id);
        }
        hits
    }
}

fn union<'a>(sets: impl Iterator<Item = &'a RoaringBitmap>) -> RoaringBitmap {
    sets.fold(RoaringBitmap::new(), |acc, s| acc | s)
}

/// The filter's conditions that need a row's values rather than a bitmap.
fn row_matches(f: &CardFilter, s: &Row) -> bool {
    f.updated_from.is_none_or(|t| s.updated_at >= t)
        && f.updated_to.is_none_or(|t| s.updated_at < t)
        && f.min_confidence
            .is_none_or(|lo| s.confidence.is_some_and(|c| c >= lo))
        && f.max_confidence
            .is_none_or(|hi| s.confidence.is_some_and(|c| c < hi))
        && f.created_from.is_none_or(|t| s.created_at >= t)
        && f.created_to.is_none_or(|t| s.created_at < t)
}

/// The ids of the first `end` of `keyed` by key, then id (the whole order reversed when
/// `descending`).
fn top<K: Ord>(keyed: impl Iterator<Item = (K, u32)>, descending: bool, end: usize) -> Vec<u32> {
    let mut keyed: Vec<(K, u32)> = keyed.collect();
    let cmp = |a: &(K, u32), b: &(K, u32)| {
        if descending { b.cmp(a) } else { a.cmp(b) }
    };
    if end == 0 {
        return Vec::new();
    }
    if end < keyed.len() {
        keyed.select_nth_unstable_by(end - 1, cmp);
        keyed.truncate(end);
    }
    keyed.sort_unstable_by(cmp);
    keyed.into_iter().map(|(_, k)| k).collect()
}

mod counts;
mod row;
#[cfg(test)]
mod tests;
