//! The key table: every binding of the console in one place ([`BINDINGS`], with
//! `[console.keys]` applied by [`custom`]). Dispatch (`App::press`, the path the event loop and
//! tests take), the help screen and the hint bar all read the app's table through [`lookup`],
//! [`help_rows`] and [`hints`]. Keys know actions, never the app's state.

pub mod custom;
mod help;
mod lookup;
mod table;

#[cfg(test)]
mod tests;

pub use help::{HELP_COLUMNS, HelpLine, help_layout, help_lines, help_rows};
pub use lookup::{hints, lookup};
pub use table::{BINDINGS, Binding, Context, Key};
