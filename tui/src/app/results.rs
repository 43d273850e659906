//! How RPC answers land in the console's state: pages, counts, cards, audit history and the
//! change feed, each clearing its in-flight mark and re-asking when the question changed while
//! the answer was on its way.

use idreview_protocol::{AuditEvent, Card, CardId, CardPage, Changes, Health, ListQuery};

use super::queue::first_low;
use super::{App, Screen};
use crate::message::{CallError, Command, Request};

impl App {
    /// Takes new counts.
    pub(super) fn health_loaded(&mut self, result: Result<Health, CallError>) -> Vec<Command> {
        self.health_loading.finish();
        match result {
            Ok(health) => self.health = Some(health),
            Err(e) => tracing::warn!(error = %e, "health failed"),
        }
        self.fit_page_to_screen()
    }

    /// Takes a page if it answers the current query, else asks again.
    pub(super) fn page_loaded(
        &mut self,
        query: ListQuery,
        result: Result<CardPage, CallError>,
    ) -> Vec<Command> {
        let again = self.list.loading.finish();
        let current = query == self.list.query;
        match result {
            Ok(page) if current => {
                if self.list.apply(page) || again {
                    return self.request_list();
                }
                // The highlight follows the open card when a refresh moved it on the page.
                let open = self
                    .detail
                    .as_ref()
                    .filter(|_| self.screen == Screen::Detail);
                if let Some(at) = open.and_then(|d| self.list.position(d.id)) {
                    self.list.cursor = at;
                }
                if std::mem::take(&mut self.pending_open) && self.screen == Screen::List {
                    return self.open_detail();
                }
                vec![]
            }
            // An answer to a question no longer asked: ask the current one.
            Ok(_) => self.request_list(),
            Err(e) => {
                self.error(format!("listing cards failed: {e}"));
                if again && !e.is_disconnect() {
                    return self.request_list();
                }
                vec![]
            }
        }
    }

    /// Takes the open card, or asks for the one opened meanwhile.
    pub(super) fn card_loaded(
        &mut self,
        id: CardId,
        result: Result<Card, CallError>,
    ) -> Vec<Command> {
        let again = self.card_loading.finish();
        let Some(detail) = self.detail.as_mut() else {
            return vec![];
        };
        if detail.id == id {
            if detail.card.is_none()
                && let Ok(card) = &result
            {
                let threshold = self.theme.bands[1];
                detail.field = first_low(card, 0, threshold).unwrap_or(0);
            }
            detail.card = Some(result);
            if !again {
                return vec![];
            }
        }
        match self.card_loading.start() {
            true => vec![Command::Rpc(Request::Card(detail.id))],
            false => vec![],
        }
    }

    /// Takes the open card's history, or asks for the one opened meanwhile.
    pub(super) fn audit_loaded(
        &mut self,
        id: CardId,
        result: Result<Vec<AuditEvent>, CallError>,
    ) -> Vec<Command> {
        let again = self.audit_loading.finish();
        let Some(detail) = self.detail.as_mut() else {
            return vec![];
        };
        if detail.id == id {
            detail.audit = Some(result);
            if !again {
                return vec![];
            }
        }
        match self.audit_loading.start() {
            true => vec![Command::Rpc(Request::Audit(detail.id))],
            false => vec![],
        }
    }

    /// Takes a change-feed answer: refreshes what is on screen when cards changed, and polls
    /// again (after a failure the next tick re-arms the poll).
    pub(super) fn changes_loaded(&mut self, result: Result<Changes, CallError>) -> Vec<Command> {
        self.feed_loading.finish();
        match result {
            Ok(changes) => {
                let first = self.feed_cursor == 0;
                self.feed_cursor = changes.cursor;
                let mut out = Vec::new();
                let anything = !changes.cards.is_empty() || !changes.deleted.is_empty();
                if anything && !first {
                    let open = self.detail.as_ref().map(|d| d.id);
                    if let Some(id) = open.filter(|id| changes.deleted.contains(id)) {
                        // Nothing left to show or release: back to the list.
                        self.detail = None;
                        if self.screen == Screen::Detail {
                            self.screen = Screen::List;
                        }
                        self.info(format!("card {id} was deleted"));
                    }
                    let open_changed = self
                        .detail
                        .as_ref()
                        .is_some_and(|d| changes.cards.iter().any(|c| c.id == d.id));
                    out = self.refresh(open_changed);
                    out.extend(self.stats_on_change());
                }
                out.extend(self.request_changes());
                out
            }
            Err(e) => {
                tracing::warn!(error = %e, "change feed failed");
                vec![]
            }
        }
    }
}
