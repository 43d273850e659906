//! `idreview stats`: the dashboard's numbers for scripts (`--json`, one documented object) or
//! people (a plain table). "Today" and "this week" are this machine's.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use idreview_protocol::Stats;
use serde::Serialize;

use super::json::time;
use super::table;
use crate::error::Error;
use crate::rpc::Rpc;

/// `stats --json`: counts over every card, and the audit log's last `window_days` days.
#[derive(Debug, Serialize)]
pub struct StatsJson {
    pub at: String,
    pub cards: u64,
    /// Status name -> cards.
    pub by_status: BTreeMap<&'static str, u64>,
    /// Document type -> cards.
    pub by_type: BTreeMap<&'static str, u64>,
    pub queue: QueueJson,
    /// Most decisions this week first.
    pub reviewers: Vec<ReviewerJson>,
    pub auto_verified: AutoJson,
    pub confidence: HistogramJson,
    /// The last 24 hours, oldest first; the last is the hour running now.
    pub decisions_per_hour: Vec<u64>,
    pub cards_per_hour: Vec<u64>,
    pub window_days: u32,
}

/// The review queue: cards in `needs_review` and how long the oldest has waited.
#[derive(Debug, Serialize)]
pub struct QueueJson {
    pub cards: u64,
    pub oldest_created_at: Option<String>,
    pub oldest_age_secs: Option<i64>,
}

/// One reviewer's approvals and rejections.
#[derive(Debug, Serialize)]
pub struct ReviewerJson {
    pub reviewer: String,
    pub today: u64,
    pub week: u64,
}

/// Cards the provider finished with in the window, and the share it auto-verified.
#[derive(Debug, Serialize)]
pub struct AutoJson {
    pub verified: u64,
    pub auto_verified: u64,
    /// `auto_verified / verified`, two places; `null` when nothing was verified.
    pub share: Option<f64>,
}

/// Cards per tenth of confidence: `buckets[0]` is `[0, 0.1)`, `buckets[9]` is `[0.9, 1]`.
#[derive(Debug, Serialize)]
pub struct HistogramJson {
    pub buckets: Vec<u64>,
    pub unrated: u64,
}

impl StatsJson {
    /// The shape of `stats`, ages measured at `now`.
    pub fn of(stats: &Stats, now: DateTime<Utc>) -> StatsJson {
        StatsJson {
            at: time(stats.at),
            cards: stats.cards,
            by_status: stats
                .by_status
                .iter()
                .map(|(s, n)| (s.as_str(), *n))
                .collect(),
            by_type: stats
                .by_type
                .iter()
                .map(|(t, n)| (t.as_str(), *n))
                .collect(),
            queue: QueueJson {
                cards: stats.queue,
                oldest_created_at: stats.queue_oldest.map(time),
                oldest_age_secs: stats.queue_oldest.map(|at| (now - at).num_seconds().max(0)),
            },
            reviewers: stats
                .reviewers
                .iter()
                .map(|r| ReviewerJson {
                    reviewer: r.reviewer.clone(),
                    today: r.today,
                    week: r.week,
                })
                .collect(),
            auto_verified: AutoJson {
                verified: stats.verified,
                auto_verified: stats.auto_verified,
                share: stats.auto_share().map(|s| (s * 100.0).round() / 100.0),
            },
            confidence: HistogramJson {
                buckets: stats.confidence.clone(),
                unrated: stats.unrated,
            },
            decisions_per_hour: stats.decisions_per_hour.clone(),
            cards_per_hour: stats.cards_per_hour.clone(),
            window_days: Stats::WINDOW_DAYS,
        }
    }
}

/// Runs the command.
pub async fn run(rpc: &Rpc, json: bool, out: &mut impl Write) -> Result<ExitCode, Error> {
    let stats = rpc.stats().await?;
    match json {
        true => {
            serde_json::to_writer_pretty(&mut *out, &StatsJson::of(&stats, Utc::now()))?;
            writeln!(out)?;
        }
        false => write!(out, "{}", human(&stats, Utc::now()))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The numbers as people read them.
pub fn human(stats: &Stats, now: DateTime<Utc>) -> String {
    let json = StatsJson::of(stats, now);
    let mut counts: Vec<Vec<String>> = vec![vec!["cards".into(), stats.cards.to_string()]];
    let named = |name: &str, n: &u64| vec![format!("  {name}"), n.to_string()];
    counts.extend(stats.by_status.iter().map(|(s, n)| named(s.as_str(), n)));
    counts.push(vec!["by type".into(), String::new()]);
    counts.extend(stats.by_type.iter().map(|(t, n)| named(t.as_str(), n)));
    let oldest = match json.queue.oldest_age_secs {
        Some(secs) => format!(
            ", the oldest waiting {}",
            crate::display::age(now - chrono::Duration::seconds(secs), now)
        ),
        None => String::new(),
    };
    counts.push(vec![
        "review queue".into(),
        format!("{}{oldest}", stats.queue),
    ]);
    let auto = match json.auto_verified.share {
        Some(share) => format!("{:.0}% of {}", share * 100.0, stats.verified),
        None => "- (nothing verified)".into(),
    };
    counts.push(vec![
        "auto-verified".into(),
        format!("{auto} in the last {} days", Stats::WINDOW_DAYS),
    ]);
    let mut text = table::render(&["", ""], &counts);
    text.push('\n');
    let reviewers: Vec<Vec<String>> = stats
        .reviewers
        .iter()
        .map(|r| vec![r.reviewer.clone(), r.today.to_string(), r.week.to_string()])
        .collect();
    match reviewers.is_empty() {
        true => text.push_str("no decisions this week\n"),
        false => text.push_str(&table::render(&["reviewer", "today", "week"], &reviewers)),
    }
    text.push('\n');
    let buckets: Vec<Vec<String>> = stats
        .confidence
        .iter()
        .enumerate()
        .map(|(i, n)| {
            vec![
                format!(
                    "0.{i}-{}",
                    if i == 9 {
                        "1.0".into()
                    } else {
                        format!("0.{}", i + 1)
                    }
                ),
                n.to_string(),
            ]
        })
        .chain(std::iter::once(vec![
            "unrated".into(),
            stats.unrated.to_string(),
        ]))
        .collect();
    text.push_str(&table::render(&["confidence", "cards"], &buckets));
    text.push('\n');
    let series = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(" ");
    text.push_str(&format!(
        "decisions per hour, the last 24 hours (oldest first): {}\n",
        series(&stats.decisions_per_hour)
    ));
    text.push_str(&format!(
        "new cards per hour, the same hours: {}\n",
        series(&stats.cards_per_hour)
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures;

    #[test]
    fn the_json_shape_has_plain_names_and_rounded_numbers() {
        let json =
            serde_json::to_value(StatsJson::of(&fixtures::stats(), fixtures::now())).expect("json");
        assert_eq!(json["by_status"]["needs_review"], 212);
        assert_eq!(json["by_type"]["national_id"], 402);
        assert_eq!(json["queue"]["cards"], 212);
        assert_eq!(json["queue"]["oldest_age_secs"], 9000);
        assert_eq!(
            json["queue"]["oldest_created_at"],
            "2026-03-01T09:30:00.000Z"
        );
        assert_eq!(json["reviewers"][0]["reviewer"], "token:alice");
        assert_eq!(json["reviewers"][0]["today"], 31);
        assert_eq!(json["auto_verified"]["share"], 0.26, "168/640 rounded");
        assert_eq!(
            json["confidence"]["buckets"].as_array().map(Vec::len),
            Some(10)
        );
        assert_eq!(
            json["decisions_per_hour"].as_array().map(Vec::len),
            Some(24)
        );
        assert_eq!(json["window_days"], 7);
    }

    #[test]
    fn human_stats() {
        insta::assert_snapshot!(human(&fixtures::stats(), fixtures::now()));
    }
}
