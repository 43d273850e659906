//! The command line: the scriptable commands (`list`, `show`, `decide`, `audit`, `token`,
//! `erase`, `reopen`, `rejected`, `stats`, `views`, `remote`, `completions`, `man`) and, with no
//! command, the interactive console. Commands never
//! start a daemon; the console may. The flags themselves are in [`args`].

mod args;
mod audit;
mod decide;
mod docs;
mod erase;
mod json;
mod list;
mod rejected;
pub mod remote;
mod show;
mod stats;
mod table;
mod tokens;
mod views;

pub use args::{
    AuditCommand, Cli, CliCommand, DecideArgs, EraseArgs, ListArgs, ShowArgs, Verdict, ViewsArgs,
    ViewsCommand,
};

use std::io::Write;
use std::process::ExitCode;

use crate::error::Error;
use crate::rpc::Endpoint;
use crate::settings::Settings;

/// Runs the command (or the console); the exit code says whether everything succeeded.
pub async fn run(cli: Cli, settings: &Settings) -> Result<ExitCode, Error> {
    let Some(command) = cli.command else {
        crate::console::run(settings, !cli.no_spawn).await?;
        return Ok(ExitCode::SUCCESS);
    };
    let mut out = std::io::stdout().lock();
    match &command {
        CliCommand::Completions { shell } => {
            docs::completions(*shell, &mut out);
            return Ok(ExitCode::SUCCESS);
        }
        CliCommand::Man { out: dir } => {
            docs::man(dir.as_deref(), &mut out)?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    // Storing a remote talks to no daemon.
    let command = match command {
        CliCommand::Remote(command) => {
            return remote::run(command, &idreview_protocol::paths::remotes_dir(), &mut out);
        }
        command => command,
    };
    let (rpc, _welcome) = Endpoint::new(settings).connect().await?;
    let code = match command {
        CliCommand::List(args) => list::run(&rpc, &args, &mut out).await?,
        CliCommand::Show(args) => show::run(&rpc, &args, &mut out).await?,
        CliCommand::Decide(args) => decide::run(&rpc, &args, &mut out).await?,
        CliCommand::Audit(AuditCommand::Export { since }) => {
            audit::export(&rpc, since, &mut out).await?
        }
        CliCommand::Token(command) => tokens::run(&rpc, command, &mut out).await?,
        CliCommand::Completions { .. } | CliCommand::Man { .. } | CliCommand::Remote(_) => {
            ExitCode::SUCCESS
        }
        CliCommand::Erase(args) => erase::run(&rpc, &args, &mut out).await?,
        CliCommand::Rejected(args) => rejected::run(&rpc, &args, &mut out).await?,
        CliCommand::Stats { json } => stats::run(&rpc, json, &mut out).await?,
        CliCommand::Views(args) => views::run(&rpc, &args, &mut out).await?,
        CliCommand::Reopen(args) => {
            let card = rpc
                .reopen_card(
                    idreview_protocol::CardRef {
                        id: args.card,
                        expected_version: None,
                    },
                    args.reason.clone(),
                )
                .await?;
            writeln!(out, "card {} reopened: {}", card.id, card.status)?;
            ExitCode::SUCCESS
        }
    };
    out.flush()?;
    Ok(code)
}
