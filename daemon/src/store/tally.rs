//! The audit log's last week, tallied per quarter hour for the dashboard: decisions per
//! reviewer, the provider's first verification results (and how many auto-verified the card),
//! and new cards. Filled lazily by [`Store::stats`](super::Store::stats): the first call reads
//! back to the window's start, each later one only the events written since (the seq it got
//! to is kept), so a call costs the events since the last one, never the whole log. Quarter
//! hours let "today" and "this week" start at a caller's midnight in any time zone.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use idreview_protocol::{ReviewerStats, Stats, Status};
use serde::Deserialize;

use super::stored::audit::EventRef;

/// Seconds per slot: a quarter hour, the finest step of a time zone's offset.
const SLOT_SECS: i64 = 900;
const HOUR_SECS: i64 = 3600;
const DAY_SECS: i64 = 86_400;

/// The tally of the window, and how far into the log it has read.
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// The seq of the last event folded in; `None` before the first fill.
    pub(super) seq: Option<u64>,
    /// Quarter hours since the epoch -> what happened in it.
    slots: BTreeMap<i64, Slot>,
}

/// One quarter hour.
#[derive(Debug, Default)]
struct Slot {
    /// Approvals and rejections per acting identity.
    decisions: HashMap<Box<str>, u64>,
    /// Cards that left verification (the provider's first answer, or its failure).
    verified: u64,
    /// Of those, the ones auto-verified.
    auto: u64,
    /// Cards created.
    created: u64,
}

/// The part of a card's before/after snapshot the tally reads (see `store::change`).
#[derive(Deserialize)]
struct Snapshot {
    status: Status,
}

fn status(snapshot: Option<&str>) -> Option<Status> {
    serde_json::from_str::<Snapshot>(snapshot?)
        .ok()
        .map(|s| s.status)
}

/// The quarter hour holding `at`.
fn slot(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(SLOT_SECS)
}

/// The activity the tally answers for a caller.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Activity {
    pub reviewers: Vec<ReviewerStats>,
    pub verified: u64,
    pub auto_verified: u64,
    pub decisions_per_hour: Vec<u64>,
    pub cards_per_hour: Vec<u64>,
}

impl Tally {
    /// The oldest time the window keeps at `now`.
    pub(super) fn cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::days(i64::from(Stats::WINDOW_DAYS))
    }

    /// Counts one event, if it falls in the window at `now` and is one the dashboard shows.
    pub(super) fn fold(&mut self, event: &EventRef<'_>, now: DateTime<Utc>) {
        self.seq = Some(event.seq);
        if event.at < Self::cutoff(now) {
            return;
        }
        let at = slot(event.at);
        match event.action {
            "card.approved" | "card.rejected" => {
                let slot = self.slots.entry(at).or_default();
                match slot.decisions.get_mut(event.actor) {
                    Some(n) => *n += 1,
                    None => {
                        slot.decisions.insert(event.actor.into(), 1);
                    }
                }
            }
            "card.created" => self.slots.entry(at).or_default().created += 1,
            "card.verified_by_provider" | "card.verification_failed"
                if status(event.before) == Some(Status::Verifying) =>
            {
                let slot = self.slots.entry(at).or_default();
                slot.verified += 1;
                slot.auto += u64::from(status(event.after) == Some(Status::AutoVerified));
            }
            _ => {}
        }
    }

    /// Forgets the quarter hours that left the window at `now`.
    pub(super) fn prune(&mut self, now: DateTime<Utc>) {
        let first = slot(Self::cutoff(now));
        self.slots = self.slots.split_off(&first);
    }

    /// The window's activity at `now` for a caller `utc_offset_secs` east of UTC (rounded to
    /// a quarter hour): decisions today and this week (from the caller's midnight, and from
    /// Monday's), verification results over the window, and the last 24 hours hour by hour.
    pub(super) fn activity(&self, now: DateTime<Utc>, utc_offset_secs: i32) -> Activity {
        let offset =
            (i64::from(utc_offset_secs) as f64 / SLOT_SECS as f64).round() as i64 * SLOT_SECS;
        let local = now.timestamp() + offset;
        let day_start = local - local.rem_euclid(DAY_SECS) - offset;
        // 1970-01-01 was a Thursday: three days after a Monday.
        let weekday = (local.div_euclid(DAY_SECS) + 3).rem_euclid(7);
        let week_start = day_start - weekday * DAY_SECS;
        let hour_start = local - local.rem_euclid(HOUR_SECS) - offset;
        let first_hour = hour_start - (Stats::HOURS as i64 - 1) * HOUR_SECS;
        let window = slot(Self::cutoff(now));

        let mut out = Activity {
            decisions_per_hour: vec![0; Stats::HOURS],
            cards_per_hour: vec![0; Stats::HOURS],
            ..Activity::default()
        };
        let mut reviewers: HashMap<&str, (u64, u64)> = HashMap::new();
        for (&at, slot) in self.slots.range(window..) {
            let start = at * SLOT_SECS;
            out.verified += slot.verified;
            out.auto_verified += slot.auto;
            if start >= week_start {
                for (who, n) in &slot.decisions {
                    let counts = reviewers.entry(who).or_default();
                    counts.1 += n;
                    if start >= day_start {
                        counts.0 += n;
                    }
                }
            }
            if start >= first_hour {
                let hour = usize::try_from((start - first_hour) / HOUR_SECS).unwrap_or(usize::MAX);
                if hour < Stats::HOURS {
                    out.decisions_per_hour[hour] += slot.decisions.values().sum::<u64>();
                    out.cards_per_hour[hour] += slot.created;
                }
            }
        }
        out.reviewers = reviewers
            .into_iter()
            .map(|(who, (today, week))| ReviewerStats {
                reviewer: who.to_string(),
                today,
                week,
            })
            .collect();
        out.reviewers
            .sort_by(|a, b| b.week.cmp(&a.week).then(a.reviewer.cmp(&b.reviewer)));
        out
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use idreview_protocol::{AuditEvent, CardId};

    use super::*;
    use crate::store::stored::audit::event;

    /// An event as the test writes it: seq, time, actor, action, status before and after.
    type Ev<'a> = (u64, DateTime<Utc>, &'a str, &'a str, &'a str, &'a str);

    /// Folds one event into `tally` through its stored bytes, as the store reads it.
    fn fold(
        tally: &mut Tally,
        now: DateTime<Utc>,
        (seq, at, actor, action, before, after): Ev<'_>,
    ) {
        let snapshot =
            |s: &str| (!s.is_empty()).then(|| format!("{{\"status\":\"{s}\",\"verified\":false}}"));
        let e = AuditEvent {
            seq,
            card_id: Some(CardId(seq)),
            at,
            actor: actor.into(),
            action: action.into(),
            reason: None,
            before: snapshot(before),
            after: snapshot(after),
        };
        let mut bytes = Vec::new();
        event::encode_into(&mut bytes, &e).expect("encodes");
        tally.fold(&event::decode_borrowed(&bytes).expect("decodes"), now);
    }

    #[test]
    fn today_and_this_week_start_at_the_callers_midnight_and_monday() {
        // Wednesday 2026-12-09 10:30 UTC; the caller is at UTC+5:30 (16:00 there).
        let now = Utc
            .with_ymd_and_hms(2026, 12, 9, 10, 30, 0)
            .single()
            .expect("a time");
        let mut t = Tally::default();
        let at = |d: u32, h: u32, m: u32| {
            Utc.with_ymd_and_hms(2026, 12, d, h, m, 0)
                .single()
                .expect("a time")
        };
        // 18:29 UTC on the 8th is 23:59 the 8th there (yesterday); 18:30 is midnight (today).
        fold(
            &mut t,
            now,
            (
                1,
                at(8, 18, 29),
                "ann",
                "card.approved",
                "needs_review",
                "approved",
            ),
        );
        fold(
            &mut t,
            now,
            (
                2,
                at(8, 18, 30),
                "ann",
                "card.rejected",
                "needs_review",
                "rejected",
            ),
        );
        // Monday the 7th 00:00 there is 18:30 UTC on Sunday the 6th.
        fold(
            &mut t,
            now,
            (
                3,
                at(6, 18, 29),
                "bo",
                "card.approved",
                "needs_review",
                "approved",
            ),
        );
        fold(
            &mut t,
            now,
            (
                4,
                at(6, 18, 30),
                "bo",
                "card.approved",
                "needs_review",
                "approved",
            ),
        );
        // Older than the window: not counted anywhere.
        fold(
            &mut t,
            now,
            (
                5,
                at(1, 10, 0),
                "cy",
                "card.approved",
                "needs_review",
                "approved",
            ),
        );
        // Verification: a first result auto-verified, one for review, a re-verification.
        fold(
            &mut t,
            now,
            (
                6,
                at(9, 9, 0),
                "pipeline",
                "card.verified_by_provider",
                "verifying",
                "auto_verified",
            ),
        );
        fold(
            &mut t,
            now,
            (
                7,
                at(9, 9, 5),
                "pipeline",
                "card.verification_failed",
                "verifying",
                "needs_review",
            ),
        );
        fold(
            &mut t,
            now,
            (
                8,
                at(9, 9, 10),
                "retry",
                "card.verified_by_provider",
                "needs_review",
                "auto_verified",
            ),
        );
        fold(
            &mut t,
            now,
            (9, at(9, 10, 29), "inbox", "card.created", "", "received"),
        );
        assert_eq!(t.seq, Some(9));

        let a = t.activity(now, 5 * 3600 + 1800);
        let who: Vec<(&str, u64, u64)> = a
            .reviewers
            .iter()
            .map(|r| (r.reviewer.as_str(), r.today, r.week))
            .collect();
        assert_eq!(who, [("ann", 1, 2), ("bo", 0, 1)]);
        assert_eq!(
            (a.verified, a.auto_verified),
            (2, 1),
            "re-verifications do not count"
        );
        // Hours run to 16:00-16:59 there, i.e. from 10:30 UTC; 10:29 is the hour before.
        assert_eq!(a.cards_per_hour[Stats::HOURS - 2], 1);
        assert_eq!(
            a.decisions_per_hour.iter().sum::<u64>(),
            2,
            "ann's two are within 24 hours"
        );
        assert_eq!(a.decisions_per_hour.len(), Stats::HOURS);

        // The same log in UTC: both of ann's fall on the 8th, and the week starts on the 7th.
        let utc = t.activity(now, 0);
        let who: Vec<(&str, u64, u64)> = utc
            .reviewers
            .iter()
            .map(|r| (r.reviewer.as_str(), r.today, r.week))
            .collect();
        assert_eq!(who, [("ann", 0, 2)]);

        // A week later everything has left the window.
        let later = now + Duration::days(8);
        t.prune(later);
        assert_eq!(
            t.activity(later, 0),
            Activity {
                decisions_per_hour: vec![0; Stats::HOURS],
                cards_per_hour: vec![0; Stats::HOURS],
                ..Activity::default()
            }
        );
    }
}
