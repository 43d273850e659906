//! Screen snapshots over ratatui's `TestBackend` at 100x30, with keys pressed through the key
//! table exactly as the event loop does, and a fixed clock so ages never change.

use idreview_protocol::transport::Welcome;
use idreview_protocol::{CardId, CardRef, ItemResult, ListQuery, Role, RpcError};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::{App, Connection, Level, Screen, Theme, fixtures};
use crate::message::{Action, BulkOp, CallError, Command, Request};

pub(super) fn draw(app: &App) -> TestBackend {
    draw_sized(app, 30)
}

pub(super) fn draw_sized(app: &App, rows: u16) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(100, rows)).expect("test terminal");
    terminal
        .draw(|frame| super::render(app, frame))
        .expect("draws");
    terminal.backend().clone()
}

/// The screen's text, one string per row.
pub(super) fn lines(backend: &TestBackend) -> Vec<String> {
    let buffer = backend.buffer();
    (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect()
        })
        .collect()
}

pub(super) fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.press(KeyEvent::new(code, KeyModifiers::NONE))
}

pub(super) fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// Answers the image request of card `id`'s `front.jpg` with a 160x100 gradient.
pub(super) fn show_picture(app: &mut App, id: u64) {
    let picture = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(160, 100, |x, y| {
        image::Rgb([(x * 255 / 160) as u8, (y * 255 / 100) as u8, 90])
    }));
    app.update(Action::ImageLoaded {
        id: CardId(id),
        name: "front.jpg".into(),
        result: Ok(std::sync::Arc::new(picture)),
    });
}

/// A console showing 8 cards of 8, connected, with counts.
pub(super) fn loaded() -> App {
    let query = ListQuery {
        limit: 25,
        ..ListQuery::default()
    };
    let mut app = App::new(fixtures::now(), query, Theme::default(), false);
    let welcome = Welcome {
        identity: "alice".into(),
        role: Role::Reviewer,
        daemon_version: "0.1.0".into(),
        protocol_version: idreview_protocol::PROTOCOL_VERSION,
        daemon_speaks: idreview_protocol::version::SPOKEN,
    };
    app.update(Action::Connected(welcome));
    app.start();
    app.update(Action::HealthLoaded(Ok(fixtures::health())));
    let query = app.list.query.clone();
    app.update(Action::PageLoaded {
        query,
        result: Ok(fixtures::page(0, 8, 8)),
    });
    app
}

/// The detail screen of the third card, loaded.
pub(super) fn detail() -> App {
    let mut app = loaded();
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    let commands = press(&mut app, KeyCode::Enter);
    assert_eq!(
        commands,
        vec![
            Command::Rpc(Request::Claim(CardId(3))),
            Command::Rpc(Request::Audit(CardId(3)))
        ]
    );
    let card = fixtures::card(3);
    app.update(Action::Claimed {
        id: CardId(3),
        result: Ok(card),
    });
    app.update(Action::AuditLoaded {
        id: CardId(3),
        result: Ok(fixtures::audit(3)),
    });
    app
}

#[test]
fn list_screen() {
    let mut app = loaded();
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Down);
    assert_eq!(app.list.cursor, 2);
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn filter_bar_open_with_text() {
    let mut app = loaded();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "status:needs_review smith");
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn filter_applies_on_enter_and_refuses_bad_queries() {
    let mut app = loaded();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "status:done");
    assert!(
        press(&mut app, KeyCode::Enter).is_empty(),
        "nothing is sent"
    );
    assert!(app.prompt.is_some(), "the bar stays open to fix the query");
    insta::assert_snapshot!("filter_parse_error", draw(&app));

    for _ in 0.."done".len() {
        press(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "needs_review");
    let commands = press(&mut app, KeyCode::Enter);
    let Some(Command::Rpc(Request::List(query))) = commands.first() else {
        panic!("no list request: {commands:?}");
    };
    assert_eq!(
        query.filter.statuses,
        vec![idreview_protocol::Status::NeedsReview]
    );
    assert_eq!(query.offset, 0);
    assert!(app.prompt.is_none());
}

#[test]
fn esc_cancels_the_filter() {
    let mut app = loaded();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "smith");
    press(&mut app, KeyCode::Esc);
    assert!(app.prompt.is_none());
    assert!(app.list.query.filter.is_empty());
}

#[test]
fn detail_screen() {
    let app = detail();
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn reject_reason_prompt() {
    let mut app = detail();
    press(&mut app, KeyCode::Char('r'));
    assert!(
        press(&mut app, KeyCode::Enter).is_empty(),
        "an empty reason is refused"
    );
    type_text(&mut app, "photo is blurry");
    insta::assert_snapshot!(draw(&app));
    let commands = press(&mut app, KeyCode::Enter);
    let expected = Request::Bulk {
        op: BulkOp::Reject,
        cards: vec![CardRef {
            id: CardId(3),
            expected_version: Some(3),
        }],
        reason: "photo is blurry".into(),
    };
    assert_eq!(commands, vec![Command::Rpc(expected)]);
}

#[test]
fn error_status_line_after_a_conflict() {
    let mut app = loaded();
    press(&mut app, KeyCode::Char('a'));
    let commands = press(&mut app, KeyCode::Enter);
    let [Command::Rpc(Request::Bulk { op, cards, reason })] = commands.as_slice() else {
        panic!("no decide request: {commands:?}");
    };
    assert_eq!((*op, reason.as_str()), (BulkOp::Approve, "approved"));
    assert_eq!(
        cards,
        &vec![CardRef {
            id: CardId(1),
            expected_version: Some(2)
        }]
    );
    let conflict = RpcError::Conflict {
        id: CardId(1),
        expected: 2,
        actual: 3,
    };
    let results = vec![ItemResult {
        id: CardId(1),
        result: Err(conflict),
    }];
    let commands = app.update(Action::BulkDone {
        op: BulkOp::Approve,
        total: 1,
        results,
        error: None,
    });
    assert!(
        commands
            .iter()
            .any(|c| matches!(c, Command::Rpc(Request::List(_)))),
        "the list refreshes"
    );
    assert_eq!(app.status.as_ref().map(|s| s.level), Some(Level::Error));
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn help_screen() {
    let mut app = loaded();
    press(&mut app, KeyCode::Char('?'));
    insta::assert_snapshot!(draw(&app));
    press(&mut app, KeyCode::Esc);
    assert!(!app.help);
}

#[test]
fn disconnected_header_and_empty_filter_result() {
    let mut app = loaded();
    app.update(Action::Disconnected(
        "no daemon at /d/idreviewd.sock".into(),
    ));
    assert!(matches!(app.connection, Connection::Down(_)));
    let query = app.list.query.clone();
    let failed = Err(CallError::Disconnected("broken pipe".into()));
    app.update(Action::PageLoaded {
        query,
        result: failed,
    });
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn paging_asks_the_server_for_the_cursors_page_only() {
    let query = ListQuery {
        limit: 10,
        ..ListQuery::default()
    };
    let mut app = App::new(fixtures::now(), query, Theme::default(), false);
    app.start();
    let query = app.list.query.clone();
    app.update(Action::PageLoaded {
        query,
        result: Ok(fixtures::page(0, 10, 95)),
    });
    let commands = press(&mut app, KeyCode::End);
    let [Command::Rpc(Request::List(query))] = commands.as_slice() else {
        panic!("no list request: {commands:?}");
    };
    assert_eq!((query.offset, query.limit), (90, 10));
    assert!(
        press(&mut app, KeyCode::PageUp).is_empty(),
        "one list request at a time"
    );
    let stale = query.clone();
    let commands = app.update(Action::PageLoaded {
        query: stale,
        result: Ok(fixtures::page(90, 5, 95)),
    });
    let [Command::Rpc(Request::List(query))] = commands.as_slice() else {
        panic!("the page asked for meanwhile is fetched: {commands:?}");
    };
    assert_eq!(query.offset, 80);
    assert_eq!(app.list.cursor, 84);
}

#[test]
fn the_change_feed_refreshes_and_ticks_only_rearm_it() {
    let mut app = loaded();
    let later = fixtures::now() + chrono::Duration::seconds(2);
    assert!(
        app.update(Action::Tick(later)).is_empty(),
        "the feed poll is still out"
    );
    assert_eq!(app.now, later);
    let first = idreview_protocol::Changes {
        cursor: 40,
        cards: vec![fixtures::summary(1)],
        deleted: vec![],
    };
    let commands = app.update(Action::ChangesLoaded(Ok(first)));
    assert_eq!(
        commands,
        vec![Command::Rpc(Request::Changes(40))],
        "the first answer only sets the cursor"
    );
    let next = idreview_protocol::Changes {
        cursor: 41,
        cards: vec![fixtures::summary(2)],
        deleted: vec![],
    };
    let commands = app.update(Action::ChangesLoaded(Ok(next)));
    assert_eq!(
        commands,
        vec![
            Command::Rpc(Request::List(app.list.query.clone())),
            Command::Rpc(Request::Health),
            Command::Rpc(Request::Changes(41)),
        ]
    );
    let failed = Err(CallError::Disconnected("gone".into()));
    assert!(app.update(Action::ChangesLoaded(failed)).is_empty());
    assert_eq!(
        app.update(Action::Tick(later)),
        vec![Command::Rpc(Request::Changes(41))],
        "a tick re-arms the feed"
    );
}

#[test]
fn a_deleted_open_card_closes_its_detail_and_says_so() {
    let mut app = detail();
    // The feed's first answer only sets the cursor.
    let first = idreview_protocol::Changes {
        cursor: 50,
        cards: vec![],
        deleted: vec![],
    };
    app.update(Action::ChangesLoaded(Ok(first)));
    let other = idreview_protocol::Changes {
        cursor: 51,
        cards: vec![],
        deleted: vec![CardId(7)],
    };
    let commands = app.update(Action::ChangesLoaded(Ok(other)));
    assert_eq!(
        app.screen,
        Screen::Detail,
        "another card went: the detail stays"
    );
    assert!(
        commands.contains(&Command::Rpc(Request::List(app.list.query.clone()))),
        "the list reloads without the deleted card"
    );
    let gone = idreview_protocol::Changes {
        cursor: 52,
        cards: vec![],
        deleted: vec![CardId(3)],
    };
    let commands = app.update(Action::ChangesLoaded(Ok(gone)));
    assert_eq!(app.screen, Screen::List);
    assert!(app.detail.is_none());
    assert_eq!(
        app.status.as_ref().map(|s| s.text.as_str()),
        Some("card 3 was deleted")
    );
    assert!(
        commands.contains(&Command::Rpc(Request::Changes(52))),
        "the feed goes on"
    );
    assert!(
        !commands.contains(&Command::Rpc(Request::Release(CardId(3)))),
        "a deleted card has no claim to give back"
    );
}

#[test]
fn quit_from_the_list_and_back_from_the_detail() {
    let mut app = detail();
    assert_eq!(
        press(&mut app, KeyCode::Char('q')),
        vec![Command::Rpc(Request::Release(CardId(3)))],
        "closing gives the claim back"
    );
    assert!(app.detail.is_none());
    assert_eq!(press(&mut app, KeyCode::Char('q')), vec![Command::Quit]);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    press(&mut app, KeyCode::Char('/'));
    assert_eq!(app.press(ctrl_c), vec![Command::Quit]);
}

#[test]
fn detail_scrolling_stops_at_the_end_of_the_page() {
    let mut app = detail();
    app.update(Action::Resize {
        rows: 20,
        cols: 100,
    });
    let Some(detail) = app.detail.clone() else {
        panic!("no detail")
    };
    let drawn = super::detail::line_count_drawn(&app, &detail);
    assert_eq!(
        drawn,
        detail.line_count(),
        "the app counts the lines the renderer draws"
    );
    press(&mut app, KeyCode::Char('G'));
    let bottom = app.detail.as_ref().map_or(0, |d| d.scroll);
    assert_eq!(usize::from(bottom), detail.line_count() - 16);
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.detail.as_ref().map(|d| d.scroll), Some(bottom));
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.detail.as_ref().map(|d| d.scroll), Some(bottom - 1));
    insta::assert_snapshot!(draw_sized(&app, 20));
}
