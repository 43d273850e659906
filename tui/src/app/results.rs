//! How RPC answers land in the console's state: pages, counts, cards, audit history and
//! decision results, each clearing its in-flight mark and re-asking when the question changed
//! while the answer was on its way.

use idreview_protocol::{
    AuditEvent, Card, CardId, CardPage, DecideRequest, Decision, Health, ItemResult, ListQuery,
};

use super::{App, Command};
use crate::rpc::{CallError, Request};

impl App {
    /// Takes new counts.
    pub(super) fn health_loaded(&mut self, result: Result<Health, CallError>) -> Vec<Command> {
        self.health_loading.finish();
        match result {
            Ok(health) => self.health = Some(health),
            Err(e) => tracing::warn!(error = %e, "health failed"),
        }
        vec![]
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

    /// Reports a decision and refreshes what it changed.
    pub(super) fn decided(
        &mut self,
        request: DecideRequest,
        result: Result<Vec<ItemResult>, CallError>,
    ) -> Vec<Command> {
        self.decide_loading.finish();
        match result {
            Ok(items) => match summarize(request.decision, &items) {
                Ok(text) => self.info(text),
                Err(text) => self.error(text),
            },
            Err(e) => self.error(format!("{} failed: {e}", request.decision)),
        }
        let decided_open_card = self
            .detail
            .as_ref()
            .is_some_and(|d| request.cards.iter().any(|c| c.id == d.id));
        self.refresh(decided_open_card)
    }
}

/// One line about a decision's per-card results: `Ok` if every card took it.
pub fn summarize(decision: Decision, items: &[ItemResult]) -> Result<String, String> {
    let done = crate::display::decided(decision);
    let failures: Vec<String> = items
        .iter()
        .filter_map(|item| {
            item.result
                .as_ref()
                .err()
                .map(|e| format!("card {}: {e}", item.id))
        })
        .collect();
    let ok = items.len() - failures.len();
    match (items, failures.as_slice()) {
        ([], _) => Err(format!(
            "the daemon answered with no result for the {decision}"
        )),
        ([item], []) => {
            let version = item.result.as_ref().map_or(0, |v| *v);
            Ok(format!("card {} {done} (now version {version})", item.id))
        }
        (_, []) => Ok(format!("{ok} cards {done}")),
        ([_], [failure]) => Err(failure.clone()),
        (_, [first, ..]) => Err(format!(
            "{ok} cards {done}, {} failed; first: {first}",
            failures.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idreview_protocol::{RpcError, Status};

    fn item(id: u64, result: Result<u64, RpcError>) -> ItemResult {
        ItemResult {
            id: CardId(id),
            result,
        }
    }

    #[test]
    fn one_card_results_read_plainly() {
        let ok = summarize(Decision::Approve, &[item(7, Ok(4))]);
        assert_eq!(ok, Ok("card 7 approved (now version 4)".into()));
        let conflict = RpcError::Conflict {
            id: CardId(7),
            expected: 3,
            actual: 4,
        };
        let err = summarize(Decision::Reject, &[item(7, Err(conflict))]).expect_err("failed");
        assert!(err.starts_with("card 7: conflict"), "{err}");
        let illegal = RpcError::IllegalTransition {
            from: Status::Approved,
            action: "rejected".into(),
        };
        let err = summarize(Decision::Reject, &[item(7, Err(illegal))]).expect_err("failed");
        assert!(err.contains("cannot be rejected"), "{err}");
    }

    #[test]
    fn bulk_results_count_failures() {
        let items = [
            item(1, Ok(2)),
            item(2, Err(RpcError::NotFound(CardId(2)))),
            item(3, Ok(5)),
        ];
        let err = summarize(Decision::Approve, &items).expect_err("one failed");
        assert_eq!(
            err,
            "2 cards approved, 1 failed; first: card 2: card 2 not found"
        );
        assert_eq!(
            summarize(Decision::Approve, &items[..1]),
            Ok("card 1 approved (now version 2)".into())
        );
    }
}
