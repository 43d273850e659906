//! The seed's HTTP API, admin side, against the real daemon over real HTTP on 65 synthetic
//! cards (`idreviewd fill`): the list's pagination, filters, search and ordering, one card, the
//! low-confidence queue, and the bulk decision with its limits and our stricter rules.

use idreview_protocol::Role;
use idreview_tests::fill;
use idreview_tests::http::HttpDaemon;
use reqwest::Method;
use serde_json::{Value, json};

/// Every card of every page of `path` (following `next`), and the count the first page gave.
async fn all_pages(http: &HttpDaemon, path: &str, token: &str) -> (u64, Vec<Value>) {
    let (status, mut page) = http.get(path, token).await;
    assert_eq!(status, 200, "{path}: {page}");
    let count = page["count"].as_u64().expect("count");
    assert!(page["previous"].is_null(), "page 1 has no previous: {page}");
    let mut cards = Vec::new();
    loop {
        let results = page["results"].as_array().expect("results").clone();
        assert!(results.len() <= 20, "20 per page");
        cards.extend(results);
        let Some(next) = page["next"].as_str().map(str::to_string) else {
            break;
        };
        assert!(next.starts_with("http://"), "absolute next: {next}");
        let (status, body) = http.get(&next, token).await;
        assert_eq!(status, 200, "{next}: {body}");
        assert!(body["previous"].is_string(), "{body}");
        page = body;
    }
    assert_eq!(
        cards.len() as u64,
        count,
        "{path}: the pages hold count cards"
    );
    (count, cards)
}

#[tokio::test]
async fn the_admin_list_pages_filters_searches_and_orders() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path(), 65, "fill");
    let http = HttpDaemon::start(dir.path(), &[]).await;
    let admin = http.token("ada", Role::Admin, None).await;

    let (status, first) = http.get("admin/id-cards/", &admin).await;
    assert_eq!(status, 200);
    assert_eq!(first["count"], 65);
    assert_eq!(first["results"].as_array().map(Vec::len), Some(20));
    let next = first["next"].as_str().expect("next");
    assert!(next.contains("page=2"), "{next}");
    let (_, second) = http.get(next, &admin).await;
    assert_ne!(second["results"][0]["id"], first["results"][0]["id"]);
    let (status, body) = http.get("admin/id-cards/?page=5", &admin).await;
    assert_eq!((status, body), (404, json!({"detail": "Invalid page."})));

    // Newest first by default: created_at descending over the whole list.
    let (_, cards) = all_pages(&http, "admin/id-cards/", &admin).await;
    let created: Vec<&str> = cards
        .iter()
        .map(|c| c["created_at"].as_str().unwrap_or(""))
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Filters: each result matches, and together with the others they make the whole list.
    let mut by_status = 0;
    for status in [
        "uploaded",
        "processing",
        "needs_review",
        "confirmed",
        "completed",
        "failed",
    ] {
        let (n, cards) =
            all_pages(&http, &format!("admin/id-cards/?status={status}"), &admin).await;
        assert!(cards.iter().all(|c| c["status"] == status), "{status}");
        by_status += n;
    }
    assert_eq!(by_status, 65);
    let (n, cards) = all_pages(
        &http,
        "admin/id-cards/?country=de&document_type=passport",
        &admin,
    )
    .await;
    assert!(n > 0 && n < 65, "{n}");
    assert!(
        cards
            .iter()
            .all(|c| c["country"] == "DE" && c["document_type"] == "passport")
    );
    let (_, cards) = all_pages(
        &http,
        "admin/id-cards/?confidence_min=0.5&confidence_max=0.7",
        &admin,
    )
    .await;
    assert!(cards.iter().all(|c| {
        let x = c["confidence"].as_f64().unwrap_or(-1.0);
        (0.5..=0.7).contains(&x)
    }));
    let (n, _) = all_pages(&http, "admin/id-cards/?verified=false", &admin).await;
    let (m, _) = all_pages(&http, "admin/id-cards/?verified=true", &admin).await;
    assert_eq!(n + m, 65);
    let (n, _) = all_pages(
        &http,
        "admin/id-cards/?created_after=2000-01-01T00:00:00.000000Z",
        &admin,
    )
    .await;
    assert_eq!(n, 65);
    let (n, _) = all_pages(
        &http,
        "admin/id-cards/?created_before=2000-01-01T00:00:00.000000Z",
        &admin,
    )
    .await;
    assert_eq!(n, 0);
    for (param, value) in [
        ("status", "done"),
        ("document_type", "visa"),
        ("decision", "maybe"),
        ("confidence_min", "high"),
        ("confidence_max", "x"),
        ("created_after", "yesterday"),
    ] {
        let (status, body) = http
            .get(&format!("admin/id-cards/?{param}={value}"), &admin)
            .await;
        assert_eq!(status, 400, "{param}: {body}");
        assert!(
            body[param].as_array().is_some_and(|m| !m.is_empty()),
            "{param}: {body}"
        );
    }

    // Search: a case-insensitive substring per term, in the user and the card's names.
    let (n, cards) = all_pages(&http, "admin/id-cards/?search=ILL-0006", &admin).await;
    assert_eq!(n, 6, "fill-00060..65");
    assert!(cards.iter().all(|c| {
        c["user"]["username"]
            .as_str()
            .unwrap_or("")
            .contains("ill-0006")
    }));
    let (n, cards) = all_pages(&http, "admin/id-cards/?search=rikss%20fill-000", &admin).await;
    assert!(n > 0);
    assert!(
        cards.iter().all(|c| c["last_name"] == "ERIKSSON"),
        "both terms"
    );
    let (status, body) = http.get("admin/id-cards/?search=nobody-here", &admin).await;
    assert_eq!(
        (status, &body["count"], &body["results"]),
        (200, &json!(0), &json!([]))
    );

    // Ordering over the whole list: page 1 holds the first 20.
    for (ordering, key) in [
        ("confidence", "confidence"),
        ("-updated_at", "updated_at"),
        ("status", "status"),
        ("-document_type", "document_type"),
    ] {
        let (_, cards) = all_pages(
            &http,
            &format!("admin/id-cards/?ordering={ordering}"),
            &admin,
        )
        .await;
        let values: Vec<Value> = cards.iter().map(|c| c[key].clone()).collect();
        let sorted = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
            _ => a.as_str().cmp(&b.as_str()),
        };
        let ok = values.windows(2).all(|w| {
            let order = sorted(&w[0], &w[1]);
            if ordering.starts_with('-') {
                order.is_ge()
            } else {
                order.is_le()
            }
        });
        assert!(ok, "{ordering}: {values:?}");
    }

    // One card.
    let id = first["results"][0]["id"].as_u64().expect("id");
    let (status, card) = http.get(&format!("admin/id-cards/{id}/"), &admin).await;
    assert_eq!((status, card["id"].as_u64()), (200, Some(id)));
    assert!(
        card["ocr_data"]["lastName"]["confidence"].is_number(),
        "{card}"
    );
    let (status, body) = http.get("admin/id-cards/99999/", &admin).await;
    assert_eq!((status, body["detail"].is_string()), (404, true));
}

#[tokio::test]
async fn low_confidence_queue_and_bulk_decisions() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path(), 65, "fill");
    let http = HttpDaemon::start(dir.path(), &[]).await;
    let reviewer = http.token("rita", Role::Reviewer, None).await;

    let (count, queue) = all_pages(&http, "admin/id-cards/low-confidence/", &reviewer).await;
    assert!(count > 2, "{count}");
    let scores: Vec<f64> = queue
        .iter()
        .map(|c| c["card_confidence"].as_f64().expect("rated"))
        .collect();
    assert!(scores.iter().all(|s| *s < 0.8), "{scores:?}");
    assert!(
        scores.windows(2).all(|w| w[0] <= w[1]),
        "worst first: {scores:?}"
    );
    assert!(queue.iter().all(|c| c["verified"] == false));
    assert!(queue.iter().all(|c| {
        c["low_confidence_fields"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    }));
    // Exactly those: every unverified card under 0.8 of the whole list is in the queue.
    let (_, everything) = all_pages(&http, "admin/id-cards/?verified=false", &reviewer).await;
    let expected = everything
        .iter()
        .filter(|c| c["card_confidence"].as_f64().is_some_and(|s| s < 0.8))
        .count();
    assert_eq!(count as usize, expected);

    // Approve the two worst undecided ones, plus an unknown id.
    let open: Vec<&Value> = queue
        .iter()
        .filter(|c| c["status"] != "completed")
        .take(2)
        .collect();
    let ids: Vec<u64> = open.iter().map(|c| c["id"].as_u64().expect("id")).collect();
    let body = json!({"ids": [ids[0], ids[1], 99999], "decision": "approved", "reason": "checked by hand"});
    let (status, answer) = http
        .send_json(
            Method::POST,
            "admin/id-cards/bulk-decision/",
            &reviewer,
            &body,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["requested"].as_u64(), answer["updated"].as_u64()),
        (Some(3), Some(2)),
        "{answer}"
    );
    for id in &ids {
        let (_, card) = http.get(&format!("admin/id-cards/{id}/"), &reviewer).await;
        assert_eq!(card["decision"], "approved", "{card}");
        assert_eq!(card["verified"], true);
        assert_eq!(card["status"], "completed");
        assert_eq!(card["decision_reason"], "checked by hand");
        assert!(
            card["reviewed_by"].is_u64() && card["reviewed_at"].is_string(),
            "{card}"
        );
    }
    let (_, after) = all_pages(&http, "admin/id-cards/low-confidence/", &reviewer).await;
    assert!(
        after
            .iter()
            .all(|c| !ids.contains(&c["id"].as_u64().unwrap_or(0))),
        "approved cards left the queue"
    );
    // The user sees the decision.
    let (_, card) = http
        .get(&format!("admin/id-cards/{}/", ids[0]), &reviewer)
        .await;
    let username = card["user"]["username"]
        .as_str()
        .expect("username")
        .to_string();
    let user = http
        .token("user-app", Role::Submitter, Some(&username))
        .await;
    let (_, mine) = http.get("id-cards/detail/", &user).await;
    assert_eq!(
        (mine["decision"].as_str(), mine["status"].as_str()),
        (Some("approved"), Some("completed"))
    );

    // Ours is stricter: a decided card is not decided again, and a rejection needs a reason.
    let body = json!({"ids": [ids[0]], "decision": "rejected", "reason": "changed my mind"});
    let (status, answer) = http
        .send_json(
            Method::POST,
            "admin/id-cards/bulk-decision/",
            &reviewer,
            &body,
        )
        .await;
    assert_eq!((status, &answer["updated"]), (200, &json!(0)), "{answer}");
    assert_eq!(answer["results"][0]["updated"], false);
    assert!(answer["results"][0]["detail"].is_string());
    let open_id = queue
        .iter()
        .find(|c| c["status"] != "completed" && !ids.contains(&c["id"].as_u64().unwrap_or(0)))
        .expect("another open card")["id"]
        .clone();
    let body = json!({"ids": [open_id], "decision": "rejected"});
    let (_, answer) = http
        .send_json(
            Method::POST,
            "admin/id-cards/bulk-decision/",
            &reviewer,
            &body,
        )
        .await;
    assert_eq!(answer["updated"], 0, "{answer}");

    // Bad requests, keyed by field.
    let too_many: Vec<u64> = (1..=1001).collect();
    for (body, field) in [
        (json!({"ids": [1], "decision": "maybe"}), "decision"),
        (json!({"ids": [], "decision": "approved"}), "ids"),
        (json!({"ids": too_many, "decision": "approved"}), "ids"),
        (json!({"decision": "approved"}), "ids"),
    ] {
        let (status, answer) = http
            .send_json(
                Method::POST,
                "admin/id-cards/bulk-decision/",
                &reviewer,
                &body,
            )
            .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer[field].as_array().is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
    }
}
