//! `[console.keys]`: rebinding actions by name (`approve = "A"`, `down = ["j", "ctrl-n"]`).
//! A rebound action loses its default keys and gets the new ones in the same contexts; a key
//! that would then mean two things where both apply is refused with both names.

use std::collections::BTreeMap;

use super::table::{BINDINGS, Binding, Context, Key};
use crate::message::Action;

/// The config name of every action a key may be bound to.
pub fn action_name(action: &Action) -> Option<&'static str> {
    Some(match action {
        Action::Quit => "quit",
        Action::MoveUp => "up",
        Action::MoveDown => "down",
        Action::PageUp => "page_up",
        Action::PageDown => "page_down",
        Action::First => "first",
        Action::Last => "last",
        Action::OpenDetail => "open",
        Action::Back => "back",
        Action::ShowHelp => "help",
        Action::OpenFilter => "filter",
        Action::CycleStatus => "status",
        Action::Approve => "approve",
        Action::Reject => "reject",
        Action::Verify => "verify",
        Action::Unverify => "unverify",
        Action::NextSort => "sort",
        Action::ReverseSort => "reverse_sort",
        Action::ToggleMark => "mark",
        Action::MarkRange => "mark_range",
        Action::MarkDown => "mark_down",
        Action::MarkUp => "mark_up",
        Action::MarkAll => "mark_all",
        Action::ClearMarks => "unmark",
        Action::NextField => "next_field",
        Action::PrevField => "prev_field",
        Action::EditField => "correct",
        Action::Queue => "queue",
        Action::AcceptField => "accept",
        Action::SkipField => "skip",
        Action::NextCard => "next_card",
        Action::PrevCard => "prev_card",
        Action::ToggleImage => "image",
        Action::ZoomField => "zoom",
        Action::Rotate => "rotate",
        Action::NextImage => "next_image",
        Action::OpenImage => "open_image",
        Action::WriteImage => "write_image",
        Action::Release => "release",
        Action::Refresh => "refresh",
        Action::Confirm => "confirm",
        Action::ShowDashboard => "dashboard",
        Action::SaveView => "save_view",
        Action::PickView => "views",
        Action::ApplyView => "apply_view",
        Action::DeleteView => "delete_view",
        _ => return None,
    })
}

/// Reads a key as people write it: `x`, `X`, `ctrl-x`, `enter`, `esc`, `tab`, `backtab`,
/// `up`, `down`, `shift-up`, `shift-down`, `pageup`, `pagedown`, `home`, `end`, `backspace`, `space`.
pub fn parse_key(spec: &str) -> Result<Key, String> {
    let lower = spec.to_ascii_lowercase();
    let mut chars = spec.chars();
    Ok(match (chars.next(), chars.next()) {
        (Some(c), None) => Key::Char(c),
        _ => match lower.as_str() {
            "space" => Key::Char(' '),
            "enter" | "return" => Key::Enter,
            "esc" | "escape" => Key::Esc,
            "tab" => Key::Tab,
            "backtab" | "shift-tab" => Key::BackTab,
            "up" => Key::Up,
            "down" => Key::Down,
            "shift-up" => Key::ShiftUp,
            "shift-down" => Key::ShiftDown,
            "pageup" | "pgup" => Key::PageUp,
            "pagedown" | "pgdn" => Key::PageDown,
            "home" => Key::Home,
            "end" => Key::End,
            "backspace" => Key::Backspace,
            ctrl => match ctrl.strip_prefix("ctrl-").map(|c| {
                let mut it = c.chars();
                (it.next(), it.next())
            }) {
                Some((Some(c), None)) => Key::Ctrl(c),
                _ => return Err(format!("unknown key {spec:?}")),
            },
        },
    })
}

/// Whether bindings in contexts `a` and `b` can be in force at once.
pub fn overlaps(a: Context, b: Context) -> bool {
    let cards = |c| matches!(c, Context::List | Context::Detail | Context::Cards);
    a == b
        || a == Context::Global
        || b == Context::Global
        || (a == Context::Cards && cards(b))
        || (b == Context::Cards && cards(a))
}

/// The default table with `overrides` (action name -> keys) applied.
pub fn customized(overrides: &BTreeMap<String, Vec<String>>) -> Result<Vec<Binding>, String> {
    let mut table: Vec<Binding> = BINDINGS.to_vec();
    for (name, specs) in overrides {
        let keys = specs
            .iter()
            .map(|s| parse_key(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("[console.keys] {name}: {e}"))?;
        let named = |b: &Binding| {
            action_name(&b.action) == Some(name.as_str()) && b.context != Context::Prompt
        };
        let mut templates: Vec<Binding> = Vec::new();
        for b in table.iter().filter(|b| named(b)) {
            if templates.iter().all(|t| t.context != b.context) {
                templates.push(b.clone());
            }
        }
        if templates.is_empty() {
            let mut names: Vec<&str> = BINDINGS
                .iter()
                .filter_map(|b| action_name(&b.action))
                .collect();
            names.sort_unstable();
            names.dedup();
            return Err(format!(
                "[console.keys] has no action {name:?}; actions: {}",
                names.join(", ")
            ));
        }
        table.retain(|b| !named(b));
        for template in templates {
            for (i, key) in keys.iter().enumerate() {
                table.push(Binding {
                    key: *key,
                    hint: template.hint.filter(|_| i == 0),
                    ..template.clone()
                });
            }
        }
    }
    for (i, a) in table.iter().enumerate() {
        for b in &table[i + 1..] {
            if a.key == b.key && a.action != b.action && overlaps(a.context, b.context) {
                let (x, y) = (action_name(&a.action), action_name(&b.action));
                return Err(format!(
                    "[console.keys]: {} would mean both {} and {}",
                    a.key.label(),
                    x.unwrap_or("typing"),
                    y.unwrap_or("typing")
                ));
            }
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn rebinding_replaces_the_defaults_in_their_contexts() {
        let table = customized(&overrides(&[
            ("approve", &["P"]),
            ("down", &["ctrl-n", "j"]),
        ]))
        .expect("valid");
        let approve: Vec<_> = table
            .iter()
            .filter(|b| b.action == Action::Approve)
            .collect();
        assert_eq!(approve.len(), 1);
        assert_eq!(approve[0].key, Key::Char('P'));
        assert_eq!(approve[0].context, Context::Cards);
        let down = table
            .iter()
            .filter(|b| b.action == Action::MoveDown && b.context == Context::List)
            .count();
        assert_eq!(down, 2);
    }

    #[test]
    fn clashes_unknown_actions_and_keys_are_refused() {
        let err = customized(&overrides(&[("approve", &["r"])])).expect_err("clash");
        assert!(err.contains("approve") && err.contains("reject"), "{err}");
        let err = customized(&overrides(&[("aprove", &["x"])])).expect_err("unknown");
        assert!(err.contains("actions: "), "{err}");
        assert!(parse_key("ctrl-").is_err());
        assert_eq!(parse_key("PgDn"), Ok(Key::PageDown));
    }
}
