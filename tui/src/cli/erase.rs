//! `idreview erase --user USER --reason TEXT`: the right to erasure. Asks the daemon (admin
//! only) to erase every card and stored file of one person; prints what happened to each card.
//! The exit code is 1 when any card could not be erased yet (still in the pipeline).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use idreview_protocol::ErasureReport;

use super::table;
use crate::error::Error;
use crate::rpc::Rpc;

/// Erasing rewrites each card's audit trail: a longer deadline than a read.
const ERASE_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the command.
pub async fn run(
    rpc: &Rpc,
    user: &str,
    reason: &str,
    json: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Error> {
    if user.trim().is_empty() || reason.trim().is_empty() {
        return Err(Error::Usage("erase needs --user and a --reason".into()));
    }
    let report = rpc
        .with_timeout(ERASE_TIMEOUT)
        .erase_user(user.trim().to_string(), reason.trim().to_string())
        .await?;
    match json {
        true => {
            serde_json::to_writer_pretty(&mut *out, &super::json::ErasureJson::of(user, &report))?;
            writeln!(out)?;
        }
        false => write!(out, "{}", human(user, &report))?,
    }
    let failed = report.cards.iter().any(|c| c.result.is_err());
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// One line per card, then the totals.
pub fn human(user: &str, report: &ErasureReport) -> String {
    let rows: Vec<Vec<String>> = report
        .cards
        .iter()
        .map(|item| match &item.result {
            Ok(_) => vec![item.id.to_string(), "erased".into(), String::new()],
            Err(e) => vec![item.id.to_string(), "NOT ERASED".into(), e.to_string()],
        })
        .collect();
    let mut text = match rows.is_empty() {
        true => format!("{user} has no cards\n"),
        false => table::render(&["card", "result", "detail"], &rows),
    };
    text.push_str(&format!(
        "{} files queued for removal, {} audit events scrubbed, {} tokens revoked\n",
        report.files_queued, report.events_scrubbed, report.tokens_revoked
    ));
    text
}
