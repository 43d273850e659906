//! The console's state and the one place it changes: [`App::update`] takes an [`Action`] and
//! returns the [`Command`]s it calls for. Rendering reads `&App`; nothing else writes it. The
//! child files add `impl App` blocks and import [`App`] from here, so this file re-exports only
//! from children that do not (`list`, `state`): no file imports itself through others
//! (`tui/tests/import_cycles.rs`).

mod bulk;
mod chrome;
mod dashboard;
mod editing;
mod export;
#[cfg(test)]
pub mod fixtures;
mod input;
mod list;
mod navigate;
mod picture;
mod prompt;
mod queue;
mod results;
mod review;
mod state;
mod views;

pub use list::{InFlight, ListState, QUEUE_FILTER, QUICK_STATUSES, rows_label};
pub use state::{
    BulkReport, BulkRun, Connection, Detail, DocImage, Level, Prompt, PromptKind, Screen,
    StatusLine, Theme, ViewPicker,
};

use chrono::{DateTime, Utc};
use idreview_protocol::{Health, ListQuery, SortKey, Stats};

use crate::keys::{BINDINGS, Binding};
use crate::message::{Action, BulkOp, CallError, Command, Request};
use crate::saved::SavedView;

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
    /// First line of the help shown.
    pub help_scroll: u16,
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
    /// After a decision on the open card, open the next card of the list (`[console]
    /// after_decision = "next"`).
    pub next_after_decision: bool,
    /// Reasons the reason prompts offer (`[console] reasons`).
    pub reasons: std::sync::Arc<Vec<String>>,
    /// The key table in force: the defaults with `[console.keys]` applied.
    pub keys: std::sync::Arc<Vec<Binding>>,
    /// Page size follows the window (config `page_size = 0`).
    pub fit_page: bool,
    /// The terminal's height; 0 until the first resize.
    pub rows: u16,
    /// The terminal's width; 0 until the first resize.
    pub cols: u16,
    /// The health request in flight.
    pub health_loading: InFlight,
    /// The card request in flight.
    pub card_loading: InFlight,
    /// The claim request in flight (a claim also loads the card).
    pub claim_loading: InFlight,
    /// The audit request in flight.
    pub audit_loading: InFlight,
    /// The bulk run in flight (also single-card decisions).
    pub bulk_loading: InFlight,
    /// Progress of the bulk run in flight.
    pub bulk: Option<BulkRun>,
    /// The last bulk run's per-card results, on the results screen.
    pub report: Option<BulkReport>,
    /// The "mark all / mark range" fetch in flight.
    pub collect_loading: InFlight,
    /// The correction in flight.
    pub correct_loading: InFlight,
    /// Open the selected card as soon as its page arrives (stepping across a page).
    pub pending_open: bool,
    /// The change-feed poll in flight.
    pub feed_loading: InFlight,
    /// The change feed's cursor; 0 until the daemon named one.
    pub feed_cursor: u64,
    /// Filters applied, oldest first (Up/Down in the filter bar), kept with the saved view.
    pub filter_history: Vec<String>,
    /// What the list says when there are no cards at all: where to drop files.
    pub empty_hint: String,
    /// The dashboard's last numbers (or why they did not come).
    pub stats: Option<Result<Stats, CallError>>,
    /// The stats request in flight.
    pub stats_loading: InFlight,
    /// The picker of named views, when open.
    pub picker: Option<ViewPicker>,
    /// The named view the list shows, until its filter or sort changes.
    pub view_name: Option<String>,
    /// This machine's offset from UTC, for the dashboard's clock times (0 in tests).
    pub utc_offset_secs: i32,
}

impl App {
    /// A console at `now` listing `query`; `fit_page` sizes pages to the window.
    pub fn new(now: DateTime<Utc>, query: ListQuery, theme: Theme, fit_page: bool) -> App {
        App {
            now,
            screen: Screen::List,
            help: false,
            help_scroll: 0,
            prompt: None,
            status: None,
            connection: Connection::Connecting,
            health: None,
            list: ListState::new(query),
            detail: None,
            theme,
            next_after_decision: false,
            reasons: std::sync::Arc::default(),
            keys: std::sync::Arc::new(BINDINGS.to_vec()),
            fit_page,
            rows: 0,
            cols: 0,
            health_loading: InFlight::default(),
            card_loading: InFlight::default(),
            claim_loading: InFlight::default(),
            audit_loading: InFlight::default(),
            bulk_loading: InFlight::default(),
            bulk: None,
            report: None,
            collect_loading: InFlight::default(),
            correct_loading: InFlight::default(),
            pending_open: false,
            feed_loading: InFlight::default(),
            feed_cursor: 0,
            filter_history: Vec::new(),
            empty_hint: "no cards yet".to_string(),
            stats: None,
            stats_loading: InFlight::default(),
            picker: None,
            view_name: None,
            utc_offset_secs: 0,
        }
    }

    /// The requests a fresh console starts with: the page, the counts and the change feed.
    pub fn start(&mut self) -> Vec<Command> {
        let mut out = self.request_list();
        out.extend(self.request_health());
        out.extend(self.request_changes());
        out
    }

    /// Applies one action; the only way the console's state changes.
    pub fn update(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::Quit => self.quit(),
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
                self.prompt = Some(Prompt::new(PromptKind::Filter, text));
                vec![]
            }
            Action::CycleStatus => {
                let mut filter = self.list.query.filter.clone();
                list::cycle_status(&mut filter);
                let shown = filter.statuses.first().map_or("any", |s| s.as_str());
                let text = format!("status filter: {shown}");
                self.set_filter(filter, Some(text))
            }
            Action::NextSort => {
                let keys = SortKey::ALL;
                let at = keys.iter().position(|k| *k == self.list.query.sort);
                let next = at.map_or(0, |i| (i + 1) % keys.len());
                self.list.query.sort = keys[next];
                self.view_changed()
            }
            Action::ReverseSort => {
                self.list.query.descending = !self.list.query.descending;
                self.view_changed()
            }
            Action::Approve => self.start_bulk(BulkOp::Approve),
            Action::Reject => self.start_bulk(BulkOp::Reject),
            Action::Verify => self.start_bulk(BulkOp::Verify),
            Action::Unverify => self.start_bulk(BulkOp::Unverify),
            Action::ToggleMark => self.toggle_mark(),
            Action::MarkRange => self.mark_range(),
            Action::MarkDown => self.extend_marks(1),
            Action::MarkUp => self.extend_marks(-1),
            Action::MarkAll => self.mark_all(),
            Action::ClearMarks => {
                self.list.marks.clear();
                self.list.anchor = None;
                vec![]
            }
            Action::Complete => self.complete(),
            Action::NextField => self.focus_field(1),
            Action::PrevField => self.focus_field(-1),
            Action::EditField => self.edit_field(),
            Action::Queue => self.queue(),
            Action::ToggleImage => self.toggle_image(),
            Action::ZoomField => self.zoom_field(),
            Action::Rotate => self.rotate(),
            Action::NextImage => self.next_image(),
            Action::OpenImage => self.open_image(),
            Action::WriteImage => self.ask_write_image(),
            Action::ImageExported(result) => self.image_exported(result),
            Action::ImageLoaded { id, name, result } => self.image_loaded(id, name, result),
            Action::AcceptField => self.accept_field(),
            Action::SkipField => self.skip_field(),
            Action::NextCard => self.step_card(1),
            Action::PrevCard => self.step_card(-1),
            Action::Release => self.release(),
            Action::Refresh => match self.screen {
                Screen::Dashboard => self.request_stats(std::time::Duration::ZERO),
                _ => self.refresh(true),
            },
            Action::ShowDashboard => self.show_dashboard(),
            Action::SaveView => self.ask_view_name(),
            Action::PickView => self.open_picker(),
            Action::ApplyView => self.apply_view(),
            Action::DeleteView => self.delete_view(),
            Action::StatsLoaded(result) => self.stats_loaded(result),
            Action::ViewsLoaded(result) => self.views_loaded(result),
            Action::ViewSaved(result) => self.view_saved(result),
            Action::ViewDeleted { name, result } => self.view_deleted(name, result),
            Action::Submit => self.submit(),
            Action::Confirm => self.confirm(),
            Action::Cancel => {
                self.prompt = None;
                vec![]
            }
            Action::Input(c) => self.edit(|p| p.insert(c)),
            Action::DeleteChar => self.edit(Prompt::backspace),
            Action::DeleteForward => self.edit(Prompt::delete),
            Action::CursorLeft => self.edit(|p| p.move_cursor(-1)),
            Action::CursorRight => self.edit(|p| p.move_cursor(1)),
            Action::CursorHome => self.edit(|p| p.cursor_to(false)),
            Action::CursorEnd => self.edit(|p| p.cursor_to(true)),
            Action::HistoryPrev => self.recall(-1),
            Action::HistoryNext => self.recall(1),
            Action::ClearInput => self.edit(|p| p.set_text(String::new())),
            Action::Tick(now) => {
                self.now = now;
                // The change feed refreshes; ticks only re-arm it after a failure, which
                // also reconnects after a daemon restart.
                let mut out = self.request_changes();
                out.extend(self.renew_claim());
                out.extend(self.stats_on_tick());
                out
            }
            Action::Resize { rows, cols } => self.resize(rows, cols),
            Action::Connected(welcome) => {
                let (identity, role) = (welcome.identity, welcome.role);
                let was_down = matches!(self.connection, Connection::Down(_));
                self.connection = Connection::Connected { identity, role };
                match was_down {
                    true => self.reconnected(),
                    false => vec![],
                }
            }
            Action::Disconnected(why) => {
                self.connection = Connection::Down(why);
                // A restarted daemon counts its feed afresh.
                self.feed_cursor = 0;
                let held = self.detail.as_ref().filter(|d| d.claimed).map(|d| d.id);
                match held {
                    Some(id) => self.error(format!(
                        "lost the daemon; reconnecting (card {id} is claimed again then)"
                    )),
                    None => self.error("lost the daemon; reconnecting".into()),
                }
                vec![]
            }
            Action::HealthLoaded(result) => self.health_loaded(result),
            Action::PageLoaded { query, result } => self.page_loaded(query, result),
            Action::CardLoaded { id, result } => {
                let first = self.detail.as_ref().is_some_and(|d| d.card.is_none());
                let mut out = self.card_loaded(id, result);
                out.extend(self.image_beside(first));
                out
            }
            Action::AuditLoaded { id, result } => self.audit_loaded(id, result),
            Action::Claimed { id, result } => {
                let first = self.detail.as_ref().is_some_and(|d| d.card.is_none());
                let mut out = self.claimed(id, result);
                out.extend(self.image_beside(first));
                out
            }
            Action::Released { id, result } => self.released(id, result),
            Action::Corrected { id, field, result } => self.corrected(id, field, result),
            Action::Collected { query, result } => self.collected(query, result),
            Action::BulkProgress { done, total } => {
                if let Some(run) = self.bulk.as_mut() {
                    run.done = done;
                    run.total = total;
                }
                vec![]
            }
            Action::BulkDone {
                op,
                total,
                results,
                error,
            } => self.bulk_done(op, total, results, error),
            Action::ChangesLoaded(result) => self.changes_loaded(result),
        }
    }

    /// Applies a new filter. Marks are cleared when the filter changes, so that no decision
    /// reaches a card the new list does not show; the status line says how many went.
    fn set_filter(
        &mut self,
        filter: idreview_protocol::CardFilter,
        note: Option<String>,
    ) -> Vec<Command> {
        let changed = filter != self.list.query.filter;
        self.list.query.filter = filter;
        let cleared = match changed {
            true => std::mem::take(&mut self.list.marks).len(),
            false => 0,
        };
        let cleared = match cleared {
            0 => None,
            1 => Some("1 mark cleared (the filter changed)".to_string()),
            n => Some(format!("{n} marks cleared (the filter changed)")),
        };
        match (note, cleared) {
            (Some(note), Some(cleared)) => self.info(format!("{note}; {cleared}")),
            (Some(text), None) | (None, Some(text)) => self.info(text),
            (None, None) => self.status = None,
        }
        self.view_changed()
    }

    /// The filter or sort changed: back to the top, fetch, and remember the view.
    fn view_changed(&mut self) -> Vec<Command> {
        self.view_name = None;
        self.list.cursor = 0;
        self.list.query.offset = 0;
        self.list.anchor = None;
        let mut out = self.request_list();
        out.push(Command::SaveView(SavedView::of(
            &self.list.query,
            &self.filter_history,
        )));
        out
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

    /// Reloads the page and counts; `everything` also reloads an open card.
    fn refresh(&mut self, everything: bool) -> Vec<Command> {
        let mut out = self.request_list();
        out.extend(self.request_health());
        if everything && self.detail.is_some() {
            out.extend(self.request_detail());
        }
        out
    }

    fn request_changes(&mut self) -> Vec<Command> {
        match self.feed_loading.busy {
            true => vec![],
            false => {
                self.feed_loading.start();
                vec![Command::Rpc(Request::Changes(self.feed_cursor))]
            }
        }
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
