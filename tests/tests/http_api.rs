//! The seed's HTTP API, user side, against the real daemon over real HTTP: auth before
//! anything, the whole user flow (stage, upload, own card, files, confirm), and every bad input
//! of the contract answered with its status and field-keyed error, with nothing half-stored.

use idreview_protocol::Role;
use idreview_tests::fixtures::jpeg;
use idreview_tests::http::{HttpDaemon, Multipart, good_upload, json, mp4};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Every key of the contract's card object, with its JSON type check.
fn assert_card_shape(card: &Value) {
    let is_str = |k: &str| assert!(card[k].is_string(), "{k} is a string: {card}");
    let str_or_null = |k: &str| {
        assert!(
            card[k].is_string() || card[k].is_null(),
            "{k} is a string or null: {card}"
        )
    };
    let num_or_null = |k: &str| {
        assert!(
            card[k].is_number() || card[k].is_null(),
            "{k} is a number or null: {card}"
        )
    };
    assert!(card["id"].is_u64(), "id is an int: {card}");
    let user = &card["user"];
    assert!(user["id"].is_u64(), "user.id is an int: {card}");
    for k in ["username", "email", "first_name", "last_name"] {
        assert!(user[k].is_string(), "user.{k}: {card}");
    }
    for k in [
        "document_type",
        "country",
        "first_name",
        "last_name",
        "document_number",
        "nationality",
        "status",
        "decision",
        "decision_reason",
        "created_at",
        "updated_at",
    ] {
        is_str(k);
    }
    for k in [
        "front_image",
        "back_image",
        "selfie_video",
        "date_of_birth",
        "expiry_date",
        "reviewed_at",
    ] {
        str_or_null(k);
    }
    num_or_null("confidence");
    num_or_null("card_confidence");
    assert!(
        card["reviewed_by"].is_u64() || card["reviewed_by"].is_null(),
        "{card}"
    );
    assert!(card["verified"].is_boolean(), "{card}");
    assert!(card["ocr_data"].is_object(), "{card}");
    assert!(card["confirmed_data"].is_object(), "{card}");
    assert!(card["low_confidence_fields"].is_array(), "{card}");
    assert!(card["country"].as_str().is_some_and(|c| c.len() <= 3));
    let created = card["created_at"].as_str().unwrap_or_default();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok() && created.ends_with('Z'),
        "ISO 8601 with a zone: {created}"
    );
    for k in ["status", "decision", "document_type"] {
        let allowed: &[&str] = match k {
            "status" => &[
                "uploaded",
                "processing",
                "needs_review",
                "confirmed",
                "completed",
                "failed",
            ],
            "decision" => &["pending", "approved", "rejected"],
            _ => &[
                "passport",
                "national_id",
                "driver_license",
                "residence_permit",
            ],
        };
        assert!(
            allowed.contains(&card[k].as_str().unwrap_or_default()),
            "{k}: {card}"
        );
    }
}

#[tokio::test]
async fn auth_and_role_come_before_everything_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let http = HttpDaemon::start(dir.path(), &[]).await;
    let user = http.token("u1-app", Role::Submitter, Some("u1")).await;
    let reviewer = http.token("rita", Role::Reviewer, None).await;

    for path in [
        "onboarding/stage/",
        "id-cards/detail/",
        "admin/id-cards/",
        "admin/id-cards/1/",
    ] {
        let answer = http
            .request(Method::GET, path, None)
            .send()
            .await
            .expect("get");
        assert_eq!(answer.status().as_u16(), 401, "{path}");
        assert_eq!(
            answer
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap_or("")),
            Some("Token"),
            "{path}"
        );
        let (status, body) = json(Ok(answer)).await;
        assert_eq!(status, 401);
        assert!(body["detail"].is_string(), "{body}");

        let answer = http
            .request(Method::GET, path, Some("idr_nope_nope"))
            .send()
            .await
            .expect("get");
        assert_eq!(answer.status().as_u16(), 401, "unknown token on {path}");
        assert!(answer.headers().contains_key("www-authenticate"));
    }
    // An upload without a token is refused before its body is looked at.
    let (status, body) = json(
        http.request(Method::POST, "documents/upload/", None)
            .body("not even multipart")
            .send()
            .await,
    )
    .await;
    assert_eq!((status, body["detail"].is_string()), (401, true), "{body}");
    // Roles: a user never reaches the admin endpoints, even with a bad body.
    for (method, path) in [
        (Method::GET, "admin/id-cards/"),
        (Method::GET, "admin/id-cards/low-confidence/"),
        (Method::GET, "admin/id-cards/1/"),
        (Method::POST, "admin/id-cards/bulk-decision/"),
    ] {
        let (status, body) = json(
            http.request(method, path, Some(&user))
                .body("{ not json")
                .send()
                .await,
        )
        .await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body["detail"].is_string());
    }
    let (status, _) = http.get("admin/id-cards/", &reviewer).await;
    assert_eq!(status, 200);
    // Unknown paths and wrong methods answer JSON too.
    let (status, body) = json(
        http.request(Method::POST, "onboarding/stage/", Some(&user))
            .send()
            .await,
    )
    .await;
    assert_eq!((status, body["detail"].is_string()), (405, true), "{body}");
    let (status, body) = http.get("no-such-thing/", &user).await;
    assert_eq!((status, body["detail"].is_string()), (404, true));
}

#[tokio::test]
async fn a_user_uploads_sees_the_card_and_its_files_and_confirms_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let http = HttpDaemon::start(dir.path(), &[]).await;
    let user = http.token("u1-app", Role::Submitter, Some("u1")).await;
    let other = http.token("u2-app", Role::Submitter, Some("u2")).await;

    let (status, body) = http.get("onboarding/stage/", &user).await;
    assert_eq!((status, body), (200, json!({"stage": "started"})));
    let (status, body) = http.get("id-cards/detail/", &user).await;
    assert_eq!((status, body["detail"].is_string()), (404, true));

    let (status, card) = http.upload(&user, &good_upload()).await;
    assert_eq!(status, 201, "{card}");
    assert_card_shape(&card);
    assert_eq!(card["user"]["username"], "u1");
    assert_eq!(card["document_type"], "national_id");
    assert_eq!(card["country"], "DE");
    assert_eq!(card["decision"], "pending");
    for k in ["front_image", "back_image", "selfie_video"] {
        let url = card[k].as_str().expect("a URL");
        assert!(url.starts_with("http://"), "{k}: {url}");
    }
    let id = card["id"].as_u64().expect("id");

    let (status, body) = http.get("onboarding/stage/", &user).await;
    assert_eq!(status, 200);
    assert!(
        ["document_uploaded", "ocr_review"].contains(&body["stage"].as_str().unwrap_or("")),
        "{body}"
    );
    let (status, mine) = http.get("id-cards/detail/", &user).await;
    assert_eq!((status, mine["id"].as_u64()), (200, Some(id)));
    assert_eq!(mine["user"]["id"], card["user"]["id"], "a stable user id");
    let (status, body) = http.get("id-cards/detail/", &other).await;
    assert_eq!(status, 404, "never another user's card: {body}");

    // The files: for the card's user (and reviewers), never for another user.
    let front = card["front_image"].as_str().expect("url").to_string();
    let answer = http
        .request(Method::GET, &front, Some(&user))
        .send()
        .await
        .expect("file");
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(answer.headers()["cache-control"], "no-store");
    assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
    assert_eq!(answer.headers()["content-type"], "image/jpeg");
    assert_eq!(
        answer.bytes().await.expect("bytes").to_vec(),
        jpeg(1000, 700)
    );
    let answer = http
        .request(Method::GET, &front, Some(&other))
        .send()
        .await
        .expect("file");
    assert_eq!(answer.status().as_u16(), 404);
    let answer = http
        .request(Method::GET, &front, None)
        .send()
        .await
        .expect("file");
    assert_eq!(answer.status().as_u16(), 401);

    // A second upload while the first card is open.
    let (status, body) = http.upload(&user, &good_upload()).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));

    // Confirm with corrections.
    let fields = json!({"fields": {
        "firstName": "Anna",
        "lastName": "Rossi",
        "documentNumber": "X1234567",
        "dateOfBirth": "1990-01-31",
        "dateOfExpiry": "2031-05-01",
    }});
    let path = format!("id-cards/{id}/confirm/");
    let (status, body) = http.send_json(Method::PUT, &path, &other, &fields).await;
    assert_eq!(status, 404, "another user's card: {body}");
    let (status, confirmed) = http.send_json(Method::PUT, &path, &user, &fields).await;
    assert_eq!(status, 200, "{confirmed}");
    assert_card_shape(&confirmed);
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["first_name"], "Anna");
    assert_eq!(confirmed["last_name"], "Rossi");
    assert_eq!(confirmed["document_number"], "X1234567");
    assert_eq!(confirmed["date_of_birth"], "1990-01-31");
    assert_eq!(confirmed["expiry_date"], "2031-05-01");
    assert_eq!(confirmed["confirmed_data"]["firstName"], "Anna");
    assert_eq!(confirmed["confirmed_data"]["dateOfBirth"], "1990-01-31");
    assert_eq!(confirmed["ocr_data"]["lastName"]["value"], "Rossi");
    assert_eq!(confirmed["ocr_data"]["lastName"]["confidence"], 1.0);
    let (_, body) = http.get("onboarding/stage/", &user).await;
    assert_eq!(body, json!({"stage": "confirmed"}));
    let (_, again) = http.get("id-cards/detail/", &user).await;
    assert_eq!(again["status"], "confirmed");
    // Without a body, a confirmation keeps the values.
    let (status, body) = json(http.request(Method::PUT, &path, Some(&user)).send().await).await;
    assert_eq!(
        (status, &body["first_name"]),
        (200, &json!("Anna")),
        "{body}"
    );
}

#[tokio::test]
async fn a_refused_confirmation_names_the_field_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let http = HttpDaemon::start(dir.path(), &[]).await;
    let user = http.token("u1-app", Role::Submitter, Some("u1")).await;
    let (status, card) = http.upload(&user, &good_upload()).await;
    assert_eq!(status, 201, "{card}");
    let path = format!("id-cards/{}/confirm/", card["id"]);
    let today = chrono::Utc::now().date_naive();
    let young = (today - chrono::Days::new(10 * 366)).to_string();
    let old = (today - chrono::Days::new(121 * 366)).to_string();
    let yesterday = (today - chrono::Days::new(1)).to_string();
    let tomorrow = (today + chrono::Days::new(1)).to_string();
    for (name, value) in [
        ("dateOfBirth", "31/01/1990"),
        ("dateOfBirth", young.as_str()),
        ("dateOfBirth", old.as_str()),
        ("dateOfExpiry", yesterday.as_str()),
        ("dateOfExpiry", "2031-02-30"),
        ("dateOfIssue", tomorrow.as_str()),
        ("favouriteColour", "red"),
        ("given_names", "Anna"),
    ] {
        let body = json!({"fields": {name: value, "firstName": "Anna"}});
        let (status, answer) = http.send_json(Method::PUT, &path, &user, &body).await;
        assert_eq!(status, 400, "{name}={value}: {answer}");
        let messages = &answer["fields"][name];
        assert!(
            messages
                .as_array()
                .is_some_and(|m| !m.is_empty() && m[0].is_string()),
            "{name}={value}: {answer}"
        );
    }
    // Dates judged among themselves: issue not after birth, expiry not after issue.
    let body = json!({"fields": {"dateOfBirth": "1990-01-01", "dateOfIssue": "1989-01-01"}});
    let (status, answer) = http.send_json(Method::PUT, &path, &user, &body).await;
    assert_eq!(status, 400);
    assert!(answer["fields"]["dateOfIssue"].is_array(), "{answer}");
    let body = json!({"fields": {"dateOfIssue": "2020-01-01", "dateOfExpiry": "2019-01-01"}});
    let (status, answer) = http.send_json(Method::PUT, &path, &user, &body).await;
    assert_eq!(status, 400);
    assert!(answer["fields"]["dateOfExpiry"].is_array(), "{answer}");

    let (_, after) = http.get("id-cards/detail/", &user).await;
    assert_ne!(after["status"], "confirmed", "{after}");
    assert_eq!(after["version"], card["version"], "nothing changed");
    assert_eq!(after["ocr_data"], json!({}));
    let (_, stage) = http.get("onboarding/stage/", &user).await;
    assert_ne!(stage["stage"], "confirmed");
    let (status, _) = http
        .send_json(Method::PUT, "id-cards/999/confirm/", &user, &json!({}))
        .await;
    assert_eq!(status, 404);
}

/// Whether `dir` holds any file, at any depth.
fn has_files(dir: &std::path::Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let path = e.path();
        if path.is_dir() {
            has_files(&path)
        } else {
            true
        }
    })
}

#[tokio::test]
async fn every_bad_upload_is_refused_by_its_part_and_stores_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let http = HttpDaemon::start(dir.path(), &[]).await;
    let user = http.token("u1-app", Role::Submitter, Some("u1")).await;
    let image = jpeg(1000, 700);
    let base = || {
        Multipart::default()
            .text("document_type", "national_id")
            .file("back", "back.jpg", Some("image/jpeg"), image.clone())
    };
    let mut over = image.clone();
    over.resize(10 * 1024 * 1024 + 1, 0);
    let cases: Vec<(&str, Multipart)> = vec![
        ("front", base()),
        (
            "front",
            base().file(
                "front",
                "front.jpg",
                Some("image/jpeg"),
                b"hello, not a JPEG".to_vec(),
            ),
        ),
        (
            "front",
            base().file("front", "front.jpg", Some("image/jpeg"), jpeg(640, 480)),
        ),
        (
            "front",
            base().file("front", "front.jpg", Some("image/jpeg"), over),
        ),
        (
            "front",
            base().file("front", "front.txt", Some("text/plain"), image.clone()),
        ),
        (
            "back",
            Multipart::default()
                .text("document_type", "national_id")
                .file("front", "front.jpg", Some("image/jpeg"), image.clone()),
        ),
        (
            "document_type",
            Multipart::default().text("document_type", "visa").file(
                "front",
                "front.jpg",
                Some("image/jpeg"),
                image.clone(),
            ),
        ),
        (
            "country",
            base().text("country", "GERM").file(
                "front",
                "front.jpg",
                Some("image/jpeg"),
                image.clone(),
            ),
        ),
        (
            "selfie_video",
            base()
                .file("front", "front.jpg", Some("image/jpeg"), image.clone())
                .file(
                    "selfie_video",
                    "selfie.mp4",
                    Some("video/mp4"),
                    image.clone(),
                ),
        ),
    ];
    for (i, (part, form)) in cases.iter().enumerate() {
        let (status, body) = http.upload(&user, form).await;
        assert_eq!(status, 400, "case {i} ({part}): {body}");
        let messages = body[*part].as_array();
        assert!(
            messages.is_some_and(|m| !m.is_empty() && m.iter().all(|s| s.is_string())),
            "case {i}: 400 keyed by {part}: {body}"
        );
    }
    // A body declared past the sum of the limits is answered 413 before any of it is read
    // (the client here sends only the head, then waits for the answer).
    let head = format!(
        "POST /api/ocr/documents/upload/ HTTP/1.1\r\nHost: test\r\nAuthorization: Token {user}\r\n\
         Content-Type: multipart/form-data; boundary={}\r\nContent-Length: {}\r\n\r\n",
        Multipart::BOUNDARY,
        2u64 << 30
    );
    let addr = http.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut chunk = [0u8; 4096];
        // Until the JSON body has arrived whole (or the server closed).
        while !answer.ends_with(b"}") {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "answered without waiting for the body");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"detail\""), "{answer}");
    // A passport needs no back, and a body that is not multipart is refused.
    let (status, body) = json(
        http.request(Method::POST, "documents/upload/", Some(&user))
            .json(&json!({"front": "x"}))
            .send()
            .await,
    )
    .await;
    assert_eq!((status, body["detail"].is_string()), (415, true), "{body}");

    // Nothing was stored: no card, no object, no file left anywhere.
    let (status, _) = http.get("id-cards/detail/", &user).await;
    assert_eq!(status, 404);
    let (_, stage) = http.get("onboarding/stage/", &user).await;
    assert_eq!(stage, json!({"stage": "started"}));
    for sub in ["objects", "work", "http-uploads", "inbox", "rejected"] {
        assert!(!has_files(&dir.path().join(sub)), "{sub} is empty");
    }
    // And a passport without a back goes through.
    let passport = Multipart::default().text("document_type", "passport").file(
        "front",
        "p.png",
        Some("image/png"),
        idreview_tests::fixtures::png(900, 650),
    );
    let (status, card) = http.upload(&user, &passport).await;
    assert_eq!(status, 201, "{card}");
    assert_eq!(card["document_type"], "passport");
    assert!(card["back_image"].is_null() && card["selfie_video"].is_null());
    assert_eq!(card["country"], "");
    let _ = mp4;
}
