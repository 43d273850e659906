//! Safe triage at the level of the console's state, keys pressed through the key table: `]`
//! after a decision opens the card that took the decided one's place; a decision touching
//! any card but the highlighted one says how many and how many are off screen, and asks;
//! marks do not survive a filter change; an approval the daemon refuses for its doubts asks
//! for an override reason; quitting and reconnecting keep claims honest.

use idreview_protocol::transport::Welcome;
use idreview_protocol::{CardId, CardPage, ItemResult, Role, RpcError};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::tests::{draw, loaded, press, type_text};
use crate::app::{App, PromptKind, Screen, fixtures};
use crate::message::{Action, BulkOp, CallError, Command, Request};

/// A page of the given card ids (the queue after some decisions).
fn page_of(ids: &[u64]) -> CardPage {
    CardPage {
        total: ids.len() as u64,
        offset: 0,
        cards: ids.iter().map(|id| fixtures::summary(*id)).collect(),
    }
}

fn show(app: &mut App, ids: &[u64]) {
    let query = app.list.query.clone();
    app.update(Action::PageLoaded {
        query,
        result: Ok(page_of(ids)),
    });
}

/// The card the app asked to claim among `commands`.
fn claimed(commands: &[Command]) -> Option<u64> {
    commands.iter().find_map(|c| match c {
        Command::Rpc(Request::Claim(id)) => Some(id.0),
        _ => None,
    })
}

fn claim_ok(app: &mut App, id: u64) {
    let card = fixtures::card(id);
    app.update(Action::Claimed {
        id: CardId(id),
        result: Ok(card),
    });
}

/// Decides the open card through the keys and answers as the daemon would.
fn decide_open(app: &mut App, key: char, reason: &str) {
    press(app, KeyCode::Char(key));
    type_text(app, reason);
    let commands = press(app, KeyCode::Enter);
    let Some(Command::Rpc(Request::Bulk { op, cards, .. })) = commands.first() else {
        panic!("the open card is decided at once: {commands:?}");
    };
    let results = cards
        .iter()
        .map(|c| ItemResult {
            id: c.id,
            result: Ok(5),
        })
        .collect();
    app.update(Action::BulkDone {
        op: *op,
        total: cards.len(),
        results,
        error: None,
    });
}

#[test]
fn next_card_after_a_decision_is_the_one_that_took_its_place() {
    let mut app = loaded();
    show(&mut app, &[15, 13, 11, 10, 3]);
    assert_eq!(claimed(&press(&mut app, KeyCode::Enter)), Some(15));
    claim_ok(&mut app, 15);
    decide_open(&mut app, 'r', "blurry");
    // The decided card leaves the queue when the list comes back.
    show(&mut app, &[13, 11, 10, 3]);
    assert_eq!(claimed(&press(&mut app, KeyCode::Char(']'))), Some(13));
    claim_ok(&mut app, 13);

    // `]` pressed before the refreshed list arrives steps past the decided card too.
    decide_open(&mut app, 'a', "");
    assert_eq!(claimed(&press(&mut app, KeyCode::Char(']'))), Some(11));
    claim_ok(&mut app, 11);
    show(&mut app, &[11, 10, 3]);
    assert_eq!(app.list.cursor, 0, "the highlight follows the open card");
    // An undecided card steps on as before.
    assert_eq!(claimed(&press(&mut app, KeyCode::Char(']'))), Some(10));
    claim_ok(&mut app, 10);
    assert_eq!(claimed(&press(&mut app, KeyCode::Char('['))), Some(11));
}

#[test]
fn a_decision_on_a_card_off_screen_says_so_and_asks() {
    let mut app = loaded();
    // Mark card 8 (the last row), then page so that only the first rows show.
    press(&mut app, KeyCode::Char('G'));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('g'));
    app.update(Action::Resize { rows: 8, cols: 100 });
    press(&mut app, KeyCode::Char('a'));
    let commands = press(&mut app, KeyCode::Enter);
    assert!(
        commands.is_empty(),
        "no approval without a yes: {commands:?}"
    );
    let Some(PromptKind::Confirm { cards, hidden, .. }) = app.prompt.as_ref().map(|p| &p.kind)
    else {
        panic!("asks y/n: {:?}", app.prompt);
    };
    assert_eq!((cards.len(), *hidden), (1, 1));
    let label = app.prompt.as_ref().map(|p| p.label()).unwrap_or_default();
    assert_eq!(label, "approve card 8, which is not on screen? y/n ");
    assert!(press(&mut app, KeyCode::Char('n')).is_empty());
    assert!(app.prompt.is_none(), "n cancels");

    // A marked card on screen but not highlighted is asked about as well.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.list.cursor, 2, "marking moved on to card 3");
    press(&mut app, KeyCode::Char('v'));
    let label = app.prompt.as_ref().map(|p| p.label()).unwrap_or_default();
    assert_eq!(label, "verify card 2? y/n ");
    let commands = press(&mut app, KeyCode::Char('y'));
    assert!(
        matches!(commands.as_slice(), [Command::Rpc(Request::Bulk { op: BulkOp::Verify, cards, .. })] if cards[0].id == CardId(2))
    );
}

#[test]
fn many_marks_partly_off_screen_are_counted() {
    let mut app = loaded();
    app.update(Action::Resize {
        rows: 10,
        cols: 100,
    });
    for _ in 0..8 {
        press(&mut app, KeyCode::Char(' '));
    }
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Char('r'));
    type_text(&mut app, "forged");
    press(&mut app, KeyCode::Enter);
    let label = app.prompt.as_ref().map(|p| p.label()).unwrap_or_default();
    // 10 rows leave 5 for the table: cards 1-5 show, 6-8 do not.
    assert_eq!(label, "reject 8 cards, 3 of them not on screen? y/n ");
}

#[test]
fn a_filter_change_clears_the_marks_and_says_so() {
    let mut app = loaded();
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.list.marks.len(), 2);
    press(&mut app, KeyCode::Char('/'));
    app.press(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    type_text(&mut app, "status:needs_review");
    press(&mut app, KeyCode::Enter);
    assert!(app.list.marks.is_empty());
    let status = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert_eq!(status, "2 marks cleared (the filter changed)");
    // Nothing marked: `a` acts on the highlighted card alone, without a y/n.
    show(&mut app, &[22]);
    press(&mut app, KeyCode::Char('a'));
    let commands = press(&mut app, KeyCode::Enter);
    assert!(
        matches!(commands.as_slice(), [Command::Rpc(Request::Bulk { cards, .. })] if cards.len() == 1 && cards[0].id == CardId(22)),
        "{commands:?}"
    );

    // A sort change keeps the marks (the same cards match).
    let mut app = loaded();
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('o'));
    assert_eq!(app.list.marks.len(), 1);
    press(&mut app, KeyCode::Char('s'));
    assert!(
        app.list.marks.is_empty(),
        "the quick status filter clears them"
    );
}

#[test]
fn failed_cards_of_a_bulk_run_stay_marked_visibly() {
    let mut app = loaded();
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('v'));
    let commands = press(&mut app, KeyCode::Char('y'));
    let [Command::Rpc(Request::Bulk { cards, .. })] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    let mut results: Vec<ItemResult> = cards
        .iter()
        .map(|c| ItemResult {
            id: c.id,
            result: Ok(9),
        })
        .collect();
    results[1].result = Err(RpcError::NotFound(CardId(2)));
    app.update(Action::BulkDone {
        op: BulkOp::Verify,
        total: 2,
        results,
        error: None,
    });
    let status = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert_eq!(
        status,
        "1 of 2 cards verified; the card that failed stays marked (Esc unmarks it)"
    );
    assert_eq!(
        app.list.marks.keys().copied().collect::<Vec<_>>(),
        [CardId(2)]
    );
}

#[test]
fn an_approval_refused_for_doubts_asks_for_an_override_reason() {
    let mut app = loaded();
    press(&mut app, KeyCode::Enter);
    claim_ok(&mut app, 1);
    press(&mut app, KeyCode::Char('a'));
    let commands = press(&mut app, KeyCode::Enter);
    let Some(Command::Rpc(Request::Bulk { op, cards, .. })) = commands.first() else {
        panic!("{commands:?}");
    };
    assert_eq!(*op, BulkOp::Approve);
    let doubts = vec![
        "document_number at 0.38".to_string(),
        "document_expired".into(),
    ];
    app.update(Action::BulkDone {
        op: BulkOp::Approve,
        total: 1,
        results: vec![ItemResult {
            id: cards[0].id,
            result: Err(RpcError::Doubts {
                id: cards[0].id,
                doubts: doubts.clone(),
            }),
        }],
        error: None,
    });
    let label = app.prompt.as_ref().map(|p| p.label()).unwrap_or_default();
    assert_eq!(label, "approve card 1 over doubts - reason: ");
    let status = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert_eq!(
        status,
        "card 1 has doubts: document_number at 0.38, document_expired. Type why you approve it \
         anyway, or Esc to leave it undecided"
    );
    insta::assert_snapshot!("override_prompt", draw(&app));
    assert!(
        press(&mut app, KeyCode::Enter).is_empty(),
        "no override without a reason"
    );
    type_text(&mut app, "expiry checked by phone");
    let commands = press(&mut app, KeyCode::Enter);
    let [Command::Rpc(Request::Bulk { op, cards, reason })] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert_eq!(*op, BulkOp::ApproveOverDoubts);
    assert_eq!(reason, "expiry checked by phone");
    assert_eq!(cards[0].expected_version, Some(3), "the version on screen");

    // Esc leaves a doubtful card undecided.
    let mut app = loaded();
    press(&mut app, KeyCode::Enter);
    claim_ok(&mut app, 1);
    press(&mut app, KeyCode::Char('a'));
    press(&mut app, KeyCode::Enter);
    app.update(Action::BulkDone {
        op: BulkOp::Approve,
        total: 1,
        results: vec![ItemResult {
            id: CardId(1),
            result: Err(RpcError::Doubts {
                id: CardId(1),
                doubts,
            }),
        }],
        error: None,
    });
    assert!(press(&mut app, KeyCode::Esc).is_empty());
    assert!(app.prompt.is_none());
}

fn ctrl_c() -> KeyEvent {
    KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
}

#[test]
fn quitting_gives_the_claim_back_first() {
    let mut app = loaded();
    press(&mut app, KeyCode::Enter);
    claim_ok(&mut app, 1);
    assert_eq!(
        app.press(ctrl_c()),
        vec![Command::Rpc(Request::Release(CardId(1))), Command::Quit]
    );
    // Nothing held: nothing to give back.
    let mut app = loaded();
    assert_eq!(press(&mut app, KeyCode::Char('q')), vec![Command::Quit]);
}

#[test]
fn a_confirmation_takes_y_not_enter() {
    let mut app = loaded();
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('a'));
    press(&mut app, KeyCode::Enter);
    assert!(
        press(&mut app, KeyCode::Enter).is_empty(),
        "a second Enter after the reason does not approve"
    );
    assert!(matches!(
        app.prompt.as_ref().map(|p| &p.kind),
        Some(PromptKind::Confirm { .. })
    ));
}

#[test]
fn after_a_reconnect_the_open_card_is_claimed_again() {
    let mut app = loaded();
    press(&mut app, KeyCode::Enter);
    claim_ok(&mut app, 1);
    app.update(Action::Disconnected("connection reset".into()));
    let status = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert_eq!(
        status,
        "lost the daemon; reconnecting (card 1 is claimed again then)"
    );
    // A renewal that found the daemon gone does not give the claim up.
    app.update(Action::Claimed {
        id: CardId(1),
        result: Err(CallError::NotConnected("no daemon".into())),
    });
    assert!(app.detail.as_ref().is_some_and(|d| d.claimed));
    let welcome = Welcome {
        identity: "alice".into(),
        role: Role::Reviewer,
        daemon_version: "0.1.0".into(),
        protocol_version: idreview_protocol::PROTOCOL_VERSION,
        daemon_speaks: idreview_protocol::version::SPOKEN,
    };
    let commands = app.update(Action::Connected(welcome.clone()));
    assert_eq!(claimed(&commands), Some(1), "{commands:?}");
    claim_ok(&mut app, 1);
    let status = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert_eq!(status, "card 1 is yours");

    // Someone else took it meanwhile: the console says it is not held.
    app.update(Action::Disconnected("connection reset".into()));
    app.update(Action::Connected(welcome));
    let held = RpcError::Held {
        id: CardId(1),
        holder: "bob".into(),
        until: fixtures::now(),
    };
    app.update(Action::Claimed {
        id: CardId(1),
        result: Err(CallError::Daemon(held)),
    });
    assert_eq!(app.screen, Screen::Detail);
    assert!(!app.detail.as_ref().is_some_and(|d| d.claimed));
    assert_eq!(
        app.press(ctrl_c()),
        vec![Command::Quit],
        "a card not held is not released on quitting"
    );
}

#[test]
fn with_after_decision_next_the_queue_moves_on_by_itself() {
    let mut app = loaded();
    app.next_after_decision = true;
    show(&mut app, &[15, 13, 11]);
    press(&mut app, KeyCode::Enter);
    claim_ok(&mut app, 15);
    press(&mut app, KeyCode::Char('r'));
    type_text(&mut app, "blurry");
    let commands = press(&mut app, KeyCode::Enter);
    let Some(Command::Rpc(Request::Bulk { op, cards, .. })) = commands.first() else {
        panic!("{commands:?}");
    };
    let done = app.update(Action::BulkDone {
        op: *op,
        total: 1,
        results: vec![ItemResult {
            id: cards[0].id,
            result: Ok(5),
        }],
        error: None,
    });
    assert_eq!(claimed(&done), Some(13), "the next card opens: {done:?}");
    assert!(
        done.contains(&Command::Rpc(Request::Release(CardId(15)))),
        "the decided card's claim goes back"
    );
}

#[test]
fn tab_steps_through_the_preset_reasons() {
    let mut app = loaded();
    app.reasons = std::sync::Arc::new(vec!["document expired".into(), "photo unreadable".into()]);
    press(&mut app, KeyCode::Char('r'));
    press(&mut app, KeyCode::Tab);
    assert_eq!(
        app.prompt.as_ref().map(|p| p.text.as_str()),
        Some("document expired")
    );
    press(&mut app, KeyCode::Tab);
    assert_eq!(
        app.prompt.as_ref().map(|p| p.text.as_str()),
        Some("photo unreadable")
    );
    press(&mut app, KeyCode::Tab);
    assert_eq!(
        app.prompt.as_ref().map(|p| p.text.as_str()),
        Some("document expired")
    );
    let commands = press(&mut app, KeyCode::Enter);
    assert!(
        matches!(commands.as_slice(), [Command::Rpc(Request::Bulk { reason, .. })] if reason == "document expired"),
        "{commands:?}"
    );
}
