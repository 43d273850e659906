//! Working one card: the claim taken when it opens (and given back when it closes), releasing
//! claims from the list, the focused field and its correction.

use idreview_protocol::{Card, CardId, CardRef, RpcError};

use super::queue::{SETTLED, first_low};
use super::{App, Prompt, PromptKind, Screen};
use crate::message::{CallError, Command, Request};

impl App {
    /// Takes the claimed card; if the claim was refused, says why and loads the card to read.
    pub(super) fn claimed(&mut self, id: CardId, result: Result<Card, CallError>) -> Vec<Command> {
        let again = self.claim_loading.finish();
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
                && self.claim_loading.start()
            {
                out.push(Command::Rpc(Request::Claim(open)));
            }
            return out;
        };
        match result {
            Ok(card) => {
                let until = card.lease_until.map(|t| t.format("%H:%M").to_string());
                // A renewal keeps the reviewer's place; a first claim starts at the first
                // unsure field.
                let renewal = detail.claimed && detail.card().is_some();
                if detail.card().is_none() {
                    detail.field = first_low(&card, 0, threshold).unwrap_or(0);
                }
                detail.card = Some(Ok(card));
                detail.claimed = true;
                if !renewal {
                    let until = until.map(|t| format!(" until {t}")).unwrap_or_default();
                    self.info(format!("card {id} is yours{until}"));
                }
                vec![]
            }
            // The daemon is gone: the claim is taken again on reconnecting.
            Err(e) if e.is_disconnect() && detail.claimed => vec![],
            Err(e) => {
                detail.claimed = false;
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

    /// Leaves the console, giving back the claim this console holds (the event loop waits a
    /// moment for the daemon's answer before it goes).
    pub(super) fn quit(&mut self) -> Vec<Command> {
        let held = self.detail.as_mut().filter(|d| d.claimed).map(|d| {
            d.claimed = false;
            d.id
        });
        let mut out: Vec<Command> = held
            .map(|id| Command::Rpc(Request::Release(id)))
            .into_iter()
            .collect();
        out.push(Command::Quit);
        out
    }

    /// Back in touch with a (possibly restarted) daemon: reload what is on screen and claim the
    /// open card again, so that the claim shown is one the daemon holds.
    pub(super) fn reconnected(&mut self) -> Vec<Command> {
        self.info("reconnected to the daemon".into());
        let mut out = self.refresh(false);
        let Some(detail) = self.detail.as_mut() else {
            return out;
        };
        // Held again only once the daemon says so.
        let (id, claimed) = (detail.id, std::mem::take(&mut detail.claimed));
        if claimed {
            if self.claim_loading.start() {
                out.push(Command::Rpc(Request::Claim(id)));
            }
            if self.audit_loading.start() {
                out.push(Command::Rpc(Request::Audit(id)));
            }
        } else {
            out.extend(self.request_detail());
        }
        out
    }

    /// Renews the open card's claim when its lease has under two minutes left (while the
    /// daemon answers; a reconnect claims it again anyway).
    pub(super) fn renew_claim(&mut self) -> Vec<Command> {
        if !matches!(self.connection, super::Connection::Connected { .. }) {
            return vec![];
        }
        let Some(detail) = self.detail.as_ref().filter(|d| d.claimed) else {
            return vec![];
        };
        let ending = detail
            .card()
            .and_then(|c| c.lease_until)
            .is_some_and(|until| until - self.now < chrono::Duration::minutes(2));
        let id = detail.id;
        match ending && self.claim_loading.start() {
            true => vec![Command::Rpc(Request::Claim(id))],
            false => vec![],
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
            Screen::Results | Screen::Dashboard => None,
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
        self.prompt = Some(Prompt::new(kind, text));
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
                    Some(_) => self.info(format!("corrected {field} of card {id}; {}", SETTLED)),
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
