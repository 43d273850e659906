//! The `idanalyzer` provider against a local HTTP server answering like the ID Analyzer API v2
//! (JSON fixtures from the documented shapes): each answer ends in the right card state, and a
//! failure leaves the card in review with the reason and a queued re-verification.

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{API_KEY, BACK, FRONT, env, fixture};
use idreview_daemon::store::outbox::Task;
use idreview_protocol::{Card, FieldSource, Severity, Side, Status};
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, ResponseTemplate};

fn scan() -> wiremock::MockBuilder {
    Mock::given(method("POST")).and(path("/scan"))
}

fn reply(status: u16, fixture_name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(fixture(fixture_name))
}

/// The card is in review, says why, and a re-verification is queued for it.
fn assert_fallback(env: &common::Env, card: &Card, reason: &str) {
    assert_eq!(card.status, Status::NeedsReview);
    let verdict = card.provider.as_ref().expect("verdict");
    let failure = verdict
        .failure
        .as_deref()
        .expect("failure shown to reviewers");
    assert!(
        failure.contains(reason),
        "{failure:?} should mention {reason:?}"
    );
    assert!(card.fields.is_empty());
    let jobs = env.store.jobs().expect("outbox");
    assert!(
        jobs.iter()
            .any(|j| j.card == card.id && j.task == Task::Reverify),
        "re-verification queued: {jobs:?}"
    );
}

#[tokio::test]
async fn clean_accept_auto_verifies_with_every_candidate() {
    let env = env(|_| {}).await;
    let card = env.card("erika").await;
    scan()
        .and(header("X-Api-Key", API_KEY))
        .and(body_partial_json(json!({
            "document": BASE64.encode(FRONT),
            "documentBack": BASE64.encode(BACK),
            "profile": "security_medium",
            "customData": card.id.to_string(),
            "verifyAge": "18-120",
        })))
        .respond_with(reply(200, "accept"))
        .expect(1)
        .mount(&env.server)
        .await;
    let card = env.verify(&card).await;

    assert_eq!(card.status, Status::AutoVerified, "{:?}", card.findings);
    assert!(card.findings.is_empty(), "{:?}", card.findings);
    let verdict = card.provider.as_ref().expect("verdict");
    assert_eq!(verdict.decision, "accept");
    assert_eq!(verdict.transaction_id.as_deref(), Some("tx-accept-1"));
    assert_eq!(verdict.failure, None);
    let value = |n: &str| card.field(n).map(|f| f.value.as_str());
    assert_eq!(value("first_name"), Some("ERIKA"));
    assert_eq!(value("last_name"), Some("MUSTERMANN"));
    assert_eq!(value("birth_date"), Some("1990-05-17"), "ISO dates");
    assert_eq!(value("expiry_date"), Some("2035-05-20"));
    assert_eq!(value("issue_date"), Some("2025-05-21"));
    assert_eq!(value("nationality"), Some("DE"));
    assert_eq!(value("address1"), Some("HEIDESTRASSE 17"));
    assert_eq!(
        card.country.as_deref(),
        Some("DE"),
        "country from the document"
    );
    assert_eq!(card.field("issue_date").map(|f| f.side), Some(Side::Back));
    assert_eq!(card.confidence(), Some(0.88));
    assert!(env.store.jobs().expect("outbox").is_empty());
}

#[tokio::test]
async fn several_candidates_are_kept_best_first() {
    let env = env(|_| {}).await;
    let card = env.card("erika").await;
    scan()
        .respond_with(reply(200, "accept"))
        .mount(&env.server)
        .await;
    let card = env.verify(&card).await;

    let number = card.field("document_number").expect("document number");
    assert_eq!(number.value, "C01X00T47");
    assert_eq!(number.source, FieldSource::Mrz);
    let values: Vec<(&str, f32)> = number
        .candidates
        .iter()
        .map(|c| (c.value.as_str(), c.confidence))
        .collect();
    assert_eq!(values, vec![("C01X00T47", 0.99), ("CO1X00T47", 0.91)]);
    let bbox = number.candidates[1].bbox.expect("box");
    assert_eq!(
        (bbox.x, bbox.y, bbox.width, bbox.height),
        (500, 100, 200, 30)
    );
    // The MRZ read beats the visual one although the API listed it second.
    let last = card.field("last_name").expect("last name");
    assert_eq!((last.source, last.confidence), (FieldSource::Mrz, 0.99));
    assert_eq!(last.candidates.len(), 2);
    let first = card.field("first_name").expect("first name");
    let corners = first.candidates[1].bbox.expect("box from corner points");
    assert_eq!((corners.x, corners.width, corners.height), (300, 180, 30));
}

#[tokio::test]
async fn low_confidence_fields_keep_the_card_in_review_and_are_indexed() {
    let env = env(|_| {}).await;
    let card = env.card("low").await;
    scan()
        .respond_with(reply(200, "low_confidence"))
        .mount(&env.server)
        .await;
    let card = env.verify(&card).await;

    assert_eq!(
        card.status,
        Status::NeedsReview,
        "accept, but unsure fields"
    );
    assert_eq!(card.confidence(), Some(0.41));
    assert_eq!(
        card.low_confidence_fields(0.8),
        vec!["birth_date", "first_name"]
    );
    let page = env.store.low_confidence(0, 10);
    assert_eq!(page.total, 1);
    assert_eq!(page.cards[0].summary.id, card.id);
    assert_eq!(page.cards[0].fields, vec!["birth_date", "first_name"]);
    assert_eq!(page.cards[0].summary.low_confidence, 2);
}

#[tokio::test]
async fn expired_document_is_flagged_for_review() {
    let env = env(|_| {}).await;
    let card = env.card("john").await;
    scan()
        .respond_with(reply(200, "expired"))
        .mount(&env.server)
        .await;
    let card = env.verify(&card).await;

    assert_eq!(card.status, Status::NeedsReview);
    let rules: Vec<&str> = card.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, vec!["document_expired"]);
    let warning = &card.provider.as_ref().expect("verdict").warnings[0];
    assert_eq!(warning.code, "DOCUMENT_EXPIRED");
    assert_eq!(warning.severity, Severity::Error);
    assert_eq!(
        card.field("expiry_date").map(|f| f.value.as_str()),
        Some("2020-03-03")
    );
}

#[tokio::test]
async fn reject_decision_goes_to_a_reviewer_with_the_warnings() {
    let env = env(|_| {}).await;
    let card = env.card("fake").await;
    scan()
        .respond_with(reply(200, "reject"))
        .mount(&env.server)
        .await;
    let card = env.verify(&card).await;

    assert_eq!(
        card.status,
        Status::NeedsReview,
        "a person takes the final decision"
    );
    let verdict = card.provider.as_ref().expect("verdict");
    assert_eq!(verdict.decision, "reject");
    let codes: Vec<(&str, Severity)> = verdict
        .warnings
        .iter()
        .map(|w| (w.code.as_str(), w.severity))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("FAKE_ID", Severity::Error),
            ("IMAGE_EDITED", Severity::Warning)
        ]
    );
    assert!(
        env.store.jobs().expect("outbox").is_empty(),
        "an answer, not a failure"
    );
}

#[tokio::test]
async fn refused_calls_are_not_retried_at_once_but_queued() {
    for (status, name, code) in [
        (401, "error_401", "ERROR_UNAUTHORIZED"),
        (403, "error_403", "ERROR_FORBIDDEN"),
    ] {
        let env = env(|_| {}).await;
        let card = env.card("u").await;
        scan()
            .respond_with(reply(status, name))
            .mount(&env.server)
            .await;
        let card = env.verify(&card).await;
        assert_fallback(&env, &card, code);
        assert_eq!(
            env.calls().await,
            1,
            "HTTP {status} is not tried again at once"
        );
    }
}

#[tokio::test]
async fn rate_limit_is_retried_within_the_call() {
    let env = env(|_| {}).await;
    let card = env.card("erika").await;
    scan()
        .respond_with(reply(429, "error_429"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&env.server)
        .await;
    scan()
        .respond_with(reply(200, "accept"))
        .mount(&env.server)
        .await;
    let card = env.verify(&card).await;
    assert_eq!(card.status, Status::AutoVerified);
    assert_eq!(env.calls().await, 2);
}

#[tokio::test]
async fn server_errors_exhaust_the_tries_then_fall_back() {
    let env = env(|v| v.idanalyzer.attempts = 3).await;
    let card = env.card("u").await;
    scan()
        .respond_with(reply(500, "error_500"))
        .mount(&env.server)
        .await;
    let card = env.verify(&card).await;
    assert_fallback(&env, &card, "ERROR_INTERNAL");
    assert_eq!(env.calls().await, 3);
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let env = env(|v| v.idanalyzer.attempts = 1).await;
    let card = env.card("u").await;
    scan()
        .respond_with(reply(200, "accept").set_delay(Duration::from_millis(2500)))
        .mount(&env.server)
        .await;
    let card = env.verify(&card).await;
    assert_fallback(&env, &card, "no answer within");
}

#[tokio::test]
async fn malformed_json_falls_back() {
    let env = env(|_| {}).await;
    let card = env.card("u").await;
    scan()
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"success\": tru"))
        .mount(&env.server)
        .await;
    let card = env.verify(&card).await;
    assert_fallback(&env, &card, "not the API's JSON");
    assert_eq!(env.calls().await, 1, "garbage is not retried at once");
}

#[tokio::test]
async fn an_oversized_answer_is_refused() {
    let env = env(|v| v.idanalyzer.max_response_bytes = 4096).await;
    let card = env.card("u").await;
    let huge = json!({"success": true, "padding": "x".repeat(10_000)});
    scan()
        .respond_with(ResponseTemplate::new(200).set_body_json(huge))
        .mount(&env.server)
        .await;
    let card = env.verify(&card).await;
    assert_fallback(&env, &card, "larger than 4096 bytes");
}

#[tokio::test]
async fn a_numeric_error_code_is_understood() {
    let env = env(|_| {}).await;
    let card = env.card("u").await;
    scan()
        .respond_with(reply(400, "error_numeric"))
        .mount(&env.server)
        .await;
    let card = env.verify(&card).await;
    assert_fallback(&env, &card, "HTTP 400, 8");
    assert!(
        card.provider
            .and_then(|p| p.failure)
            .is_some_and(|f| f.contains("could not be read"))
    );
}
