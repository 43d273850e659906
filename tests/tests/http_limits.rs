//! The HTTP API beyond the seed, over real HTTP: `Idempotency-Key` on the upload and the bulk
//! decision, the 429 rate limit with `Retry-After`, CORS preflight for the configured origins,
//! every write audited under the token's identity, and service tokens acting for a user.

use idreview_protocol::{CardId, Role};
use idreview_tests::fill;
use idreview_tests::http::{HttpDaemon, Multipart, good_upload, json};
use reqwest::Method;
use serde_json::{Value, json};

async fn upload_with_key(
    http: &HttpDaemon,
    token: &str,
    key: &str,
    form: &Multipart,
) -> (u16, Value) {
    json(
        http.request(Method::POST, "documents/upload/", Some(token))
            .header("Idempotency-Key", key)
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={}", Multipart::BOUNDARY),
            )
            .body(form.body())
            .send()
            .await,
    )
    .await
}

#[tokio::test]
async fn a_retried_request_with_its_key_gets_the_first_answer_and_writes_are_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path(), 5, "fill");
    let http = HttpDaemon::start(dir.path(), &[]).await;
    let user = http.token("u1-app", Role::Submitter, Some("u1")).await;
    let reviewer = http.token("rita", Role::Reviewer, None).await;

    let (status, first) = upload_with_key(&http, &user, "k-1", &good_upload()).await;
    assert_eq!(status, 201, "{first}");
    // The retry is 6 MiB larger: the daemon reads it to the end before it answers, or the
    // client's write would break on the closed connection (as it did in CI, by chance).
    let retry = good_upload().file("padding", "pad.bin", None, vec![0; 6 << 20]);
    let (status, again) = upload_with_key(&http, &user, "k-1", &retry).await;
    assert_eq!(
        (status, &again["id"]),
        (201, &first["id"]),
        "the card, not a 409"
    );
    let (status, _) = upload_with_key(&http, &user, "k-2", &good_upload()).await;
    assert_eq!(status, 409, "another key is another upload");

    // The upload and the decision are audited under the tokens' identities.
    let id = CardId(first["id"].as_u64().expect("id"));
    let body = json!({"ids": [id.0], "decision": "approved", "reason": "fine"});
    let decide = |key: &'static str| {
        http.request(
            Method::POST,
            "admin/id-cards/bulk-decision/",
            Some(&reviewer),
        )
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
    };
    let (status, answer) = json(decide("d-1").await).await;
    assert_eq!((status, &answer["updated"]), (200, &json!(1)), "{answer}");
    let (_, replayed) = json(decide("d-1").await).await;
    assert_eq!(replayed, answer, "the first answer, not updated 0");
    let events = http
        .daemon
        .client()
        .await
        .audit_events(tarpc::context::current(), id)
        .await
        .expect("rpc")
        .expect("events");
    let actor = |action: &str| {
        events
            .iter()
            .find(|e| e.action == action)
            .map(|e| e.actor.clone())
    };
    assert_eq!(
        actor("card.created").as_deref(),
        Some("token:u1-app"),
        "{events:?}"
    );
    assert_eq!(actor("card.approved").as_deref(), Some("token:rita"));
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "card.approved")
            .count(),
        1,
        "decided once"
    );
}

#[tokio::test]
async fn too_many_requests_are_answered_429_with_retry_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let http = HttpDaemon::start(
        dir.path(),
        &[
            ("IDREVIEW__HTTP__REQUESTS_PER_SEC", "1"),
            ("IDREVIEW__HTTP__REQUESTS_BURST", "3"),
        ],
    )
    .await;
    let user = http.token("u1-app", Role::Submitter, Some("u1")).await;
    let other = http.token("u2-app", Role::Submitter, Some("u2")).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let answer = http
            .request(Method::GET, "onboarding/stage/", Some(&user))
            .send()
            .await
            .expect("get");
        let status = answer.status().as_u16();
        if status == 429 {
            let wait: u64 = answer.headers()["retry-after"]
                .to_str()
                .ok()
                .and_then(|s| s.parse().ok())
                .expect("Retry-After in seconds");
            assert!((1..=2).contains(&wait), "{wait}");
            let (_, body) = json(Ok(answer)).await;
            assert!(body["detail"].is_string());
        }
        statuses.push(status);
    }
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    let (status, _) = http.get("onboarding/stage/", &other).await;
    assert_eq!(status, 200, "limits are per identity");
}

#[tokio::test]
async fn cors_preflight_allows_the_configured_origins_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let http = HttpDaemon::start(
        dir.path(),
        &[(
            "IDREVIEW__HTTP__CORS_ORIGINS",
            "[\"https://app.example.com\"]",
        )],
    )
    .await;
    let preflight = |origin: &'static str| {
        http.request(Method::OPTIONS, "id-cards/1/confirm/", None)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "PUT")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            )
            .send()
    };
    let answer = preflight("https://app.example.com")
        .await
        .expect("preflight");
    assert!(answer.status().is_success(), "{}", answer.status());
    let headers = answer.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let methods = headers["access-control-allow-methods"]
        .to_str()
        .unwrap_or("");
    assert!(methods.contains("PUT"), "{methods}");
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .unwrap_or("");
    assert!(
        allowed.to_ascii_lowercase().contains("authorization"),
        "{allowed}"
    );
    // A tus client's chunk: PATCH with the tus headers, and it reads them back.
    let tus = http
        .request(Method::OPTIONS, "uploads/0123/", None)
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "authorization, tus-resumable, upload-offset, content-type",
        )
        .send()
        .await
        .expect("tus preflight");
    let headers = tus.headers();
    let methods = headers["access-control-allow-methods"]
        .to_str()
        .unwrap_or("");
    assert!(
        methods.contains("PATCH") && methods.contains("HEAD"),
        "{methods}"
    );
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .unwrap_or("")
        .to_ascii_lowercase();
    for name in ["tus-resumable", "upload-offset", "upload-length"] {
        assert!(allowed.contains(name), "{name} allowed: {allowed}");
    }
    // An answer (here a 401 to a creation without a token) exposes them to the page.
    let answer = http
        .request(Method::POST, "uploads/", None)
        .header("Origin", "https://app.example.com")
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "10")
        .send()
        .await
        .expect("tus creation");
    assert_eq!(answer.status().as_u16(), 401);
    let exposed = answer.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap_or("")
        .to_ascii_lowercase();
    for name in [
        "upload-offset",
        "upload-length",
        "tus-resumable",
        "location",
    ] {
        assert!(exposed.contains(name), "{name} exposed: {exposed}");
    }
    // tus's discovery is an OPTIONS without Access-Control-Request-Method: the routes answer
    // it (not the preflight), with the CORS headers of an ordinary answer.
    let discovery = http
        .request(Method::OPTIONS, "uploads/", None)
        .header("Origin", "https://app.example.com")
        .send()
        .await
        .expect("tus discovery");
    assert_eq!(discovery.status().as_u16(), 204);
    let headers = discovery.headers();
    assert_eq!(headers["tus-version"], "1.0.0");
    assert_eq!(headers["tus-extension"], "creation");
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let exposed = headers["access-control-expose-headers"]
        .to_str()
        .unwrap_or("")
        .to_ascii_lowercase();
    assert!(exposed.contains("tus-version"), "{exposed}");
    let answer = preflight("https://evil.example.com")
        .await
        .expect("preflight");
    assert!(!answer.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn a_service_token_acts_for_the_user_it_names_and_never_as_a_reviewer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let http = HttpDaemon::start(dir.path(), &[]).await;
    let backend = http.token("backend", Role::Service, None).await;
    let as_user = |method: Method, path: &str, user: &str| {
        http.request(method, path, Some(&backend))
            .header("X-Idreview-User", user)
    };

    let (status, body) = http.get("onboarding/stage/", &backend).await;
    assert_eq!(status, 403, "no user named: {body}");
    let (status, body) = json(
        as_user(Method::GET, "onboarding/stage/", "app-7")
            .send()
            .await,
    )
    .await;
    assert_eq!((status, body), (200, json!({"stage": "started"})));
    let (status, card) = json(
        as_user(Method::POST, "documents/upload/", "app-7")
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={}", Multipart::BOUNDARY),
            )
            .body(good_upload().body())
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 201, "{card}");
    assert_eq!(card["user"]["username"], "app-7");
    let (status, mine) = json(
        as_user(Method::GET, "id-cards/detail/", "app-7")
            .send()
            .await,
    )
    .await;
    assert_eq!((status, &mine["id"]), (200, &card["id"]));
    let (status, _) = json(
        as_user(Method::GET, "id-cards/detail/", "app-8")
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 404, "another user has no card");
    for path in ["admin/id-cards/", "admin/id-cards/low-confidence/"] {
        let (status, _) = json(as_user(Method::GET, path, "app-7").send().await).await;
        assert_eq!(status, 403, "{path}");
    }
    let events = http
        .daemon
        .client()
        .await
        .audit_events(
            tarpc::context::current(),
            CardId(card["id"].as_u64().expect("id")),
        )
        .await
        .expect("rpc")
        .expect("events");
    assert!(
        events
            .iter()
            .any(|e| e.action == "card.created" && e.actor == "token:backend for app-7"),
        "{events:?}"
    );
}
