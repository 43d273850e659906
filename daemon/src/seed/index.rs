//! The seed view's index: one small row per card (seed status, decision, `verified`, type,
//! country, mean confidence, dates and the lower-case text the seed searches) and, over them,
//! bitmaps per seed status, decision, type and country, the verified set, the cards ordered by
//! mean confidence, and a trigram index for the seed's case-insensitive substring search. It
//! lives inside the store's index and is updated with it on every write, so an admin list at
//! 100,000 cards is a few bitmap operations and a walk, never a scan of the cards.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use idreview_protocol::{Card, CardId, DocumentType};
use roaring::RoaringBitmap;

use super::names;
use super::view::{self, SeedDecision, SeedStatus};
use crate::interned::{Code, Interned};
use crate::slots::Slots;

/// The seed's ordering keys (`ordering=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOrder {
    Created,
    Updated,
    Confidence,
    DocumentType,
    Status,
}

impl SeedOrder {
    /// The key the seed's `ordering` parameter names (without its `-`).
    pub fn parse(name: &str) -> Option<SeedOrder> {
        Some(match name {
            "created_at" => SeedOrder::Created,
            "updated_at" => SeedOrder::Updated,
            "confidence" => SeedOrder::Confidence,
            "document_type" => SeedOrder::DocumentType,
            "status" => SeedOrder::Status,
            _ => return None,
        })
    }
}

/// One admin list query, every condition ANDed.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedQuery {
    pub status: Option<SeedStatus>,
    pub document_type: Option<DocumentType>,
    pub decision: Option<SeedDecision>,
    /// Case-insensitive exact.
    pub country: Option<String>,
    pub verified: Option<bool>,
    /// Inclusive bounds on the mean confidence (cards without one never match a bound).
    pub confidence_min: Option<f64>,
    pub confidence_max: Option<f64>,
    /// Inclusive bounds on `created_at`.
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Each term a case-insensitive substring of one of the searched texts.
    pub search: Vec<String>,
    /// Only unverified cards whose mean confidence is below the threshold (the low-confidence
    /// queue).
    pub low_confidence: bool,
    pub order: SeedOrder,
    pub descending: bool,
    pub offset: usize,
    pub limit: usize,
}

impl Default for SeedQuery {
    fn default() -> Self {
        SeedQuery {
            status: None,
            document_type: None,
            decision: None,
            country: None,
            verified: None,
            confidence_min: None,
            confidence_max: None,
            created_after: None,
            created_before: None,
            search: Vec::new(),
            low_confidence: false,
            order: SeedOrder::Created,
            descending: true,
            offset: 0,
            limit: 20,
        }
    }
}

/// One page: the cards matching in all, and the ids of this page in order.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedPage {
    pub total: u64,
    pub ids: Vec<CardId>,
}

/// One card as the seed view's index knows it (64 bytes and its text).
struct Row {
    status: SeedStatus,
    document_type: DocumentType,
    /// Lower case, for the country bitmap: a code into [`SeedIndex::countries`].
    country: Option<Code>,
    confidence: Option<f64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// The searched texts, lower case, one per line: user, first name, last name, number.
    text: Box<str>,
}

/// The seed view's bitmaps and orders; card ids are their members.
#[derive(Default)]
pub struct SeedIndex {
    rows: Slots<Row>,
    all: RoaringBitmap,
    by_status: [RoaringBitmap; SeedStatus::ALL.len()],
    by_decision: [RoaringBitmap; SeedDecision::ALL.len()],
    by_type: [RoaringBitmap; DocumentType::ALL.len()],
    by_country: HashMap<Box<str>, RoaringBitmap>,
    /// The rows' countries, each kept once.
    countries: Interned,
    verified: RoaringBitmap,
    /// Cards with a mean confidence, ordered by it, then by id.
    by_confidence: BTreeSet<(u64, u32)>,
    /// The low-confidence queue's threshold, when the index keeps `low` for it.
    low_under: Option<f64>,
    /// Cards whose mean confidence is below `low_under`: the low-confidence page's bitmap,
    /// kept as cards change rather than gathered from `by_confidence` on every call.
    low: RoaringBitmap,
    /// Trigram of a searched text -> the cards holding it.
    grams: HashMap<u64, RoaringBitmap>,
    /// Room to write a card's searched texts in before they are compared with its row's.
    text: String,
}

/// A confidence as an order-preserving key (confidences are never negative).
fn confidence_key(c: f64) -> u64 {
    c.max(0.0).to_bits()
}

fn type_slot(t: DocumentType) -> usize {
    DocumentType::ALL.iter().position(|x| *x == t).unwrap_or(0)
}

/// Every trigram of `text`'s lines, packed into one number each.
fn trigrams(text: &str) -> impl Iterator<Item = u64> + '_ {
    text.split('\n').flat_map(|line| {
        let chars: Vec<char> = line.chars().collect();
        let grams: Vec<u64> = chars
            .windows(3)
            .map(|w| (u64::from(w[0]) << 42) | (u64::from(w[1]) << 21) | u64::from(w[2]))
            .collect();
        grams
    })
}

/// The texts the seed's `search` looks in, lower case, one per line, written into `out`.
fn search_text(card: &Card, out: &mut String) {
    let value = |ocr: &str| names::field(card, ocr).map_or("", |f| f.value.as_str());
    out.clear();
    let texts = [
        card.user_id.as_str(),
        value("firstName"),
        value("lastName"),
        value("documentNumber"),
    ];
    for (i, text) in texts.into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if text.is_ascii() {
            out.extend(text.bytes().map(|b| match b {
                b'\n' => ' ',
                b => char::from(b.to_ascii_lowercase()),
            }));
        } else {
            // `str::to_lowercase` knows the letters whose lower case depends on their place.
            out.push_str(&text.replace('\n', " ").to_lowercase());
        }
    }
}

impl SeedIndex {
    /// An empty index that keeps the cards below `threshold` (the low-confidence queue's) at
    /// hand.
    pub fn new(threshold: f32) -> SeedIndex {
        SeedIndex {
            low_under: Some(view::decimal(threshold)),
            ..SeedIndex::default()
        }
    }

    /// Adds or replaces card `k`'s row (the caller removes the old one first).
    pub fn upsert(&mut self, k: u32, card: &Card) {
        let mut text = std::mem::take(&mut self.text);
        search_text(card, &mut text);
        // A decision or a claim leaves the searched texts as they were: keep their trigrams
        // (and the row's copy of the text).
        let same_text = self.row(k).is_some_and(|r| *r.text == *text);
        let old = self.remove_row(k, !same_text);
        let text = match old {
            Some(old) if same_text => {
                self.text = text;
                old.text
            }
            _ => {
                let boxed = text.as_str().into();
                self.text = text;
                boxed
            }
        };
        let row = Row {
            status: view::status(card),
            document_type: card.document_type,
            country: card
                .country
                .as_deref()
                .map(|c| self.countries.hold(&c.to_lowercase())),
            confidence: view::mean_confidence(card),
            created_at: card.created_at,
            updated_at: card.updated_at,
            text,
        };
        self.all.insert(k);
        self.by_status[row.status.slot()].insert(k);
        self.by_decision[view::decision(card).slot()].insert(k);
        self.by_type[type_slot(row.document_type)].insert(k);
        if let Some(country) = row.country {
            self.by_country
                .entry(self.countries.get(country).into())
                .or_default()
                .insert(k);
        }
        if view::verified(card) {
            self.verified.insert(k);
        }
        if let Some(c) = row.confidence {
            self.by_confidence.insert((confidence_key(c), k));
            if self.low_under.is_some_and(|under| c < under) {
                self.low.insert(k);
            }
        }
        if !same_text {
            for gram in trigrams(&row.text) {
                self.grams.entry(gram).or_default().insert(k);
            }
        }
        self.rows.set(k, row);
    }

    /// Forgets card `k`.
    pub fn remove(&mut self, k: u32) {
        self.remove_row(k, true);
    }

    /// Forgets card `k`'s row, and its trigrams when `grams` is set; answers the row.
    fn remove_row(&mut self, k: u32, grams: bool) -> Option<Row> {
        let row = self.rows.take(k)?;
        self.all.remove(k);
        self.by_status[row.status.slot()].remove(k);
        for ids in &mut self.by_decision {
            ids.remove(k);
        }
        self.by_type[type_slot(row.document_type)].remove(k);
        if let Some(country) = row.country {
            if let Some(ids) = self.by_country.get_mut(self.countries.get(country)) {
                ids.remove(k);
            }
            self.countries.release(country);
        }
        self.verified.remove(k);
        if let Some(c) = row.confidence {
            self.by_confidence.remove(&(confidence_key(c), k));
        }
        self.low.remove(k);
        if grams {
            for gram in trigrams(&row.text) {
                if let Some(ids) = self.grams.get_mut(&gram) {
                    ids.remove(k);
                    if ids.is_empty() {
                        self.grams.remove(&gram);
                    }
                }
            }
        }
        Some(row)
    }

    fn row(&self, k: u32) -> Option<&Row> {
        self.rows.get(k)
    }

    /// One page of the cards matching `q`; the low-confidence queue measures against
    /// `threshold`.
    pub fn list(&self, q: &SeedQuery, threshold: f32) -> SeedPage {
        let mut hits = self.matching(q, view::decimal(threshold));
        let total = hits.len();
        let end = q.offset + q.limit;
        let page: Vec<u32> = match q.order {
            SeedOrder::Created if q.descending => {
                hits.iter().rev().skip(q.offset).take(q.limit).collect()
            }
            SeedOrder::Created => hits.iter().skip(q.offset).take(q.limit).collect(),
            SeedOrder::Confidence => {
                let rated = self.by_confidence.iter().map(|(_, k)| *k);
                let ordered: Vec<u32> = if q.descending {
                    rated
                        .rev()
                        .filter(|k| hits.contains(*k))
                        .take(end)
                        .collect()
                } else {
                    rated.filter(|k| hits.contains(*k)).take(end).collect()
                };
                let mut page = ordered;
                if page.len() < end {
                    // Cards without a confidence come last either way.
                    for (_, k) in &self.by_confidence {
                        hits.remove(*k);
                    }
                    page.extend(hits.iter().take(end - page.len()));
                }
                page.into_iter().skip(q.offset).collect()
            }
            key => self.sorted_page(&hits, key, q),
        };
        SeedPage {
            total,
            ids: page.into_iter().map(|k| CardId(u64::from(k))).collect(),
        }
    }

    /// A page ordered by a row's value, then by id; only the page's end is fully sorted.
    fn sorted_page(&self, hits: &RoaringBitmap, key: SeedOrder, q: &SeedQuery) -> Vec<u32> {
        let value = |k: u32| -> (i64, i64) {
            let Some(r) = self.row(k) else {
                return (0, 0);
            };
            match key {
                SeedOrder::Updated => (r.updated_at.timestamp_micros(), 0),
                // Alphabetical by the seed's value, as the database orders strings.
                SeedOrder::DocumentType => (type_rank(r.document_type), 0),
                SeedOrder::Status => (status_rank(r.status), 0),
                SeedOrder::Created | SeedOrder::Confidence => (0, 0),
            }
        };
        let cmp = |a: &u32, b: &u32| {
            let order = value(*a).cmp(&value(*b)).then(a.cmp(b));
            if q.descending { order.reverse() } else { order }
        };
        let mut ids: Vec<u32> = hits.iter().collect();
        let end = (q.offset + q.limit).min(ids.len());
        if end > 0 && end < ids.len() {
            ids.select_nth_unstable_by(end - 1, cmp);
            ids.truncate(end);
        }
        ids.sort_unstable_by(cmp);
        ids.into_iter().skip(q.offset).take(q.limit).collect()
    }

    /// The ids of every card `q` admits.
    fn matching(&self, q: &SeedQuery, threshold: f64) -> RoaringBitmap {
        let mut hits = self.all.clone();
        if let Some(s) = q.status {
            hits &= &self.by_status[s.slot()];
        }
        if let Some(d) = q.decision {
            hits &= &self.by_decision[d.slot()];
        }
        if let Some(t) = q.document_type {
            hits &= &self.by_type[type_slot(t)];
        }
        if let Some(country) = &q.country {
            match self.by_country.get(country.to_lowercase().as_str()) {
                Some(ids) => hits &= ids,
                None => hits.clear(),
            }
        }
        match q.verified {
            Some(true) => hits &= &self.verified,
            Some(false) => hits -= &self.verified,
            None => {}
        }
        if q.low_confidence {
            hits -= &self.verified;
            match self.low_under == Some(threshold) {
                true => hits &= &self.low,
                false => hits &= self.confidence_range(None, Some(threshold), false),
            }
        }
        if q.confidence_min.is_some() || q.confidence_max.is_some() {
            hits &= self.confidence_range(q.confidence_min, q.confidence_max, true);
        }
        for term in &q.search {
            hits &= self.search(term, &hits);
        }
        if q.created_after.is_some() || q.created_before.is_some() {
            hits.retain(|k| {
                self.row(k).is_some_and(|r| {
                    q.created_after.is_none_or(|t| r.created_at >= t)
                        && q.created_before.is_none_or(|t| r.created_at <= t)
                })
            });
        }
        hits
    }

    /// Cards whose mean confidence is within the bounds (`hi` inclusive when `inclusive`).
    fn confidence_range(&self, lo: Option<f64>, hi: Option<f64>, inclusive: bool) -> RoaringBitmap {
        let start = (confidence_key(lo.unwrap_or(0.0)), 0);
        let mut out = RoaringBitmap::new();
        for (key, k) in self.by_confidence.range(start..) {
            let c = f64::from_bits(*key);
            match hi {
                Some(hi) if c > hi || (!inclusive && c >= hi) => break,
                _ => {}
            }
            out.insert(*k);
        }
        out
    }

    /// Cards among `within` holding `term` (lower case) as a substring of a searched text.
    fn search(&self, term: &str, within: &RoaringBitmap) -> RoaringBitmap {
        let term = term.to_lowercase();
        let mut candidates = within.clone();
        let mut grams = trigrams(&term).peekable();
        if grams.peek().is_some() {
            for gram in grams {
                match self.grams.get(&gram) {
                    Some(ids) => candidates &= ids,
                    None => return RoaringBitmap::new(),
                }
            }
        }
        candidates.retain(|k| self.row(k).is_some_and(|r| r.text.contains(term.as_str())));
        candidates
    }
}

/// The seed's status values in the order a database sorts the strings.
fn status_rank(s: SeedStatus) -> i64 {
    let mut names: Vec<&str> = SeedStatus::ALL.iter().map(|s| s.as_str()).collect();
    names.sort_unstable();
    names.iter().position(|n| *n == s.as_str()).unwrap_or(0) as i64
}

/// The seed's document types in the order a database sorts the strings.
fn type_rank(t: DocumentType) -> i64 {
    let mut names: Vec<&str> = DocumentType::ALL.iter().map(|t| t.as_str()).collect();
    names.sort_unstable();
    names.iter().position(|n| *n == t.as_str()).unwrap_or(0) as i64
}

#[cfg(test)]
mod tests;
