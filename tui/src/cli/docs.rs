//! `idreview completions SHELL` and `idreview man`: shell completion scripts and man pages
//! generated from the clap definition, so they never drift from the flags.

use std::path::Path;

use clap::CommandFactory;

use super::args::Cli;

/// Writes the completion script for `shell` to `out`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    clap_complete::generate(shell, &mut Cli::command(), "idreview", out);
}

/// Writes the man page (roff) to `out`, or `idreview.1` and one page per command into `dir`.
pub fn man(dir: Option<&Path>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            clap_mangen::generate_to(Cli::command(), dir)
        }
        None => clap_mangen::Man::new(Cli::command()).render(out),
    }
}
