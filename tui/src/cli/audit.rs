//! `idreview audit export`: the whole audit log (or what follows a sequence number) as JSON
//! lines (the shape of `cli::json::EventJson`), paged through the admin-only `audit_export`
//! call.

use std::io::Write;
use std::process::ExitCode;

use crate::error::Error;
use crate::rpc::Rpc;

/// Events asked for per call.
const PAGE: u32 = 1000;

/// Writes one JSON object per event, oldest first, until the log is exhausted.
pub async fn export(rpc: &Rpc, since: u64, out: &mut impl Write) -> Result<ExitCode, Error> {
    let mut after = since;
    loop {
        let page = rpc.audit_export(after, PAGE).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.seq;
        for event in &page {
            serde_json::to_writer(&mut *out, &super::json::EventJson::from(event))?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
