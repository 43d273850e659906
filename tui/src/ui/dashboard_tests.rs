//! The dashboard and the view picker at 80x24 and 200x50, from fixed numbers: every count,
//! the queue's oldest wait, each reviewer's decisions and both charts are on screen, and
//! nothing is cut off at 80 columns.

use idreview_protocol::{NamedView, SortKey};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

use super::tests::{lines, loaded, press};
use crate::app::{App, Screen, fixtures};
use crate::message::{Action, Command, Request};

fn dashboard(cols: u16, rows: u16) -> App {
    let mut app = loaded();
    app.update(Action::Resize { rows, cols });
    let out = press(&mut app, KeyCode::Char('d'));
    assert!(
        out.iter()
            .any(|c| matches!(c, Command::Rpc(Request::Stats { .. }))),
        "{out:?}"
    );
    assert_eq!(app.screen, Screen::Dashboard);
    app.update(Action::StatsLoaded(Ok(fixtures::stats())));
    app
}

fn draw(app: &App) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(app.cols, app.rows)).expect("test terminal");
    terminal
        .draw(|frame| super::render(app, frame))
        .expect("draws");
    terminal.backend().clone()
}

fn has(text: &[String], wanted: &str) -> bool {
    text.iter().any(|l| l.contains(wanted))
}

/// What a reviewer must be able to read at any size.
fn assert_readable(text: &[String]) {
    let screen = text.join("\n");
    for wanted in [
        "1240 cards",
        "needs_review",
        "212 cards",
        "2h 30m",
        "26% of 640",
        "token:alice",
        "token:bob",
        "national_id",
        "residence_permit",
        "Confidence (57 unrated)",
        "Decisions per hour, last 24 h",
        "new cards per hour",
        "Esc back",
    ] {
        assert!(has(text, wanted), "{wanted:?} is on screen:\n{screen}");
    }
    let alice = text
        .iter()
        .find(|l| l.contains("token:alice"))
        .expect("alice");
    assert!(alice.contains("31") && alice.contains("188"), "{alice}");
}

#[test]
fn the_dashboard_at_80x24_shows_every_number() {
    let app = dashboard(80, 24);
    let screen = draw(&app);
    let text = lines(&screen);
    assert_readable(&text);
    assert!(
        has(&text, "Queue and types"),
        "types share the queue's box at 80"
    );
    insta::assert_snapshot!("dashboard_80x24", screen);
}

#[test]
fn the_dashboard_at_200x50_gives_types_a_box_and_labels_the_hours() {
    let app = dashboard(200, 50);
    let screen = draw(&app);
    let text = lines(&screen);
    assert_readable(&text);
    assert!(has(&text, "Cards by type") && has(&text, "Review queue"));
    // Wide bars carry their hour (the fixture's clock is 12:00 UTC: 13 hours ago is 23).
    let hours = text
        .iter()
        .find(|l| l.contains("23") && l.contains("11") && l.contains("12"));
    assert!(hours.is_some(), "{}", text.join("\n"));
    insta::assert_snapshot!("dashboard_200x50", screen);
}

#[test]
fn the_picker_lists_views_and_shows_whose() {
    let mut app = loaded();
    app.update(Action::Resize { rows: 24, cols: 80 });
    press(&mut app, KeyCode::Char('p'));
    let view = |name: &str, filter: &str, team: bool| NamedView {
        name: name.into(),
        filter: filter.into(),
        sort: SortKey::Confidence,
        descending: false,
        team,
        saved_by: "token:root".into(),
        saved_at: fixtures::now(),
    };
    app.update(Action::ViewsLoaded(Ok(vec![
        view("my passports", "type:passport status:needs_review", false),
        view("queue", "status:needs_review", true),
    ])));
    press(&mut app, KeyCode::Down);
    let screen = draw(&app);
    let text = lines(&screen);
    let queue = text
        .iter()
        .find(|l| l.contains("queue "))
        .expect("team view");
    assert!(
        queue.contains("team (token:root)") && queue.starts_with("> "),
        "{queue}"
    );
    assert!(has(&text, "Enter show"), "{}", text.join("\n"));
    insta::assert_snapshot!("view_picker_80x24", screen);
}
