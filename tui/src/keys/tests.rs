//! The key table's own rules: no key bound twice where both apply, help for every binding,
//! and keys that do the same thing on one help row. What keys mean in each of the app's
//! states is checked in `app::input`.

use super::*;
use crate::message::Action;
use Context as C;
use Key as K;

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
        Action::OpenImage,
        Action::WriteImage,
        Action::ShowDashboard,
        Action::SaveView,
        Action::PickView,
        Action::ApplyView,
        Action::DeleteView,
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
fn help_rows_join_keys_that_do_the_same() {
    let rows = help_rows(BINDINGS, C::List);
    assert!(
        rows.contains(&("j, ↓".to_string(), "select the next card")),
        "{rows:?}"
    );
}
