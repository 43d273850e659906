//! The input line: editing its text and what Enter does for each kind of prompt (filter,
//! reason, confirmation, correction), and the card an action applies to.

use idreview_protocol::CardRef;

use super::{App, Prompt, PromptKind, Screen};
use crate::message::{BulkOp, Command};

impl App {
    /// The card an action acts on, with the version on screen.
    pub(super) fn current_card(&self) -> Option<CardRef> {
        let (id, version) = match self.screen {
            Screen::Detail => {
                let card = self.detail.as_ref()?.card()?;
                (card.id, card.version)
            }
            Screen::List => {
                let card = self.list.selected()?;
                (card.id, card.version)
            }
            Screen::Results | Screen::Dashboard => return None,
        };
        Some(CardRef {
            id,
            expected_version: Some(version),
        })
    }

    /// Fills a reason prompt with the preset after the one it holds (the first when it holds
    /// none of them).
    pub(super) fn next_preset(&mut self) -> Vec<Command> {
        let reasons = self.reasons.clone();
        let Some(prompt) = self.prompt.as_mut().filter(|p| {
            matches!(
                p.kind,
                PromptKind::Reason { .. } | PromptKind::Override { .. }
            )
        }) else {
            return vec![];
        };
        let at = reasons.iter().position(|r| *r == prompt.text);
        if let Some(next) = reasons.get(at.map_or(0, |i| (i + 1) % reasons.len())) {
            prompt.set_text(next.clone());
        }
        vec![]
    }

    pub(super) fn edit(&mut self, change: impl FnOnce(&mut Prompt)) -> Vec<Command> {
        if let Some(prompt) = self.prompt.as_mut() {
            change(prompt);
        }
        vec![]
    }

    pub(super) fn submit(&mut self) -> Vec<Command> {
        let Some(prompt) = self.prompt.take() else {
            return vec![];
        };
        match prompt.kind.clone() {
            PromptKind::Filter => match idreview_protocol::CardFilter::parse(&prompt.text) {
                Ok(filter) => {
                    self.remember_filter(&prompt.text);
                    self.set_filter(filter, None)
                }
                Err(why) => {
                    self.error(format!("filter not applied: {why}"));
                    self.prompt = Some(prompt);
                    vec![]
                }
            },
            PromptKind::Reason { op, cards, hidden } => {
                let reason = prompt.text.trim().to_string();
                if op == BulkOp::Reject && reason.is_empty() {
                    self.error("a reason is required to reject".into());
                    self.prompt = Some(prompt);
                    return vec![];
                }
                let reason = match reason.is_empty() {
                    true => op.done().to_string(),
                    false => reason,
                };
                self.ask_or_send(op, cards, reason, hidden)
            }
            PromptKind::Override { cards, .. } => {
                let reason = prompt.text.trim().to_string();
                if reason.is_empty() {
                    self.error(
                        "approving over doubts needs a reason; Esc leaves the cards undecided"
                            .into(),
                    );
                    self.prompt = Some(prompt);
                    return vec![];
                }
                self.send_bulk(BulkOp::ApproveOverDoubts, cards, reason)
            }
            PromptKind::Confirm { .. } => {
                self.prompt = Some(prompt);
                self.confirm()
            }
            PromptKind::Correct { card, field } => self.send_correction(card, field, prompt.text),
            PromptKind::WriteImage { id, name } => self.send_write_image(id, name, &prompt.text),
            PromptKind::ViewName => self.send_view(prompt),
        }
    }
}
