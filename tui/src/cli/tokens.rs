//! `idreview token create|list|revoke`: token management for admins, over the same connection
//! as every other command (so also remotely, with `--connect`).

use std::io::Write;
use std::process::ExitCode;

use idreview_protocol::cli::TokenCommand;
use idreview_protocol::{TokenInfo, TokenSpec};

use super::table;
use crate::error::Error;
use crate::rpc::Rpc;

/// Runs the command; `create` prints only the token on standard output, for redirection.
pub async fn run(
    rpc: &Rpc,
    command: TokenCommand,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    match command {
        TokenCommand::Create(args) => {
            let new = rpc.create_token(TokenSpec::from(args)).await?;
            eprintln!(
                "created token {} ({}, role {}); it is shown only now:",
                new.info.id, new.info.name, new.info.role
            );
            writeln!(out, "{}", new.token)?;
        }
        TokenCommand::List { json } => {
            let all = rpc.list_tokens().await?;
            if json {
                serde_json::to_writer_pretty(&mut *out, &all)?;
                writeln!(out)?;
            } else {
                write!(out, "{}", render(&all))?;
            }
        }
        TokenCommand::Revoke { id } => {
            let info = rpc.revoke_token(id).await?;
            writeln!(out, "revoked token {} ({})", info.id, info.name)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn render(all: &[TokenInfo]) -> String {
    let now = chrono::Utc::now();
    let day = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map_or("-".to_string(), |d| d.format("%Y-%m-%d").to_string())
    };
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|t| {
            let state = match (t.revoked_at, t.unusable(now)) {
                (Some(_), _) => "revoked",
                (None, Some(_)) => "expired",
                (None, None) => "active",
            };
            vec![
                t.id.clone(),
                t.name.clone(),
                t.role.to_string(),
                t.user_id.clone().unwrap_or_else(|| "-".into()),
                day(Some(t.created_at)),
                day(t.expires_at),
                t.last_used
                    .map_or("-".to_string(), |d| d.format("%Y-%m-%d %H:%M").to_string()),
                state.to_string(),
            ]
        })
        .collect();
    table::render(
        &[
            "id",
            "name",
            "role",
            "user",
            "created",
            "expires",
            "last used",
            "state",
        ],
        &rows,
    )
}
