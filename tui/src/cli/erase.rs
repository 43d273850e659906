//! `idreview erase --user USER --reason TEXT`: the right to erasure. Asks the daemon (admin
//! only) to erase every card and stored file of one person; prints what happened to each card.
//! The exit code is 1 when any card could not be erased yet (still in the pipeline).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use std::io::IsTerminal;

use idreview_protocol::ErasureReport;

use super::args::EraseArgs;
use super::table;
use crate::error::Error;
use crate::rpc::Rpc;

/// Erasing rewrites each card's audit trail: a longer deadline than a read.
const ERASE_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the command: a dry run first (on a terminal, to ask with the numbers; `--dry-run`
/// stops there), then the erasure once confirmed (`--yes`, or `y` at the question).
pub async fn run(rpc: &Rpc, args: &EraseArgs, out: &mut impl Write) -> Result<ExitCode, Error> {
    let (user, reason) = (args.user.trim(), args.reason.trim());
    if user.is_empty() || reason.is_empty() {
        return Err(Error::Usage("erase needs --user and a --reason".into()));
    }
    let rpc = rpc.with_timeout(ERASE_TIMEOUT);
    let erase = |dry_run| rpc.erase_user(user.to_string(), reason.to_string(), dry_run);
    if args.dry_run || !args.yes {
        let plan = erase(true).await?;
        if args.dry_run {
            print(user, &plan, args.json, true, out)?;
            return Ok(ExitCode::SUCCESS);
        }
        let question = format!(
            "erase {} cards of {user} ({} files, {} tokens)? This cannot be undone. [y/N] ",
            plan.cards.len(),
            plan.files_queued,
            plan.tokens_revoked
        );
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage(format!(
                "{question}\nnot asked: standard input is not a terminal; pass --yes to erase, or --dry-run to see what would go"
            )));
        }
        eprint!("{question}");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !answer.trim().eq_ignore_ascii_case("y") {
            writeln!(out, "nothing erased")?;
            return Ok(ExitCode::FAILURE);
        }
    }
    let report = erase(false).await?;
    print(user, &report, args.json, false, out)?;
    let failed = report.cards.iter().any(|c| c.result.is_err());
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print(
    user: &str,
    report: &ErasureReport,
    json: bool,
    dry_run: bool,
    out: &mut impl Write,
) -> Result<(), Error> {
    match json {
        true => {
            let mut json = serde_json::to_value(super::json::ErasureJson::of(user, report))?;
            json["dry_run"] = dry_run.into();
            serde_json::to_writer_pretty(&mut *out, &json)?;
            writeln!(out)?;
        }
        false => {
            if dry_run {
                writeln!(out, "dry run: nothing is erased")?;
            }
            write!(out, "{}", human(user, report))?;
        }
    }
    Ok(())
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
