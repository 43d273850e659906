//! The list screen's state and its paging arithmetic: an absolute cursor over every matching
//! card, and the one page around it that the server is asked for.

use std::collections::BTreeMap;

use idreview_protocol::{CardFilter, CardId, CardPage, CardSummary, ListQuery, Status};

/// The statuses the quick filter steps through, after "any".
pub const QUICK_STATUSES: [Status; 4] = [
    Status::NeedsReview,
    Status::AutoVerified,
    Status::Approved,
    Status::Rejected,
];

/// The query the low-confidence queue lists.
pub const QUEUE_FILTER: &str = "status:needs_review";

/// One kind of request: whether it is out, and whether another was wanted meanwhile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InFlight {
    /// A request of this kind is out.
    pub busy: bool,
    /// Another was wanted while it was out.
    pub again: bool,
}

impl InFlight {
    /// Marks a request as sent; `false` if one is out already (it is then re-sent on finish).
    pub fn start(&mut self) -> bool {
        if self.busy {
            self.again = true;
            return false;
        }
        self.busy = true;
        true
    }

    /// Marks the answer as in; `true` if another request was wanted meanwhile.
    pub fn finish(&mut self) -> bool {
        self.busy = false;
        std::mem::take(&mut self.again)
    }
}

/// The offset of the page holding `cursor`.
pub fn page_offset(cursor: u64, page_size: u32) -> u64 {
    let size = u64::from(page_size.max(1));
    cursor / size * size
}

/// `cursor` moved by `delta`, kept within `0..total`.
pub fn moved(cursor: u64, delta: i64, total: u64) -> u64 {
    let last = total.saturating_sub(1);
    cursor.saturating_add_signed(delta).min(last)
}

/// `rows a-b of total` for a page, 1-based; `no rows` when empty.
pub fn rows_label(page: &CardPage) -> String {
    if page.cards.is_empty() {
        return match page.total {
            0 => "no cards".to_string(),
            total => format!("past the last of {total} cards"),
        };
    }
    let first = page.offset + 1;
    let last = page.offset + page.cards.len() as u64;
    format!("rows {first}-{last} of {}", page.total)
}

/// What the list shows and where its selection is.
#[derive(Debug, Clone, PartialEq)]
pub struct ListState {
    /// The query for the page under the cursor: `offset` follows the cursor, `limit` the page.
    pub query: ListQuery,
    /// The last page that came back for `query`.
    pub page: Option<CardPage>,
    /// The selected card's position among all matching cards.
    pub cursor: u64,
    /// The page request in flight.
    pub loading: InFlight,
    /// Cards marked for a bulk action, with the version each was marked at.
    pub marks: BTreeMap<CardId, u64>,
    /// Where the last single mark was toggled: one end of a range mark.
    pub anchor: Option<u64>,
}

impl ListState {
    /// An empty list that will ask for `query`.
    pub fn new(query: ListQuery) -> ListState {
        ListState {
            query,
            page: None,
            cursor: 0,
            loading: InFlight::default(),
            marks: BTreeMap::new(),
            anchor: None,
        }
    }

    /// Matching cards in all, as the server last counted.
    pub fn total(&self) -> u64 {
        self.page.as_ref().map_or(0, |p| p.total)
    }

    /// The selected card, when its page is the one shown.
    pub fn selected(&self) -> Option<&CardSummary> {
        let page = self.page.as_ref()?;
        let index = self.cursor.checked_sub(page.offset)?;
        page.cards.get(usize::try_from(index).ok()?)
    }

    /// The cards of the page the table shows in `rows` rows (the table scrolls to keep the
    /// selection in view, as ratatui's does); the whole page when `rows` is 0 (not yet known).
    pub fn shown(&self, rows: usize) -> &[CardSummary] {
        let Some(page) = self.page.as_ref() else {
            return &[];
        };
        let len = page.cards.len();
        if rows == 0 || rows >= len {
            return &page.cards;
        }
        let selected = self.cursor.saturating_sub(page.offset);
        let selected = usize::try_from(selected).unwrap_or(usize::MAX).min(len - 1);
        let start = (selected + 1).saturating_sub(rows);
        &page.cards[start..start + rows]
    }

    /// The position of card `id` among all matching cards, when it is on the page shown.
    pub fn position(&self, id: CardId) -> Option<u64> {
        let page = self.page.as_ref()?;
        let at = page.cards.iter().position(|c| c.id == id)?;
        Some(page.offset + at as u64)
    }

    /// Moves the cursor to `cursor`; `true` if a different page must be fetched.
    pub fn move_to(&mut self, cursor: u64) -> bool {
        self.cursor = cursor;
        self.follow_cursor()
    }

    /// Moves the cursor by `delta` rows.
    pub fn move_by(&mut self, delta: i64) -> bool {
        self.move_to(moved(self.cursor, delta, self.total()))
    }

    /// Points the query at the cursor's page; `true` if that changed the offset.
    pub fn follow_cursor(&mut self) -> bool {
        let offset = page_offset(self.cursor, self.query.limit);
        let changed = offset != self.query.offset;
        self.query.offset = offset;
        changed
    }

    /// Takes a page that answers `query`; `true` if a different page must now be fetched
    /// because the cards shrank under the cursor.
    pub fn apply(&mut self, page: CardPage) -> bool {
        self.cursor = self.cursor.min(page.total.saturating_sub(1));
        self.page = Some(page);
        self.follow_cursor()
    }

    /// Sets a page size (from config or the window); `true` if the page must be fetched again.
    pub fn set_page_size(&mut self, size: u32) -> bool {
        let size = size.clamp(1, ListQuery::MAX_LIMIT);
        if size == self.query.limit {
            return false;
        }
        self.query.limit = size;
        self.follow_cursor();
        true
    }
}

/// Steps the quick status filter: any, then each of [`QUICK_STATUSES`], then any again.
pub fn cycle_status(filter: &mut CardFilter) {
    let statuses = &mut filter.statuses;
    let next = match statuses.as_slice() {
        [] => Some(QUICK_STATUSES[0]),
        [one] => QUICK_STATUSES
            .iter()
            .position(|s| s == one)
            .and_then(|i| QUICK_STATUSES.get(i + 1).copied()),
        _ => None,
    };
    *statuses = next.into_iter().collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(offset: u64, len: usize, total: u64) -> CardPage {
        let card = crate::app::fixtures::summary(1);
        CardPage {
            total,
            offset,
            cards: vec![card; len],
        }
    }

    fn list(limit: u32) -> ListState {
        ListState::new(ListQuery {
            limit,
            ..ListQuery::default()
        })
    }

    #[test]
    fn pages_follow_the_cursor() {
        assert_eq!(page_offset(0, 20), 0);
        assert_eq!(page_offset(19, 20), 0);
        assert_eq!(page_offset(20, 20), 20);
        assert_eq!(moved(0, -1, 10), 0);
        assert_eq!(moved(9, 5, 10), 9);
        assert_eq!(moved(3, 2, 0), 0);
    }

    #[test]
    fn moving_past_the_page_asks_for_the_next() {
        let mut l = list(10);
        assert!(!l.apply(page(0, 10, 25)));
        assert!(!l.move_by(9));
        assert!(l.move_by(1), "row 10 is on the second page");
        assert_eq!(l.query.offset, 10);
        assert!(l.move_to(24));
        assert_eq!(l.query.offset, 20);
        assert!(!l.move_by(100), "clamped to the last row");
        assert_eq!(l.cursor, 24);
    }

    #[test]
    fn a_shrunk_list_pulls_the_cursor_back() {
        let mut l = list(10);
        l.apply(page(0, 10, 25));
        l.move_to(24);
        assert!(l.apply(page(20, 0, 12)), "the cursor's page moved");
        assert_eq!(l.cursor, 11);
        assert_eq!(l.query.offset, 10);
        assert_eq!(rows_label(&page(10, 2, 12)), "rows 11-12 of 12");
        assert_eq!(rows_label(&page(0, 0, 0)), "no cards");
    }

    #[test]
    fn page_size_changes_keep_the_cursor() {
        let mut l = list(10);
        l.apply(page(0, 10, 100));
        l.move_to(35);
        assert!(l.set_page_size(20));
        assert_eq!(l.query.offset, 20);
        assert!(!l.set_page_size(20));
        assert!(l.set_page_size(5000));
        assert_eq!(l.query.limit, ListQuery::MAX_LIMIT);
    }

    #[test]
    fn quick_status_cycles_back_to_any() {
        let mut filter = CardFilter::default();
        let mut seen = Vec::new();
        for _ in 0..5 {
            cycle_status(&mut filter);
            seen.push(filter.statuses.clone());
        }
        assert_eq!(seen[0], vec![Status::NeedsReview]);
        assert_eq!(seen[3], vec![Status::Rejected]);
        assert!(seen[4].is_empty());
    }

    #[test]
    fn in_flight_requests_are_coalesced() {
        let mut f = InFlight::default();
        assert!(f.start());
        assert!(!f.start());
        assert!(!f.start());
        assert!(f.finish(), "one more was wanted");
        assert!(f.start());
        assert!(!f.finish());
    }
}
