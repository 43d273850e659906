//! Working one card: the claim taken when it opens (and given back when it closes), releasing
//! claims from the list, the focused field and its correction.

use idreview_protocol::{Card, CardId, CardRef, RpcError};

use super::{App, Command, Prompt, PromptKind, Screen};
use crate::rpc::{CallError, Request};

impl App {
    /// Takes the claimed card; if the claim was refused, says why and loads the card to read.
    pub(super) fn claimed(&mut self, id: CardId, result: Result<Card, CallError>) -> Vec<Command> {
        let again = self.card_loading.finish();
        let threshold = self.theme.bands[1];
        let Some(detail) = self.detail.as_mut().filter(|d| d.id == id) else {
            // The screen closed (or moved on) meanwhile: give the claim back, and claim the
            // card open now.
            let mut out = match result {
                Ok(_) => vec![Command::Rpc(Request::Release(id))],
                Err(_) => vec![],
            };
            if let Some(open) = self.detail.as_ref().map(|d| d.id)
                && again
                && self.card_loading.start()
            {
                out.push(Command::Rpc(Request::Claim(open)));
            }
            return out;
        };
        match result {
            Ok(card) => {
                let until = card.lease_until.map(|t| t.format("%H:%M").to_string());
                detail.field = super::queue::first_low(&card, 0, threshold).unwrap_or(0);
                detail.card = Some(Ok(card));
                detail.claimed = true;
                let until = until.map(|t| format!(" until {t}")).unwrap_or_default();
                self.info(format!("card {id} is yours{until}"));
                vec![]
            }
            Err(e) => {
                match &e {
                    CallError::Daemon(RpcError::Held { .. }) => self.error(e.to_string()),
                    CallError::Daemon(RpcError::IllegalTransition { .. }) => {
                        self.info(format!("card {id} is decided; read only"))
                    }
                    _ => self.error(format!("cannot claim card {id}: {e}")),
                }
                match self.card_loading.start() {
                    true => vec![Command::Rpc(Request::Card(id))],
                    false => vec![],
                }
            }
        }
    }

    /// Gives up the claim on the open or selected card.
    pub(super) fn release(&mut self) -> Vec<Command> {
        let id = match self.screen {
            Screen::Detail => self.detail.as_mut().map(|d| {
                d.claimed = false;
                d.id
            }),
            Screen::List => self.list.selected().map(|c| c.id),
            Screen::Results => None,
        };
        match id {
            Some(id) => vec![Command::Rpc(Request::Release(id))],
            None => vec![],
        }
    }

    /// Reports a release and shows the list as it is now.
    pub(super) fn released(&mut self, id: CardId, result: Result<(), CallError>) -> Vec<Command> {
        match result {
            Ok(()) => {
                if self.screen == Screen::List {
                    self.info(format!("released card {id}"));
                }
                self.request_list()
            }
            Err(e) => {
                self.error(format!("cannot release card {id}: {e}"));
                vec![]
            }
        }
    }

    /// Moves the field focus of the open card by `delta`, wrapping around.
    pub(super) fn focus_field(&mut self, delta: isize) -> Vec<Command> {
        let Some(detail) = self.detail.as_mut() else {
            return vec![];
        };
        let count = detail.card().map_or(0, |c| c.fields.len());
        if count > 0 {
            let next = (detail.field as isize + delta).rem_euclid(count as isize);
            detail.field = usize::try_from(next).unwrap_or(0);
        }
        vec![]
    }

    /// Opens the correction prompt for the focused field, holding its current value.
    pub(super) fn edit_field(&mut self) -> Vec<Command> {
        let Some(detail) = self.detail.as_ref() else {
            return vec![];
        };
        let Some(card) = detail.card() else {
            self.error("the card is still loading".into());
            return vec![];
        };
        let Some(field) = card.fields.get(detail.field) else {
            self.error("this card has no fields to correct".into());
            return vec![];
        };
        let kind = PromptKind::Correct {
            card: CardRef {
                id: card.id,
                expected_version: Some(card.version),
            },
            field: field.name.clone(),
        };
        let text = field.value.clone();
        self.prompt = Some(Prompt { kind, text });
        vec![]
    }

    /// Sends a correction (one in flight at a time).
    pub(super) fn send_correction(
        &mut self,
        card: CardRef,
        field: String,
        value: String,
    ) -> Vec<Command> {
        if !self.correct_loading.start() {
            self.correct_loading.again = false;
            self.error("a correction is still on its way".into());
            return vec![];
        }
        self.info(format!("correcting {field} of card {}...", card.id));
        vec![Command::Rpc(Request::Correct { card, field, value })]
    }

    /// Takes the corrected card.
    pub(super) fn corrected(
        &mut self,
        id: CardId,
        field: String,
        result: Result<Card, CallError>,
    ) -> Vec<Command> {
        self.correct_loading.finish();
        match result {
            Ok(card) => {
                if let Some(detail) = self.detail.as_mut().filter(|d| d.id == id) {
                    detail.card = Some(Ok(card));
                }
                match self.advance_field() {
                    Some(_) => self.info(format!(
                        "corrected {field} of card {id}; {}",
                        super::queue::SETTLED
                    )),
                    None => self.info(format!("corrected {field} of card {id}")),
                }
                let mut out = self.request_list();
                if self.audit_loading.start() {
                    out.push(Command::Rpc(Request::Audit(id)));
                }
                out
            }
            Err(e) => {
                self.error(format!("correcting {field} of card {id} failed: {e}"));
                vec![]
            }
        }
    }
}
