//! The dashboard's numbers and named views through the real service: decisions counted per
//! reviewer and hour as they happen, views kept per reviewer, team views that only admins
//! publish, and filters the query language refuses.

use idreview_protocol::{
    CardFilter, CardRef, DecideRequest, Decision, IdReview, ListQuery, Role, RpcError, SortKey,
    Stats, StatsQuery, Status, ViewSpec,
};
use tarpc::context;

use super::{World, any};

/// The decidable cards (in review or auto-verified), oldest first.
fn decidable(w: &World) -> Vec<CardRef> {
    let query = ListQuery {
        filter: CardFilter::parse("status:needs_review,auto_verified").expect("parses"),
        descending: false,
        limit: 1000,
        ..ListQuery::default()
    };
    w.shared
        .store
        .list(&query, "x")
        .cards
        .iter()
        .map(|c| any(c.id))
        .collect()
}

async fn decide(w: &World, who: &str, cards: &[CardRef], decision: Decision) {
    let request = DecideRequest {
        cards: cards.to_vec(),
        decision,
        reason: "checked".into(),
        override_doubts: true,
    };
    let results = w
        .as_(who, Role::Reviewer)
        .decide(context::current(), request)
        .await;
    assert!(results.iter().all(|r| r.result.is_ok()), "{results:?}");
}

async fn stats(w: &World) -> Stats {
    w.as_("carol", Role::Reviewer)
        .stats(
            context::current(),
            StatsQuery {
                utc_offset_secs: 3600,
            },
        )
        .await
        .expect("stats")
}

fn count(stats: &Stats, status: Status) -> u64 {
    stats
        .by_status
        .iter()
        .find(|(s, _)| *s == status)
        .map_or(0, |(_, n)| *n)
}

fn reviewers(stats: &Stats) -> Vec<(&str, u64, u64)> {
    stats
        .reviewers
        .iter()
        .map(|r| (r.reviewer.as_str(), r.today, r.week))
        .collect()
}

#[tokio::test]
async fn stats_count_each_reviewers_decisions_as_they_are_made() {
    let w = World::new(900).await;
    crate::cli::fill::fill(w.store(), 26, "more")
        .await
        .expect("fills");
    let before = stats(&w).await;
    assert_eq!(before.cards, 30);
    assert_eq!(before.by_type.iter().map(|(_, n)| n).sum::<u64>(), 30);
    assert_eq!(before.queue, count(&before, Status::NeedsReview));
    assert!(before.queue > 0 && before.queue_oldest.is_some());
    assert_eq!(before.confidence.len(), Stats::BUCKETS);
    assert_eq!(before.confidence.iter().sum::<u64>() + before.unrated, 30);
    assert!(before.reviewers.is_empty(), "imports are no decisions");
    assert_eq!(before.decisions_per_hour, vec![0; Stats::HOURS]);

    let cards = decidable(&w);
    assert!(cards.len() >= 5, "{} decidable", cards.len());
    decide(&w, "alice", &cards[..3], Decision::Approve).await;
    decide(&w, "bob", &cards[3..4], Decision::Reject).await;
    let after = stats(&w).await;
    assert_eq!(reviewers(&after), [("alice", 3, 3), ("bob", 1, 1)]);
    assert_eq!(after.decisions_per_hour[Stats::HOURS - 1], 4, "this hour");
    assert_eq!(after.decisions_per_hour.iter().sum::<u64>(), 4);
    assert_eq!(
        count(&after, Status::Approved) + count(&after, Status::Rejected),
        count(&before, Status::Approved) + count(&before, Status::Rejected) + 4
    );

    // The next call reads only what was written since, and adds it.
    decide(&w, "bob", &cards[4..5], Decision::Approve).await;
    let again = stats(&w).await;
    assert_eq!(reviewers(&again), [("alice", 3, 3), ("bob", 2, 2)]);
    assert_eq!(again.decisions_per_hour.iter().sum::<u64>(), 5);

    let err = w
        .as_("sam", Role::Submitter)
        .stats(context::current(), StatsQuery::default())
        .await
        .expect_err("submitters see no numbers");
    assert!(matches!(err, RpcError::Forbidden(_)), "{err}");
}

fn view(name: &str, filter: &str, team: bool) -> ViewSpec {
    ViewSpec {
        name: name.into(),
        filter: filter.into(),
        sort: SortKey::Confidence,
        descending: false,
        team,
    }
}

#[tokio::test]
async fn views_are_kept_per_reviewer_and_team_views_only_admins_publish() {
    let w = World::new(900).await;
    let ctx = context::current;
    let (alice, bob) = (w.as_("alice", Role::Reviewer), w.as_("bob", Role::Reviewer));
    let saved = alice
        .clone()
        .save_view(
            ctx(),
            view("passports", "type:passport status:needs_review", false),
        )
        .await
        .expect("saves");
    assert_eq!((saved.saved_by.as_str(), saved.team), ("alice", false));
    bob.clone()
        .save_view(ctx(), view("germans", "country:DE", false))
        .await
        .expect("saves");
    let names = |views: Vec<idreview_protocol::NamedView>| {
        views
            .into_iter()
            .map(|v| (v.name, v.team))
            .collect::<Vec<_>>()
    };
    let mine = alice.clone().list_views(ctx()).await.expect("lists");
    assert_eq!(mine[0].filter, "type:passport status:needs_review");
    assert_eq!(names(mine), [("passports".to_string(), false)]);

    // Team views: an admin publishes, reviewers see them and may not change them.
    let root = w.as_("root", Role::Admin);
    root.clone()
        .save_view(ctx(), view("queue", "status:needs_review", true))
        .await
        .expect("admins publish");
    let err = bob
        .clone()
        .save_view(ctx(), view("queue", "type:passport", true))
        .await
        .expect_err("reviewers do not publish");
    assert!(
        matches!(&err, RpcError::Forbidden(m) if m.contains("read-only")),
        "{err}"
    );
    let err = bob
        .clone()
        .delete_view(ctx(), "queue".into(), true)
        .await
        .expect_err("nor delete");
    assert!(matches!(err, RpcError::Forbidden(_)), "{err}");
    assert_eq!(
        names(bob.clone().list_views(ctx()).await.expect("lists")),
        [("germans".to_string(), false), ("queue".to_string(), true)]
    );

    // A filter the query language does not read is refused, naming the key meant.
    let err = alice
        .clone()
        .save_view(ctx(), view("typo", "stauts:needs_review", false))
        .await
        .expect_err("unknown key");
    assert!(
        matches!(&err, RpcError::Invalid(m) if m.contains("did you mean status:?")),
        "{err}"
    );

    // Deleting: one's own only; someone else's name is simply not among one's views.
    let err = bob
        .clone()
        .delete_view(ctx(), "passports".into(), false)
        .await
        .expect_err("not his");
    assert!(matches!(err, RpcError::Invalid(_)), "{err}");
    alice
        .clone()
        .delete_view(ctx(), "passports".into(), false)
        .await
        .expect("deletes");
    assert_eq!(
        names(alice.clone().list_views(ctx()).await.expect("lists")),
        [("queue".to_string(), true)]
    );
    root.delete_view(ctx(), "queue".into(), true)
        .await
        .expect("admins delete team views");
    assert!(alice.list_views(ctx()).await.expect("lists").is_empty());

    let err = w
        .as_("sam", Role::Submitter)
        .list_views(ctx())
        .await
        .expect_err("no views");
    assert!(matches!(err, RpcError::Forbidden(_)), "{err}");
}
