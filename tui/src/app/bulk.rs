//! Marking cards and acting on many at once: single, range and "all matching" marks, the
//! reason and confirmation steps, the progress of a run and its per-card results.

use idreview_protocol::{CardId, CardRef, ItemResult, ListQuery, RpcError};

use super::{App, BulkReport, BulkRun, Prompt, PromptKind, Screen};
use crate::message::{Action, BulkOp, CallError, Command, Request};

impl App {
    /// Marks or unmarks the selected card and moves down.
    pub(super) fn toggle_mark(&mut self) -> Vec<Command> {
        let Some(card) = self.list.selected() else {
            return vec![];
        };
        let (id, version) = (card.id, card.version);
        if self.list.marks.remove(&id).is_none() {
            self.list.marks.insert(id, version);
        }
        self.list.anchor = Some(self.list.cursor);
        self.update(Action::MoveDown)
    }

    /// Marks the selected card, moves by `delta` and marks the card there once its page is in.
    pub(super) fn extend_marks(&mut self, delta: i64) -> Vec<Command> {
        if let Some(card) = self.list.selected() {
            self.list.marks.insert(card.id, card.version);
        }
        let out = self.move_by(delta);
        if let Some(card) = self.list.selected() {
            self.list.marks.insert(card.id, card.version);
        }
        self.list.anchor = Some(self.list.cursor);
        out
    }

    /// Marks every card between the anchor and the cursor: from the page on screen when it
    /// holds them all, else fetched from the daemon.
    pub(super) fn mark_range(&mut self) -> Vec<Command> {
        let anchor = self.list.anchor.unwrap_or(self.list.cursor);
        let (from, to) = match anchor <= self.list.cursor {
            true => (anchor, self.list.cursor + 1),
            false => (self.list.cursor, anchor + 1),
        };
        self.list.anchor = Some(self.list.cursor);
        if let Some(page) = &self.list.page {
            let end = page.offset + page.cards.len() as u64;
            if from >= page.offset && to <= end {
                for card in &page.cards[(from - page.offset) as usize..(to - page.offset) as usize]
                {
                    self.list.marks.insert(card.id, card.version);
                }
                let count = to - from;
                self.info(format!(
                    "marked {count} cards ({} in all)",
                    self.list.marks.len()
                ));
                return vec![];
            }
        }
        self.collect(from, to)
    }

    /// Marks every card matching the filter, fetched page by page.
    pub(super) fn mark_all(&mut self) -> Vec<Command> {
        let total = self.list.total();
        self.collect(0, total)
    }

    fn collect(&mut self, from: u64, to: u64) -> Vec<Command> {
        if !self.collect_loading.start() {
            self.collect_loading.again = false;
            self.error("still marking cards; wait for it".into());
            return vec![];
        }
        self.info(format!("marking {} cards...", to - from));
        let query = ListQuery {
            offset: 0,
            ..self.list.query.clone()
        };
        vec![Command::Rpc(Request::Collect { query, from, to })]
    }

    /// Takes the fetched cards into the marks.
    pub(super) fn collected(
        &mut self,
        _query: ListQuery,
        result: Result<Vec<CardRef>, CallError>,
    ) -> Vec<Command> {
        self.collect_loading.finish();
        match result {
            Ok(cards) => {
                let count = cards.len();
                for card in cards {
                    let version = card.expected_version.unwrap_or_default();
                    self.list.marks.insert(card.id, version);
                }
                self.info(format!(
                    "marked {count} cards ({} in all)",
                    self.list.marks.len()
                ));
            }
            Err(e) => self.error(format!("marking cards failed: {e}")),
        }
        vec![]
    }

    /// The cards an action applies to (the marked ones on the list, else the current one)
    /// and how many of them are not on screen.
    fn targets(&self) -> (Vec<CardRef>, usize) {
        if self.screen == Screen::List && !self.list.marks.is_empty() {
            let rows = usize::from(self.rows.saturating_sub(self.chrome_rows()));
            let shown = self.list.shown(rows);
            let cards: Vec<CardRef> = self
                .list
                .marks
                .iter()
                .map(|(id, version)| CardRef {
                    id: *id,
                    expected_version: Some(*version),
                })
                .collect();
            let hidden = cards
                .iter()
                .filter(|c| !shown.iter().any(|s| s.id == c.id))
                .count();
            return (cards, hidden);
        }
        (self.current_card().into_iter().collect(), 0)
    }

    /// Starts `op`: asks for a reason for decisions, then for a confirmation when it touches
    /// any card but the highlighted one.
    pub(super) fn start_bulk(&mut self, op: BulkOp) -> Vec<Command> {
        if self.bulk_loading.busy {
            self.error("an action is still on its way; wait for its result".into());
            return vec![];
        }
        let (cards, hidden) = self.targets();
        if cards.is_empty() {
            self.error("no card selected".into());
            return vec![];
        }
        match op {
            BulkOp::Approve | BulkOp::ApproveOverDoubts | BulkOp::Reject => {
                let kind = PromptKind::Reason { op, cards, hidden };
                self.prompt = Some(Prompt::new(kind, String::new()));
                vec![]
            }
            BulkOp::Verify | BulkOp::Unverify => self.ask_or_send(op, cards, String::new(), hidden),
        }
    }

    /// Sends an action on the highlighted card at once; asks before acting on any other card
    /// (marked ones, on screen or not).
    pub(super) fn ask_or_send(
        &mut self,
        op: BulkOp,
        cards: Vec<CardRef>,
        reason: String,
        hidden: usize,
    ) -> Vec<Command> {
        let highlighted = self.current_card().map(|c| c.id);
        let only_highlighted = matches!(cards.as_slice(), [one] if Some(one.id) == highlighted);
        if !only_highlighted {
            let kind = PromptKind::Confirm {
                op,
                cards,
                reason,
                hidden,
            };
            self.prompt = Some(Prompt::new(kind, String::new()));
            return vec![];
        }
        self.send_bulk(op, cards, reason)
    }

    /// The answer "yes" to an open confirmation.
    pub(super) fn confirm(&mut self) -> Vec<Command> {
        match self.prompt.take() {
            Some(Prompt {
                kind:
                    PromptKind::Confirm {
                        op, cards, reason, ..
                    },
                ..
            }) => self.send_bulk(op, cards, reason),
            other => {
                self.prompt = other;
                vec![]
            }
        }
    }

    pub(super) fn send_bulk(
        &mut self,
        op: BulkOp,
        cards: Vec<CardRef>,
        reason: String,
    ) -> Vec<Command> {
        self.bulk_loading.start();
        let total = cards.len();
        self.bulk = Some(BulkRun {
            op,
            done: 0,
            total,
            cards: cards.clone(),
        });
        match cards.as_slice() {
            [one] => self.info(format!("sending {} for card {}...", op.verb(), one.id)),
            _ => self.info(format!("{} {total} cards...", op.verb())),
        }
        vec![Command::Rpc(Request::Bulk { op, cards, reason })]
    }

    /// Reports a finished run: one card on the status line, many on the results screen. Cards
    /// the daemon refused for their doubts get the override prompt; failed cards stay marked,
    /// and the status line says so.
    pub(super) fn bulk_done(
        &mut self,
        op: BulkOp,
        total: usize,
        results: Vec<ItemResult>,
        error: Option<CallError>,
    ) -> Vec<Command> {
        self.bulk_loading.finish();
        let sent = self.bulk.take().map(|run| run.cards).unwrap_or_default();
        let failures: Vec<_> = results
            .iter()
            .filter_map(|r| r.result.as_ref().err().map(|e| (r.id, e.to_string())))
            .collect();
        let ok = results.len() - failures.len();
        for item in results.iter().filter(|r| r.result.is_ok()) {
            self.list.marks.remove(&item.id);
        }
        let still_marked = failures
            .iter()
            .filter(|(id, _)| self.list.marks.contains_key(id))
            .count();
        let marked_note = match still_marked {
            0 => String::new(),
            1 => "; the card that failed stays marked (Esc unmarks it)".to_string(),
            n => format!("; the {n} that failed stay marked (Esc unmarks them)"),
        };
        if total > 1 {
            self.info(format!("{ok} of {total} cards {}{marked_note}", op.done()));
            self.report = Some(BulkReport {
                op,
                total,
                ok,
                failures,
                error: error.as_ref().map(|e| e.to_string()),
                scroll: 0,
            });
            self.screen = Screen::Results;
            self.detail = None;
        } else {
            match (results.first(), &error) {
                (_, Some(e)) => self.error(format!("{} failed: {e}", op.verb())),
                (Some(ItemResult { id, result: Ok(v) }), None) => {
                    self.info(format!("card {id} {} (now version {v})", op.done()));
                }
                (Some(ItemResult { id, result: Err(e) }), None) => {
                    let text = e.to_string();
                    match text.starts_with(&format!("card {id} ")) {
                        true => self.error(format!("{text}{marked_note}")),
                        false => self.error(format!("card {id}: {text}{marked_note}")),
                    }
                }
                (None, None) => self.error("the daemon answered with no result".into()),
            }
        }
        if op == BulkOp::Approve && error.is_none() {
            self.offer_override(&results, &sent);
        }
        let open = self.detail.as_ref().map(|d| d.id);
        let touched_open = open.is_some_and(|id| results.iter().any(|r| r.id == id));
        let decided_open = matches!(
            results.as_slice(),
            [ItemResult { id, result: Ok(_) }] if Some(*id) == open
        ) && matches!(
            op,
            BulkOp::Approve | BulkOp::ApproveOverDoubts | BulkOp::Reject
        );
        if decided_open && self.next_after_decision && self.screen == Screen::Detail {
            // On to the next card: the decided one leaves the queue, its place is taken.
            let mut out = self.refresh(false);
            out.extend(self.step_card(1));
            return out;
        }
        self.refresh(touched_open)
    }

    /// Opens the override prompt for the cards an approval was refused for their doubts.
    fn offer_override(&mut self, results: &[ItemResult], sent: &[CardRef]) {
        let doubtful: Vec<(CardId, &Vec<String>)> = results
            .iter()
            .filter_map(|r| match &r.result {
                Err(RpcError::Doubts { id, doubts }) => Some((*id, doubts)),
                _ => None,
            })
            .collect();
        if doubtful.is_empty() {
            return;
        }
        let cards: Vec<CardRef> = sent
            .iter()
            .filter(|c| doubtful.iter().any(|(id, _)| *id == c.id))
            .copied()
            .collect();
        let why = match doubtful.as_slice() {
            [(id, doubts)] => format!(
                "card {id} has doubts: {}. Type why you approve it anyway, or Esc to leave it undecided",
                doubts.join(", ")
            ),
            many => format!(
                "{} cards have doubts (listed above). Type why you approve them anyway, or Esc to leave them undecided",
                many.len()
            ),
        };
        self.error(why);
        self.prompt = Some(Prompt::new(PromptKind::Override { cards }, String::new()));
    }
}
