//! The help screen's content, generated from a key table: the contexts of its columns (two
//! when the screen is wide enough, else one), the rows of each context wrapped to the column's
//! width, and how far the tallest column scrolls.

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
        Context::Dashboard,
        Context::Picker,
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

/// Narrowest a help column is; a screen narrower than two of them shows one column.
pub const HELP_COLUMN_MIN: usize = 50;

/// Widest the keys of a help row are padded to; longer keys push their text along.
const KEYS_MAX: usize = 14;

/// One line of a help column, wrapped to its width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpLine {
    /// A context's title.
    Heading(&'static str),
    /// Between contexts.
    Blank,
    /// Keys (padded; blank on a continuation line) and a piece of their help.
    Row { keys: String, text: String },
}

/// The help screen of `table` at `width`: two columns ([`HELP_COLUMNS`]) when both get
/// [`HELP_COLUMN_MIN`], else one with every context; each help text wrapped under itself.
pub fn help_layout(table: &[Binding], width: usize) -> Vec<Vec<HelpLine>> {
    let width = if width == 0 {
        2 * HELP_COLUMN_MIN
    } else {
        width
    };
    let all: Vec<Context> = HELP_COLUMNS
        .iter()
        .flat_map(|c| c.iter().copied())
        .collect();
    let columns: Vec<&[Context]> = match width >= 2 * HELP_COLUMN_MIN {
        true => HELP_COLUMNS.to_vec(),
        false => vec![&all],
    };
    let column_width = width / columns.len();
    columns
        .into_iter()
        .map(|contexts| column_lines(table, contexts, column_width))
        .collect()
}

fn column_lines(table: &[Binding], contexts: &[Context], width: usize) -> Vec<HelpLine> {
    let rows: Vec<(Context, Vec<(String, &'static str)>)> = contexts
        .iter()
        .map(|c| (*c, help_rows(table, *c)))
        .collect();
    let keys_width = rows
        .iter()
        .flat_map(|(_, r)| r.iter().map(|(k, _)| k.chars().count()))
        .max()
        .unwrap_or(0)
        .min(KEYS_MAX);
    let mut out = Vec::new();
    for (context, rows) in rows {
        if !out.is_empty() {
            out.push(HelpLine::Blank);
        }
        out.push(HelpLine::Heading(context.title()));
        for (keys, help) in rows {
            let keys = format!("{keys:<keys_width$} ");
            // Two columns of indent, and a column kept free before the next help column.
            let room = width.saturating_sub(2 + keys.chars().count() + 1).max(10);
            for (i, text) in wrap(help, room).into_iter().enumerate() {
                let keys = match i {
                    0 => keys.clone(),
                    _ => " ".repeat(keys.chars().count()),
                };
                out.push(HelpLine::Row { keys, text });
            }
        }
    }
    out
}

/// `text` in lines of at most `width` characters, broken at spaces (a longer word alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Lines of the help screen's tallest column at `width`, for the furthest the help scrolls.
pub fn help_lines(table: &[Binding], width: usize) -> usize {
    help_layout(table, width)
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::table::BINDINGS;

    #[test]
    fn help_text_wraps_under_itself_within_its_column() {
        assert_eq!(wrap("one two three", 7), vec!["one two", "three"]);
        assert_eq!(wrap("", 7), vec![""]);
        for width in [80, 100, 200] {
            let columns = help_layout(BINDINGS, width);
            let column_width = width / columns.len();
            for line in columns.iter().flatten() {
                if let HelpLine::Row { keys, text } = line {
                    let used = 2 + keys.chars().count() + text.chars().count();
                    assert!(used < column_width, "{width}: {line:?} takes {used}");
                }
            }
        }
        assert_eq!(help_layout(BINDINGS, 80).len(), 1, "one column at 80");
        assert_eq!(help_layout(BINDINGS, 120).len(), 2);
    }
}
