//! The card domain run on PostgreSQL and on sled, the same calls in the same order: every
//! answer and every card's audit trail must match (the backends differ in how, never in
//! what).

use std::sync::Arc;

use idreview_protocol::{
    CardId, CardRef, Decision, DocumentType, FieldCorrection, FileRole, fixtures,
};

use super::store;
use crate::card::{Approval, CardStore, Cards, NewCard};
use crate::config::Config;
use crate::pg::testdb::TestDb;
use crate::store::Store;
use crate::verify::Verification;

/// A submission of `user` with one front image whose SHA-256 is `sha`.
fn submission(id: CardId, user: &str, sha: &str) -> NewCard {
    let mut front = fixtures::file(FileRole::Front, "front.jpg", &format!("users/{user}/{id}"));
    front.sha256 = sha.into();
    NewCard {
        id,
        user_id: user.into(),
        document_type: DocumentType::NationalId,
        country: Some("DE".into()),
        files: vec![front],
        source: format!("inbox/{user}-{id}"),
    }
}

fn latest(card: CardId) -> CardRef {
    CardRef {
        id: card,
        expected_version: None,
    }
}

fn fix(name: &str, value: &str) -> FieldCorrection {
    FieldCorrection {
        name: name.into(),
        value: value.into(),
    }
}

/// What a step answered, without times.
fn said(result: Result<idreview_protocol::Card, crate::card::CardError>) -> String {
    match result {
        Ok(c) => {
            let rules: Vec<&str> = c.findings.iter().map(|f| f.rule.as_str()).collect();
            format!("{} v{} {:?} {:?}", c.id, c.version, c.status, rules)
        }
        Err(e) => format!("refused: {e}"),
    }
}

/// Two users' cards through the pipeline, a reused document, corrections, a decision, a
/// deletion and an erasure; answers what each step said.
async fn script<S: CardStore>(store: &S) -> Vec<String> {
    let cards = Cards::new(store.clone(), Arc::new(Config::default()));
    let sha = "ab".repeat(32);
    let down = Verification::failed("local", "the reader is down".into());
    let mut said_ = Vec::new();
    let mut ids = Vec::new();
    for user in ["ann", "bob"] {
        let id = store.next_id().await.expect("id");
        ids.push(id);
        let card = cards
            .create("pipeline", submission(id, user, &sha))
            .await
            .expect("create");
        let card = cards.start_upload("pipeline", &card).await.expect("upload");
        let card = cards
            .stored("pipeline", &card, &[Some("e1".into())])
            .await
            .expect("stored");
        said_.push(said(cards.verified("pipeline", &card, &down).await));
    }
    let (ann, bob) = (ids[0], ids[1]);
    let again = store.next_id().await.expect("id");
    said_.push(said(
        cards
            .create("pipeline", submission(again, "ann", &sha))
            .await,
    ));
    said_.push(said(cards.claim("rita", latest(ann)).await));
    said_.push(said(cards.claim("sam", latest(ann)).await.map_err(|e| {
        // The holder's lease time differs from run to run.
        crate::card::CardError::Invalid(e.to_string().split(" until ").next().unwrap_or("").into())
    })));
    let number = [fix("document_number", "X1234567"), fix("country", "DE")];
    said_.push(said(cards.correct("rita", latest(ann), &number).await));
    said_.push(said(cards.correct("sam", latest(bob), &number).await));
    let approval = Approval {
        decision: Decision::Approve,
        reason: "checked by hand",
        override_doubts: true,
        person: "rita",
    };
    let decided = cards
        .decide("rita", &[latest(ann), latest(bob)], approval)
        .await;
    said_.push(format!("{decided:?}"));
    said_.push(said(
        cards
            .delete("admin", latest(bob), "a reused document")
            .await,
    ));
    let erased = cards
        .erase("admin", "ann", "the user asked", false)
        .await
        .expect("erase");
    said_.push(format!(
        "{:?} files {} scrubbed {}",
        erased.cards, erased.files_queued, erased.events_scrubbed
    ));
    said_.push(format!("{:?}", store.get(ann).await.expect("get")));
    said_
}

#[tokio::test]
async fn the_card_domain_answers_the_same_on_postgres_as_on_sled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sled = Store::open(dir.path(), 0.8).expect("sled");
    let db = TestDb::new().await;
    let pg = store(&db).await;
    let on_sled = script(&sled).await;
    let on_pg = script(&pg).await;
    assert_eq!(on_pg, on_sled);
    assert!(on_sled[1].contains("duplicate_document"), "{on_sled:?}");
    assert!(on_sled[2].starts_with("refused"), "{on_sled:?}");
    for id in 1..=3 {
        let trail = |events: Vec<idreview_protocol::AuditEvent>| -> Vec<String> {
            events
                .into_iter()
                .map(|e| format!("{} {} {:?} {}", e.seq, e.actor, e.reason, e.action))
                .filter(|e| !e.contains("card.claimed"))
                .collect()
        };
        let sled_trail = trail(sled.audit_for(CardId(id)).expect("sled audit"));
        let pg_trail = trail(pg.audit_for(CardId(id)).await.expect("pg audit"));
        assert_eq!(pg_trail, sled_trail, "card {id}");
    }
    assert_eq!(
        pg.cleanup_len().await.expect("cleanup"),
        sled.cleanup_len() as u64
    );
    let tasks = |jobs: Vec<crate::store::outbox::Job>| -> Vec<_> {
        jobs.into_iter().map(|j| (j.card, j.task)).collect()
    };
    assert_eq!(
        tasks(pg.jobs().await.expect("jobs")),
        tasks(sled.jobs().expect("jobs"))
    );
}
