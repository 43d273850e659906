//! The key table's own rules: no key bound twice where both apply, help for every binding,
//! and keys meaning what each context says.

use super::*;
use crate::app::{Theme, fixtures};
use idreview_protocol::ListQuery;

fn app_in(state: usize) -> App {
    let mut app = App::new(
        fixtures::now(),
        ListQuery::default(),
        Theme::default(),
        false,
    );
    let query = app.list.query.clone();
    app.update(Action::PageLoaded {
        query,
        result: Ok(fixtures::page(0, 3, 3)),
    });
    match state {
        1 => app.screen = Screen::Detail,
        2 => app.help = true,
        3 => {
            app.update(Action::OpenFilter);
        }
        _ => {}
    }
    app
}

#[test]
fn no_key_is_bound_twice_where_both_apply() {
    for (i, a) in BINDINGS.iter().enumerate() {
        for b in &BINDINGS[i + 1..] {
            let clash = a.key == b.key
                || (a.key == K::Text && matches!(b.key, K::Char(_)))
                || (b.key == K::Text && matches!(a.key, K::Char(_)));
            assert!(
                !(clash && custom::overlaps(a.context, b.context)),
                "{} bound twice: {:?} in {:?} and {:?} in {:?}",
                a.key.label(),
                a.action,
                a.context,
                b.action,
                b.context
            );
        }
    }
}

#[test]
fn every_binding_has_help_and_every_key_action_is_bound() {
    for b in BINDINGS {
        assert!(!b.help.trim().is_empty(), "{:?} has no help", b.action);
    }
    let wanted = [
        Action::Quit,
        Action::MoveUp,
        Action::MoveDown,
        Action::PageUp,
        Action::PageDown,
        Action::First,
        Action::Last,
        Action::OpenDetail,
        Action::Back,
        Action::ShowHelp,
        Action::OpenFilter,
        Action::CycleStatus,
        Action::Approve,
        Action::Reject,
        Action::Refresh,
        Action::Submit,
        Action::Cancel,
        Action::Input(' '),
        Action::DeleteChar,
        Action::ClearInput,
        Action::Verify,
        Action::Unverify,
        Action::NextSort,
        Action::ReverseSort,
        Action::ToggleMark,
        Action::MarkRange,
        Action::MarkDown,
        Action::MarkUp,
        Action::MarkAll,
        Action::ClearMarks,
        Action::NextField,
        Action::PrevField,
        Action::EditField,
        Action::Release,
        Action::Confirm,
        Action::Queue,
        Action::AcceptField,
        Action::SkipField,
        Action::NextCard,
        Action::PrevCard,
        Action::ToggleImage,
        Action::ZoomField,
        Action::Rotate,
        Action::NextImage,
    ];
    for action in wanted {
        assert!(
            BINDINGS.iter().any(|b| b.action == action),
            "{action:?} has no key"
        );
    }
    for context in Context::ALL {
        assert!(
            !help_rows(BINDINGS, context).is_empty(),
            "{context:?} has no help rows"
        );
    }
}

#[test]
fn keys_mean_different_things_in_different_contexts() {
    let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    assert_eq!(dispatch(&app_in(0), &q), Some(Action::Quit));
    assert_eq!(dispatch(&app_in(1), &q), Some(Action::Back));
    assert_eq!(dispatch(&app_in(2), &q), Some(Action::Back));
    assert_eq!(dispatch(&app_in(3), &q), Some(Action::Input('q')));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    for state in 0..4 {
        assert_eq!(
            dispatch(&app_in(state), &ctrl_c),
            Some(Action::Quit),
            "state {state}"
        );
    }
    let shift_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
    assert_eq!(dispatch(&app_in(0), &shift_g), Some(Action::Last));
    let release = KeyEvent {
        kind: KeyEventKind::Release,
        ..q
    };
    assert_eq!(dispatch(&app_in(0), &release), None);
}

#[test]
fn help_rows_join_keys_and_hints_follow_the_context() {
    let rows = help_rows(BINDINGS, C::List);
    assert!(
        rows.contains(&("j, ↓".to_string(), "select the next card")),
        "{rows:?}"
    );
    let words: Vec<&str> = hints(&app_in(0)).iter().map(|(_, w)| *w).collect();
    assert_eq!(
        words,
        [
            "move", "open", "filter", "status", "sort", "mark", "queue", "quit", "approve",
            "reject", "refresh", "help"
        ]
    );
    let words: Vec<&str> = hints(&app_in(3)).iter().map(|(_, w)| *w).collect();
    assert_eq!(words, ["apply", "cancel", "quit"]);
}
