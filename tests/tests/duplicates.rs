//! Reused documents with the real daemon: the same folder twice for one user makes no second
//! card (`rejected/` with `duplicate_submission` naming the card), the same file for another
//! user is a flagged card (a `duplicate_document` finding naming the other card, listed by
//! `dup:yes`), `[inbox] duplicates = "reject"` refuses it (`duplicate_document`), and over HTTP
//! the same upload again is the contract's 409 unless its idempotency key matches, a reused
//! file under "reject" a 400 keyed by its part.

use std::time::Duration;

use idreview_protocol::{CardId, DUPLICATE_DOCUMENT, Role};
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::http::{HttpDaemon, Multipart, good_upload, json};
use idreview_tests::{Daemon, card_of, newest, rejected_rule, wait_for};
use reqwest::Method;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);

/// A passport submission of `user` whose front is `front`.
fn submit(daemon: &Daemon, folder: &str, user: &str, front: Vec<u8>) {
    write_submission(
        &daemon.inbox(),
        folder,
        Some(&manifest(user, "passport")),
        &[("front.jpg", front)],
    );
}

#[tokio::test]
async fn the_same_folder_twice_for_one_user_is_rejected_naming_the_card() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path()).await;
    let client = daemon.client().await;
    submit(&daemon, "dora-1", "dora", jpeg(1000, 700));
    let card = wait_for(WAIT, "dora's card", || card_of(&client, "dora")).await;

    submit(&daemon, "dora-2", "dora", jpeg(1000, 700));
    let rule = wait_for(WAIT, "the second folder rejected", || async {
        rejected_rule(&daemon.rejected(), "dora-2")
    })
    .await;
    assert_eq!(rule, "duplicate_submission");
    let reason =
        std::fs::read_to_string(daemon.rejected().join("dora-2/reason.json")).expect("reason");
    assert!(
        reason.contains(&format!("card {}", card.id)),
        "the reason names the card: {reason}"
    );
    assert_eq!(
        newest(&client, "user:dora", 10).await,
        [card.id],
        "no second card"
    );
}

#[tokio::test]
async fn the_same_file_for_another_user_is_a_flagged_card_listed_by_dup_yes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path()).await;
    let client = daemon.client().await;
    submit(&daemon, "erin", "erin", jpeg(1000, 700));
    let first = wait_for(WAIT, "erin's card", || card_of(&client, "erin")).await;
    submit(&daemon, "finn", "finn", jpeg(1000, 700));
    submit(&daemon, "gina", "gina", jpeg(1100, 700));
    let flagged = wait_for(WAIT, "finn's card", || card_of(&client, "finn")).await;
    let other = wait_for(WAIT, "gina's card", || card_of(&client, "gina")).await;

    let finding = flagged
        .findings
        .iter()
        .find(|f| f.rule == DUPLICATE_DOCUMENT)
        .unwrap_or_else(|| panic!("a duplicate finding: {:?}", flagged.findings));
    assert!(
        finding.message.contains(&format!("card {}", first.id))
            && finding.message.contains("front.jpg"),
        "{}",
        finding.message
    );
    assert!(!first.is_duplicate(), "the first card is not the reuse");
    assert!(!other.is_duplicate(), "another image is no reuse");
    assert_eq!(newest(&client, "dup:yes", 10).await, [flagged.id]);
    let clean = newest(&client, "dup:no", 10).await;
    assert!(clean.contains(&first.id) && clean.contains(&other.id) && !clean.contains(&flagged.id));
}

#[tokio::test]
async fn under_the_reject_policy_a_reused_file_is_rejected_as_duplicate_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start_with(dir.path(), &[("IDREVIEW__INBOX__DUPLICATES", "reject")]).await;
    let client = daemon.client().await;
    submit(&daemon, "hugo", "hugo", jpeg(1000, 700));
    let first = wait_for(WAIT, "hugo's card", || card_of(&client, "hugo")).await;
    submit(&daemon, "ines", "ines", jpeg(1000, 700));
    let rule = wait_for(WAIT, "ines's folder rejected", || async {
        rejected_rule(&daemon.rejected(), "ines")
    })
    .await;
    assert_eq!(rule, DUPLICATE_DOCUMENT);
    let reason =
        std::fs::read_to_string(daemon.rejected().join("ines/reason.json")).expect("reason");
    assert!(reason.contains(&format!("card {}", first.id)), "{reason}");
    assert!(card_of(&client, "ines").await.is_none(), "no card");
}

async fn upload(
    http: &HttpDaemon,
    token: &str,
    key: Option<&str>,
    form: &Multipart,
) -> (u16, Value) {
    let mut request = http
        .request(Method::POST, "documents/upload/", Some(token))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={}", Multipart::BOUNDARY),
        );
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    json(request.body(form.body()).send().await).await
}

#[tokio::test]
async fn over_http_the_same_upload_is_a_409_unless_its_key_matches_and_reuse_is_flagged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let http = HttpDaemon::start(dir.path(), &[]).await;
    let jo = http.token("jo-app", Role::Submitter, Some("jo")).await;
    let kim = http.token("kim-app", Role::Submitter, Some("kim")).await;

    let (status, first) = upload(&http, &jo, Some("k-1"), &good_upload()).await;
    assert_eq!(status, 201, "{first}");
    let (status, replay) = upload(&http, &jo, Some("k-1"), &good_upload()).await;
    assert_eq!(
        (status, &replay["id"]),
        (201, &first["id"]),
        "the key matches"
    );
    let (status, again) = upload(&http, &jo, None, &good_upload()).await;
    assert_eq!(status, 409, "{again}");
    let detail = again["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("already sent these files")
            && detail.contains(&format!("card {}", first["id"])),
        "{detail}"
    );

    let (status, reused) = upload(&http, &kim, None, &good_upload()).await;
    assert_eq!(status, 201, "flagged, not refused: {reused}");
    let client = http.daemon.client().await;
    let card = idreview_tests::card(&client, CardId(reused["id"].as_u64().expect("id"))).await;
    assert!(card.is_duplicate(), "{:?}", card.findings);
    assert_eq!(newest(&client, "dup:yes", 10).await, [card.id]);
}

#[tokio::test]
async fn over_http_under_the_reject_policy_a_reused_file_is_a_400_keyed_by_its_part() {
    let dir = tempfile::tempdir().expect("tempdir");
    let http = HttpDaemon::start(dir.path(), &[("IDREVIEW__INBOX__DUPLICATES", "reject")]).await;
    let jo = http.token("jo-app", Role::Submitter, Some("jo")).await;
    let kim = http.token("kim-app", Role::Submitter, Some("kim")).await;
    let (status, first) = upload(&http, &jo, None, &good_upload()).await;
    assert_eq!(status, 201, "{first}");
    let (status, refused) = upload(&http, &kim, None, &good_upload()).await;
    assert_eq!(status, 400, "{refused}");
    let message = refused["front"][0].as_str().unwrap_or_default();
    assert!(message.contains("already submitted"), "{refused}");
    assert!(
        !message.contains(&first["id"].to_string()),
        "the other user's card is not named to the uploader: {message}"
    );
    let (status, _) = http.get("id-cards/detail/", &kim).await;
    assert_eq!(status, 404, "nothing was stored");
}
