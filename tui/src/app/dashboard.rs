//! The dashboard screen's state: opening it, its numbers arriving, and keeping them current
//! from the change feed without a call per change: a change asks for the numbers a second
//! later, and changes meanwhile ride on that one request (one in flight at a time). Ticks
//! refresh numbers older than a minute, so the hourly chart moves on in a quiet hour too.

use std::time::Duration;

use idreview_protocol::Stats;

use super::{App, Screen};
use crate::message::{CallError, Command, Request};

/// How long after a change the numbers are asked for: changes within it cost one call.
pub const CHANGE_DELAY: Duration = Duration::from_secs(1);

/// Numbers older than this are asked for again on a tick.
const STALE_SECS: i64 = 60;

impl App {
    pub(super) fn show_dashboard(&mut self) -> Vec<Command> {
        self.screen = Screen::Dashboard;
        self.request_stats(Duration::ZERO)
    }

    /// Asks for the numbers after `after`, unless a request is out (then once more after it).
    pub(super) fn request_stats(&mut self, after: Duration) -> Vec<Command> {
        match self.stats_loading.start() {
            true => vec![Command::Rpc(Request::Stats { after })],
            false => vec![],
        }
    }

    pub(super) fn stats_loaded(&mut self, result: Result<Stats, CallError>) -> Vec<Command> {
        if let Err(e) = &result {
            tracing::warn!(error = %e, "stats failed");
        }
        // Keep the last numbers on screen when a refresh fails; say why on the status line.
        let shown = matches!(self.stats, Some(Ok(_)));
        match result {
            Err(e) if shown => self.error(format!("the dashboard's numbers did not refresh: {e}")),
            other => self.stats = Some(other),
        }
        match self.stats_loading.finish() && self.screen == Screen::Dashboard {
            true => self.request_stats(CHANGE_DELAY),
            false => vec![],
        }
    }

    /// Cards changed: the dashboard, if shown, asks for its numbers a moment later.
    pub(super) fn stats_on_change(&mut self) -> Vec<Command> {
        match self.screen {
            Screen::Dashboard => self.request_stats(CHANGE_DELAY),
            _ => vec![],
        }
    }

    /// The clock ticked: numbers a minute old are asked for again.
    pub(super) fn stats_on_tick(&mut self) -> Vec<Command> {
        let stale = match &self.stats {
            Some(Ok(stats)) => (self.now - stats.at).num_seconds() >= STALE_SECS,
            _ => true,
        };
        match self.screen == Screen::Dashboard && stale {
            true => self.request_stats(Duration::ZERO),
            false => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use idreview_protocol::{Changes, ListQuery};

    use super::*;
    use crate::app::{Theme, fixtures};
    use crate::message::Action;

    fn stats_requests(commands: &[Command]) -> Vec<Duration> {
        commands
            .iter()
            .filter_map(|c| match c {
                Command::Rpc(Request::Stats { after }) => Some(*after),
                _ => None,
            })
            .collect()
    }

    fn changed(app: &mut App) -> Vec<Command> {
        app.update(Action::ChangesLoaded(Ok(Changes {
            cursor: app.feed_cursor + 1,
            cards: vec![fixtures::summary(1)],
            deleted: vec![],
        })))
    }

    #[test]
    fn a_burst_of_changes_costs_one_delayed_call() {
        let mut app = App::new(
            fixtures::now(),
            ListQuery::default(),
            Theme::default(),
            false,
        );
        app.feed_cursor = 5;
        assert!(
            stats_requests(&changed(&mut app)).is_empty(),
            "not on the list screen"
        );
        let open = app.update(Action::ShowDashboard);
        assert_eq!(
            stats_requests(&open),
            [Duration::ZERO],
            "at once when opened"
        );
        assert!(
            stats_requests(&changed(&mut app)).is_empty(),
            "one in flight"
        );
        assert!(stats_requests(&changed(&mut app)).is_empty());
        let answer = app.update(Action::StatsLoaded(Ok(fixtures::stats())));
        assert_eq!(
            stats_requests(&answer),
            [CHANGE_DELAY],
            "the changes meanwhile: once more"
        );
        let answer = app.update(Action::StatsLoaded(Ok(fixtures::stats())));
        assert!(stats_requests(&answer).is_empty(), "nothing changed since");
        assert_eq!(stats_requests(&changed(&mut app)), [CHANGE_DELAY]);
    }

    #[test]
    fn a_failed_refresh_keeps_the_numbers_and_says_why() {
        let mut app = App::new(
            fixtures::now(),
            ListQuery::default(),
            Theme::default(),
            false,
        );
        app.update(Action::ShowDashboard);
        app.update(Action::StatsLoaded(Ok(fixtures::stats())));
        app.update(Action::Refresh);
        app.update(Action::StatsLoaded(Err(CallError::Timeout(
            Duration::from_secs(10),
        ))));
        assert!(matches!(app.stats, Some(Ok(_))));
        let status = app
            .status
            .as_ref()
            .map(|s| s.text.as_str())
            .unwrap_or_default();
        assert!(status.contains("did not refresh"), "{status}");
        app.update(Action::Back);
        assert_eq!(app.screen, Screen::List);
    }
}
