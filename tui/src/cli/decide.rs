//! `idreview decide`: approve or reject cards in one call and print what happened to each;
//! the exit code is 1 when any card did not take the decision.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use idreview_protocol::{CardRef, DecideRequest, Decision, ItemResult, RpcError};

use super::args::DecideArgs;
use super::table;
use crate::error::Error;
use crate::rpc::Rpc;

/// A deadline long enough for a bulk decision over thousands of cards.
const BULK_TIMEOUT: Duration = Duration::from_secs(120);

/// Cards per call: each call is one transaction on the daemon; between calls the progress bar
/// moves. Small decisions stay one call.
const CHUNK: usize = 1000;

/// The request the arguments describe.
pub fn request(args: &DecideArgs) -> Result<DecideRequest, Error> {
    let decision = match args.verdict.reject {
        true => Decision::Reject,
        false => Decision::Approve,
    };
    let reason = args.reason.as_deref().map(str::trim).unwrap_or_default();
    let reason = match (decision, reason.is_empty()) {
        (Decision::Reject, true) => {
            return Err(Error::Usage("--reject needs a --reason".into()));
        }
        (Decision::Approve, true) if args.override_doubts => {
            return Err(Error::Usage("--override-doubts needs a --reason".into()));
        }
        (Decision::Approve, true) => "approved".to_string(),
        (_, false) => reason.to_string(),
    };
    let cards = args
        .cards
        .iter()
        .map(|&id| CardRef {
            id,
            expected_version: None,
        })
        .collect();
    Ok(DecideRequest {
        cards,
        decision,
        reason,
        override_doubts: args.override_doubts,
    })
}

/// Runs the command.
pub async fn run(rpc: &Rpc, args: &DecideArgs, out: &mut impl Write) -> Result<ExitCode, Error> {
    let request = request(args)?;
    let decision = request.decision;
    let items = decide_in_chunks(rpc, request).await?;
    match args.json {
        true => {
            let json = super::json::DecideJson {
                decision: decision.as_str(),
                requested: items.len(),
                decided: items.iter().filter(|i| i.result.is_ok()).count(),
                results: items.iter().map(super::json::ItemJson::from).collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &json)?;
            writeln!(out)?;
        }
        false => write!(out, "{}", human(decision, &items))?,
    }
    let failed = items.is_empty() || items.iter().any(|i| i.result.is_err());
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Sends the decision [`CHUNK`] cards at a time, with a progress bar (counts and rate) on stderr
/// when it is a terminal.
async fn decide_in_chunks(rpc: &Rpc, request: DecideRequest) -> Result<Vec<ItemResult>, Error> {
    let progress = indicatif::ProgressBar::new(request.cards.len() as u64).with_message("deciding");
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg:>8} [{bar:30}] {pos}/{len} {per_sec:>10} eta {eta}",
    ) {
        progress.set_style(style.progress_chars("=> "));
    }
    let mut items = Vec::with_capacity(request.cards.len());
    for cards in request.cards.chunks(CHUNK) {
        let part = DecideRequest {
            cards: cards.to_vec(),
            decision: request.decision,
            reason: request.reason.clone(),
            override_doubts: request.override_doubts,
        };
        items.extend(rpc.with_timeout(BULK_TIMEOUT).decide(part).await?);
        progress.inc(cards.len() as u64);
    }
    progress.finish_and_clear();
    Ok(items)
}

/// One line per card, then a count.
pub fn human(decision: Decision, items: &[ItemResult]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| match &item.result {
            Ok(version) => vec![
                item.id.to_string(),
                "ok".into(),
                format!("now version {version}"),
            ],
            Err(e) => vec![item.id.to_string(), "FAILED".into(), e.to_string()],
        })
        .collect();
    let failed = items.iter().filter(|i| i.result.is_err()).count();
    let mut text = table::render(&["card", "result", "detail"], &rows);
    text.push_str(&format!(
        "{} {}, {failed} failed\n",
        items.len() - failed,
        crate::display::decided(decision)
    ));
    let doubtful = items
        .iter()
        .filter(|i| matches!(i.result, Err(RpcError::Doubts { .. })))
        .count();
    if doubtful > 0 {
        text.push_str(&format!(
            "{doubtful} refused for their doubts: resolve them, or approve anyway with \
             --override-doubts --reason TEXT (audited)\n"
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{Cli, CliCommand};
    use clap::Parser;
    use idreview_protocol::{CardId, RpcError};

    fn args(line: &[&str]) -> DecideArgs {
        match Cli::try_parse_from(line.iter().copied()).map(|c| c.command) {
            Ok(Some(CliCommand::Decide(args))) => args,
            other => panic!("not a decide command: {other:?}"),
        }
    }

    #[test]
    fn reasons_are_required_to_reject_only() {
        let approve = request(&args(&["idreview", "decide", "1", "#2", "--approve"])).expect("ok");
        assert_eq!(approve.reason, "approved");
        assert_eq!(approve.cards.len(), 2);
        assert_eq!(approve.cards[1].id, CardId(2));
        assert!(request(&args(&["idreview", "decide", "1", "--reject"])).is_err());
        assert!(
            request(&args(&[
                "idreview", "decide", "1", "--reject", "--reason", " "
            ]))
            .is_err()
        );
        let reject = request(&args(&[
            "idreview", "decide", "1", "--reject", "--reason", "blurry",
        ]));
        assert_eq!(reject.expect("ok").decision, Decision::Reject);
    }

    #[test]
    fn overriding_doubts_is_explicit_and_needs_a_reason() {
        let plain = request(&args(&["idreview", "decide", "1", "--approve"])).expect("ok");
        assert!(!plain.override_doubts, "never without the flag");
        let line = ["idreview", "decide", "1", "--approve", "--override-doubts"];
        assert!(
            Cli::try_parse_from(line).is_err(),
            "--override-doubts without --reason"
        );
        let line = [
            "idreview",
            "decide",
            "1",
            "--reject",
            "--reason",
            "x",
            "--override-doubts",
        ];
        assert!(
            Cli::try_parse_from(line).is_err(),
            "nothing to override on a rejection"
        );
        let over = request(&args(&[
            "idreview",
            "decide",
            "1",
            "--approve",
            "--override-doubts",
            "--reason",
            "expiry checked by phone",
        ]))
        .expect("ok");
        assert!(over.override_doubts);
        assert_eq!(over.reason, "expiry checked by phone");
        let refused = [ItemResult {
            id: CardId(3),
            result: Err(RpcError::Doubts {
                id: CardId(3),
                doubts: vec!["document_expired".into()],
            }),
        }];
        let text = human(Decision::Approve, &refused);
        assert!(text.contains("--override-doubts --reason TEXT"), "{text}");
    }

    #[test]
    fn per_card_results() {
        let items = [
            ItemResult {
                id: CardId(1),
                result: Ok(4),
            },
            ItemResult {
                id: CardId(2),
                result: Err(RpcError::Conflict {
                    id: CardId(2),
                    expected: 1,
                    actual: 2,
                }),
            },
        ];
        insta::assert_snapshot!(human(Decision::Approve, &items));
    }
}
