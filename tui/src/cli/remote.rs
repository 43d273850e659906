//! `idreview remote add FILE` and `remote list`: the commands over the stored remotes
//! (`crate::remotes`). Neither talks to a daemon; `list` never shows a token.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use crate::error::Error;
use crate::remotes::{add, list};

/// `idreview remote ...`.
#[derive(Debug, Subcommand)]
pub enum RemoteCommand {
    /// Store an invite from `idreviewd remote invite`; then `idreview --remote NAME` connects
    Add {
        /// The invite file
        file: PathBuf,
        /// Store it under this name instead of the invite's own
        #[arg(long)]
        name: Option<String>,
    },
    /// The stored remotes: name and address
    List,
}

/// Runs the command against the remotes in `dir`.
pub fn run(command: RemoteCommand, dir: &Path, out: &mut impl Write) -> Result<ExitCode, Error> {
    match command {
        RemoteCommand::Add { file, name } => {
            let (name, stored, invite) = add(&file, name, dir)?;
            writeln!(
                out,
                "stored remote {name} ({}) in {}; connect with `idreview --remote {name}`; \
                 you may delete {} now",
                invite.address,
                stored.display(),
                file.display()
            )?;
        }
        RemoteCommand::List => {
            for (name, invite) in list(dir)? {
                writeln!(out, "{name}  {}", invite.address)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
