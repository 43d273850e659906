//! The review queue: every card that needs a person (waiting for review for any reason: unsure
//! fields, nothing read, a failed provider, an error finding), oldest first; and in a card one
//! keystroke per unsure field: accept it as it is, correct it, or skip it, then decide and step
//! to the next card. (`low:yes` still narrows the list to unsure fields only.)

use idreview_protocol::{Card, CardFilter, CardId, CardRef};

use super::list::QUEUE_FILTER;
use super::{App, Screen};
use crate::message::Command;

/// What the status line says when a card has no unsure field left.
pub const SETTLED: &str = "no more fields to check; a approve · r reject · ] next card";

/// The first field at or after `from` whose confidence is below `threshold`.
pub fn first_low(card: &Card, from: usize, threshold: f32) -> Option<usize> {
    card.fields
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, f)| f.confidence < threshold)
        .map(|(i, _)| i)
}

impl App {
    /// Narrows the list to the queue, oldest first.
    pub(super) fn queue(&mut self) -> Vec<Command> {
        let filter = match CardFilter::parse(QUEUE_FILTER) {
            Ok(filter) => filter,
            Err(e) => {
                self.error(format!("queue filter: {e}"));
                return vec![];
            }
        };
        self.screen = Screen::List;
        self.list.query.sort = idreview_protocol::SortKey::Created;
        self.list.query.descending = false;
        let note = "review queue, oldest first: Enter opens a card; y accept · e correct · n skip · ] next card";
        self.set_filter(filter, Some(note.into()))
    }

    /// Accepts the focused field's value as it is (sent as a correction to itself, which
    /// makes it sure), then moves on.
    pub(super) fn accept_field(&mut self) -> Vec<Command> {
        let Some(detail) = self.detail.as_ref() else {
            return vec![];
        };
        let Some(card) = detail.card() else {
            return vec![];
        };
        let Some(field) = card.fields.get(detail.field) else {
            return vec![];
        };
        let target = CardRef {
            id: card.id,
            expected_version: Some(card.version),
        };
        let (name, value) = (field.name.clone(), field.value.clone());
        self.send_correction(target, name, value)
    }

    /// Focuses the next field below the threshold, or says the card is settled.
    pub(super) fn skip_field(&mut self) -> Vec<Command> {
        if let Some(id) = self.advance_field() {
            self.info(format!("card {id}: {SETTLED}"));
        }
        vec![]
    }

    /// Moves the focus to the next field below the threshold; the card's id when there is
    /// none left.
    pub(super) fn advance_field(&mut self) -> Option<CardId> {
        let threshold = self.theme.bands[1];
        let detail = self.detail.as_mut()?;
        let card = detail.card()?;
        match first_low(card, detail.field + 1, threshold) {
            Some(next) => {
                detail.field = next;
                None
            }
            None => Some(card.id),
        }
    }

    /// Closes the open card (giving its claim back) and opens the one `delta` rows away from
    /// it. A card decided meanwhile may have left the list (the queue drops decided cards):
    /// then the card now under the cursor is already the next one, and stepping forward
    /// stays put instead of skipping it.
    pub(super) fn step_card(&mut self, delta: i64) -> Vec<Command> {
        let open = self.detail.as_ref().map(|d| d.id);
        let cursor = i64::try_from(self.list.cursor).unwrap_or(i64::MAX);
        let delta = match open.map(|id| self.list.position(id)) {
            // Step from where the open card is listed now.
            Some(Some(at)) => i64::try_from(at).unwrap_or(i64::MAX) + delta - cursor,
            // It left the list: the card under the cursor took its place.
            Some(None) if delta > 0 => 0,
            _ => delta,
        };
        let mut out = self.back();
        out.extend(self.move_by(delta));
        match self.list.selected() {
            Some(_) => out.extend(self.open_detail()),
            None => self.pending_open = true,
        }
        out
    }
}
