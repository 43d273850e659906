//! `idreview rejected`: the submissions the inbox refused, newest first, with the rule each
//! broke, paged through `rejected_submissions`.

use std::io::Write;
use std::process::ExitCode;

use chrono::Utc;
use idreview_protocol::{ListQuery, RejectedSubmission};

use super::args::RejectedArgs;
use super::json::{RejectedItemJson, RejectedJson};
use crate::error::Error;
use crate::rpc::Rpc;

/// Prints the refused submissions as a table or as JSON.
pub async fn run(rpc: &Rpc, args: &RejectedArgs, out: &mut impl Write) -> Result<ExitCode, Error> {
    let mut items: Vec<RejectedSubmission> = Vec::new();
    let mut total;
    loop {
        let want = match args.limit {
            0 => u64::from(ListQuery::MAX_LIMIT),
            n => (n - items.len() as u64).min(u64::from(ListQuery::MAX_LIMIT)),
        };
        let page = rpc
            .rejected_submissions(items.len() as u64, u32::try_from(want).unwrap_or(u32::MAX))
            .await?;
        total = page.total;
        let got = page.items.len();
        items.extend(page.items);
        let done = args.limit != 0 && items.len() as u64 >= args.limit;
        if got == 0 || done || items.len() as u64 >= total {
            break;
        }
    }
    if args.json {
        let json = RejectedJson {
            total,
            submissions: items.iter().map(RejectedItemJson::from).collect(),
        };
        serde_json::to_writer_pretty(&mut *out, &json)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if items.is_empty() {
        writeln!(out, "no rejected submissions")?;
        return Ok(ExitCode::SUCCESS);
    }
    let now = Utc::now();
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|r| {
            let message = match &r.file {
                Some(file) => format!("{file}: {}", r.message),
                None => r.message.clone(),
            };
            vec![
                r.rejected_at
                    .map_or_else(|| "-".into(), |at| crate::display::age(at, now)),
                r.rule.clone(),
                r.folder.clone(),
                message,
            ]
        })
        .collect();
    write!(
        out,
        "{}",
        super::table::render(&["AGE", "RULE", "FOLDER", "WHY"], &rows)
    )?;
    writeln!(
        out,
        "{} of {total} rejected submissions (folders in rejected/ with a reason.json)",
        items.len()
    )?;
    Ok(ExitCode::SUCCESS)
}
