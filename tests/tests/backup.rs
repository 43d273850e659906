//! Backup and restore end to end: `idreviewd export` takes a consistent snapshot over the socket
//! of a daemon that keeps ingesting, `idreviewd import` restores it into a fresh data dir (and
//! refuses one that holds data), and a daemon started there serves the same cards, audit log and
//! tokens.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use idreview_protocol::{
    AuditEvent, Card, CardId, DecideRequest, Decision, ExportHeader, IdReviewClient, Role,
    TokenInfo, TokenSpec,
};
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::{Daemon, any_version, binary, card_of, wait_for};
use serde_json::Value;
use tarpc::context::current as ctx;

const MANUAL: (&str, &str) = ("IDREVIEW__VERIFICATION__PROVIDER", "manual");

fn idreviewd(data: &Path, args: &[&str]) -> Output {
    Command::new(binary("idreviewd"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("run idreviewd")
}

fn submit(inbox: &Path, user: &str) {
    write_submission(
        inbox,
        user,
        Some(&manifest(user, "passport")),
        &[("front.jpg", jpeg(800, 600))],
    );
}

/// What an export file holds, by kind.
#[derive(Default)]
struct Export {
    header: Option<ExportHeader>,
    cards: BTreeMap<u64, Card>,
    tokens: Vec<TokenInfo>,
    audit: Vec<AuditEvent>,
}

fn read_export(file: &Path) -> Export {
    let text = std::fs::read_to_string(file).expect("export file");
    let mut export = Export::default();
    for (n, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line).expect("a JSON line");
        let kind = v["kind"].as_str().expect("a kind tag").to_string();
        let parse = |v: Value| {
            let mut v = v;
            v.as_object_mut().expect("object").remove("kind");
            v
        };
        match kind.as_str() {
            "header" => {
                assert_eq!(n, 0, "the header comes first");
                export.header = Some(serde_json::from_value(parse(v)).expect("header"));
            }
            "card" => {
                let card: Card = serde_json::from_value(parse(v)).expect("card");
                export.cards.insert(card.id.0, card);
            }
            "token" => {
                assert!(
                    v.get("secret").is_none()
                        && v["secret_sha256"].as_str().is_some_and(|h| h.len() == 64)
                );
                export
                    .tokens
                    .push(serde_json::from_value(v["info"].clone()).expect("token"));
            }
            "audit" => export
                .audit
                .push(serde_json::from_value(parse(v)).expect("event")),
            other => panic!("unknown kind {other}"),
        }
    }
    export
}

async fn all_audit(client: &IdReviewClient) -> Vec<AuditEvent> {
    client
        .audit_export(ctx(), 0, 10_000)
        .await
        .expect("call")
        .expect("audit")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_taken_while_ingesting_restores_to_the_same_cards_audit_log_and_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let live_dir = dir.path().join("live");
    let mut live = Daemon::start_with(&live_dir, &[MANUAL]).await;
    let client = live.client().await;
    let first: Vec<String> = (0..8).map(|i| format!("early-{i}")).collect();
    for user in &first {
        submit(&live.inbox(), user);
    }
    let mut cards = Vec::new();
    for user in &first {
        cards.push(wait_for(Duration::from_secs(30), user, || card_of(&client, user)).await);
    }
    for (decision, range, reason) in [
        (Decision::Approve, 0..3, "fine"),
        (Decision::Reject, 3..5, "blurry"),
    ] {
        let request = DecideRequest {
            cards: cards[range].iter().map(|c| any_version(c.id)).collect(),
            decision,
            reason: reason.into(),
            override_doubts: false,
        };
        let results = client.decide(ctx(), request).await.expect("decide");
        assert!(results.iter().all(|r| r.result.is_ok()), "{results:?}");
    }
    let spec = TokenSpec {
        name: "remote-rita".into(),
        role: Role::Reviewer,
        expires_days: Some(30),
        user_id: None,
        person: None,
    };
    let token = client
        .create_token(ctx(), spec)
        .await
        .expect("call")
        .expect("token");

    // Submissions keep arriving while the export runs.
    let inbox = live.inbox();
    let feeder = std::thread::spawn(move || {
        for i in 0..12 {
            submit(&inbox, &format!("late-{i}"));
            std::thread::sleep(Duration::from_millis(40));
        }
    });
    let file = dir.path().join("backup.jsonl");
    let out = idreviewd(
        &live_dir,
        &["export", "--out", file.to_str().expect("utf-8")],
    );
    assert!(
        out.status.success(),
        "export failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    feeder.join().expect("feeder");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).expect("file").permissions().mode();
    assert_eq!(mode & 0o077, 0, "the backup is private to its owner");

    let export = read_export(&file);
    let header = export.header.clone().expect("a header");
    assert_eq!(
        (header.cards, header.tokens, header.audit_events),
        (
            export.cards.len() as u64,
            export.tokens.len() as u64,
            export.audit.len() as u64
        )
    );
    assert!(export.cards.len() >= first.len());
    assert!(export.tokens.iter().any(|t| t.id == token.info.id));
    // The snapshot is internally consistent: the audit log runs up to its high-water mark, every
    // event's card is in it, every card has events, and each card is exactly the state its last
    // event left.
    let seqs: Vec<u64> = export.audit.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(seqs.last().copied(), Some(header.audit_high_seq));
    let mut with_events = BTreeSet::new();
    for e in &export.audit {
        if let Some(id) = e.card_id {
            assert!(
                export.cards.contains_key(&id.0),
                "event {} names card {id}, missing from the snapshot",
                e.seq
            );
            with_events.insert(id.0);
        }
    }
    assert_eq!(
        with_events,
        export.cards.keys().copied().collect::<BTreeSet<_>>()
    );
    for card in export.cards.values() {
        let last_state = export
            .audit
            .iter()
            .rev()
            .filter(|e| e.card_id == Some(card.id))
            .find_map(|e| {
                serde_json::from_str::<Value>(e.after.as_deref()?)
                    .ok()?
                    .get("version")?
                    .as_u64()
            })
            .expect("an event with the card's state");
        assert_eq!(
            last_state, card.version,
            "card {} is the state after its last exported event",
            card.id
        );
    }
    // The audit log is append-only: the exported events are the daemon's.
    let every = 12 + first.len();
    let names: Vec<String> = (0..12).map(|i| format!("late-{i}")).collect();
    for user in &names {
        wait_for(Duration::from_secs(30), user, || card_of(&client, user)).await;
    }
    let live_audit = all_audit(&client).await;
    assert_eq!(&live_audit[..export.audit.len()], &export.audit[..]);
    assert!(live.stop());
    eprintln!(
        "snapshot held {} of {every} cards and {} events",
        export.cards.len(),
        export.audit.len()
    );

    // Restore into a fresh data dir and serve it.
    let fresh_dir = dir.path().join("fresh");
    let out = idreviewd(&fresh_dir, &["import", file.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = idreviewd(&fresh_dir, &["import", file.to_str().expect("utf-8")]);
    assert!(!again.status.success());
    let why = String::from_utf8_lossy(&again.stderr);
    assert!(why.contains("empty data dir"), "{why}");
    let fresh = Daemon::start_with(&fresh_dir, &[MANUAL]).await;
    let restored = fresh.client().await;
    for card in export.cards.values() {
        let got = restored
            .get_card(ctx(), card.id)
            .await
            .expect("call")
            .expect("card");
        assert_eq!(&got, card);
    }
    let health = restored.health(ctx()).await.expect("health");
    assert_eq!(
        health.cards,
        export.cards.len() as u64,
        "nothing more, nothing less"
    );
    assert_eq!(all_audit(&restored).await, export.audit);
    let tokens = restored
        .list_tokens(ctx())
        .await
        .expect("call")
        .expect("tokens");
    assert_eq!(
        tokens.iter().map(|t| &t.id).collect::<Vec<_>>(),
        export.tokens.iter().map(|t| &t.id).collect::<Vec<_>>()
    );
    // The restored daemon keeps going: a new submission gets a new id, its events new seqs.
    submit(&fresh.inbox(), "after-restore");
    let new = wait_for(Duration::from_secs(30), "a card after the restore", || {
        card_of(&restored, "after-restore")
    })
    .await;
    assert!(new.id > CardId(header.last_card_id));
    let events = restored
        .audit_events(ctx(), new.id)
        .await
        .expect("call")
        .expect("events");
    assert!(events.iter().all(|e| e.seq > header.audit_high_seq));
}
