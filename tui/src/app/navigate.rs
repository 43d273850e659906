//! Moving around: the list cursor and its pages, scrolling the detail, help and results
//! screens, opening a card (with its claim) and closing screens (giving the claim back).

use super::{App, DETAIL_PAGE, Detail, Screen};
use crate::keys;
use crate::message::{Command, Request};

impl App {
    pub(super) fn page_step(&self) -> i64 {
        i64::from(self.list.query.limit.max(1))
    }

    pub(super) fn move_by(&mut self, delta: i64) -> Vec<Command> {
        if self.move_picker(delta) {
            return vec![];
        }
        let visible = self.rows.saturating_sub(self.detail_chrome_rows());
        if self.help {
            let last = keys::help_lines(&self.keys, usize::from(self.cols))
                .saturating_sub(usize::from(visible));
            let last = u16::try_from(last).unwrap_or(u16::MAX);
            self.help_scroll = match delta.is_negative() {
                true => self.help_scroll.saturating_sub(1),
                false => self.help_scroll.saturating_add(1).min(last),
            };
            return vec![];
        }
        if let (Screen::Results, Some(report)) = (self.screen, self.report.as_mut()) {
            let step = u16::try_from(delta.unsigned_abs()).unwrap_or(u16::MAX);
            let last = u16::try_from(report.failures.len().saturating_sub(1)).unwrap_or(0);
            report.scroll = match delta.is_negative() {
                true => report.scroll.saturating_sub(step),
                false => report.scroll.saturating_add(step).min(last),
            };
            return vec![];
        }
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

    pub(super) fn move_to(&mut self, cursor: u64) -> Vec<Command> {
        let visible = self.rows.saturating_sub(self.detail_chrome_rows());
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

    pub(super) fn open_detail(&mut self) -> Vec<Command> {
        let Some(id) = self.list.selected().map(|c| c.id) else {
            return vec![];
        };
        self.screen = Screen::Detail;
        self.detail = Some(Detail::loading(id));
        let mut out = Vec::new();
        if self.claim_loading.start() {
            out.push(Command::Rpc(Request::Claim(id)));
        }
        if self.audit_loading.start() {
            out.push(Command::Rpc(Request::Audit(id)));
        }
        out
    }

    pub(super) fn back(&mut self) -> Vec<Command> {
        if self.help {
            self.help = false;
            self.help_scroll = 0;
            return vec![];
        }
        if self.picker.take().is_some() {
            return vec![];
        }
        match self.screen {
            Screen::Detail => {
                self.screen = Screen::List;
                let detail = self.detail.take();
                match detail {
                    Some(d) if d.claimed => vec![Command::Rpc(Request::Release(d.id))],
                    _ => vec![],
                }
            }
            Screen::Results => {
                self.screen = Screen::List;
                self.report = None;
                vec![]
            }
            Screen::Dashboard => {
                self.screen = Screen::List;
                vec![]
            }
            Screen::List => vec![],
        }
    }

    pub(super) fn resize(&mut self, rows: u16, cols: u16) -> Vec<Command> {
        self.rows = rows;
        self.cols = cols;
        self.fit_page_to_screen()
    }

    /// Sizes pages to the rows the screen leaves for the table (the header may have grown or
    /// shrunk with the counts).
    pub(super) fn fit_page_to_screen(&mut self) -> Vec<Command> {
        if !self.fit_page || self.rows == 0 {
            return vec![];
        }
        let size = self.rows.saturating_sub(self.chrome_rows()).max(1);
        match self.list.set_page_size(u32::from(size)) {
            true => self.request_list(),
            false => vec![],
        }
    }
}
