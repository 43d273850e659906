//! `idreview show`: one card in full (fields, files, findings, verdict, decision) and its
//! audit history, as text or JSON.

use std::io::Write;
use std::process::ExitCode;

use idreview_protocol::{AuditEvent, Card};

use super::args::ShowArgs;
use super::table;
use crate::display;
use crate::error::Error;
use crate::rpc::Rpc;

/// A card with its history (`show --json` prints it as `cli::json::CardJson`).
#[derive(Debug)]
pub struct Shown {
    /// The whole card.
    pub card: Card,
    /// Its audit history, oldest first.
    pub audit: Vec<AuditEvent>,
}

/// Runs the command.
pub async fn run(rpc: &Rpc, args: &ShowArgs, out: &mut impl Write) -> Result<ExitCode, Error> {
    let (card, audit) = tokio::try_join!(rpc.get_card(args.card), rpc.audit_events(args.card))?;
    let shown = Shown { card, audit };
    match args.json {
        true => {
            let json = super::json::CardJson::of(&shown.card, &shown.audit);
            serde_json::to_writer_pretty(&mut *out, &json)?;
            writeln!(out)?;
        }
        false => write!(out, "{}", human(&shown))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The text people read.
pub fn human(shown: &Shown) -> String {
    let c = &shown.card;
    let yes = |b: bool| if b { "yes" } else { "no" };
    let mut s = format!(
        "card {}  user {}  {}  {}  {}  version {}\n",
        c.id,
        c.user_id,
        c.document_type,
        display::or_dash(c.country.as_deref()),
        c.status,
        c.version
    );
    s += &format!(
        "created {}  updated {}  source {}  assignee {}  verified {}  confirmed {}\n",
        time(c.created_at),
        time(c.updated_at),
        c.source,
        display::or_dash(c.assignee.as_deref()),
        yes(c.verified),
        yes(c.confirmed)
    );
    let fields: Vec<Vec<String>> = c
        .fields
        .iter()
        .map(|f| {
            let conf = format!("{:.2}", f.confidence);
            vec![
                f.name.clone(),
                f.value.clone(),
                conf,
                f.source.to_string(),
                f.side.to_string(),
            ]
        })
        .collect();
    section(
        &mut s,
        "FIELDS",
        &["name", "value", "conf", "source", "side"],
        &fields,
    );
    let files: Vec<Vec<String>> = c
        .files
        .iter()
        .map(|f| {
            let dims = f
                .dimensions
                .map(|(w, h)| format!("{w}x{h}"))
                .unwrap_or_else(|| "-".into());
            let key = f.object_key.clone();
            vec![
                f.role.to_string(),
                f.name.clone(),
                f.media_type.clone(),
                display::size(f.size),
                dims,
                key,
            ]
        })
        .collect();
    section(
        &mut s,
        "FILES",
        &["role", "name", "media", "size", "pixels", "object"],
        &files,
    );
    let findings: Vec<Vec<String>> = c
        .findings
        .iter()
        .map(|f| vec![f.severity.to_string(), f.rule.clone(), f.message.clone()])
        .collect();
    section(
        &mut s,
        "FINDINGS",
        &["severity", "rule", "message"],
        &findings,
    );
    s += "\nPROVIDER\n";
    match &c.provider {
        None => s += "not verified yet\n",
        Some(p) => {
            s += &format!("{}: {}\n", p.provider, p.decision);
            if let Some(failure) = &p.failure {
                s += &format!("failure: {failure}\n");
            }
            for w in &p.warnings {
                s += &format!(
                    "{} {} {} ({:.2})\n",
                    w.severity, w.code, w.description, w.confidence
                );
            }
        }
    }
    s += "\nDECISION\n";
    match &c.decision {
        None => s += "undecided\n",
        Some(d) => {
            s += &format!(
                "{} by {} at {}: {}\n",
                d.decision,
                d.by,
                time(d.at),
                d.reason
            )
        }
    }
    let audit: Vec<Vec<String>> = shown
        .audit
        .iter()
        .map(|e| {
            let reason = e.reason.clone().unwrap_or_default();
            vec![
                e.seq.to_string(),
                time(e.at),
                e.actor.clone(),
                e.action.clone(),
                reason,
            ]
        })
        .collect();
    section(
        &mut s,
        "AUDIT",
        &["seq", "at", "actor", "action", "reason"],
        &audit,
    );
    s
}

fn section(s: &mut String, title: &str, headers: &[&str], rows: &[Vec<String>]) {
    s.push('\n');
    s.push_str(title);
    s.push('\n');
    match rows.is_empty() {
        true => s.push_str("none\n"),
        false => s.push_str(&table::render(headers, rows)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures;

    #[test]
    fn human_card() {
        let shown = Shown {
            card: fixtures::card(1),
            audit: fixtures::audit(1),
        };
        insta::assert_snapshot!(human(&shown));
    }
}
