//! The console's state and the one place it changes: [`App::update`] takes an [`Action`] and
//! returns the [`Command`]s it calls for. Rendering reads `&App`; nothing else writes it.

mod action;
#[cfg(test)]
pub mod fixtures;
mod list;
mod results;
mod state;

pub use action::{Action, Command};
pub use list::{InFlight, ListState, QUICK_STATUSES, rows_label};
pub use state::{Connection, Detail, Level, Prompt, PromptKind, Screen, StatusLine, Theme};

use chrono::{DateTime, Utc};
use idreview_protocol::{CardRef, DecideRequest, Decision, Health, ListQuery};

use crate::rpc::Request;

/// Rows of the list screen that are not table rows: header, filter line, column titles,
/// status line and hint bar.
pub const CHROME_ROWS: u16 = 5;

/// Rows of the detail screen that are not the page: header, title, status line, hint bar.
pub const DETAIL_CHROME_ROWS: u16 = 4;

/// Lines the detail screen scrolls per page.
const DETAIL_PAGE: u16 = 10;

/// Everything the console shows.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    /// The time ages are measured against; set by ticks, fixed in tests.
    pub now: DateTime<Utc>,
    /// The screen under any prompt or help.
    pub screen: Screen,
    /// The help screen is open.
    pub help: bool,
    /// The open filter bar or reason prompt.
    pub prompt: Option<Prompt>,
    /// The last message for the user.
    pub status: Option<StatusLine>,
    /// Whether the daemon answers.
    pub connection: Connection,
    /// The last counts per status.
    pub health: Option<Health>,
    /// The card list and its paging.
    pub list: ListState,
    /// The open card, on the detail screen.
    pub detail: Option<Detail>,
    /// Colours and confidence bands.
    pub theme: Theme,
    /// Page size follows the window (config `page_size = 0`).
    pub fit_page: bool,
    /// The terminal's height; 0 until the first resize.
    pub rows: u16,
    /// The health request in flight.
    pub health_loading: InFlight,
    /// The card request in flight.
    pub card_loading: InFlight,
    /// The audit request in flight.
    pub audit_loading: InFlight,
    /// The decision in flight.
    pub decide_loading: InFlight,
}

impl App {
    /// A console at `now` listing `query`; `fit_page` sizes pages to the window.
    pub fn new(now: DateTime<Utc>, query: ListQuery, theme: Theme, fit_page: bool) -> App {
        App {
            now,
            screen: Screen::List,
            help: false,
            prompt: None,
            status: None,
            connection: Connection::Connecting,
            health: None,
            list: ListState::new(query),
            detail: None,
            theme,
            fit_page,
            rows: 0,
            health_loading: InFlight::default(),
            card_loading: InFlight::default(),
            audit_loading: InFlight::default(),
            decide_loading: InFlight::default(),
        }
    }

    /// The requests a fresh console starts with.
    pub fn start(&mut self) -> Vec<Command> {
        let mut out = self.request_list();
        out.extend(self.request_health());
        out
    }

    /// Applies one action; the only way the console's state changes.
    pub fn update(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::Quit => vec![Command::Quit],
            Action::MoveUp => self.move_by(-1),
            Action::MoveDown => self.move_by(1),
            Action::PageUp => self.move_by(-self.page_step()),
            Action::PageDown => self.move_by(self.page_step()),
            Action::First => self.move_to(0),
            Action::Last => self.move_to(self.list.total().saturating_sub(1)),
            Action::OpenDetail => self.open_detail(),
            Action::Back => self.back(),
            Action::ShowHelp => {
                self.help = true;
                vec![]
            }
            Action::OpenFilter => {
                let text = self.list.query.filter.to_query_string();
                self.prompt = Some(Prompt {
                    kind: PromptKind::Filter,
                    text,
                });
                vec![]
            }
            Action::CycleStatus => {
                self.list.cycle_status();
                let statuses = &self.list.query.filter.statuses;
                let shown = statuses.first().map_or("any", |s| s.as_str());
                self.info(format!("status filter: {shown}"));
                self.request_list()
            }
            Action::Approve => self.start_decision(Decision::Approve),
            Action::Reject => self.start_decision(Decision::Reject),
            Action::Refresh => self.refresh(true),
            Action::Submit => self.submit(),
            Action::Cancel => {
                self.prompt = None;
                vec![]
            }
            Action::Input(c) => self.edit(|text| text.push(c)),
            Action::DeleteChar => self.edit(|text| {
                text.pop();
            }),
            Action::ClearInput => self.edit(String::clear),
            Action::Tick(now) => {
                self.now = now;
                self.refresh(false)
            }
            Action::Resize { rows } => self.resize(rows),
            Action::Connected(welcome) => {
                let (identity, role) = (welcome.identity, welcome.role);
                self.connection = Connection::Connected { identity, role };
                vec![]
            }
            Action::Disconnected(why) => {
                self.connection = Connection::Down(why);
                vec![]
            }
            Action::HealthLoaded(result) => self.health_loaded(result),
            Action::PageLoaded { query, result } => self.page_loaded(query, result),
            Action::CardLoaded { id, result } => self.card_loaded(id, result),
            Action::AuditLoaded { id, result } => self.audit_loaded(id, result),
            Action::Decided { request, result } => self.decided(request, result),
        }
    }

    fn info(&mut self, text: String) {
        self.status = Some(StatusLine {
            level: Level::Info,
            text,
        });
    }

    fn error(&mut self, text: String) {
        self.status = Some(StatusLine {
            level: Level::Error,
            text,
        });
    }

    fn page_step(&self) -> i64 {
        i64::from(self.list.query.limit.max(1))
    }

    fn move_by(&mut self, delta: i64) -> Vec<Command> {
        let visible = self.rows.saturating_sub(DETAIL_CHROME_ROWS);
        if let (Screen::Detail, Some(detail)) = (self.screen, self.detail.as_mut()) {
            let lines = if delta.abs() > 1 { DETAIL_PAGE } else { 1 };
            detail.scroll = match delta.is_negative() {
                true => detail.scroll.saturating_sub(lines),
                false => detail
                    .scroll
                    .saturating_add(lines)
                    .min(detail.max_scroll(visible)),
            };
            return vec![];
        }
        match self.list.move_by(delta) {
            true => self.request_list(),
            false => vec![],
        }
    }

    fn move_to(&mut self, cursor: u64) -> Vec<Command> {
        let visible = self.rows.saturating_sub(DETAIL_CHROME_ROWS);
        if let (Screen::Detail, Some(detail)) = (self.screen, self.detail.as_mut()) {
            detail.scroll = if cursor == 0 {
                0
            } else {
                detail.max_scroll(visible)
            };
            return vec![];
        }
        match self.list.move_to(cursor) {
            true => self.request_list(),
            false => vec![],
        }
    }

    fn open_detail(&mut self) -> Vec<Command> {
        let Some(id) = self.list.selected().map(|c| c.id) else {
            return vec![];
        };
        self.screen = Screen::Detail;
        self.detail = Some(Detail::loading(id));
        self.request_detail()
    }

    fn back(&mut self) -> Vec<Command> {
        if self.help {
            self.help = false;
        } else if self.screen == Screen::Detail {
            self.screen = Screen::List;
            self.detail = None;
        }
        vec![]
    }

    /// The card an approve or reject acts on, with the version on screen.
    fn current_card(&self) -> Option<CardRef> {
        match self.screen {
            Screen::Detail => {
                let card = self.detail.as_ref()?.card()?;
                Some(CardRef {
                    id: card.id,
                    expected_version: Some(card.version),
                })
            }
            Screen::List => {
                let card = self.list.selected()?;
                Some(CardRef {
                    id: card.id,
                    expected_version: Some(card.version),
                })
            }
        }
    }

    fn start_decision(&mut self, decision: Decision) -> Vec<Command> {
        if self.decide_loading.busy {
            self.error("a decision is still on its way; wait for its result".into());
        } else if let Some(card) = self.current_card() {
            let kind = PromptKind::Reason { decision, card };
            self.prompt = Some(Prompt {
                kind,
                text: String::new(),
            });
        } else {
            self.error("no card selected".into());
        }
        vec![]
    }

    fn edit(&mut self, change: impl FnOnce(&mut String)) -> Vec<Command> {
        if let Some(prompt) = self.prompt.as_mut() {
            change(&mut prompt.text);
        }
        vec![]
    }

    fn submit(&mut self) -> Vec<Command> {
        let Some(prompt) = self.prompt.take() else {
            return vec![];
        };
        match &prompt.kind {
            PromptKind::Filter => match idreview_protocol::CardFilter::parse(&prompt.text) {
                Ok(filter) => {
                    self.list.query.filter = filter;
                    self.list.move_to(0);
                    self.list.query.offset = 0;
                    self.status = None;
                    self.request_list()
                }
                Err(why) => {
                    self.error(format!("filter not applied: {why}"));
                    self.prompt = Some(prompt);
                    vec![]
                }
            },
            PromptKind::Reason { decision, card } => {
                let reason = prompt.text.trim().to_string();
                let reason = match (decision, reason.is_empty()) {
                    (Decision::Reject, true) => {
                        self.error("a reason is required to reject".into());
                        self.prompt = Some(prompt);
                        return vec![];
                    }
                    (Decision::Approve, true) => "approved".to_string(),
                    (_, false) => reason,
                };
                let request = DecideRequest {
                    cards: vec![*card],
                    decision: *decision,
                    reason,
                };
                self.decide_loading.start();
                self.info(format!("sending {} for card {}...", decision, card.id));
                vec![Command::Rpc(Request::Decide(request))]
            }
        }
    }

    fn resize(&mut self, rows: u16) -> Vec<Command> {
        self.rows = rows;
        if !self.fit_page {
            return vec![];
        }
        let size = rows.saturating_sub(CHROME_ROWS).max(1);
        match self.list.set_page_size(u32::from(size)) {
            true => self.request_list(),
            false => vec![],
        }
    }

    /// Reloads the page and counts; `everything` also reloads an open card.
    fn refresh(&mut self, everything: bool) -> Vec<Command> {
        let mut out = self.request_list();
        out.extend(self.request_health());
        if everything && self.detail.is_some() {
            out.extend(self.request_detail());
        }
        out
    }

    fn request_list(&mut self) -> Vec<Command> {
        match self.list.loading.start() {
            true => vec![Command::Rpc(Request::List(self.list.query.clone()))],
            false => vec![],
        }
    }

    fn request_health(&mut self) -> Vec<Command> {
        match self.health_loading.start() {
            true => vec![Command::Rpc(Request::Health)],
            // Counts are refreshed on the next tick anyway.
            false => {
                self.health_loading.again = false;
                vec![]
            }
        }
    }

    fn request_detail(&mut self) -> Vec<Command> {
        let Some(id) = self.detail.as_ref().map(|d| d.id) else {
            return vec![];
        };
        let mut out = Vec::new();
        if self.card_loading.start() {
            out.push(Command::Rpc(Request::Card(id)));
        }
        if self.audit_loading.start() {
            out.push(Command::Rpc(Request::Audit(id)));
        }
        out
    }
}
