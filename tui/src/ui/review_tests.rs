//! Snapshots and key paths of the reviewing screens: marks and bulk runs (reason, confirmation,
//! progress, results), sorting, claims and field corrections, all pressed through the key table.

use idreview_protocol::{CardId, CardRef, ItemResult, RpcError, SortKey, Status};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::tests::{detail, draw, draw_sized, loaded, press, type_text};
use crate::app::{Level, PromptKind, Screen};
use crate::message::{Action, BulkOp, CallError, Command, Request};

fn version_of(id: u64) -> Option<u64> {
    Some(id + 1)
}

#[test]
fn marks_then_bulk_approve_confirms_shows_progress_and_results() {
    let mut app = loaded();
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.list.cursor, 4);
    assert!(
        press(&mut app, KeyCode::Char('V')).is_empty(),
        "the page holds the range"
    );
    let marked: Vec<u64> = app.list.marks.keys().map(|id| id.0).collect();
    assert_eq!(marked, vec![1, 2, 3, 4, 5]);
    insta::assert_snapshot!("marked_list", draw(&app));

    press(&mut app, KeyCode::Char('a'));
    assert!(press(&mut app, KeyCode::Enter).is_empty(), "asks first");
    assert!(matches!(
        app.prompt.as_ref().map(|p| &p.kind),
        Some(PromptKind::Confirm { .. })
    ));
    insta::assert_snapshot!("bulk_confirmation", draw(&app));
    assert!(
        press(&mut app, KeyCode::Char('x')).is_empty(),
        "only y or n"
    );
    let commands = press(&mut app, KeyCode::Char('y'));
    let [Command::Rpc(Request::Bulk { op, cards, reason })] = commands.as_slice() else {
        panic!("no bulk request: {commands:?}");
    };
    assert_eq!(
        (*op, reason.as_str(), cards.len()),
        (BulkOp::Approve, "approved", 5)
    );
    assert_eq!(cards[0].expected_version, version_of(1));

    app.update(Action::BulkProgress { done: 2, total: 5 });
    insta::assert_snapshot!("bulk_progress", draw(&app));

    let mut results: Vec<ItemResult> = cards
        .iter()
        .map(|c| ItemResult {
            id: c.id,
            result: Ok(c.expected_version.unwrap_or(0) + 1),
        })
        .collect();
    results[3].result = Err(RpcError::IllegalTransition {
        from: Status::Rejected,
        action: "approved".into(),
    });
    results[4].result = Err(RpcError::Conflict {
        id: CardId(5),
        expected: 6,
        actual: 7,
    });
    let commands = app.update(Action::BulkDone {
        op: BulkOp::Approve,
        total: 5,
        results,
        error: None,
    });
    assert!(
        commands
            .iter()
            .any(|c| matches!(c, Command::Rpc(Request::List(_)))),
        "the list refreshes"
    );
    assert_eq!(app.screen, Screen::Results);
    let still: Vec<u64> = app.list.marks.keys().map(|id| id.0).collect();
    assert_eq!(still, vec![4, 5], "failed cards stay marked");
    insta::assert_snapshot!("bulk_results", draw(&app));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::List);
    press(&mut app, KeyCode::Esc);
    assert!(app.list.marks.is_empty(), "Esc unmarks");
}

#[test]
fn shift_arrows_extend_the_marks() {
    let mut app = loaded();
    let shift_down = KeyEvent::new(KeyCode::Down, KeyModifiers::SHIFT);
    app.press(shift_down);
    app.press(shift_down);
    let marked: Vec<u64> = app.list.marks.keys().map(|id| id.0).collect();
    assert_eq!(marked, vec![1, 2, 3]);
    assert_eq!(app.list.cursor, 2);
    press(&mut app, KeyCode::Down);
    assert_eq!(app.list.marks.len(), 3, "a plain arrow only moves");
    app.press(KeyEvent::new(KeyCode::Up, KeyModifiers::SHIFT));
    assert_eq!(app.list.marks.len(), 4);
}

#[test]
fn reject_needs_a_reason_and_mark_all_fetches_every_match() {
    let mut app = loaded();
    let commands = press(&mut app, KeyCode::Char('A'));
    let [Command::Rpc(Request::Collect { from, to, .. })] = commands.as_slice() else {
        panic!("no collect request: {commands:?}");
    };
    assert_eq!((*from, *to), (0, 8));
    let query = app.list.query.clone();
    let refs = (1..=8)
        .map(|id| CardRef {
            id: CardId(id),
            expected_version: version_of(id),
        })
        .collect();
    app.update(Action::Collected {
        query,
        result: Ok(refs),
    });
    assert_eq!(app.list.marks.len(), 8);
    press(&mut app, KeyCode::Char('r'));
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    assert_eq!(app.status.as_ref().map(|s| s.level), Some(Level::Error));
    type_text(&mut app, "duplicate");
    press(&mut app, KeyCode::Enter);
    let commands = press(&mut app, KeyCode::Char('y'));
    let [Command::Rpc(Request::Bulk { op, cards, reason })] = commands.as_slice() else {
        panic!("no bulk request: {commands:?}");
    };
    assert_eq!(
        (*op, reason.as_str(), cards.len()),
        (BulkOp::Reject, "duplicate", 8)
    );
}

#[test]
fn sort_keys_step_and_flip_and_the_view_is_remembered() {
    let mut app = loaded();
    let commands = press(&mut app, KeyCode::Char('o'));
    assert_eq!(app.list.query.sort, SortKey::Updated);
    assert!(
        commands
            .iter()
            .any(|c| matches!(c, Command::SaveView(v) if v.sort == "updated" && v.descending)),
        "{commands:?}"
    );
    for _ in 0..5 {
        press(&mut app, KeyCode::Char('o'));
    }
    assert_eq!(app.list.query.sort, SortKey::Confidence);
    let shift_o = KeyEvent::new(KeyCode::Char('O'), KeyModifiers::SHIFT);
    app.press(shift_o);
    assert!(!app.list.query.descending);
    let query = app.list.query.clone();
    app.update(Action::PageLoaded {
        query,
        result: Ok(crate::app::fixtures::page(0, 8, 8)),
    });
    insta::assert_snapshot!("sorted_by_confidence_ascending", draw(&app));
}

#[test]
fn correcting_the_focused_field() {
    let mut app = detail();
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Char('e'));
    assert_eq!(
        app.prompt.as_ref().map(|p| p.text.as_str()),
        Some("C01X00T47")
    );
    let ctrl_u = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL);
    app.press(ctrl_u);
    type_text(&mut app, "C01X00T48");
    insta::assert_snapshot!("correction_prompt", draw(&app));
    let commands = press(&mut app, KeyCode::Enter);
    let expected = Request::Correct {
        card: CardRef {
            id: CardId(3),
            expected_version: Some(3),
        },
        field: "document_number".into(),
        value: "C01X00T48".into(),
    };
    assert_eq!(commands, vec![Command::Rpc(expected)]);
    let mut card = crate::app::fixtures::card(3);
    card.fields[2].value = "C01X00T48".into();
    card.fields[2].confidence = 1.0;
    card.version = 4;
    let commands = app.update(Action::Corrected {
        id: CardId(3),
        field: "document_number".into(),
        result: Ok(card),
    });
    assert!(commands.contains(&Command::Rpc(Request::Audit(CardId(3)))));
    assert_eq!(
        app.detail
            .as_ref()
            .and_then(|d| d.card())
            .map(|c| c.version),
        Some(4)
    );
}

#[test]
fn claims_are_released_on_close_and_held_cards_open_read_only() {
    let mut app = detail();
    assert!(app.detail.as_ref().is_some_and(|d| d.claimed));
    assert_eq!(
        press(&mut app, KeyCode::Esc),
        vec![Command::Rpc(Request::Release(CardId(3)))]
    );
    press(&mut app, KeyCode::Up);
    let commands = press(&mut app, KeyCode::Enter);
    assert_eq!(
        commands.first(),
        Some(&Command::Rpc(Request::Claim(CardId(2))))
    );
    let until = crate::app::fixtures::now() + chrono::Duration::minutes(12);
    let held = RpcError::Held {
        id: CardId(2),
        holder: "bob".into(),
        until,
    };
    let commands = app.update(Action::Claimed {
        id: CardId(2),
        result: Err(CallError::Daemon(held)),
    });
    assert_eq!(commands, vec![Command::Rpc(Request::Card(CardId(2)))]);
    let mut card = crate::app::fixtures::card(2);
    card.assignee = Some("bob".into());
    card.lease_until = Some(until);
    app.update(Action::CardLoaded {
        id: CardId(2),
        result: Ok(card),
    });
    insta::assert_snapshot!("held_by_someone_else", draw_sized(&app, 16));
    assert!(
        press(&mut app, KeyCode::Esc).is_empty(),
        "nothing to release"
    );
}

#[test]
fn help_scrolls() {
    let mut app = loaded();
    app.update(Action::Resize {
        rows: 30,
        cols: 100,
    });
    press(&mut app, KeyCode::Char('?'));
    for _ in 0..40 {
        press(&mut app, KeyCode::Char('j'));
    }
    assert!(app.help_scroll > 0);
    insta::assert_snapshot!("help_scrolled_to_the_end", draw(&app));
}

#[test]
fn the_queue_walks_unsure_fields_one_key_each() {
    let mut app = loaded();
    let commands = press(&mut app, KeyCode::Char('w'));
    assert_eq!(
        app.list.query.filter.to_query_string(),
        crate::app::QUEUE_FILTER
    );
    assert!(commands.iter().any(|c| matches!(c, Command::SaveView(_))));
    let mut app = detail();
    assert_eq!(
        app.detail.as_ref().map(|d| d.field),
        Some(1),
        "the first unsure field"
    );
    let commands = press(&mut app, KeyCode::Char('y'));
    let expected = Request::Correct {
        card: CardRef {
            id: CardId(3),
            expected_version: Some(3),
        },
        field: "given_names".into(),
        value: "ERIKA".into(),
    };
    assert_eq!(commands, vec![Command::Rpc(expected)]);
    let mut card = crate::app::fixtures::card(3);
    card.fields[1].confidence = 1.0;
    card.version = 4;
    app.update(Action::Corrected {
        id: CardId(3),
        field: "given_names".into(),
        result: Ok(card),
    });
    assert_eq!(
        app.detail.as_ref().map(|d| d.field),
        Some(2),
        "on to the next"
    );
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(
        app.detail.as_ref().map(|d| d.field),
        Some(2),
        "none after it"
    );
    insta::assert_snapshot!("queue_card_settled", draw_sized(&app, 14));
    let commands = press(&mut app, KeyCode::Char(']'));
    assert_eq!(
        commands[..2],
        [
            Command::Rpc(Request::Release(CardId(3))),
            Command::Rpc(Request::Claim(CardId(4))),
        ]
    );
}

#[test]
fn the_document_image_zooms_to_the_focused_field_and_turns() {
    let mut app = detail();
    let mut card = crate::app::fixtures::card(3);
    card.fields[2].bbox = Some(idreview_protocol::BoundingBox {
        x: 40,
        y: 30,
        width: 40,
        height: 10,
    });
    app.update(Action::CardLoaded {
        id: CardId(3),
        result: Ok(card),
    });
    let commands = press(&mut app, KeyCode::Char('i'));
    let expected = Request::Image {
        id: CardId(3),
        name: "front.jpg".into(),
    };
    assert_eq!(commands, vec![Command::Rpc(expected)]);
    super::tests::show_picture(&mut app, 3);
    insta::assert_snapshot!("document_image", draw_sized(&app, 16));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Char('z'));
    press(&mut app, KeyCode::Char('t'));
    let shown = app.detail.as_ref().and_then(|d| d.image.as_ref());
    assert_eq!(shown.map(|i| (i.zoom, i.quarter_turns)), Some((true, 1)));
    insta::assert_snapshot!("document_image_zoomed_and_turned", draw_sized(&app, 16));
    press(&mut app, KeyCode::Char('i'));
    assert!(app.detail.as_ref().is_some_and(|d| d.image.is_none()));
}
