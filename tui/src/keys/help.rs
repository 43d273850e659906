//! The help screen's content, generated from a key table: the contexts of its two columns,
//! the rows of each context, and how far the taller column scrolls.

use super::table::{Binding, Context};
use crate::message::Action;

/// Contexts in the help screen's left and right column.
pub const HELP_COLUMNS: [&[Context]; 2] = [
    &[Context::List, Context::Detail],
    &[
        Context::Cards,
        Context::Prompt,
        Context::Confirm,
        Context::Results,
        Context::Help,
        Context::Global,
    ],
];

/// The help screen's rows of `table` for `context`: keys that do the same thing joined, in
/// table order.
pub fn help_rows(table: &[Binding], context: Context) -> Vec<(String, &'static str)> {
    let mut rows: Vec<(Vec<String>, &Action, &'static str)> = Vec::new();
    for b in table.iter().filter(|b| b.context == context) {
        match rows
            .iter_mut()
            .find(|(_, action, help)| **action == b.action && *help == b.help)
        {
            Some((keys, _, _)) => keys.push(b.key.label()),
            None => rows.push((vec![b.key.label()], &b.action, b.help)),
        }
    }
    rows.into_iter()
        .map(|(keys, _, help)| (keys.join(", "), help))
        .collect()
}

/// Lines of the help screen's taller column (a heading and a blank line per context), for the
/// furthest the help scrolls.
pub fn help_lines(table: &[Binding]) -> usize {
    HELP_COLUMNS
        .iter()
        .map(|contexts| {
            contexts
                .iter()
                .map(|c| help_rows(table, *c).len() + 2)
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
}
