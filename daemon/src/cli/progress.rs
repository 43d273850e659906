//! Progress bars for long work a person waits on (`idreviewd demo`, `fill`, the benchmarks):
//! counts and rates on stderr, drawn only when stderr is a terminal, so scripts and tests see
//! nothing.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `len` items, labelled `what`.
pub fn bar(len: u64, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len).with_message(what);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>8} [{bar:30}] {pos}/{len} {per_sec:>10} eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
